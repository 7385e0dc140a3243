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
	// API but not manage keys (a [*DelegationError] with PreviousSecret).
	PreviousSecret bool
	// ExpiresAt is when the key stops working at the latest, as verified:
	// the earliest of its own expiry, its creation plus the policy's
	// maximum lifetime, the same of each of its ancestors, and the end of
	// the grace period of a parent's previous secret that created it. Zero:
	// never.
	ExpiresAt time.Time
	// Resources is the key's effective restriction to records: its own
	// ([Key].Resources) cut to each ancestor's ([policy.IntersectResources]);
	// nil when neither limits it. Read-only.
	Resources policy.Resources
	// Remaining is the tightest quota left along the key and its ancestors
	// as read at verification (a request spends from each); -1 when none of
	// them has a quota.
	Remaining int64

	quota []string // the key and ancestors whose quotas a request spends
}

// Verify checks a presented key, used from clientIP (for last-used
// bookkeeping and the audit; may be ""), and returns its effective
// permissions. In order: form and checksum ([ErrInvalid], no storage
// access), record by id (cache, then Store), keyed hash in constant time
// (one HMAC, under the server secret the record names, or on a cache hit
// a 128-bit SipHash tag of the exact key that last passed it), revoked or
// disabled, expiry (its own, and the policy's current maximum lifetime
// counted from creation: [ErrExpired]), the client address within the
// key's allowed IPs ([ErrIPNotAllowed]), the owner (gone or disabled), and
// last the owner's current cap: the effective permissions are the stored
// ones cut to that cap, and for a delegated key to each ancestor's (whose
// allowed IPs apply too). Unknown ids, wrong secrets, keys hashed under a
// retired server secret, revoked and disabled keys and gone owners all wrap
// [ErrInvalid], so that a client cannot tell them apart. It never writes
// to the Store on the request path: a key hashed under an older server
// secret is queued to move to the newest, written off the request path.
//
// The result is read-only: it may be shared with other verifications of
// the same key (a cached key under an unchanged owner and cap answers the
// same *Verified), so a request can keep it without a copy.
func (m *Manager) Verify(ctx context.Context, raw, clientIP string) (*Verified, error) {
	return m.check(ctx, raw, clientIP, true)
}

// Inspect checks a presented key exactly as [Manager.Verify] does (same
// order, same errors, observed and audited alike) without it counting as a
// use of the key: no last-used bookkeeping. It is for a party that asks
// about a key rather than acts with it, such as an introspection endpoint
// (RFC 7662) answering a resource server. clientIP is the address the key
// was presented from, as that party saw it; "" when it is not known, and
// then a key limited to IP ranges is refused ([ErrIPNotAllowed]).
func (m *Manager) Inspect(ctx context.Context, raw, clientIP string) (*Verified, error) {
	return m.check(ctx, raw, clientIP, false)
}

// check verifies raw; use says whether it counts as a use of the key.
func (m *Manager) check(ctx context.Context, raw, clientIP string, use bool) (*Verified, error) {
	var start time.Time
	if m.observer != nil {
		start = time.Now()
	}
	v, found, err := m.verify(ctx, raw, clientIP, use)
	if m.observer != nil {
		m.observe(ctx, raw, found, err, time.Since(start))
	}
	if err != nil {
		if m.auditor != nil && !errors.Is(err, ErrStoreUnavailable) {
			m.auditDenied(ctx, raw, found, err, clientIP)
		}
		return nil, err
	}
	return v, nil
}

// verify returns the Verified key, and the record whenever it was found
// and the secret matched (for the audit and the observer, also on refusal).
func (m *Manager) verify(ctx context.Context, raw, clientIP string, use bool) (*Verified, *Key, error) {
	t, err := parse(raw)
	if err != nil {
		return nil, nil, errMalformed
	}
	kc, ok := m.kinds.byPrefix[t.Prefix] // the kind, from the prefix alone
	if !ok {
		return nil, nil, errMalformed
	}
	now := m.now()
	k, entry, err := m.lookup(ctx, t.ID, now)
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return nil, nil, errUnknownID
		}
		return nil, nil, err
	}
	previous, err := m.matchEntry(entry, k, raw, now)
	if err != nil {
		return nil, nil, err
	}
	if k.Kind != kc.name {
		return nil, nil, errWrongKind // the secret matched under another kind's prefix: not this key
	}
	if err := m.usable(ctx, k, now, clientIP); err != nil {
		return nil, k, err
	}
	subject, ownerCap, err := m.owner(ctx, k.OwnerID, kc)
	if err != nil {
		return nil, k, err
	}
	shared := entry != nil && !previous && len(k.Ancestors) == 0
	var v *Verified
	if shared {
		v = entry.verified(subject, ownerCap)
	}
	if v == nil {
		if v, err = m.effective(ctx, k, entry, subject, ownerCap, previous, now, clientIP); err != nil {
			return nil, k, err
		}
		if shared {
			entry.memo.Store(&verifiedMemo{ownerCap: ownerCap, v: v})
		}
	}
	if use && m.usage != nil {
		m.usage.note(k.ID, now, clientIP)
	}
	if m.onOldSecret(k) && !previous {
		m.rehashes.note(k, raw, now)
	}
	return v, k, nil
}

// effective builds the Verified of k, whose secret matched and which is
// usable, for subject under ownerCap: its permissions cut to that cap and
// to each ancestor's, its lifetime and its quota.
func (m *Manager) effective(ctx context.Context, k *Key, entry *cacheEntry, subject policy.Subject, ownerCap policy.Permissions, previous bool, now time.Time, clientIP string) (*Verified, error) {
	v := &Verified{Key: k, Subject: subject, PreviousSecret: previous, Remaining: -1, Resources: k.Resources}
	v.until(m.lifetimeEnd(k))
	v.Permissions = cutTo(k.Permissions, ownerCap)
	if entry != nil {
		if memo := entry.memo.Load(); memo != nil && sameMap(memo.ownerCap, ownerCap) {
			v.Permissions = memo.v.Permissions // the same cut, already made
		}
	}
	if k.Remaining != nil {
		v.quota = []string{k.ID}
		v.Remaining = *k.Remaining
	}
	if len(k.Ancestors) > 0 {
		if err := m.withinAncestors(ctx, k, v, now, clientIP); err != nil {
			if errors.Is(err, ErrIPNotAllowed) {
				m.logIPRefusal(ctx, k, clientIP, now)
			}
			return nil, err
		}
	}
	if len(k.AllowedIPs) == 0 {
		// A key made before the policy reserved some permissions for keys
		// limited to IP ranges holds none of them now.
		if need := m.policy.NeedsAllowList(v.Permissions); need != nil {
			v.Permissions = policy.Excess(v.Permissions, need)
		}
	}
	return v, nil
}

// matchEntry checks raw against k, the record of a cache entry (nil when
// k was read from the Store): a presented key whose SipHash tag is the
// entry's passes without the HMAC; any other goes through matchSecret,
// and the tag of a key that matched the current hash is kept.
func (m *Manager) matchEntry(entry *cacheEntry, k *Key, raw string, now time.Time) (previous bool, err error) {
	if entry == nil {
		return m.matchSecret(k, raw, now)
	}
	t := m.cache.tags.of(raw)
	if p := entry.passed.Load(); p != nil && p.matches(t) {
		return false, nil // the server secrets are fixed for m's life: the HMAC would match again
	}
	previous, err = m.matchSecret(k, raw, now)
	if err == nil && !previous {
		passed := t // a copy made here, so that only this path allocates
		entry.passed.Store(&passed)
	}
	return previous, err
}

// matchSecret computes the one HMAC of raw, under the server secret k
// names, and compares it with k's hash, then with its previous hash while
// a rotation's grace period runs (previous).
func (m *Manager) matchSecret(k *Key, raw string, now time.Time) (previous bool, err error) {
	h := m.secrets.hasher(k.SecretID)
	if h == nil {
		return false, errRetiredSecret
	}
	d := h.Sum(raw)
	if d.Equal(k.Hash) {
		return false, nil
	}
	if k.PreviousHash == nil || !now.Before(k.PreviousExpiresAt) || !d.Equal(k.PreviousHash) {
		return false, errWrongSecret
	}
	return true, nil
}

// usable refuses a key whose secret matched but that may not be used now,
// from clientIP: revoked, disabled, expired (by its own expiry or the
// policy's current maximum lifetime), or outside its allowed IPs.
func (m *Manager) usable(ctx context.Context, k *Key, now time.Time, clientIP string) error {
	switch {
	case !k.RevokedAt.IsZero():
		return errRevoked
	case k.Disabled:
		return errDisabled
	case k.IsExpired(now):
		return ErrExpired
	}
	if maxAge := m.kinds.of(k).maxLifetime(m.policy, k.Permissions); maxAge > 0 && !now.Before(k.CreatedAt.Add(maxAge)) {
		return ErrExpired // the policy was tightened after the key was made
	}
	if !allows(k.AllowedIPs, clientIP) {
		m.logIPRefusal(ctx, k, clientIP, now)
		return ErrIPNotAllowed
	}
	return nil
}

// owner returns a key's owner as the Subjects know them now, and their
// cap; an owner gone or disabled is [errOwnerGone].
func (m *Manager) owner(ctx context.Context, id string, kc *kind) (policy.Subject, policy.Permissions, error) {
	subject, err := m.subjects.Subject(ctx, id)
	if errors.Is(err, policy.ErrUnknownSubject) {
		return subject, nil, errOwnerGone
	} else if err != nil {
		return subject, nil, err
	}
	ownerCap, err := m.policy.Cap(ctx, subject, kc.bounds()...)
	if errors.Is(err, policy.ErrSubjectDisabled) {
		return subject, nil, errOwnerGone
	}
	return subject, ownerCap, err
}

// Verification failures that are counted, not audited one by one: their
// ids match no record or their secret no key, so they name nobody's key.
var (
	errUnknownID   = fmt.Errorf("%w: unknown id", ErrInvalid)
	errWrongSecret = fmt.Errorf("%w: wrong secret", ErrInvalid)
	// errRetiredSecret is a key hashed under a server secret no longer
	// configured: it can no longer be checked, so it is a wrong secret.
	errRetiredSecret = fmt.Errorf("%w: hashed under a retired server secret", errWrongSecret)
	// errWrongKind is a key presented under the prefix of another kind
	// than its record's: another key, as far as anyone may tell.
	errWrongKind = fmt.Errorf("%w: another kind's prefix", errWrongSecret)
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
	if maxAge := m.kinds.of(k).maxLifetime(m.policy, k.Permissions); maxAge > 0 {
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
