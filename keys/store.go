package keys

import (
	"context"
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
	// [*KeyLimitError] if the owner already has maxLive live keys (neither
	// revoked nor expired; disabled ones count) at k.CreatedAt, exactly under
	// any concurrency. On any
	// error nothing is stored.
	Create(ctx context.Context, k *Key, maxLive int) error
	// Get returns the record with id, or [ErrNotFound].
	Get(ctx context.Context, id string) (*Key, error)
	// List returns up to page.Limit records of owner with ids below
	// page.Before (all, if empty), newest first; with page.Within set, only
	// that key and the keys created through it (see [Key.Reaches]).
	List(ctx context.Context, owner string, page Page) ([]*Key, error)
	// Change applies c to the record with id in one conditional write and
	// returns the record as written. It writes only the fields c sets, plus
	// UpdatedAt and Version (incremented), and nothing at all when:
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
}

// Change is one change to a key record: the fields to set (nil: unchanged)
// and the version the decision to make it was taken on.
type Change struct {
	// Version is the record's version the change was decided on; the Store
	// refuses it with [ErrConflict] if the record is at another one. 0 means
	// any version: only a revocation, which no state can make wrong, uses it.
	Version int64
	At      time.Time // becomes UpdatedAt

	Name        *string
	Permissions policy.Permissions // nil: unchanged
	ExpiresAt   *time.Time         // a zero time: never
	Disabled    *Disabled
	Secret      *Secret
	Revoked     *Revoked
}

// Disabled turns a key off (By set) or back on (Disabled false, By zero).
type Disabled struct {
	Disabled bool
	By       audit.Actor
}

// Secret is a rotation: the new hash and hint, and the previous hash that
// keeps working until PreviousExpiresAt (nil: none). The Store increments
// Generation.
type Secret struct {
	Hash              []byte
	Hint              string
	PreviousHash      []byte
	PreviousExpiresAt time.Time
}

// Revoked revokes a key at Change.At: terminal.
type Revoked struct {
	By     audit.Actor
	Reason string
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
