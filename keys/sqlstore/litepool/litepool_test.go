package litepool_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	_ "modernc.org/sqlite"

	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/keys/sqlstore"
	"github.com/keycaphq/keycap/keys/sqlstore/litepool"
	"github.com/keycaphq/keycap/keys/storetest"
)

// newStore returns a migrated SQLite Store in a fresh file whose Get reads
// through a litepool Pool on the same file, and the pool.
func newStore(t testing.TB) (*sqlstore.Store, *litepool.Pool) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "keycap.db")
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)")
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	plain, err := sqlstore.New(db, sqlstore.SQLite, sqlstore.Options{})
	require.NoError(t, err)
	require.NoError(t, plain.Migrate(context.Background()))
	pool, err := litepool.Open("file:"+path, 4)
	require.NoError(t, err)
	t.Cleanup(func() { pool.Close() })
	s, err := sqlstore.New(db, sqlstore.SQLite, sqlstore.Options{Lookup: pool})
	require.NoError(t, err)
	return s, pool
}

// TestConformance runs the Store contract, and the attack cases of #14,
// on a Store whose lookups go through the pool.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) keys.Store { s, _ := newStore(t); return s })
	storetest.RunAttack14(t, func(t *testing.T) keys.Store { s, _ := newStore(t); return s })
}

// TestQueryRow: a missing row is sql.ErrNoRows, a bad query and an
// unsupported argument are errors, and a row reads as database/sql reads it.
func TestQueryRow(t *testing.T) {
	_, pool := newStore(t)
	ctx := context.Background()
	var s string
	assert.ErrorIs(t, pool.QueryRow(ctx, "SELECT id FROM keycap_keys WHERE id = ?", "nope").Scan(&s), sql.ErrNoRows)
	assert.Error(t, pool.QueryRow(ctx, "SELECT nonsense FROM nowhere").Scan(&s))
	assert.Error(t, pool.QueryRow(ctx, "SELECT ?", struct{}{}).Scan(&s))
	var (
		i     int64
		b     []byte
		null  []byte
		ok    bool
		text  string
		count sql.NullInt64
	)
	require.NoError(t, pool.QueryRow(ctx, "SELECT 42, x'0102', NULL, 1, 'abc', NULL").Scan(&i, &b, &null, &ok, &text, &count))
	assert.Equal(t, int64(42), i)
	assert.Equal(t, []byte{1, 2}, b)
	assert.Nil(t, null)
	assert.True(t, ok)
	assert.Equal(t, "abc", text)
	assert.False(t, count.Valid)
	assert.Error(t, pool.QueryRow(ctx, "SELECT NULL").Scan(&text), "NULL into a string, as database/sql refuses it")
	assert.Error(t, pool.QueryRow(ctx, "SELECT 1, 2").Scan(&i), "fewer destinations than columns")
}
