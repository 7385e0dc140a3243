package keys

import (
	"math"
	"net/netip"
	"time"

	"github.com/keycaphq/keycap/policy"
)

// record is what verification reads of a stored [Key], compact because the
// cache holds one per key (see the README's Capacity): times in Unix
// nanoseconds (0: none), the hash inline, the kind and the server secret
// resolved once, the quota as a number, and nothing that only management
// shows (name, description, hint, metadata, actors, last use, refills).
// Made from a Key just read from the Store; read-only once made, and then
// shared by the cache entry that holds it and every [Verified] made from it.
//
// A stored hash of another length than a digest's is kept as the zero
// digest, which no key matches (an HMAC-SHA256 output of all zeros is as
// hard to find as a preimage): such a record verifies with no key, as
// before.
type record struct {
	// self holds the key's id ([record.id]), as a list of one: the keys a
	// request spends quota from, for a key without ancestors.
	self    [1]string
	ownerID string
	kind    *kind          // the kind the record names; nil: a kind this Manager does not know (never verifies)
	hash    digest         // under the newest server secret, unless secrets says otherwise
	secrets *recordSecrets // nil unless in a rotation's grace period or on an older server secret

	generation, parentGeneration int64
	createdAt, expiresAt         int64 // Unix nanoseconds ([nanos]); expiresAt 0: never
	// end is when the key stops working by time alone: its own expiry or
	// its creation plus the policy's maximum lifetime for its kind and
	// permissions, whichever comes first ([Manager.lifetimeEnd]), in Unix
	// nanoseconds; 0: never. Fixed for the record, as the policy and the
	// kinds are for the Manager's life.
	end       int64
	remaining int64 // the quota left as read; -1: the key has none

	ancestors   []string
	allowedIPs  []netip.Prefix
	permissions policy.Permissions // shared with the cache's other records holding the same set
	resources   policy.Resources

	revoked, disabled bool
}

// recordSecrets is what a record keeps of its secrets beyond the current
// hash, for the few keys in a rotation's grace period or hashed under an
// older server secret than the newest.
type recordSecrets struct {
	previous      digest // the hash a rotation replaced (the zero digest for another length: see record)
	previousUntil int64  // when previous stops working, in Unix nanoseconds; 0: no previous secret
	// old is set for a record hashed under an older server secret than
	// the newest, hasher's (nil: a retired one, which verifies no key): a
	// use queues its re-hash, conditioned on version and updatedAt.
	old       bool
	hasher    *hasher
	version   int64
	updatedAt time.Time
}

// record returns what verification reads of k.
func (m *Manager) record(k *Key) record {
	r := record{self: [1]string{k.ID}, ownerID: k.OwnerID, kind: m.kinds.byName[k.Kind],
		generation: k.Generation, parentGeneration: k.ParentGeneration,
		createdAt: max(nanos(k.CreatedAt), 1), expiresAt: nanos(k.ExpiresAt), remaining: -1,
		ancestors: k.Ancestors, allowedIPs: k.AllowedIPs, permissions: k.Permissions, resources: k.Resources,
		revoked: !k.RevokedAt.IsZero(), disabled: k.Disabled}
	if len(k.Hash) == len(r.hash) {
		copy(r.hash[:], k.Hash)
	}
	inGrace, old := len(k.PreviousHash) > 0, m.onOldSecret(k)
	if inGrace || old {
		s := &recordSecrets{old: old, version: k.Version, updatedAt: k.UpdatedAt}
		if old {
			s.hasher = m.secrets.hasher(k.SecretID)
		}
		if inGrace {
			s.previousUntil = nanos(k.PreviousExpiresAt)
			if len(k.PreviousHash) == len(s.previous) {
				copy(s.previous[:], k.PreviousHash)
			}
		}
		r.secrets = s
	}
	if k.Remaining != nil {
		r.remaining = max(*k.Remaining, 0) // a quota below zero is spent
	}
	r.end = m.lifetimeEnd(&r)
	return r
}

// id returns the key's id.
func (r *record) id() string { return r.self[0] }

// kindOf returns r's kind, the default when the record names a kind no
// longer configured (such a key is refused at verification).
func (m *Manager) kindOf(r *record) *kind {
	if r.kind != nil {
		return r.kind
	}
	return m.kinds.byName[""]
}

// inGrace reports whether r's previous secret still works at now (Unix
// nanoseconds).
func (r *record) inGrace(now int64) bool { return r.secrets != nil && now < r.secrets.previousUntil }

// onOldSecret reports whether r was hashed under an older server secret
// than the newest.
func (r *record) onOldSecret() bool { return r.secrets != nil && r.secrets.old }

// hasher returns the hasher of the server secret r was hashed under; nil
// for a retired one.
func (m *Manager) hasherOf(r *record) *hasher {
	if r.onOldSecret() {
		return r.secrets.hasher
	}
	return m.hasher
}

// nanos is t in Unix nanoseconds as a record keeps it: 0 for the zero
// time, otherwise within 1 (times before 1970 included: long past) and
// math.MaxInt64 (past the year 2262, where UnixNano would wrap).
func nanos(t time.Time) int64 {
	switch {
	case t.IsZero():
		return 0
	case t.After(maxUnixNanos):
		return math.MaxInt64
	case t.Before(minUnixNanos):
		return 1
	}
	return t.UnixNano()
}

var (
	maxUnixNanos = time.Unix(0, math.MaxInt64)
	minUnixNanos = time.Unix(0, 1)
)

// timeOf is the time of n Unix nanoseconds in UTC; the zero time for 0.
func timeOf(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// addNanos is n plus d, saturating at math.MaxInt64.
func addNanos(n int64, d time.Duration) int64 {
	if n > math.MaxInt64-int64(d) {
		return math.MaxInt64
	}
	return n + int64(d)
}
