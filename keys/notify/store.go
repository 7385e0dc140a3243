package notify

import (
	"context"
	"time"

	"github.com/keycaphq/keycap/audit"
	"github.com/keycaphq/keycap/keys"
)

// Store finds the keys whose notices are due and keeps the claims that
// make each notice go out once, across every [Scheduler] sharing it. It
// reads the same records as the keys.Store of the Manager (keys/sqlstore
// and keys/memstore implement both); it must be safe for concurrent use.
// The conformance suite in keys/notify/notifytest checks this contract.
type Store interface {
	// Due returns up to q.Limit records, in no particular order, that
	// [Query.Match] accepts and whose notice (q.Type, q.Lead, the moment)
	// is neither sent nor claimed after q.Lapsed.
	Due(ctx context.Context, q Query) ([]*keys.Key, error)
	// Claim claims the notice c names for c.Token at c.Now and reports
	// whether it won: it wins if the notice has no claim, or an unsent one
	// made at or before c.Lapsed, and loses to any other claim, exactly
	// under any concurrency.
	Claim(ctx context.Context, c Claim) (bool, error)
	// Sent records the notice c claimed as sent at at, if the claim is
	// still c.Token's; otherwise it does nothing.
	Sent(ctx context.Context, c Claim, at time.Time) error
	// Release drops c's claim if it is still c.Token's and unsent, so that
	// a later run offers the notice again.
	Release(ctx context.Context, c Claim) error
	// Notices returns up to limit notices sent about owner's keys, newest
	// first, each with the key's current record.
	Notices(ctx context.Context, owner string, limit int) ([]Notice, error)
	// Prune deletes the claims made before before, sent or not, and
	// returns how many it deleted.
	Prune(ctx context.Context, before time.Time) (int64, error)
}

// Unused is the type of the staleness policy's claims: a key to disable,
// once per stretch without use. It is never a [Notice]'s Type.
const Unused audit.Type = "unused"

// Query asks a [Store] for the keys for which a notice of one type is due.
type Query struct {
	// Type is audit.Expiring, audit.Expired, audit.Stale, audit.Revoked,
	// audit.Disabled, or [Unused].
	Type audit.Type
	// Lead is, for Expiring, how long before its expiry the key is told;
	// 0 for the other types.
	Lead time.Duration
	// From and To bound the moment the notice is about ([Notice].At; for
	// Unused, the last use): From < moment <= To; a zero From sets no
	// lower bound.
	From, To time.Time
	Now      time.Time // keys expired at Now are neither Stale nor Unused
	Lapsed   time.Time // an unsent claim made at or before Lapsed no longer counts
	Limit    int       // at most this many records; at least 1
}

// Claim names one notice and the Scheduler run claiming it.
type Claim struct {
	Type    audit.Type    // as [Query].Type
	Lead    time.Duration // as [Query].Lead
	KeyID   string        // the key
	OwnerID string        // its owner, for [Store.Notices]
	At      time.Time     // the moment the notice is about: [Query.Match]'s answer
	Token   string        // unique to this claim
	Now     time.Time     // when it is claimed
	Lapsed  time.Time     // an unsent claim made at or before Lapsed may be taken over
}

// Match reports whether q selects k, whatever the claims, and the moment
// the notice is about: the rules every Store applies, for stores that
// filter in Go. Revoked and Disabled select what someone other than the
// owner did (not the owner, not the owner's keys, not an unrecorded
// actor); every type but Revoked skips revoked keys, and every type but
// Disabled skips disabled ones.
func (q Query) Match(k *keys.Key) (time.Time, bool) {
	if q.Type == audit.Revoked {
		return k.RevokedAt, !k.RevokedAt.IsZero() && q.in(k.RevokedAt) && notOwner(k.RevokedBy, k.OwnerID)
	}
	if !k.RevokedAt.IsZero() || k.Disabled != (q.Type == audit.Disabled) {
		return time.Time{}, false
	}
	switch q.Type {
	case audit.Disabled:
		return k.DisabledAt, q.in(k.DisabledAt) && notOwner(k.DisabledBy, k.OwnerID)
	case audit.Expiring:
		return k.ExpiresAt, q.in(k.ExpiresAt) && !k.CreatedAt.After(k.ExpiresAt.Add(-q.Lead))
	case audit.Expired:
		return k.ExpiresAt, q.in(k.ExpiresAt)
	case audit.Stale:
		at := lastUse(k)
		return at, !k.IsExpired(q.Now) && q.in(at)
	case Unused:
		return activity(k), !k.IsExpired(q.Now) && q.in(lastUse(k)) && !k.UpdatedAt.After(q.To)
	}
	return time.Time{}, false
}

// in reports whether t lies in (q.From, q.To].
func (q Query) in(t time.Time) bool { return !t.IsZero() && t.After(q.From) && !t.After(q.To) }

// notOwner reports whether a is a recorded actor other than owner and the
// owner's keys.
func notOwner(a audit.Actor, owner string) bool {
	return !a.IsZero() && a.Kind != audit.KindKey && a != audit.User(owner)
}

// lastUse is when k was last used, or created if never.
func lastUse(k *keys.Key) time.Time {
	if k.LastUsedAt.IsZero() {
		return k.CreatedAt
	}
	return k.LastUsedAt
}

// activity is the last time k was used or changed (re-enabling it
// included), or created: what an Unused claim is about, so that a key
// enabled again is a new stretch without use.
func activity(k *keys.Key) time.Time {
	at := lastUse(k)
	if k.UpdatedAt.After(at) {
		return k.UpdatedAt
	}
	return at
}
