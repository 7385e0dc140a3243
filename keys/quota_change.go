package keys

import (
	"strconv"
	"time"

	"github.com/keycaphq/keycap/audit"
)

// changesQuota reports whether u changes the key's quota.
func (u UpdateRequest) changesQuota() bool {
	return u.Remaining != nil || u.Refill != nil || u.RemoveQuota
}

// changingQuota adds to c the change of quota u asks of k, or refuses it.
// Where the policy sets a quota (m.quota, a cap), and for a calling key
// changing its own, the quota may only go down: a lower Remaining, a
// refill no larger nor more frequent than the bound's, no removal. What
// the key has is what it has at now: RefillAmount when a refill is due
// (the Store applies it first, see [Store].Change). The lowering itself is
// written by the Store as the lesser of the stored count and the new one
// ([Change].Remaining), never as the count read.
func (m *Manager) changingQuota(u UpdateRequest, k *Key, c *Change, now time.Time) error {
	if !u.changesQuota() {
		return nil
	}
	if err := checkQuotaRequest(u); err != nil {
		return err
	}
	has, cur := k.Remaining != nil, quotaOf(k, now)
	capped := !m.quota.isZero()
	self := u.Caller != nil && u.Caller.rec != nil && u.Caller.rec.id() == k.ID
	lowerOnly := capped || (self && has)
	if u.RemoveQuota {
		switch {
		case !has:
			return nil
		case capped:
			return &FieldError{Field: "remaining", Reason: "this app's keys have a quota: it can be lowered, not removed; " + cur.describe()}
		case self:
			return &FieldError{Field: "remaining", Reason: "a key cannot remove its own quota (" + cur.describe() + "); its owner can"}
		}
		c.RemoveQuota = true
		return nil
	}
	if u.Refill != nil && u.Refill.refills() && !has && u.Remaining == nil {
		return &FieldError{Field: "remaining", Reason: "a refill needs a quota: set remaining too"}
	}
	if r := u.Remaining; r != nil {
		switch {
		case capped && !has && *r > m.quota.Remaining:
			return &FieldError{Field: "remaining", Reason: "at most " + strconv.FormatInt(m.quota.Remaining, 10) + " requests"}
		case self && has && *r > cur.Remaining:
			return &FieldError{Field: "remaining", Reason: "a key cannot raise its own quota: " + cur.describe() + "; its owner can raise it"}
		case lowerOnly && has && *r > cur.Remaining:
			return &FieldError{Field: "remaining", Reason: "a quota can only be lowered: " + cur.describe()}
		}
		if !has || (*r != cur.Remaining && *r != *k.Remaining) {
			// Only a raise above the count read is a blind set (where
			// the owner may raise). Anything below it is a lowering,
			// which the Store takes as the lesser of the stored count
			// and n: requests admitted since the read, which Consume
			// does not version, are never given back; the count read
			// sent back, as stored or as refilled when due, is no
			// change (a lowering to the stored one would spend the
			// refill due).
			n := *r
			c.Remaining, c.RemainingExact = &n, has && *r > cur.Remaining
		}
	}
	if u.Refill == nil {
		return nil
	}
	q := Quota{RefillAmount: u.Refill.RefillAmount, RefillInterval: u.Refill.RefillInterval}
	if q.refills() && capped {
		if err := refillWithin(q, m.quota, "this app's keys do not refill"); err != nil {
			return err
		}
	}
	if q.refills() && self && has {
		if err := refillWithin(q, cur, "a key cannot add a refill to its own quota; its owner can"); err != nil {
			return err
		}
	}
	if q.RefillAmount != k.RefillAmount || q.RefillInterval != k.RefillInterval {
		c.Refill = &q
	}
	return nil
}

// checkQuotaRequest refuses the quota fields of u that no key could take.
func checkQuotaRequest(u UpdateRequest) error {
	switch {
	case u.RemoveQuota && u.Remaining != nil:
		return &FieldError{Field: "remaining", Reason: "remove the quota or set it, not both"}
	case u.RemoveQuota && u.Refill != nil && u.Refill.refills():
		return &FieldError{Field: "refill_amount", Reason: "a refill needs a quota: set remaining too, or leave the refill out"}
	case u.Remaining != nil && *u.Remaining < 0:
		return &FieldError{Field: "remaining", Reason: "at least 0 requests"}
	case u.Refill != nil && !u.Refill.refills() && (u.Refill.RefillAmount != 0 || u.Refill.RefillInterval != 0):
		return &FieldError{Field: "refill_amount", Reason: "a refill needs both a positive refill_amount and refill_interval_seconds (both 0: no refill)"}
	case u.Refill != nil && !wholeSeconds(u.Refill.RefillInterval):
		return errRefillSeconds
	}
	return nil
}

// refillWithin refuses a refill q that gives more than bound's: more
// requests per refill, or refills more often. noRefill is the reason when
// bound does not refill at all.
func refillWithin(q, bound Quota, noRefill string) error {
	switch {
	case !bound.refills():
		return &FieldError{Field: "refill_amount", Reason: noRefill}
	case q.RefillAmount > bound.RefillAmount:
		return &FieldError{Field: "refill_amount", Reason: "at most " + strconv.FormatInt(bound.RefillAmount, 10) + " requests per refill"}
	case q.RefillInterval < bound.RefillInterval:
		return &FieldError{Field: "refill_interval_seconds", Reason: "at least " + strconv.FormatInt(int64(bound.RefillInterval/time.Second), 10) + " seconds"}
	}
	return nil
}

// quotaOf returns k's quota at now (Remaining 0 when it has none):
// Remaining is RefillAmount when a refill is due at now.
func quotaOf(k *Key, now time.Time) Quota {
	q := Quota{RefillAmount: k.RefillAmount, RefillInterval: k.RefillInterval}
	switch {
	case k.Remaining == nil:
	case refillDue(k, now):
		q.Remaining = k.RefillAmount
	default:
		q.Remaining = *k.Remaining
	}
	return q
}

// refillDue reports whether k's refill is due at now, by the rule of
// [Store].Consume: a refill is set and now is at least LastRefillAt (or
// CreatedAt when it is zero) + RefillInterval.
func refillDue(k *Key, now time.Time) bool {
	if k.RefillInterval <= 0 || k.RefillAmount <= 0 {
		return false
	}
	from := k.LastRefillAt
	if from.IsZero() {
		from = k.CreatedAt
	}
	return !now.Before(from.Add(k.RefillInterval))
}

// describe says what a key with quota q has: "this key has 40 left; it
// refills to 100 every 3600 seconds".
func (q Quota) describe() string {
	s := "this key has " + strconv.FormatInt(q.Remaining, 10) + " left"
	if q.refills() {
		s += "; it refills to " + strconv.FormatInt(q.RefillAmount, 10) + " every " + strconv.FormatInt(int64(q.RefillInterval/time.Second), 10) + " seconds"
	}
	return s
}

// auditQuota returns k's quota as an audit event records it; nil when k
// has none.
func auditQuota(k *Key) *audit.Quota {
	if k.Remaining == nil {
		return nil
	}
	return &audit.Quota{Remaining: *k.Remaining, RefillAmount: k.RefillAmount, RefillInterval: k.RefillInterval}
}
