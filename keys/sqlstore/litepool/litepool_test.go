package litepool_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"
	"time"

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

// TestConnectionsComeBack: every path of QueryRow and Scan gives the
// connection back: a pool of one serves 200 queries of each kind in a row.
func TestConnectionsComeBack(t *testing.T) {
	path := filepath.Join(t.TempDir(), "one.db")
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)")
	require.NoError(t, err)
	defer db.Close()
	_, err = db.Exec("CREATE TABLE t (id TEXT PRIMARY KEY, n INTEGER)")
	require.NoError(t, err)
	_, err = db.Exec("INSERT INTO t VALUES ('a', 1)")
	require.NoError(t, err)
	pool, err := litepool.Open("file:"+path, 1)
	require.NoError(t, err)
	defer pool.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var n int64
	var s string
	for i := range 200 {
		require.NoError(t, pool.QueryRow(ctx, "SELECT n FROM t WHERE id = ?", "a").Scan(&n), "query %d", i)
		require.ErrorIs(t, pool.QueryRow(ctx, "SELECT n FROM t WHERE id = ?", "b").Scan(&n), sql.ErrNoRows)
		require.Error(t, pool.QueryRow(ctx, "SELECT nonsense FROM t").Scan(&n))
		require.Error(t, pool.QueryRow(ctx, "SELECT n FROM t WHERE id = ?", struct{}{}).Scan(&n))
		require.Error(t, pool.QueryRow(ctx, "SELECT n, id FROM t").Scan(&n), "wrong number of destinations")
		require.Error(t, pool.QueryRow(ctx, "SELECT NULL").Scan(&s), "NULL into a string")
	}
	assert.Equal(t, int64(1), n)
	_, err = db.Exec("INSERT INTO t VALUES ('b', 2)")
	require.NoError(t, err, "no read transaction left open blocks the writer")
	require.NoError(t, pool.QueryRow(ctx, "SELECT n FROM t WHERE id = ?", "b").Scan(&n))
	assert.Equal(t, int64(2), n, "each query reads the latest commit")
}

// TestScanOnce: a row is read once; the second Scan fails rather than
// read whatever the connection runs next.
func TestScanOnce(t *testing.T) {
	_, pool := newStore(t)
	ctx := context.Background()
	row := pool.QueryRow(ctx, "SELECT 1")
	var n int64
	require.NoError(t, row.Scan(&n))
	assert.ErrorContains(t, row.Scan(&n), "twice")
}

// TestWaitAndClose: with every connection taken, a query waits until its
// context is done; after Close, queries fail and Close returns.
func TestWaitAndClose(t *testing.T) {
	path := filepath.Join(t.TempDir(), "wait.db")
	pool, err := litepool.Open("file:"+path, 1)
	require.NoError(t, err)
	held := pool.QueryRow(context.Background(), "SELECT 1") // holds the only connection until Scan
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	var n int64
	assert.ErrorIs(t, pool.QueryRow(ctx, "SELECT 2").Scan(&n), context.DeadlineExceeded)
	done := make(chan error, 1)
	go func() { done <- pool.Close() }()
	time.Sleep(20 * time.Millisecond)
	select {
	case <-done:
		t.Fatal("Close returned while a connection was out")
	default:
	}
	require.NoError(t, held.Scan(&n))
	assert.Equal(t, int64(1), n)
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not return once the connection came back")
	}
	assert.ErrorContains(t, pool.QueryRow(context.Background(), "SELECT 1").Scan(&n), "closed")
	assert.NoError(t, pool.Close(), "a second Close")
}

// TestQueryRows: every row in order, each readable more than once; scan's
// error stops the walk and is returned; the connection goes back to the
// pool whatever happens.
func TestQueryRows(t *testing.T) {
	_, pool := newStore(t)
	ctx := context.Background()
	var got []int64
	err := pool.QueryRows(ctx, "SELECT value FROM (SELECT 1 AS value UNION ALL SELECT 2 UNION ALL SELECT ?) ORDER BY value", []any{int64(3)}, func(r sqlstore.Row) error {
		var a, b int64
		require.NoError(t, r.Scan(&a))
		require.NoError(t, r.Scan(&b))
		require.Equal(t, a, b)
		got = append(got, a)
		return nil
	})
	require.NoError(t, err)
	assert.Equal(t, []int64{1, 2, 3}, got)

	stop := errors.New("stop")
	calls := 0
	err = pool.QueryRows(ctx, "SELECT 1 UNION ALL SELECT 2", nil, func(sqlstore.Row) error { calls++; return stop })
	assert.ErrorIs(t, err, stop)
	assert.Equal(t, 1, calls)
	assert.Error(t, pool.QueryRows(ctx, "SELECT nonsense FROM nowhere", nil, func(sqlstore.Row) error { return nil }))
	assert.Error(t, pool.QueryRows(ctx, "SELECT ?", []any{struct{}{}}, func(sqlstore.Row) error { return nil }))
	for range 10 { // as many as the pool holds, and more: none was kept
		require.NoError(t, pool.QueryRows(ctx, "SELECT 1", nil, func(sqlstore.Row) error { return nil }))
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	assert.ErrorIs(t, pool.QueryRows(cancelled, "SELECT 1", nil, func(sqlstore.Row) error { return nil }), context.Canceled)
}
