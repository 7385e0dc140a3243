package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/policy"
)

// TestOwnerReadWithKey: on Postgres, a key's lookup brings its owner's row
// with it, and the users table's Subject uses it for requests that began
// before the statement that read it; a request that began after it, a
// request with no start, another owner or a deleted owner query the table,
// so a change answered before a request began is seen.
func TestOwnerReadWithKey(t *testing.T) {
	db, pg, _, created, _ := postgresWithKey(t)
	var err error
	setRoles := func(roles string) {
		_, err := db.Exec("UPDATE "+pg.usersTable+" SET roles = $1 WHERE id = 'alice'", roles)
		require.NoError(t, err)
	}
	request := func() context.Context { return context.WithValue(context.Background(), requestStartKey{}, time.Now()) }

	ctx := request()
	_, err = pg.store.Get(ctx, created.ID) // the key, and alice's row in the same statement
	require.NoError(t, err)
	setRoles("viewer") // answered after ctx's request began: it may use the row read with its key
	s, err := pg.users.Subject(ctx, "alice")
	require.NoError(t, err)
	assert.Equal(t, []string{"member"}, s.Roles, "the row read with the key, no query")

	s, err = pg.users.Subject(request(), "alice")
	require.NoError(t, err)
	assert.Equal(t, []string{"viewer"}, s.Roles, "a request that began after the change: queried")

	s, err = pg.users.Subject(context.Background(), "alice")
	require.NoError(t, err)
	assert.Equal(t, []string{"viewer"}, s.Roles, "no request start: queried")

	ctx = request()
	_, err = pg.store.Get(ctx, created.ID)
	require.NoError(t, err)
	s, err = pg.users.Subject(ctx, "bob")
	require.NoError(t, err)
	assert.Equal(t, "bob", s.ID, "another owner than the key's: queried")
	assert.Equal(t, []string{"owner"}, s.Roles)

	ctx = request()
	_, err = db.Exec("DELETE FROM " + pg.usersTable + " WHERE id = 'alice'")
	require.NoError(t, err)
	_, err = pg.store.Get(ctx, created.ID)
	require.NoError(t, err)
	_, err = pg.users.Subject(ctx, "alice")
	assert.ErrorIs(t, err, policy.ErrUnknownSubject, "no owner row with the key: queried, no one")

	_, err = pg.store.Get(request(), "0000000000000000000000")
	assert.ErrorIs(t, err, keys.ErrNotFound, "no such key: no row, with or without an owner")
}

// TestOwnerReadsKeepTheLatest: a statement that began earlier never
// replaces the row a later one read, and the rows kept are bounded.
func TestOwnerReadsKeepTheLatest(t *testing.T) {
	var o ownerReads
	start := time.Now()
	ctx := context.WithValue(context.Background(), requestStartKey{}, start)
	o.put("alice", ownerRead{user: demoUser{ID: "alice", Role: "viewer"}, began: start.Add(2 * time.Millisecond)})
	o.put("alice", ownerRead{user: demoUser{ID: "alice", Role: "owner"}, began: start.Add(time.Millisecond)})
	u, ok := o.since(ctx, "alice")
	require.True(t, ok)
	assert.Equal(t, "viewer", u.Role, "the later read stays")
	o.put("alice", ownerRead{began: start.Add(3 * time.Millisecond)}) // a later statement found no row
	_, ok = o.since(ctx, "alice")
	assert.False(t, ok, "no row in the latest read: Subject queries")
	o.put("bob", ownerRead{user: demoUser{ID: "bob"}, began: start.Add(-time.Millisecond)})
	_, ok = o.since(ctx, "bob")
	assert.False(t, ok, "read before the request began")
	for i := range maxOwnerReads + 10 {
		o.put(fmt.Sprint("user", i), ownerRead{user: demoUser{ID: "x"}, began: time.Now()})
	}
	assert.LessOrEqual(t, len(o.rows), maxOwnerReads)
}

// TestVerifyUsesTheOwnerRead: a verification on Postgres reads the owner
// with the key: a change to the owner answered after the request began
// and after the lookup does not reach it, one answered before does.
func TestVerifyUsesTheOwnerRead(t *testing.T) {
	db, pg, m, created, raw := postgresWithKey(t)
	v, err := m.Verify(context.WithValue(context.Background(), requestStartKey{}, time.Now()), raw, "")
	require.NoError(t, err)
	assert.Equal(t, created.ID, v.ID)
	assert.Equal(t, "alice", v.Subject.ID)
	_, err = db.Exec("UPDATE " + pg.usersTable + " SET disabled = TRUE WHERE id = 'alice'")
	require.NoError(t, err)
	_, err = m.Verify(context.WithValue(context.Background(), requestStartKey{}, time.Now()), raw, "")
	assert.Error(t, err, "disabled before the request began: refused")
}

// postgresWithKey opens the example's Postgres backends on a new schema,
// with a Manager over them (cache off) and alice's key: the database, the
// backends, the Manager, the key and its secret.
func postgresWithKey(t *testing.T) (*sql.DB, *postgresBackend, *keys.Manager, *keys.Key, string) {
	t.Helper()
	ping(t)
	db, url := newSchema(t)
	pg, err := openPostgres(config{DatabaseURL: url, BcryptCost: bcrypt.MinCost}, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	t.Cleanup(func() { _ = pg.close() })
	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	m, err := keys.NewManager(keys.Config{Store: pg.store, Secret: secret, Subjects: pg.users, Cache: keys.CacheConfig{Disabled: true},
		Policy: policy.MustNew(policy.Config{AllowClientPermissions: true, Max: policy.MustParse("files:read")})})
	require.NoError(t, err)
	t.Cleanup(func() { _ = m.Close() })
	created, raw, err := m.Create(context.Background(), keys.CreateRequest{Owner: "alice", Name: "k", Permissions: policy.MustParse("files:read")})
	require.NoError(t, err)
	return db, pg, m, created, raw
}
