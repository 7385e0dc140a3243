package main

import (
	"context"
	"errors"
	"net/http"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/keycaphq/keycap/keys/sqlstore"
)

// With Postgres and no cache, a verification reads the key and then its
// owner: two round trips. keyReader makes it one: the key's lookup and
// its owner's row, found by the key id, go in one pgx batch (pipelined:
// one network round trip, each statement prepared once per connection),
// and the owner's row waits in the request's ownerSlot for the
// userTable's Subject, which keys.Manager asks right after the lookup.
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
// with the key id as its one argument), batched with the owner's row when
// the request has a slot.
type keyReader struct {
	pool       *pgxpool.Pool
	ownerQuery string // the owner's row by key id: id, password_hash, roles, disabled
}

func newKeyReader(pool *pgxpool.Pool, usersTable, keysTable string) keyReader {
	return keyReader{pool: pool, ownerQuery: "SELECT u.id, u.password_hash, u.roles, u.disabled FROM " + usersTable +
		" u JOIN " + keysTable + " k ON k.owner_id = u.id WHERE k.id = $1"}
}

// QueryRow implements sqlstore.RowReader.
func (r keyReader) QueryRow(ctx context.Context, query string, args ...any) sqlstore.Row {
	slot, _ := ctx.Value(ownerSlotKey{}).(*ownerSlot)
	if slot == nil || len(args) != 1 {
		return r.pool.QueryRow(ctx, query, args...)
	}
	b := &pgx.Batch{}
	b.Queue(query, args...)
	b.Queue(r.ownerQuery, args[0])
	return &batchRow{results: r.pool.SendBatch(ctx, b), slot: slot}
}

// batchRow is the key's row of a batch; its Scan also reads the owner's
// row into the slot and releases the connection.
type batchRow struct {
	results pgx.BatchResults
	slot    *ownerSlot
}

func (b *batchRow) Scan(dest ...any) error {
	err := b.results.QueryRow().Scan(dest...)
	var user demoUser
	var hash string
	switch ownerErr := b.results.QueryRow().Scan(&user.ID, &hash, &user.Role, &user.Disabled); {
	case err == nil && ownerErr == nil:
		user.hash = []byte(hash)
		b.slot.put(user)
	default:
		b.slot.clear() // no owner row (deleted, an organization) or an error: Subject queries
	}
	return errors.Join(err, b.results.Close())
}
