package keys

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/keycaphq/keycap/policy"
)

// Verified is a key that passed verification.
type Verified struct {
	Key     *Key           // the record; shared, do not modify
	Subject policy.Subject // the owner as the Subjects returned them now
	// Permissions are the key's effective permissions: what it was granted,
	// cut to the owner's current cap. Read-only.
	Permissions policy.Permissions
}

// Verify checks a presented key and returns its effective permissions. See
// [Manager.VerifyFrom].
func (m *Manager) Verify(ctx context.Context, raw string) (Verified, error) {
	return m.VerifyFrom(ctx, raw, "")
}

// VerifyFrom checks a presented key, used from clientIP (for last-used
// bookkeeping; may be ""). In order: form and checksum ([ErrMalformed], no
// storage access), record by id (cache, then Store), keyed hash in constant
// time, revoked or disabled, expiry (its own, and the policy's current
// maximum lifetime counted from creation: [ErrExpired]), the owner (gone or
// disabled: [ErrOwnerGone]), and last the owner's current cap: the effective
// permissions are the stored ones cut to that cap. Unknown ids, wrong
// secrets and revoked keys all wrap [ErrInvalid]. It never writes to the
// Store on the request path.
func (m *Manager) VerifyFrom(ctx context.Context, raw string, clientIP string) (Verified, error) {
	v, err := m.verify(ctx, raw, clientIP)
	if err != nil {
		if m.auditor != nil && !errors.Is(err, ErrStoreUnavailable) {
			m.auditDenied(ctx, raw, v.Key, err, clientIP)
		}
		return Verified{}, err
	}
	return v, nil
}

// verify returns the Verified key, or an error and, when the record was
// found, a Verified holding only the record (for the audit).
func (m *Manager) verify(ctx context.Context, raw string, clientIP string) (Verified, error) {
	t, err := Parse(raw)
	if err != nil || t.Prefix != m.prefix {
		return Verified{}, ErrMalformed
	}
	now := m.now()
	k, entry, err := m.lookup(ctx, t.ID, now)
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return Verified{}, ErrInvalid
		}
		return Verified{}, err
	}
	d := m.hasher.Sum(raw)
	if !d.Equal(k.Hash) && !(k.PreviousHash != nil && now.Before(k.PreviousExpiresAt) && d.Equal(k.PreviousHash)) {
		return Verified{}, ErrInvalid
	}
	found := Verified{Key: k} // the secret matched: the record may be audited
	switch {
	case k.IsRevoked():
		return found, ErrRevoked
	case k.Disabled:
		return found, ErrDisabled
	case k.IsExpired(now):
		return found, ErrExpired
	}
	if max := m.policy.MaxLifetime(k.Permissions); max > 0 && !now.Before(k.CreatedAt.Add(max)) {
		return found, ErrExpired // the policy was tightened after the key was made
	}
	subject, err := m.subjects.Subject(ctx, k.OwnerID)
	if errors.Is(err, ErrUnknownSubject) {
		return found, ErrOwnerGone
	} else if err != nil {
		return found, err
	}
	cap, err := m.policy.Cap(ctx, subject)
	if errors.Is(err, policy.ErrSubjectDisabled) {
		return found, ErrOwnerGone
	} else if err != nil {
		return found, err
	}
	var effective policy.Permissions
	if entry != nil {
		effective = entry.effective(cap)
	} else {
		effective = cutTo(k.Permissions, cap)
	}
	if k.ParentID != "" {
		if effective, err = m.withinParents(ctx, k, effective, now); err != nil {
			return found, err
		}
	}
	if m.usage != nil {
		m.usage.note(k.ID, now, clientIP)
	}
	return Verified{Key: k, Subject: subject, Permissions: effective}, nil
}

// MaxDelegationDepth bounds chains of keys created by keys.
const MaxDelegationDepth = 8

// ErrParentInvalid wraps [ErrInvalid] for a delegated key whose parent key
// (or one of its ancestors) was revoked, disabled, expired or deleted.
var ErrParentInvalid = fmt.Errorf("%w: the key that created it no longer works", ErrInvalid)

// withinParents cuts a delegated key's permissions to every ancestor's
// and refuses it when an ancestor no longer works: a key made by a key
// never outlives or outgrows it.
func (m *Manager) withinParents(ctx context.Context, k *Key, effective policy.Permissions, now time.Time) (policy.Permissions, error) {
	for depth, id := 0, k.ParentID; id != ""; depth++ {
		if depth == MaxDelegationDepth {
			return nil, ErrParentInvalid
		}
		parent, _, err := m.lookup(ctx, id, now)
		if errors.Is(err, ErrNotFound) {
			return nil, ErrParentInvalid
		} else if err != nil {
			return nil, err
		}
		maxAge := m.policy.MaxLifetime(parent.Permissions)
		if parent.IsRevoked() || parent.Disabled || parent.IsExpired(now) || parent.OwnerID != k.OwnerID ||
			(maxAge > 0 && !now.Before(parent.CreatedAt.Add(maxAge))) {
			return nil, ErrParentInvalid
		}
		if !policy.Subset(effective, parent.Permissions) {
			effective = policy.Intersect(effective, parent.Permissions)
		}
		id = parent.ParentID
	}
	return effective, nil
}

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

func (m *Manager) auditDenied(ctx context.Context, raw string, k *Key, err error, ip string) {
	e := Event{Type: EventVerificationDenied, Time: m.now(), Reason: err.Error(), IP: ip}
	if k != nil {
		e.KeyID, e.OwnerID, e.Before = k.ID, k.OwnerID, k.Permissions
	} else if t, perr := Parse(raw); perr == nil {
		e.KeyID = t.ID // the id is not secret; the key never leaves this function
	}
	if e.KeyID != "" && !m.denials.first(e.KeyID+" "+e.Reason, e.Time) {
		return // already audited within the interval: a revoked key used in a loop is one event, not a write per request
	}
	m.audit(ctx, e)
}

// denialLog remembers which denials were audited lately, so that each
// (key, reason) is audited at most once per interval. Safe for concurrent
// use; it forgets entries older than the interval as it goes.
type denialLog struct {
	mu       sync.Mutex
	interval time.Duration
	seen     map[string]time.Time
}

// first reports whether what was not seen within the interval before now,
// and records it.
func (d *denialLog) first(what string, now time.Time) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.seen == nil {
		d.seen = map[string]time.Time{}
	}
	if last, ok := d.seen[what]; ok && now.Sub(last) < d.interval {
		return false
	}
	if len(d.seen) >= 10_000 { // bounded: drop what has aged out
		for k, t := range d.seen {
			if now.Sub(t) >= d.interval {
				delete(d.seen, k)
			}
		}
	}
	d.seen[what] = now
	return true
}
