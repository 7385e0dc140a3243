package notify

import (
	"context"
	"crypto/rand"
	"errors"
	"time"

	"github.com/keycaphq/keycap/audit"
	"github.com/keycaphq/keycap/keys"
)

// Report counts what one run did.
type Report struct {
	Sent     int // notices delivered and recorded as sent
	Failed   int // notices the Notifier refused, and keys that could not be disabled: offered again later
	Disabled int // keys the staleness policy disabled
}

// staleness is the actor of the staleness policy's disables.
var staleness = audit.System("staleness")

// RunOnce does one run at now: it disables the keys the staleness policy
// catches, then sends every notice due at now that no run has sent or
// holds (expiry warnings, expiries, stale keys, revocations and disables
// by someone other than the owner), and prunes old claims. Notices are
// sent one at a time. Run calls it; call it yourself from a cron job, or
// in tests with the clock you choose. It stops at the first error of the
// Store (or ctx's end), and returns what it had done.
func (s *Scheduler) RunOnce(ctx context.Context, now time.Time) (Report, error) {
	var r Report
	if s.c.DisableAfter > 0 {
		from, sweep := s.unusedFrom(now)
		q := s.query(Unused, 0, from, now.Add(-s.c.DisableAfter), now)
		if err := s.pass(ctx, q, &r, s.disable); err != nil {
			return r, err
		}
		if sweep {
			s.mu.Lock()
			s.swept = now
			s.mu.Unlock()
		}
	}
	for _, q := range s.queries(now) {
		if err := s.pass(ctx, q, &r, s.send); err != nil {
			return r, err
		}
	}
	_, err := s.c.Store.Prune(ctx, now.Add(-s.c.Retention))
	return r, err
}

// unusedFrom is the lower bound of the last use of the keys a run at now
// disables: those idle for at most Lookback more than DisableAfter, which
// one index range finds, or, on this Scheduler's first run and once per
// Lookback (sweep), all of them, so that keys idle since before the policy
// was turned on, or re-enabled by their owner, are caught too.
func (s *Scheduler) unusedFrom(now time.Time) (from time.Time, sweep bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.swept.IsZero() || now.Sub(s.swept) >= s.c.Lookback || now.Before(s.swept) {
		return time.Time{}, true
	}
	return now.Add(-s.c.DisableAfter - s.c.Lookback), false
}

// queries are the notices of a run at now, in the order they are sent.
func (s *Scheduler) queries(now time.Time) []Query {
	var qs []Query
	for i, lead := range s.leads {
		var next time.Duration // the next, nearer lead: nearer expiries are its
		if i+1 < len(s.leads) {
			next = s.leads[i+1]
		}
		qs = append(qs, s.query(audit.Expiring, lead, now.Add(next), now.Add(lead), now))
	}
	back := now.Add(-s.c.Lookback)
	qs = append(qs, s.query(audit.Expired, 0, back, now, now))
	if s.c.StaleAfter > 0 {
		qs = append(qs, s.query(audit.Stale, 0, back.Add(-s.c.StaleAfter), now.Add(-s.c.StaleAfter), now))
	}
	return append(qs, s.query(audit.Revoked, 0, back, now, now), s.query(audit.Disabled, 0, back, now, now))
}

func (s *Scheduler) query(typ audit.Type, lead time.Duration, from, to, now time.Time) Query {
	return Query{Type: typ, Lead: lead, From: from, To: to, Now: now, Lapsed: now.Add(-s.c.Lease), Limit: s.c.BatchSize}
}

// pass claims every record q finds, batch after batch, and hands each
// claimed one to act, which reports whether it was done (the claim is then
// marked sent) or must be offered again (the claim is released). A record
// is looked at once per pass: one act could not do waits for the next
// run, and a pass ends even if a Store kept finding what it was told.
func (s *Scheduler) pass(ctx context.Context, q Query, r *Report, act func(context.Context, Notice, *Report) bool) error {
	seen := map[string]bool{}
	for {
		list, err := s.c.Store.Due(ctx, q)
		if err != nil {
			return err
		}
		fresh := 0
		for _, k := range list {
			at, ok := q.Match(k)
			if !ok || seen[k.ID] {
				continue
			}
			seen[k.ID] = true
			fresh++
			c := Claim{Type: q.Type, Lead: q.Lead, KeyID: k.ID, OwnerID: k.OwnerID, At: at, Token: rand.Text(), Now: q.Now, Lapsed: q.Lapsed}
			if won, err := s.c.Store.Claim(ctx, c); err != nil {
				return err
			} else if !won {
				continue // another run has it
			}
			// Was a bug, fixed: the notice was sent (or the key disabled for
			// staleness) on the record as the query read it, a whole batch of
			// Notifier calls earlier: a key revoked, used or changed since was
			// told it expires, or disabled although no longer idle. Now the
			// claim's holder reads the record again and acts only if it still
			// matches (a race of one read and one write remains).
			fresh, still := s.recheck(ctx, q, k, at)
			if !still {
				if err := s.c.Store.Release(context.WithoutCancel(ctx), c); err != nil {
					return err
				}
				continue
			}
			if act(ctx, Notice{Type: q.Type, Lead: q.Lead, At: at, Key: fresh}, r) {
				err = s.c.Store.Sent(ctx, c, q.Now)
			} else {
				err = s.c.Store.Release(context.WithoutCancel(ctx), c)
			}
			if err != nil {
				return err
			}
		}
		if len(list) < q.Limit || fresh == 0 {
			return nil
		}
	}
}

// recheck reads k again once its notice is claimed and reports whether q
// still selects it, about the same moment at, with the record as read now.
func (s *Scheduler) recheck(ctx context.Context, q Query, k *keys.Key, at time.Time) (*keys.Key, bool) {
	fresh, err := s.c.Manager.Get(ctx, keys.Ref{Owner: k.OwnerID, ID: k.ID})
	if err != nil {
		return nil, false // gone, or the Store failed: a later run looks again
	}
	again, ok := q.Match(fresh)
	if !ok || !again.Equal(at) {
		return fresh, false
	}
	if q.Type == Unused || q.Type == audit.Stale {
		used, err := s.descendantUsed(ctx, fresh, q.To)
		if err != nil || used {
			return fresh, false // in use through a key it created, or unknown: a later run looks again
		}
	}
	return fresh, true
}

// lister is the part of a keys.Store that finds the keys created through
// a key; *sqlstore.Store and *memstore.Store have it.
type lister interface {
	List(ctx context.Context, owner string, page keys.Page) ([]*keys.Key, error)
}

// descendantUsed reports whether a live key created through k (directly
// or further down) was used or changed after since. Was a bug, fixed: the
// staleness policy disabled an idle parent key, and with it every key
// created through it however much they were used (verification records
// the use of the presented key only). A parent in use through its
// children is in use. A Store that cannot list (not a keys.Store) skips
// the check.
func (s *Scheduler) descendantUsed(ctx context.Context, k *keys.Key, since time.Time) (bool, error) {
	l, ok := s.c.Store.(lister)
	if !ok {
		return false, nil
	}
	page := keys.Page{Within: k.ID, Limit: 200}
	for {
		list, err := l.List(ctx, k.OwnerID, page)
		if err != nil {
			return false, err
		}
		for _, d := range list {
			if d.ID != k.ID && d.RevokedAt.IsZero() && activity(d).After(since) {
				return true, nil
			}
		}
		if len(list) < page.Limit {
			return false, nil
		}
		page.Before = list[len(list)-1].ID
	}
}

// send hands n to the Notifier.
func (s *Scheduler) send(ctx context.Context, n Notice, r *Report) bool {
	ctx, cancel := context.WithTimeout(ctx, s.c.Lease/2)
	defer cancel()
	if err := s.c.Notifier.Notify(ctx, n); err != nil {
		r.Failed++
		s.c.Logger.WarnContext(ctx, "notify: the notifier refused a notice; it is offered again at a later run",
			"type", string(n.Type), "key_id", n.Key.ID, "owner", n.Key.OwnerID, "err", err)
		return false
	}
	r.Sent++
	return true
}

// disable disables n's key for staleness through the Manager. A key that
// can no longer be disabled (revoked, expired, gone) counts as done.
func (s *Scheduler) disable(ctx context.Context, n Notice, r *Report) bool {
	off := true
	// Was a bug, fixed: a change landing between the re-read and this
	// write was disabled over. The disable is conditional on the record
	// the re-read saw; a key changed since is offered again to a later
	// run, which decides on what it holds then.
	_, err := s.c.Manager.Update(ctx, keys.UpdateRequest{Ref: keys.Ref{Owner: n.Key.OwnerID, ID: n.Key.ID}, Actor: staleness, Disabled: &off, IfVersion: n.Key.Version})
	switch {
	case err == nil:
		r.Disabled++
		return true
	case errors.Is(err, keys.ErrConflict):
		return false
	case errors.Is(err, keys.ErrAlreadyRevoked), errors.Is(err, keys.ErrAlreadyExpired), errors.Is(err, keys.ErrNotFound):
		return true
	}
	r.Failed++
	s.c.Logger.WarnContext(ctx, "notify: a stale key could not be disabled; a later run tries again",
		"key_id", n.Key.ID, "owner", n.Key.OwnerID, "err", err)
	return false
}
