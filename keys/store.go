package keys

import (
	"context"
	"time"
)

// Store keeps key records. Implementations must be safe for concurrent use
// and must enforce that ids and hashes are unique. Errors other than the
// sentinels below should wrap [ErrStoreUnavailable] when the store could
// not be reached, so callers can answer "try again" rather than "no".
//
// This package provides an in-memory Store in keys/memstore and a
// database/sql one (SQLite, Postgres, MySQL) in keys/sqlstore.
type Store interface {
	// Create stores a new record. It returns [ErrConflict] if the id or the
	// hash is already stored, and stores nothing then.
	Create(ctx context.Context, k *Key) error
	// Get returns the record with id, or [ErrNotFound].
	Get(ctx context.Context, id string) (*Key, error)
	// List returns up to page.Limit records of owner with ids below
	// page.Before (all, if empty), newest first.
	List(ctx context.Context, owner string, page Page) ([]*Key, error)
	// Update replaces the stored record with the same id, or returns
	// [ErrNotFound]. The hash may change (rotation) and must stay unique.
	Update(ctx context.Context, k *Key) error
	// Touch records that key id was last used at t from ip, if t is later
	// than what is stored. An unknown id is not an error.
	Touch(ctx context.Context, id string, t time.Time, ip string) error
}

// Page selects a slice of a listing: keyset pagination by id, newest first.
type Page struct {
	Before string // list ids strictly below this one; "" starts at the newest
	Limit  int    // at most this many; a Store treats <= 0 as 50
}

// DefaultPageLimit is the page size when none is given; MaxPageLimit the
// largest page a [Manager] asks a Store for.
const (
	DefaultPageLimit = 50
	MaxPageLimit     = 200
)
