package main

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/keycaphq/keycap/keys/sqlstore"
)

// With Postgres and no cache, a verification reads the key and then its
// owner: two round trips. keyReader makes it one statement: the key's
// lookup joined with its owner's row (one round trip, one snapshot,
// prepared once per connection by pgx), and the owner's row waits in the
// request's ownerSlot for the userTable's Subject, which keys.Manager asks
// right after the lookup.
//
// Freshness is as before: the owner is read in the verification that uses
// it, after it began. The slot belongs to one request, holds the owner of
// the latest lookup only, and is emptied when used, so a Subject call
// uses a row read by the lookup just before it in the same request, or
// queries; a deleted owner, an organization or a request with no slot
// (outside the app's handler) queries as before.

// ownerSlot is one request's owner row, read with its key.
type ownerSlot struct {
	mu    sync.Mutex
	full  bool
	owner string // the key's owner_id
	user  demoUser
}

type ownerSlotKey struct{}

// withOwnerSlots gives every request an empty ownerSlot.
func withOwnerSlots(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ownerSlotKey{}, &ownerSlot{})))
	})
}

// put keeps user as the owner of the key just read.
func (s *ownerSlot) put(user demoUser) {
	s.mu.Lock()
	s.full, s.owner, s.user = true, user.ID, user
	s.mu.Unlock()
}

// clear forgets what the slot held: the latest lookup read no owner row.
func (s *ownerSlot) clear() {
	s.mu.Lock()
	s.full, s.user = false, demoUser{}
	s.mu.Unlock()
}

// take returns, and forgets, the owner with id if the latest lookup of ctx's
// request read it.
func takeOwner(ctx context.Context, id string) (demoUser, bool) {
	s, _ := ctx.Value(ownerSlotKey{}).(*ownerSlot)
	if s == nil {
		return demoUser{}, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.full || s.owner != id {
		return demoUser{}, false
	}
	user := s.user
	s.full, s.user = false, demoUser{}
	return user, true
}

// keyReader is sqlstore.Options.Lookup: the key lookup (its only query,
// with the key id as its one argument), joined with its owner's row in one
// statement when the request has a slot: one round trip and one snapshot.
type keyReader struct {
	pool       *pgxpool.Pool
	usersTable string
	joined     atomic.Pointer[[2]string] // the lookup as keycap sends it, and joined with the owner's row
}

func newKeyReader(pool *pgxpool.Pool, usersTable string) *keyReader {
	return &keyReader{pool: pool, usersTable: usersTable}
}

// join returns query (keycap's lookup, whose columns include owner_id)
// with the owner's row joined: the key's columns first, then id,
// password_hash, roles and disabled of the owner, NULL when there is none
// (a deleted user, an organization).
func (r *keyReader) join(query string) string {
	if j := r.joined.Load(); j != nil && j[0] == query {
		return j[1]
	}
	joined := "SELECT q.*, u.id, u.password_hash, u.roles, u.disabled FROM (" + query + ") q LEFT JOIN " + r.usersTable + " u ON u.id = q.owner_id"
	r.joined.Store(&[2]string{query, joined})
	return joined
}

// QueryRow implements sqlstore.RowReader.
func (r *keyReader) QueryRow(ctx context.Context, query string, args ...any) sqlstore.Row {
	slot, _ := ctx.Value(ownerSlotKey{}).(*ownerSlot)
	if slot == nil || len(args) != 1 {
		return r.pool.QueryRow(ctx, query, args...)
	}
	return &joinedRow{row: r.pool.QueryRow(ctx, r.join(query), args...), slot: slot}
}

// joinedRow is the key's row with its owner's after it; its Scan reads the
// owner's columns into the slot.
type joinedRow struct {
	row  pgx.Row
	slot *ownerSlot
}

func (j *joinedRow) Scan(dest ...any) error {
	var id, hash, roles *string
	var disabled *bool
	err := j.row.Scan(append(dest[:len(dest):len(dest)], &id, &hash, &roles, &disabled)...)
	if err != nil || id == nil || hash == nil || roles == nil || disabled == nil {
		j.slot.clear() // no owner row (deleted, an organization) or an error: Subject queries
		return err
	}
	j.slot.put(demoUser{ID: *id, Role: *roles, Disabled: *disabled, hash: []byte(*hash)})
	return nil
}
