package sqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"io"
	"log/slog"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/audit"
	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/keys/sqlstore"
)

// gatedReader is a sqlstore.RowsReader on a *sql.DB whose statements
// each wait for a token from gate (or their context) before they read,
// so that a test holds statements in flight. It records every
// statement's arguments.
type gatedReader struct {
	db       *sql.DB
	gate     chan struct{}
	entered  chan struct{} // a statement is waiting at the gate
	mu       sync.Mutex
	batches  [][]any
	inFlight atomic.Int64
}

func newGatedReader(db *sql.DB) *gatedReader {
	return &gatedReader{db: db, gate: make(chan struct{}), entered: make(chan struct{}, 1024)}
}

func (g *gatedReader) QueryRow(ctx context.Context, query string, args ...any) sqlstore.Row {
	panic("the Store batches: QueryRow is not used")
}

func (g *gatedReader) QueryRows(ctx context.Context, query string, args []any, scan func(sqlstore.Row) error) error {
	g.inFlight.Add(1)
	defer g.inFlight.Add(-1)
	g.entered <- struct{}{}
	select {
	case <-g.gate:
	case <-ctx.Done():
		return ctx.Err()
	}
	g.mu.Lock()
	g.batches = append(g.batches, args)
	g.mu.Unlock()
	return readRows(ctx, g.db, query, args, scan)
}

// readRows is QueryRows on db.
func readRows(ctx context.Context, db *sql.DB, query string, args []any, scan func(sqlstore.Row) error) error {
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// waitEntered waits until n statements are at the gate.
func (g *gatedReader) waitEntered(t *testing.T, n int) {
	t.Helper()
	for range n {
		select {
		case <-g.entered:
		case <-time.After(10 * time.Second):
			t.Fatalf("fewer than %d statements reached the gate", n)
		}
	}
}

// release lets n statements read.
func (g *gatedReader) release(n int) {
	for range n {
		g.gate <- struct{}{}
	}
}

// inFlightLimit is how many lookup statements a Store runs at once.
func inFlightLimit() int { return max(runtime.GOMAXPROCS(0), 2) }

// batchStore is a Store on a SQLite file reading through g, with n keys
// of alice: the store, the reader and the keys.
func batchStore(t *testing.T, n int, maxBatch int) (*sqlstore.Store, *gatedReader, []*keys.Key) {
	t.Helper()
	t.Cleanup(sqlstore.SetSlowStatement(time.Hour)) // statements held at the gate keep their slots
	db := openSQLiteFile(t)
	g := newGatedReader(db)
	s, err := sqlstore.New(db, sqlstore.SQLite, sqlstore.Options{Lookup: g, MaxBatch: maxBatch})
	require.NoError(t, err)
	require.NoError(t, s.Migrate(t.Context()))
	var ks []*keys.Key
	for range n {
		k := testKey(t, "alice")
		require.NoError(t, s.Create(t.Context(), k, 0))
		ks = append(ks, k)
	}
	return s, g, ks
}

type lookup struct {
	key *keys.Key
	err error
}

// getAsync starts s.Get(ctx, id) and returns where its answer will be.
func getAsync(ctx context.Context, s *sqlstore.Store, id string) chan lookup {
	ch := make(chan lookup, 1)
	go func() {
		k, err := s.Get(ctx, id)
		ch <- lookup{k, err}
	}()
	return ch
}

func answer(t *testing.T, ch chan lookup) lookup {
	t.Helper()
	select {
	case l := <-ch:
		return l
	case <-time.After(10 * time.Second):
		t.Fatal("a lookup did not return")
		return lookup{}
	}
}

// fillInFlight starts as many lookups of ids[i] as the Store runs at once
// and waits until they are all at the gate: the next lookups queue.
func fillInFlight(t *testing.T, s *sqlstore.Store, g *gatedReader, id string) []chan lookup {
	t.Helper()
	var held []chan lookup
	for range inFlightLimit() { // one at a time: each its own statement
		held = append(held, getAsync(context.Background(), s, id))
		g.waitEntered(t, 1)
	}
	return held
}

// TestBatchReadsQueuedLookupsTogether: lookups that arrive while the
// Store's statements are in flight are read in one statement, each id
// once; every caller gets its own copy of its key, or ErrNotFound.
func TestBatchReadsQueuedLookupsTogether(t *testing.T) {
	s, g, ks := batchStore(t, 5, 0)
	held := fillInFlight(t, s, g, ks[0].ID)

	want := []string{ks[1].ID, ks[2].ID, ks[2].ID, ks[3].ID, ks[4].ID, ks[4].ID, ks[4].ID, "0000000000000000"}
	var queued []chan lookup
	for _, id := range want {
		queued = append(queued, getAsync(context.Background(), s, id))
	}
	require.Eventually(t, func() bool { return g.inFlight.Load() == int64(inFlightLimit()) }, 5*time.Second, time.Millisecond)
	time.Sleep(50 * time.Millisecond) // the queued lookups reach the queue
	g.release(inFlightLimit())
	for _, ch := range held {
		l := answer(t, ch)
		require.NoError(t, l.err)
		assert.Equal(t, ks[0].ID, l.key.ID)
	}
	g.waitEntered(t, 1)
	g.release(1)
	got := map[*keys.Key]bool{}
	for i, ch := range queued {
		l := answer(t, ch)
		if want[i] == "0000000000000000" {
			assert.ErrorIs(t, l.err, keys.ErrNotFound)
			continue
		}
		require.NoError(t, l.err)
		assert.Equal(t, want[i], l.key.ID)
		assert.False(t, got[l.key], "each caller has its own copy")
		got[l.key] = true
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	require.Len(t, g.batches, inFlightLimit()+1, "the queued lookups in one statement")
	last := g.batches[len(g.batches)-1]
	assert.Len(t, last, 8, "5 distinct ids, rounded up to a power of two")
	assert.ElementsMatch(t, []any{ks[1].ID, ks[2].ID, ks[3].ID, ks[4].ID, "0000000000000000"}, dedupe(last))
}

func dedupe(args []any) []any {
	var out []any
	seen := map[any]bool{}
	for _, a := range args {
		if !seen[a] {
			seen[a] = true
			out = append(out, a)
		}
	}
	return out
}

// TestBatchSeesChangesAnsweredBeforeItsLookup: a lookup that starts after
// a revocation was answered reads the revoked record, though statements
// that began before the revocation are still in flight.
func TestBatchSeesChangesAnsweredBeforeItsLookup(t *testing.T) {
	s, g, ks := batchStore(t, 1, 0)
	id := ks[0].ID
	held := fillInFlight(t, s, g, id)
	_, err := s.Change(t.Context(), id, keys.Change{At: time.Now(), Revoke: true, By: audit.User("alice")})
	require.NoError(t, err)
	after := getAsync(context.Background(), s, id)
	time.Sleep(50 * time.Millisecond)
	g.release(inFlightLimit())
	for _, ch := range held {
		require.NoError(t, answer(t, ch).err) // began before the revocation: either answer is right
	}
	g.waitEntered(t, 1)
	g.release(1)
	l := answer(t, after)
	require.NoError(t, l.err)
	assert.False(t, l.key.RevokedAt.IsZero(), "the lookup began after the revocation was answered")
}

// TestBatchCallerCancellation: one caller giving up neither ends the
// statement for the others in its batch nor leaves the Store stuck; a
// statement whose callers all gave up is cancelled.
func TestBatchCallerCancellation(t *testing.T) {
	s, g, ks := batchStore(t, 3, 0)
	held := fillInFlight(t, s, g, ks[0].ID)
	ctx, cancel := context.WithCancel(context.Background())
	a := getAsync(ctx, s, ks[1].ID)
	b := getAsync(context.Background(), s, ks[2].ID)
	time.Sleep(50 * time.Millisecond)
	g.release(inFlightLimit())
	for _, ch := range held {
		require.NoError(t, answer(t, ch).err)
	}
	g.waitEntered(t, 1) // a and b, in one statement
	cancel()
	la := answer(t, a)
	assert.ErrorIs(t, la.err, keys.ErrStoreUnavailable, "a gave up: the store did not answer it in time")
	g.release(1)
	lb := answer(t, b)
	require.NoError(t, lb.err, "b still waits for the statement: a's cancellation does not end it")
	assert.Equal(t, ks[2].ID, lb.key.ID)

	// Every caller of a statement gives up: it is cancelled, and the
	// Store runs the next lookups.
	held = fillInFlight(t, s, g, ks[0].ID)
	ctx1, cancel1 := context.WithCancel(context.Background())
	ctx2, cancel2 := context.WithCancel(context.Background())
	c1, c2 := getAsync(ctx1, s, ks[1].ID), getAsync(ctx2, s, ks[2].ID)
	time.Sleep(50 * time.Millisecond)
	g.release(inFlightLimit())
	for _, ch := range held {
		require.NoError(t, answer(t, ch).err)
	}
	g.waitEntered(t, 1)
	cancel1()
	cancel2()
	assert.ErrorIs(t, answer(t, c1).err, keys.ErrStoreUnavailable)
	assert.ErrorIs(t, answer(t, c2).err, keys.ErrStoreUnavailable)
	require.Eventually(t, func() bool { return g.inFlight.Load() == 0 }, 5*time.Second, time.Millisecond,
		"the statement no one waits for is cancelled")
	next := getAsync(context.Background(), s, ks[1].ID)
	g.waitEntered(t, 1)
	g.release(1)
	require.NoError(t, answer(t, next).err)
}

// TestBatchRecordThatDoesNotDecode: a record the Store cannot read fails
// its own lookups only, not the others read in the same statement.
func TestBatchRecordThatDoesNotDecode(t *testing.T) {
	s, g, ks := batchStore(t, 3, 0)
	_, err := g.db.Exec("UPDATE "+s.TablePrefix()+"keys SET permissions = 'not json' WHERE id = ?", ks[1].ID)
	require.NoError(t, err)
	held := fillInFlight(t, s, g, ks[0].ID)
	bad, good := getAsync(context.Background(), s, ks[1].ID), getAsync(context.Background(), s, ks[2].ID)
	time.Sleep(50 * time.Millisecond)
	g.release(inFlightLimit())
	for _, ch := range held {
		require.NoError(t, answer(t, ch).err)
	}
	g.waitEntered(t, 1)
	g.release(1)
	lb := answer(t, bad)
	require.Error(t, lb.err)
	assert.Contains(t, lb.err.Error(), "permissions")
	assert.False(t, errors.Is(lb.err, keys.ErrNotFound))
	lg := answer(t, good)
	require.NoError(t, lg.err)
	assert.Equal(t, ks[2].ID, lg.key.ID)
}

// TestMaxBatch: 1 reads each key in a statement of its own; a negative
// value is refused; the statement never reads more distinct ids than
// MaxBatch (rounded down to a power of two).
func TestMaxBatch(t *testing.T) {
	_, err := sqlstore.New(openSQLiteMemory(t), sqlstore.SQLite, sqlstore.Options{MaxBatch: -1})
	require.ErrorContains(t, err, "MaxBatch -1")

	s, g, ks := batchStore(t, 6, 3) // 3 rounds down to 2
	held := fillInFlight(t, s, g, ks[0].ID)
	var queued []chan lookup
	for _, k := range ks[1:] {
		queued = append(queued, getAsync(context.Background(), s, k.ID))
	}
	time.Sleep(50 * time.Millisecond)
	g.release(inFlightLimit())
	for _, ch := range held {
		require.NoError(t, answer(t, ch).err)
	}
	go func() { // as many statements as it takes
		for range g.entered {
			g.gate <- struct{}{}
		}
	}()
	for i, ch := range queued {
		l := answer(t, ch)
		require.NoError(t, l.err)
		assert.Equal(t, ks[i+1].ID, l.key.ID)
	}
	g.mu.Lock()
	for _, b := range g.batches {
		assert.LessOrEqual(t, len(dedupe(b)), 2)
	}
	g.mu.Unlock()

	// MaxBatch 1: a RowsReader's QueryRow, one statement per lookup.
	one := &countingReader{db: g.db}
	s1, err := sqlstore.New(g.db, sqlstore.SQLite, sqlstore.Options{Lookup: one, TablePrefix: s.TablePrefix(), MaxBatch: 1})
	require.NoError(t, err)
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			_, err := s1.Get(context.Background(), ks[0].ID)
			assert.NoError(t, err)
		})
	}
	wg.Wait()
	assert.EqualValues(t, 20, one.rows.Load())
	assert.Zero(t, one.batches.Load())
}

// countingReader counts the statements it runs.
type countingReader struct {
	db            *sql.DB
	rows, batches atomic.Int64
}

func (c *countingReader) QueryRow(ctx context.Context, query string, args ...any) sqlstore.Row {
	c.rows.Add(1)
	return c.db.QueryRowContext(ctx, query, args...)
}

func (c *countingReader) QueryRows(ctx context.Context, query string, args []any, scan func(sqlstore.Row) error) error {
	c.batches.Add(1)
	return errors.New("not used with MaxBatch 1")
}

// panickyReader panics in its first statement, then reads through r.
type panickyReader struct {
	*countingReader
	panicked atomic.Bool
}

func (p *panickyReader) QueryRows(ctx context.Context, query string, args []any, scan func(sqlstore.Row) error) error {
	if p.panicked.CompareAndSwap(false, true) {
		panic("a bug in the reader")
	}
	return readRows(ctx, p.db, query, args, scan)
}

// TestBatchReaderPanic: a lookup whose reader panics fails with an error
// (not "not found"), is logged, and the Store goes on serving lookups.
func TestBatchReaderPanic(t *testing.T) {
	db := openSQLiteFile(t)
	var logged strings.Builder
	r := &panickyReader{countingReader: &countingReader{db: db}}
	s, err := sqlstore.New(db, sqlstore.SQLite, sqlstore.Options{Lookup: r, Logger: slog.New(slog.NewTextHandler(&syncWriter{w: &logged}, nil))})
	require.NoError(t, err)
	require.NoError(t, s.Migrate(t.Context()))
	k := testKey(t, "alice")
	require.NoError(t, s.Create(t.Context(), k, 0))
	_, err = s.Get(t.Context(), k.ID)
	require.ErrorContains(t, err, "panicked")
	assert.NotErrorIs(t, err, keys.ErrNotFound)
	assert.Contains(t, logged.String(), "a bug in the reader")
	for range 3 * inFlightLimit() { // no statement slot was lost
		got, err := s.Get(t.Context(), k.ID)
		require.NoError(t, err)
		assert.Equal(t, k.ID, got.ID)
	}
}

type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// hangingReader reads through db, except statements for the id hang,
// which wait until released is closed.
type hangingReader struct {
	*countingReader
	hang     string
	released chan struct{}
	hung     atomic.Int64
}

func (h *hangingReader) QueryRows(ctx context.Context, query string, args []any, scan func(sqlstore.Row) error) error {
	if slices.Contains(args, any(h.hang)) {
		h.hung.Add(1)
		<-h.released
	}
	return readRows(ctx, h.db, query, args, scan)
}

// TestSlowStatementFreesItsSlot: statements that hang (a stuck database
// connection) stop holding the Store's statement slots after a while, so
// that the lookups the other connections could answer are answered.
func TestSlowStatementFreesItsSlot(t *testing.T) {
	t.Cleanup(sqlstore.SetSlowStatement(20 * time.Millisecond))
	db := openSQLiteFile(t)
	stuck, good := testKey(t, "alice"), testKey(t, "alice")
	h := &hangingReader{countingReader: &countingReader{db: db}, hang: stuck.ID, released: make(chan struct{})}
	s, err := sqlstore.New(db, sqlstore.SQLite, sqlstore.Options{Lookup: h})
	require.NoError(t, err)
	require.NoError(t, s.Migrate(t.Context()))
	require.NoError(t, s.Create(t.Context(), stuck, 0))
	require.NoError(t, s.Create(t.Context(), good, 0))
	var held []chan lookup
	for range 3 * inFlightLimit() { // more hung statements than slots
		held = append(held, getAsync(context.Background(), s, stuck.ID))
		require.Eventually(t, func() bool { return h.hung.Load() == int64(len(held)) }, 5*time.Second, time.Millisecond)
	}
	for range 20 {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		k, err := s.Get(ctx, good.ID)
		cancel()
		require.NoError(t, err, "answered while %d statements hang", len(held))
		assert.Equal(t, good.ID, k.ID)
	}
	close(h.released)
	for _, ch := range held {
		l := answer(t, ch)
		require.NoError(t, l.err)
		assert.Equal(t, stuck.ID, l.key.ID)
	}
}
