package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/policy"
)

// TestOwnerReadWithKey: on Postgres, a key's lookup brings its owner's row
// into the request's slot, which the users table's Subject uses once, for
// that owner only; a second call, another owner, a deleted owner or a
// request with no slot query the table, so a change made since is seen.
func TestOwnerReadWithKey(t *testing.T) {
	db, pg, _, created, _ := postgresWithKey(t)
	var err error
	setRoles := func(roles string) {
		_, err := db.Exec("UPDATE "+pg.usersTable+" SET roles = $1 WHERE id = 'alice'", roles)
		require.NoError(t, err)
	}
	request := func() context.Context { return context.WithValue(context.Background(), ownerSlotKey{}, &ownerSlot{}) }

	ctx := request()
	_, err = pg.store.Get(ctx, created.ID) // the key, and alice's row in the same statement
	require.NoError(t, err)
	setRoles("viewer")
	s, err := pg.users.Subject(ctx, "alice")
	require.NoError(t, err)
	assert.Equal(t, []string{"member"}, s.Roles, "the row read with the key, no query: the change came after it")
	s, err = pg.users.Subject(ctx, "alice")
	require.NoError(t, err)
	assert.Equal(t, []string{"viewer"}, s.Roles, "used once: the next call queries")

	_, err = pg.store.Get(ctx, created.ID)
	require.NoError(t, err)
	s, err = pg.users.Subject(ctx, "bob")
	require.NoError(t, err)
	assert.Equal(t, "bob", s.ID, "another owner than the key's: queried")

	s, err = pg.users.Subject(context.Background(), "alice")
	require.NoError(t, err)
	assert.Equal(t, []string{"viewer"}, s.Roles, "no slot: queried")

	ctx = request()
	_, err = pg.store.Get(ctx, created.ID)
	require.NoError(t, err)
	_, err = db.Exec("DELETE FROM " + pg.usersTable + " WHERE id = 'alice'")
	require.NoError(t, err)
	s, err = pg.users.Subject(ctx, "alice")
	require.NoError(t, err, "read with the key, before the deletion")
	assert.Equal(t, "alice", s.ID)
	_, err = pg.users.Subject(ctx, "alice")
	assert.ErrorIs(t, err, policy.ErrUnknownSubject, "the next call queries")
	_, err = pg.store.Get(ctx, created.ID)
	require.NoError(t, err)
	_, err = pg.users.Subject(ctx, "alice")
	assert.ErrorIs(t, err, policy.ErrUnknownSubject, "no owner row: the slot is empty and the query finds no one")

	_, err = pg.store.Get(request(), "0000000000000000000000")
	assert.ErrorIs(t, err, keys.ErrNotFound, "no such key: no row, with or without an owner")
}

// TestVerifyUsesTheSlot: a verification on Postgres reads the owner with
// the key and leaves the slot empty.
func TestVerifyUsesTheSlot(t *testing.T) {
	_, _, m, created, raw := postgresWithKey(t)
	slot := &ownerSlot{}
	v, err := m.Verify(context.WithValue(context.Background(), ownerSlotKey{}, slot), raw, "")
	require.NoError(t, err)
	assert.Equal(t, created.ID, v.ID)
	assert.Equal(t, "alice", v.Subject.ID)
	assert.False(t, slot.full, "the owner read with the key was used by Subject")
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
