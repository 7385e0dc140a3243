package keys

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/keycaphq/keycap/policy"
)

// Verified is a key that passed [Manager.Verify]: what a request made
// with it may do. The zero Verified holds no key. A Verified is read-only
// once returned, and then safe to share between goroutines.
type Verified struct {
	Key     *Key           // the record; shared, do not modify
	Subject policy.Subject // the owner as the Subjects returned them now
	// Permissions are the key's effective permissions: what it was granted,
	// cut to the owner's current cap and to every ancestor's. Read-only.
	Permissions policy.Permissions
	// PreviousSecret is set when the key was presented with its previous
	// secret, in a rotation's grace period: such a request may call the
	// API but not manage keys ([ErrPreviousSecret]).
	PreviousSecret bool
	// ExpiresAt is when the key stops working at the latest, as verified:
	// the earliest of its own expiry, its creation plus the policy's
	// maximum lifetime, the same of each of its ancestors, and the end of
	// the grace period of a parent's previous secret that created it. Zero:
	// never.
	ExpiresAt time.Time
	// Remaining is the tightest quota left along the key and its ancestors
	// as read at verification (a request spends from each); -1 when none of
	// them has a quota.
	Remaining int64

	quota []string // the key and ancestors whose quotas a request spends
}

// Verify checks a presented key, used from clientIP (for last-used
// bookkeeping and the audit; may be ""), and returns its effective
// permissions. In order: form and checksum ([ErrMalformed], no storage
// access), record by id (cache, then Store), keyed hash in constant time,
// revoked or disabled, expiry (its own, and the policy's current maximum
// lifetime counted from creation: [ErrExpired]), the owner (gone or
// disabled), and last the owner's current cap: the effective permissions are
// the stored ones cut to that cap, and for a delegated key to each
// ancestor's. Unknown ids, wrong secrets, revoked and disabled keys and gone
// owners all wrap [ErrInvalid], so that a client cannot tell them apart. It
// never writes to the Store on the request path.
func (m *Manager) Verify(ctx context.Context, raw, clientIP string) (Verified, error) {
	return m.check(ctx, raw, clientIP, true)
}

// Inspect checks a presented key exactly as [Manager.Verify] does (same
// order, same errors, observed and audited alike) without it counting as a
// use of the key: no last-used bookkeeping. It is for a party that asks
// about a key rather than acts with it, such as an introspection endpoint
// (RFC 7662) answering a resource server.
func (m *Manager) Inspect(ctx context.Context, raw string) (Verified, error) {
	return m.check(ctx, raw, "", false)
}

// check verifies raw; use says whether it counts as a use of the key.
func (m *Manager) check(ctx context.Context, raw, clientIP string, use bool) (Verified, error) {
	var start time.Time
	if m.observer != nil {
		start = time.Now()
	}
	v, err := m.verify(ctx, raw, clientIP, use)
	if m.observer != nil {
		m.observe(ctx, raw, v, err, time.Since(start))
	}
	if err != nil {
		if m.auditor != nil && !errors.Is(err, ErrStoreUnavailable) {
			m.auditDenied(ctx, raw, v.Key, err, clientIP)
		}
		return Verified{}, err
	}
	return v, nil
}

// verify returns the Verified key, or an error and, when the record was
// found and the secret matched, a Verified holding only the record (for
// the audit).
func (m *Manager) verify(ctx context.Context, raw, clientIP string, use bool) (Verified, error) {
	t, err := parse(raw)
	if err != nil || t.Prefix != m.prefix {
		return Verified{}, ErrMalformed
	}
	now := m.now()
	k, entry, err := m.lookup(ctx, t.ID, now)
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return Verified{}, errUnknownID
		}
		return Verified{}, err
	}
	d := m.hasher.Sum(raw)
	previous := false
	if !d.Equal(k.Hash) {
		if k.PreviousHash == nil || !now.Before(k.PreviousExpiresAt) || !d.Equal(k.PreviousHash) {
			return Verified{}, errWrongSecret
		}
		previous = true
	}
	found := Verified{Key: k} // the secret matched: the record may be audited
	switch {
	case k.IsRevoked():
		return found, errRevoked
	case k.Disabled:
		return found, errDisabled
	case k.IsExpired(now):
		return found, ErrExpired
	}
	if maxAge := m.policy.MaxLifetime(k.Permissions); maxAge > 0 && !now.Before(k.CreatedAt.Add(maxAge)) {
		return found, ErrExpired // the policy was tightened after the key was made
	}
	subject, err := m.subjects.Subject(ctx, k.OwnerID)
	if errors.Is(err, policy.ErrUnknownSubject) {
		return found, errOwnerGone
	} else if err != nil {
		return found, err
	}
	ownerCap, err := m.policy.Cap(ctx, subject)
	if errors.Is(err, policy.ErrSubjectDisabled) {
		return found, errOwnerGone
	} else if err != nil {
		return found, err
	}
	v := Verified{Key: k, Subject: subject, PreviousSecret: previous, Remaining: -1}
	v.until(m.lifetimeEnd(k))
	if entry != nil {
		v.Permissions = entry.effective(ownerCap)
	} else {
		v.Permissions = cutTo(k.Permissions, ownerCap)
	}
	if k.Remaining != nil {
		v.quota = []string{k.ID}
		v.Remaining = *k.Remaining
	}
	if len(k.Ancestors) > 0 {
		if err := m.withinAncestors(ctx, k, &v, now); err != nil {
			return found, err
		}
	}
	if use && m.usage != nil {
		m.usage.note(k.ID, now, clientIP)
	}
	return v, nil
}

// Verification failures that are counted, not audited one by one: their
// ids match no record or their secret no key, so they name nobody's key.
var (
	errUnknownID   = fmt.Errorf("%w: unknown id", ErrInvalid)
	errWrongSecret = fmt.Errorf("%w: wrong secret", ErrInvalid)
)

// lookup returns the record with id from the cache (with its entry) or
// the Store (with no entry).
func (m *Manager) lookup(ctx context.Context, id string, now time.Time) (*Key, *cacheEntry, error) {
	var gen uint64
	if m.cache != nil {
		if e := m.cache.get(id, now); e != nil {
			return e.key, e, nil
		}
		gen = m.cache.generation()
	}
	k, err := m.store.Get(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	if m.cache != nil {
		m.cache.put(k, now, gen)
	}
	return k, nil, nil
}

// lifetimeEnd is when k stops working by time alone: its own expiry, or
// its creation plus the policy's maximum lifetime for its permissions,
// whichever comes first; zero for never.
func (m *Manager) lifetimeEnd(k *Key) time.Time {
	end := k.ExpiresAt
	if maxAge := m.policy.MaxLifetime(k.Permissions); maxAge > 0 {
		if byPolicy := k.CreatedAt.Add(maxAge); end.IsZero() || byPolicy.Before(end) {
			end = byPolicy
		}
	}
	return end
}

// until brings v.ExpiresAt forward to end, unless end is zero (never).
func (v *Verified) until(end time.Time) {
	if !end.IsZero() && (v.ExpiresAt.IsZero() || end.Before(v.ExpiresAt)) {
		v.ExpiresAt = end
	}
}
