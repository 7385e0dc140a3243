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
type record struct {
	id, ownerID string
	kind        *kind   // the kind the record names; nil: a kind this Manager does not know (never verifies)
	hasher      *hasher // the server secret its hashes are under; nil: a retired one (never verifies)
	hash        digest  // meaningful when hashOK
	previous    *previousHash
	rehash      *rehashBase // nil unless hashed under an older server secret than the newest

	generation, parentGeneration int64
	createdAt, expiresAt         int64 // Unix nanoseconds ([nanos]); expiresAt 0: never
	remaining                    int64 // the quota left as read; -1: the key has none

	ancestors   []string
	allowedIPs  []netip.Prefix
	permissions policy.Permissions // shared with the cache's other records holding the same set
	resources   policy.Resources

	revoked, disabled bool
	hashOK            bool // the stored hash has a digest's length; a record whose hash has not matches nothing
}

// previousHash is the hash a rotation replaced and the end of its grace
// period.
type previousHash struct {
	hash  digest
	ok    bool  // the stored hash has a digest's length
	until int64 // Unix nanoseconds; 0: already over
}

// rehashBase is what a re-hash of a record on an older server secret is
// conditioned on: the version and update time it was verified at.
type rehashBase struct {
	version   int64
	updatedAt time.Time
}

// record returns what verification reads of k.
func (m *Manager) record(k *Key) record {
	r := record{id: k.ID, ownerID: k.OwnerID, kind: m.kinds.byName[k.Kind], hasher: m.secrets.hasher(k.SecretID),
		generation: k.Generation, parentGeneration: k.ParentGeneration,
		createdAt: max(nanos(k.CreatedAt), 1), expiresAt: nanos(k.ExpiresAt), remaining: -1,
		ancestors: k.Ancestors, allowedIPs: k.AllowedIPs, permissions: k.Permissions, resources: k.Resources,
		revoked: !k.RevokedAt.IsZero(), disabled: k.Disabled, hashOK: len(k.Hash) == len(digest{})}
	copy(r.hash[:], k.Hash)
	if len(k.PreviousHash) > 0 {
		p := &previousHash{ok: len(k.PreviousHash) == len(digest{}), until: nanos(k.PreviousExpiresAt)}
		copy(p.hash[:], k.PreviousHash)
		r.previous = p
	}
	if m.onOldSecret(k) {
		r.rehash = &rehashBase{version: k.Version, updatedAt: k.UpdatedAt}
	}
	if k.Remaining != nil {
		r.remaining = max(*k.Remaining, 0) // a quota below zero is spent
	}
	return r
}

// kindOf returns r's kind, the default when the record names a kind no
// longer configured (such a key is refused at verification).
func (m *Manager) kindOf(r *record) *kind {
	if r.kind != nil {
		return r.kind
	}
	return m.kinds.byName[""]
}

// matches reports whether d is r's hash, in constant time.
func (r *record) matches(d digest) bool { return d.Equal(r.hash[:]) && r.hashOK }

// inGrace reports whether r's previous secret still works at now (Unix
// nanoseconds).
func (r *record) inGrace(now int64) bool { return r.previous != nil && now < r.previous.until }

// expiredAt reports whether r's own expiry has passed at now (Unix
// nanoseconds), as [Key.IsExpired].
func (r *record) expiredAt(now int64) bool { return r.expiresAt != 0 && now >= r.expiresAt }

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
