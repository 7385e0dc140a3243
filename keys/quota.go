package keys

import (
	"context"
	"strconv"
	"time"
)

// Quota is a key's request budget: Remaining requests, reset to
// RefillAmount every RefillInterval when both are set. It is the default of
// [Config].Quota and what a [CreateRequest] may ask for. The zero Quota
// sets no quota: the key's requests are not counted (its ancestors' quotas
// still apply).
type Quota struct {
	// Remaining is how many requests the key may make, at least 1 in a set
	// Quota; each request a [Manager.Consume] admits spends one.
	Remaining int64
	// RefillAmount is what Remaining is reset to every RefillInterval (not
	// added to it: unspent requests do not carry over). 0: no refill; set
	// it and RefillInterval both, or neither.
	RefillAmount int64
	// RefillInterval is how often Remaining is reset to RefillAmount,
	// counted from the key's creation, then from its last refill: a whole
	// number of seconds. 0: no refill.
	RefillInterval time.Duration
}

// isZero reports whether q sets no quota.
func (q Quota) isZero() bool { return q == Quota{} }

func (q Quota) refills() bool { return q.RefillAmount > 0 && q.RefillInterval > 0 }

// wholeSeconds reports whether a refill interval is 0 or a whole number of
// seconds: what every Store keeps exactly (SQL stores keep milliseconds,
// and HTTP speaks seconds), so that a key refills alike on all of them.
func wholeSeconds(d time.Duration) bool { return d%time.Second == 0 }

var errRefillSeconds = &FieldError{Field: "refill_interval_seconds", Reason: "a whole number of seconds, at least 1"}

// quotaFor returns the quota a new key gets when the client asks for
// requested (nil: none named): the policy's default, or the client's if it
// is no looser. A client may always set a quota where the policy has none.
func (m *Manager) quotaFor(requested *Quota) (Quota, error) {
	def := m.quota
	if requested == nil {
		return def, nil
	}
	q := *requested
	switch {
	case q.Remaining < 1:
		return Quota{}, &FieldError{Field: "remaining", Reason: "a quota is at least 1 request"}
	case (q.RefillAmount > 0) != (q.RefillInterval > 0) || q.RefillAmount < 0 || q.RefillInterval < 0:
		return Quota{}, &FieldError{Field: "refill_amount", Reason: "a refill needs both a positive refill_amount and refill_interval_seconds"}
	case !wholeSeconds(q.RefillInterval):
		return Quota{}, errRefillSeconds
	case def.isZero():
		return q, nil
	case q.Remaining > def.Remaining:
		return Quota{}, &FieldError{Field: "remaining", Reason: "at most " + strconv.FormatInt(def.Remaining, 10) + " requests"}
	case q.refills():
		if err := refillWithin(q, def, "this app's keys do not refill"); err != nil {
			return Quota{}, err
		}
	}
	return q, nil
}

func (q Quota) apply(k *Key) {
	if q.isZero() {
		return
	}
	r := q.Remaining
	k.Remaining, k.RefillAmount, k.RefillInterval = &r, q.RefillAmount, q.RefillInterval
}

// Consume spends one request of a verified key's quota, and of the quota
// of each of its ancestors that has one: a request made with a delegated
// key counts against every key it was created through, so minting keys
// buys no requests. It is atomic in the Store (exact across instances
// sharing it) and all or nothing. ok is false when a quota is spent (the
// request must be refused); remaining is what is left of the tightest
// quota, or -1 when none applies. Keys without any quota cost no Store
// call.
func (m *Manager) Consume(ctx context.Context, v *Verified) (remaining int64, ok bool, err error) {
	ids := v.spends()
	if len(ids) == 0 {
		return -1, true, nil
	}
	return m.store.Consume(ctx, ids, m.now())
}
