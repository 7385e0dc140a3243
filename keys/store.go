package keys

import (
	"context"
	"encoding/json"
	"net/netip"
	"time"

	"github.com/keycaphq/keycap/audit"
	"github.com/keycaphq/keycap/policy"
)

// Store keeps key records. Implementations must be safe for concurrent use
// (by several processes, when they share the store) and must enforce that
// ids and hashes are unique. Errors other than the sentinels below should
// wrap [ErrStoreUnavailable] when the store could not be reached, so callers
// can answer "try again" rather than "no".
//
// A Store is asked for what the caller means, in one conditional write per
// call, never to write back a whole record it read: two calls running at
// once never undo each other. The conformance suite in keys/storetest checks
// this contract, races included.
//
// keycap provides an in-memory Store in keys/memstore, a database/sql one
// (SQLite, Postgres, MySQL) in keys/sqlstore, and a Redis cache in front of
// either in keys/rediscache.
type Store interface {
	// Create stores a new record with Version 1. It returns [ErrConflict] if
	// the id or the hash is already stored. With maxLive > 0 it returns a
	// [*policy.KeyLimitError] if the owner already has maxLive live keys (neither
	// revoked nor expired; disabled ones count) at k.CreatedAt, exactly under
	// any concurrency. On any
	// error nothing is stored.
	Create(ctx context.Context, k *Key, maxLive int) error
	// Get returns the record with id, or [ErrNotFound].
	Get(ctx context.Context, id string) (*Key, error)
	// List returns up to page.Limit records of owner with ids below
	// page.Before (all, if empty), newest first; with page.Within set, only
	// that key and the keys whose [Key].Ancestors hold it.
	List(ctx context.Context, owner string, page Page) ([]*Key, error)
	// Change applies c to the record with id in one conditional write and
	// returns the record as written. It writes only the fields c sets, plus
	// UpdatedAt and Version (incremented); a lowering of the quota
	// (c.Remaining without c.RemainingExact) is the lesser of the stored
	// and the new count, taken in the write itself, so it never undoes a
	// concurrent Consume. When c sets Remaining (a lowering or an exact
	// set) and a refill is due at c.At (the rule of Consume: RefillInterval
	// and RefillAmount > 0 and c.At at least LastRefillAt, or CreatedAt
	// when it is zero, + RefillInterval, on the refill as stored before c),
	// the same write first applies that refill (Remaining = RefillAmount,
	// LastRefillAt = c.At), then the change of Remaining: a lowering to n
	// leaves at most n until the next refill, one interval later, never a
	// refill over it at the next request. It writes nothing at all when:
	//   - there is no such record: [ErrNotFound];
	//   - the record is revoked: [ErrAlreadyRevoked] (revocation is terminal,
	//     whatever the interleaving);
	//   - c.Version is not 0 and the record is at another version:
	//     [ErrConflict];
	//   - c rotates to a hash stored for another key: [ErrConflict].
	Change(ctx context.Context, id string, c Change) (*Key, error)
	// Consume spends one request from the quota of each key in ids (a key
	// and its ancestors) that has one, at now, all or nothing:
	//   - When a refill is due (RefillInterval and RefillAmount both > 0 and
	//     now is at least LastRefillAt + RefillInterval, counting from
	//     CreatedAt when LastRefillAt is zero), Remaining is first reset to
	//     RefillAmount and LastRefillAt set to now; unused units do not carry
	//     over.
	//   - If every quota in ids has a unit left, each is decremented: ok is
	//     true and remaining is the least left after this request (0 for the
	//     last one). If none of the keys has a quota, remaining is -1 and
	//     nothing is written.
	//   - Otherwise ok is false, remaining is 0 and nothing is written.
	// It is exact under any concurrency: N calls against a quota of n admit
	// min(N, n). It writes only the quota fields. An unknown id returns
	// [ErrNotFound].
	Consume(ctx context.Context, ids []string, now time.Time) (remaining int64, ok bool, err error)
	// Touch records that key id was last used at t from ip, if t is later
	// than what is stored. An unknown id is not an error.
	Touch(ctx context.Context, id string, t time.Time, ip string) error
	// CountBySecret counts the records neither revoked nor expired at now
	// (by their own ExpiresAt), by [Key].SecretID as stored ("" included):
	// how many live keys each server secret hashes. Ids with no such record
	// are left out.
	CountBySecret(ctx context.Context, now time.Time) (map[string]int, error)
	// PruneKeys deletes up to limit (> 0) records, lowest ids first, that
	// were revoked before revokedBefore or whose ExpiresAt (set) is before
	// expiredBefore, and returns them (only ID and OwnerID are set), lowest
	// id first; a zero time turns its rule off.
	// The condition is checked in the delete itself: a record a concurrent
	// change made live again is kept. Keys created through a deleted key are
	// refused like those of a revoked one ([Manager.Verify] finds no
	// ancestor). An operator's call, batched by [Manager.Prune].
	PruneKeys(ctx context.Context, revokedBefore, expiredBefore time.Time, limit int) ([]*Key, error)
}

// Change is one change to a key record, as a [Manager] asks a [Store.Change]
// for it: the fields to set (nil: unchanged) and the version the decision
// to make it was taken on. A Change that sets no field still moves
// Version and UpdatedAt; a Manager never sends one. A Store must not
// retain or modify what the pointers point to.
type Change struct {
	// Version is the record's version the change was decided on; the Store
	// refuses it with [ErrConflict] if the record is at another one. 0 means
	// any version: only a revocation, which no state can make wrong, uses it.
	Version int64
	At      time.Time // becomes UpdatedAt (and DisabledAt or RevokedAt)
	// By is who makes the change: becomes [Key].ChangedBy (and DisabledBy
	// or RevokedBy). The zero Actor leaves ChangedBy as it is (a re-hash,
	// which no one asked for).
	By audit.Actor

	Name *string // the new, already checked name; nil: unchanged
	// Description replaces [Key].Description (already checked); "" removes
	// it. nil: unchanged.
	Description *string
	Permissions policy.Permissions // the new, already granted permissions; nil: unchanged
	ExpiresAt   *time.Time         // the new expiry, a zero time meaning never; nil: unchanged
	// Disabled turns the key off (true: [Key].DisabledBy becomes By and
	// DisabledAt At) or back on (false: the Store clears DisabledBy and
	// DisabledAt); nil: unchanged.
	Disabled *bool
	Secret   *Secret // a rotation; nil: the secret is unchanged
	// EndGrace ends a rotation's grace period at once: the previous secret
	// stops working (PreviousHash and PreviousExpiresAt are cleared); the
	// current one is untouched. Ignored with Secret, which sets them.
	EndGrace bool
	// Revoke revokes the key at At, by By: RevokedAt and RevokedBy are
	// set, and RevokedReason to RevokeReason. Terminal.
	Revoke bool
	// RevokeReason says why, with Revoke: free text of at most 500 bytes,
	// or "". Ignored without Revoke.
	RevokeReason string

	// AllowedIPs replaces the key's allow-list ([Key].AllowedIPs, already
	// normalized); an empty list lifts it (the Store then keeps nil). nil:
	// unchanged.
	AllowedIPs *[]netip.Prefix
	// Metadata replaces the key's metadata ([Key].Metadata, already
	// checked and compact); an empty one removes it (the Store then keeps
	// nil). nil: unchanged.
	Metadata *json.RawMessage
	// Resources replaces the key's restriction to records ([Key].Resources,
	// already granted and normalized); an empty one lifts it (the Store
	// then keeps nil). nil: unchanged.
	Resources *policy.Resources

	// Remaining changes the key's quota ([Key].Remaining): with
	// RemainingExact it becomes *Remaining exactly (a blind set, for an
	// owner raising a quota above the count read, where the policy sets
	// none);
	// otherwise it becomes the lesser of the stored one and *Remaining,
	// computed in the Store's write (SQL: CASE WHEN remaining IS NULL THEN
	// new ELSE the least of both), and a key without a quota gets
	// *Remaining. Consume does not move Version, so a lowering decided on
	// a read must not write back a count the requests admitted since would
	// undo. A refill due at At is applied first ([Store].Change). At least
	// 0. nil: unchanged. Ignored with RemoveQuota.
	Remaining *int64
	// RemainingExact makes Remaining an exact set rather than a lowering.
	RemainingExact bool
	// Refill sets the refill of the quota: [Key].RefillAmount and
	// RefillInterval become those of the Quota it points to (its
	// Remaining is ignored; both 0: no refill). When they differ from the
	// stored ones, [Key].LastRefillAt becomes At, in the same write: the
	// next refill comes one interval after the change, so changing refills
	// back and forth buys none. nil: unchanged. Ignored with RemoveQuota.
	Refill *Quota
	// RemoveQuota removes the key's quota: Remaining becomes nil, the
	// refill 0 and LastRefillAt zero.
	RemoveQuota bool
}

// Secret is a rotation: the new hash and hint, and the previous hash that
// keeps working until PreviousExpiresAt. The Store increments Generation
// (unless Rehash) and replaces the other five fields of the record, so that
// a Secret with no PreviousHash ends the old secret at once and any earlier
// grace period.
type Secret struct {
	Hash []byte // the keyed hash of the new key: becomes [Key].Hash; unique across keys
	Hint string // what may be shown of the new key: becomes [Key].Hint
	// PreviousHash is the hash the rotation replaces, which keeps working
	// for a grace period; nil or empty: none, the old secret stops at once.
	PreviousHash []byte
	// PreviousExpiresAt ends the grace period of PreviousHash; ignored
	// without a PreviousHash.
	PreviousExpiresAt time.Time
	// SecretID names the server secret Hash and PreviousHash were computed
	// under: becomes [Key].SecretID.
	SecretID string
	// Rehash marks the same key hashed again under another server secret,
	// not a new key: the Store then keeps Generation (the keys this key
	// created keep working). A Manager sends it with no PreviousHash and
	// the record's own Hint.
	Rehash bool
}

// Page selects a slice of a listing: keyset pagination by id, newest first.
type Page struct {
	Before string // list ids strictly below this one; "" starts at the newest
	Limit  int    // at most this many; a Store treats <= 0 as 50
	Within string // only this key and the keys created through it; "" for all
}

// defaultPageLimit is the page size when none is given; maxPageLimit the
// largest page a [Manager] asks a Store for.
const (
	defaultPageLimit = 50
	maxPageLimit     = 200
)
