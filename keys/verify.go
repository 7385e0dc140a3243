package keys

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/keycaphq/keycap/policy"
)

// Verified is a key that passed [Manager.Verify]: which key it is and what
// a request made with it may do. It holds what verification read, not the
// key's record: [Manager.Get] with a [Ref] of OwnerID and ID reads the
// record (its name, metadata, last use) from the Store. The zero Verified
// holds no key, and a [Ref] or request whose Caller it is is refused. A
// Verified is read-only once returned, and then safe to share between
// goroutines.
type Verified struct {
	ID      string         // the key's id ([Key].ID)
	OwnerID string         // the key's owner ([Key].OwnerID): a user, or an organization (Subject.Organization)
	Kind    string         // the key's kind ([Key].Kind), picked from its prefix: "" for the default kind
	Subject policy.Subject // the owner as the Subjects returned them now
	// Permissions are the key's effective permissions: what it was granted,
	// cut to the owner's current cap and to every ancestor's. Read-only.
	Permissions policy.Permissions
	// PreviousSecret is set when the key was presented with its previous
	// secret, in a rotation's grace period: such a request may call the
	// API but not manage keys (a [*DelegationError] with PreviousSecret).
	PreviousSecret bool
	// CreatedAt is when the key was created ([Key].CreatedAt), in UTC.
	CreatedAt time.Time
	// ExpiresAt is when the key stops working at the latest, as verified:
	// the earliest of its own expiry, its creation plus the policy's
	// maximum lifetime, the same of each of its ancestors, and the end of
	// the grace period of a parent's previous secret that created it, in
	// UTC. Zero: never.
	ExpiresAt time.Time
	// Resources is the key's effective restriction to records: its own
	// ([Key].Resources) cut to each ancestor's ([policy.IntersectResources]);
	// nil when neither limits it. Read-only.
	Resources policy.Resources
	// Remaining is the tightest quota left along the key and its ancestors
	// as read at verification (a request spends from each); -1 when none of
	// them has a quota.
	Remaining int64

	rec *record // the key as verified: what a key it creates inherits; nil when no Manager made this Verified
	// chain lists the keys whose quotas a request spends, for a key with
	// ancestors: itself if it has a quota, and each ancestor that has one.
	// nil for a key without ancestors, which spends its own quota if it
	// has one ([Verified.spends]).
	chain    *[]string
	ownerCap policy.Permissions // the owner's cap Permissions were cut to (see cacheEntry.memo)
}

// spends returns the keys whose quotas a request made with v spends.
func (v *Verified) spends() []string {
	switch {
	case v.chain != nil:
		return *v.chain
	case v.rec != nil && v.rec.remaining >= 0:
		return v.rec.self[:]
	}
	return nil
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
		if (m.auditor != nil || errors.Is(err, ErrIPNotAllowed)) && !errors.Is(err, ErrStoreUnavailable) {
			m.auditDenied(ctx, raw, found, err, clientIP)
		}
		return nil, err
	}
	return v, nil
}

// verify returns the Verified key, and the record whenever it was found
// and the secret matched (for the audit and the observer, also on refusal).
func (m *Manager) verify(ctx context.Context, raw, clientIP string, use bool) (*Verified, *record, error) {
	if e := m.hit(raw); e != nil {
		if now := m.timeFor(m.deadline(e)); m.cache.fresh(e, now) {
			return m.admit(ctx, raw, clientIP, use, e, &e.rec, e.rec.kind, false, now)
		}
	}
	t, err := parse(raw)
	if err != nil {
		return nil, nil, errMalformed
	}
	kc, ok := m.kinds.byPrefix[t.Prefix] // the kind, from the prefix alone
	if !ok {
		return nil, nil, errMalformed
	}
	now := m.now()
	r, entry, err := m.lookup(ctx, t.ID, now)
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return nil, nil, errUnknownID
		}
		return nil, nil, err
	}
	previous, err := m.matchSecret(r, raw, now)
	if err != nil {
		return nil, nil, err
	}
	if r.kind != kc {
		return nil, nil, errWrongKind // the secret matched under another kind's prefix: not this key
	}
	if entry != nil && !previous {
		entry.pass(m.cache.tags.of(raw))
	}
	return m.admit(ctx, raw, clientIP, use, entry, r, kc, previous, now)
}

// hit returns the cache entry of the key raw names when raw is the key
// string that last passed against its record (its SipHash tag matches
// the entry's): raw then passes the form, checksum, HMAC and kind checks
// it passed before (the server secrets and kinds are fixed for m's
// life), and only the checks admit makes remain. Otherwise nil, and raw
// takes the full path. The entry may be past MaxStale.
func (m *Manager) hit(raw string) *cacheEntry {
	if m.cache == nil {
		return nil
	}
	const tail = 1 + idLength + 1 + secretLength + 1 + checksumLength
	n := len(raw) - tail // the prefix's length, if raw is of the form
	if n < 1 || n > 16 {
		return nil
	}
	e := m.cache.peek(raw[n+1 : n+1+idLength])
	if e == nil {
		return nil
	}
	if t := e.passed(); t == (tag{}) || !t.matches(m.cache.tags.of(raw)) {
		return nil
	}
	return e
}

// deadline is the earliest time (Unix nanoseconds) at which the key of e
// or e itself may stop being good by time alone: its lifetime's end, e's
// MaxStale; 0 for none; 1 (always near: see [Manager.timeFor]) for a key
// with ancestors, whose deadlines are theirs.
func (m *Manager) deadline(e *cacheEntry) int64 {
	if len(e.rec.ancestors) > 0 {
		return 1
	}
	d := e.rec.end
	if m.cache.maxAge > 0 {
		if stale := addNanos(e.loadedAt, m.cache.maxAge); d == 0 || stale < d {
			d = stale
		}
	}
	return d
}

// admit makes the checks of r, whose secret matched under kind kc
// (previous: its previous secret), that do not depend on the presented
// string: usable now from clientIP, its owner and their cap; then notes
// the use and builds (or shares, from entry) the Verified.
func (m *Manager) admit(ctx context.Context, raw, clientIP string, use bool, entry *cacheEntry, r *record, kc *kind, previous bool, now time.Time) (*Verified, *record, error) {
	if err := m.usable(ctx, r, now, clientIP); err != nil {
		return nil, r, err
	}
	subject, ownerCap, err := m.owner(ctx, r.ownerID, kc)
	if err != nil {
		return nil, r, err
	}
	shared := entry != nil && !previous && len(r.ancestors) == 0
	var v *Verified
	if shared {
		v = entry.verified(subject, ownerCap)
	}
	if v == nil {
		if v, err = m.effective(ctx, r, entry, subject, ownerCap, kc, previous, now, clientIP); err != nil {
			return nil, r, err
		}
		if shared {
			entry.memo.Store(v)
		}
	}
	if use && m.usage != nil {
		m.noteUse(entry, r.id(), now, clientIP)
	}
	if r.onOldSecret() && !previous {
		m.rehashes.note(r, raw, now)
	}
	return v, r, nil
}

// noteUse notes a use of the key id, cached in entry (nil: not cached),
// at now: a use within the interval of the last one noted through the
// entry skips the recorder.
func (m *Manager) noteUse(entry *cacheEntry, id string, now time.Time, clientIP string) {
	ns := now.UnixNano()
	if entry != nil {
		if last := entry.noted.Load(); last != 0 && ns-last < int64(m.usage.interval) {
			return
		}
		entry.noted.Store(ns)
	}
	m.usage.note(id, now, clientIP)
}

// effective builds the Verified of r, of kind kc, whose secret matched and
// which is usable, for subject under ownerCap: its permissions cut to that
// cap and to each ancestor's, its lifetime and its quota.
func (m *Manager) effective(ctx context.Context, r *record, entry *cacheEntry, subject policy.Subject, ownerCap policy.Permissions, kc *kind, previous bool, now time.Time, clientIP string) (*Verified, error) {
	v := &Verified{ID: r.id(), OwnerID: r.ownerID, Kind: kc.name, Subject: subject, PreviousSecret: previous,
		CreatedAt: timeOf(r.createdAt), Remaining: -1, Resources: r.resources, rec: r, ownerCap: ownerCap}
	v.until(r.end)
	v.Permissions = cutTo(r.permissions, ownerCap)
	if entry != nil {
		if memo := entry.memo.Load(); memo != nil && sameMap(memo.ownerCap, ownerCap) {
			v.Permissions = memo.Permissions // the same cut, already made
		}
	}
	if r.remaining >= 0 {
		v.Remaining = r.remaining
	}
	if len(r.ancestors) > 0 {
		v.chain = new([]string)
		if r.remaining >= 0 {
			*v.chain = append(*v.chain, r.id())
		}
		if err := m.withinAncestors(ctx, r, v, now, clientIP); err != nil {
			return nil, err
		}
	}
	if len(r.allowedIPs) == 0 {
		// A key made before the policy reserved some permissions for keys
		// limited to IP ranges holds none of them now.
		if need := m.policy.NeedsAllowList(v.Permissions); need != nil {
			v.Permissions = policy.Excess(v.Permissions, need)
		}
	}
	return v, nil
}

// matchSecret computes the one HMAC of raw, under the server secret r
// names, and compares it with r's hash, then with its previous hash while
// a rotation's grace period runs (previous).
func (m *Manager) matchSecret(r *record, raw string, now time.Time) (previous bool, err error) {
	h := m.hasherOf(r)
	if h == nil {
		return false, errRetiredSecret
	}
	d := h.Sum(raw)
	if d.Equal(r.hash[:]) {
		return false, nil
	}
	if !r.inGrace(now.UnixNano()) || !d.Equal(r.secrets.previous[:]) {
		return false, errWrongSecret
	}
	return true, nil
}

// usable refuses a key whose secret matched but that may not be used now,
// from clientIP: revoked, disabled, expired (by its own expiry or the
// policy's maximum lifetime: its end), or outside its allowed IPs.
func (m *Manager) usable(ctx context.Context, r *record, now time.Time, clientIP string) error {
	switch {
	case r.revoked:
		return errRevoked
	case r.disabled:
		return errDisabled
	case r.end != 0 && now.UnixNano() >= r.end:
		return ErrExpired
	}
	if !allows(r.allowedIPs, clientIP) {
		return ErrIPNotAllowed // logged and audited by auditDenied
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
// the Store (with no entry; cached for the next lookup).
func (m *Manager) lookup(ctx context.Context, id string, now time.Time) (*record, *cacheEntry, error) {
	var gen uint64
	if m.cache != nil {
		if e := m.cache.get(id, now); e != nil {
			return &e.rec, e, nil
		}
		gen = m.cache.generation()
	}
	k, err := m.store.Get(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	if m.cache == nil {
		r := m.record(k)
		return &r, nil, nil
	}
	e := &cacheEntry{rec: m.record(k), loadedAt: now.UnixNano()}
	m.cache.put(e, gen)
	return &e.rec, nil, nil
}

// lifetimeEnd is when r stops working by time alone, in Unix nanoseconds:
// its own expiry, or its creation plus the policy's maximum lifetime for
// its permissions (tightened after the key was made, perhaps), whichever
// comes first; 0 for never. The record keeps it ([record].end).
func (m *Manager) lifetimeEnd(r *record) int64 {
	end := r.expiresAt
	if maxAge := m.kindOf(r).maxLifetime(m.policy, r.permissions); maxAge > 0 {
		if byPolicy := addNanos(r.createdAt, maxAge); end == 0 || byPolicy < end {
			end = byPolicy
		}
	}
	return end
}

// until brings v.ExpiresAt forward to end (Unix nanoseconds), unless end
// is 0 (never).
func (v *Verified) until(end int64) {
	if end != 0 && (v.ExpiresAt.IsZero() || end < v.ExpiresAt.UnixNano()) {
		v.ExpiresAt = timeOf(end)
	}
}
