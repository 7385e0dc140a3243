package main

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/keycaphq/keycap/keys/sqlstore"
)

// With Postgres and no cache, a verification reads the key and then its
// owner: two round trips. keyReader makes it one statement: the key's
// lookup joined with its owner's row (prepared once per connection by
// pgx), and the owner's row is kept in ownerReads for the userTable's
// Subject, which keys.Manager asks right after the lookup. As a
// sqlstore.RowsReader it also lets the Store read the keys of concurrent
// verifications in one statement, their owners with them.
//
// Freshness is as before: a request uses an owner row only if the
// statement that read it began after the request did (its start is in
// its context), so every change answered before the request began is
// seen, as when the owner was read in its own query. A request with no
// start (outside the app's handler), an owner read before the request
// began, a deleted owner or an organization query as before.

type requestStartKey struct{}

// withRequestStart records in every request's context when it began.
func withRequestStart(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestStartKey{}, time.Now())))
	})
}

// maxOwnerReads bounds ownerReads: past it, the rows kept are forgotten.
const maxOwnerReads = 10_000

// ownerReads keeps, per owner id, the latest owner row read with a key
// and when the statement that read it began.
type ownerReads struct {
	mu   sync.Mutex
	rows map[string]ownerRead
}

type ownerRead struct {
	user  demoUser // ID "": the statement found no owner row
	began time.Time
}

// put records what a statement that began at began read of owner id,
// unless a statement that began later already did.
func (o *ownerReads) put(id string, r ownerRead) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if old, ok := o.rows[id]; ok && old.began.After(r.began) {
		return
	}
	if o.rows == nil || len(o.rows) >= maxOwnerReads {
		o.rows = make(map[string]ownerRead)
	}
	o.rows[id] = r
}

// since returns owner id's row if a statement that began after ctx's
// request did read it.
func (o *ownerReads) since(ctx context.Context, id string) (demoUser, bool) {
	start, ok := ctx.Value(requestStartKey{}).(time.Time)
	if !ok {
		return demoUser{}, false
	}
	o.mu.Lock()
	r, ok := o.rows[id]
	o.mu.Unlock()
	if !ok || r.user.ID == "" || !r.began.After(start) {
		return demoUser{}, false
	}
	return r.user, true
}

// keyReader is sqlstore.Options.Lookup: keycap's lookups of keys by id,
// joined with their owners' rows.
type keyReader struct {
	pool       *pgxpool.Pool
	usersTable string
	owners     *ownerReads
	joined     atomic.Pointer[map[string]string] // keycap's lookups, joined with the owner's row
}

var _ sqlstore.RowsReader = (*keyReader)(nil)

func newKeyReader(pool *pgxpool.Pool, usersTable string, owners *ownerReads) *keyReader {
	return &keyReader{pool: pool, usersTable: usersTable, owners: owners}
}

// join returns query (a keycap lookup, whose columns include owner_id)
// with the owner's row joined: the key's columns first, then its owner_id
// again, then id, password_hash, roles and disabled of the owner, NULL
// when there is none (a deleted user, an organization).
func (r *keyReader) join(query string) string {
	m := r.joined.Load()
	if m != nil {
		if j, ok := (*m)[query]; ok {
			return j
		}
	}
	j := "SELECT q.*, q.owner_id, u.id, u.password_hash, u.roles, u.disabled FROM (" + query + ") q LEFT JOIN " + r.usersTable + " u ON u.id = q.owner_id"
	next := map[string]string{query: j} // a few queries: one per batch size
	if m != nil {
		for k, v := range *m {
			next[k] = v
		}
	}
	r.joined.Store(&next)
	return j
}

// QueryRow implements sqlstore.RowReader.
func (r *keyReader) QueryRow(ctx context.Context, query string, args ...any) sqlstore.Row {
	began := time.Now()
	return &joinedRow{row: r.pool.QueryRow(ctx, r.join(query), args...), owners: r.owners, began: began}
}

// QueryRows implements sqlstore.RowsReader.
func (r *keyReader) QueryRows(ctx context.Context, query string, args []any, scan func(sqlstore.Row) error) error {
	began := time.Now()
	rows, err := r.pool.Query(ctx, r.join(query), args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(&joinedRow{row: rows, owners: r.owners, began: began}); err != nil {
			return err
		}
	}
	return rows.Err()
}

// joinedRow is a key's row with its owner's after it; its Scan keeps the
// owner's columns in ownerReads.
type joinedRow struct {
	row    pgx.Row
	owners *ownerReads
	began  time.Time
}

func (j *joinedRow) Scan(dest ...any) error {
	var owner string
	var id, hash, roles *string
	var disabled *bool
	err := j.row.Scan(append(dest[:len(dest):len(dest)], &owner, &id, &hash, &roles, &disabled)...)
	if err != nil {
		return err
	}
	if id == nil || hash == nil || roles == nil || disabled == nil {
		j.owners.put(owner, ownerRead{began: j.began}) // no owner row: Subject queries
		return nil
	}
	j.owners.put(owner, ownerRead{user: demoUser{ID: *id, Role: *roles, Disabled: *disabled, hash: []byte(*hash)}, began: j.began})
	return nil
}
