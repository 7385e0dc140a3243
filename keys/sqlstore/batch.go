package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/keycaphq/keycap/keys"
)

// Lookups in batches. Under load, a Store reads the keys that concurrent
// verifications ask for together: while its lookup statements are in
// flight (at most max(GOMAXPROCS, 2)), lookups that arrive queue, and the
// next statement reads every queued id at once (WHERE id IN (...), up to
// Options.MaxBatch distinct ids; a key asked for several times is read
// once). A statement takes only lookups that arrived before it began, so
// each still reads the database as it was after its request began, as a
// statement of its own would: a revocation answered before a request
// began is always seen. With nothing in flight a lookup runs at once,
// after letting the goroutines that are ready to run do so (they may
// join it): on an idle Store that costs no wait.
//
// What it saves is the cost of a statement that does not depend on its
// rows: SQLite's read transaction (its locks and WAL header checks),
// Postgres's and MySQL's round trip and its system calls on both sides,
// and, for a key asked for by many requests at once, the row itself.

// lookupCall is one lookup, queued or in a batch.
type lookupCall struct {
	ctx  context.Context
	id   string
	key  *keys.Key
	err  error
	done chan struct{} // closed when key or err is set; nil for the call that runs the batch
}

// batcher queues the lookups of a Store and runs them in statements.
type batcher struct {
	s     *Store
	rr    RowsReader
	max   int // distinct ids in one statement, a power of two
	limit int // statements in flight

	mu      sync.Mutex
	queue   []*lookupCall
	running int

	query map[int]string // the lookup of n ids, n a power of two up to max
}

func newBatcher(s *Store, rr RowsReader, maxBatch int) *batcher {
	n := 1
	for n*2 <= maxBatch {
		n *= 2
	}
	query := map[int]string{1: s.q.get}
	for size := 2; size <= n; size *= 2 {
		marks := strings.TrimSuffix(strings.Repeat("?, ", size), ", ")
		query[size] = rebind(s.dialect, "SELECT "+strings.Join(columns, ", ")+" FROM "+s.table+" WHERE id IN ("+marks+")")
	}
	return &batcher{s: s, rr: rr, max: n, limit: max(runtime.GOMAXPROCS(0), 2), query: query}
}

// get looks id up, in a batch when statements are in flight.
func (b *batcher) get(ctx context.Context, id string) (*keys.Key, error) {
	c := &lookupCall{ctx: ctx, id: id}
	b.mu.Lock()
	if b.running < b.limit {
		b.running++
		b.mu.Unlock()
		// Let the requests that are ready to run reach their lookups:
		// under load they join this statement instead of waiting for
		// the next. Alone, this returns at once.
		runtime.Gosched()
		b.mu.Lock()
		batch := b.takeLocked(c)
		b.mu.Unlock()
		if len(batch) == 1 { // the statement runs under ctx: it ends when ctx does
			b.run(batch)
			return c.key, c.err
		}
		// The statement outlives ctx while others wait for it: this
		// caller waits for it only as long as ctx lets it, as a queued
		// one does.
		c.done = make(chan struct{})
		go b.run(batch)
		return b.wait(c)
	}
	c.done = make(chan struct{})
	b.queue = append(b.queue, c)
	b.mu.Unlock()
	return b.wait(c)
}

// wait returns c's answer, or an error when c's context ends first. The
// call stays queued (or in its statement) until a statement takes or
// drops it; whatever it reads is not used.
func (b *batcher) wait(c *lookupCall) (*keys.Key, error) {
	select {
	case <-c.done: // set before done closed: a key, or an error (dropped calls too)
		return c.key, c.err
	case <-c.ctx.Done():
		return nil, b.s.wrapOther(c.ctx, "get", c.ctx.Err())
	}
}

// takeLocked returns first (nil: none) and the queued calls a statement of
// at most max distinct ids can serve, in the order they came, leaving the
// rest queued. Queued calls whose context is done are dropped, answered
// with their context's error: their callers may see done closed before
// their context's Done. b.mu is held.
//
// It walks the queue once, comparing each call with the distinct ids
// taken so far (at most max): linear in the queue, whatever its order.
func (b *batcher) takeLocked(first *lookupCall) []*lookupCall {
	var batch []*lookupCall
	var ids []string // distinct, in batch
	if first != nil {
		batch, ids = append(batch, first), append(ids, first.id)
	}
	i := 0
	for ; i < len(b.queue); i++ {
		c := b.queue[i]
		if err := c.ctx.Err(); err != nil {
			c.err = b.s.wrapOther(c.ctx, "get", err)
			close(c.done)
			continue
		}
		if !slices.Contains(ids, c.id) {
			if len(ids) == b.max {
				break
			}
			ids = append(ids, c.id)
		}
		batch = append(batch, c)
	}
	rest := copy(b.queue, b.queue[i:])
	clear(b.queue[rest:])
	b.queue = b.queue[:rest]
	return batch
}

// run reads batch, then, while lookups are queued, starts the next
// statement in a goroutine of its own, so that the caller that ran this
// one answers its request now.
//
// A statement still running after slowStatement stops counting against
// the limit: the queued lookups get a statement of their own then, so
// that a database connection that hangs (or a slow reader) does not hold
// back lookups the other connections could answer.
func (b *batcher) run(batch []*lookupCall) {
	var released atomic.Bool
	slow := time.AfterFunc(time.Duration(slowStatement.Load()), func() {
		if released.CompareAndSwap(false, true) {
			b.next()
		}
	})
	b.read(batch)
	slow.Stop()
	if released.CompareAndSwap(false, true) {
		b.next()
	}
}

// slowStatement is how long a lookup statement counts against the
// Store's limit of statements in flight (a time.Duration; tests change it).
var slowStatement atomic.Int64

func init() { slowStatement.Store(int64(100 * time.Millisecond)) }

// next gives the slot of a statement that ended (or runs slow) to the
// queued lookups, in a goroutine of their own, or back to the Store.
func (b *batcher) next() {
	b.mu.Lock()
	next := b.takeLocked(nil)
	if len(next) == 0 {
		b.running--
		b.mu.Unlock()
		return
	}
	b.mu.Unlock()
	go b.run(next)
}

// read runs one statement for the ids of batch and gives every call its
// answer: its own copy of the key, keys.ErrNotFound, or the statement's
// error.
//
// A panic (a RowsReader's, say) fails the batch's lookups with an error
// instead of leaving them waiting, and is logged: a lookup must not stop
// the Store's other lookups, nor, run in a goroutine of its own, the
// process.
func (b *batcher) read(batch []*lookupCall) {
	var err error
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("sqlstore: get: the lookup panicked: %v", p)
			b.s.logger.Error("keycap: a key lookup panicked", "panic", p, "stack", string(debug.Stack()))
		}
		for _, c := range batch {
			switch {
			case err != nil:
				c.key, c.err = nil, b.s.wrap(c.ctx, "get", err)
			case c.key == nil && c.err == nil:
				c.err = keys.ErrNotFound
			}
			if c.done != nil {
				close(c.done)
			}
		}
	}()
	ctx, stop := statementContext(batch)
	defer stop()
	ids := make([]any, 0, len(batch))
	for _, c := range batch {
		if !slices.Contains(ids, any(c.id)) {
			ids = append(ids, c.id)
		}
	}
	n := shape(len(ids))
	for len(ids) < n { // a repeated id reads no second row
		ids = append(ids, ids[0])
	}
	r := &idRow{} // one for every row of the statement
	err = b.rr.QueryRows(ctx, b.query[n], ids, func(row Row) error {
		*r = idRow{row: row}
		k, err := b.s.scanKey(r)
		if err != nil && r.id == "" {
			return err // the row could not be read at all
		}
		first := true
		for _, c := range batch {
			switch {
			case c.id != r.id || c.key != nil || c.err != nil:
			case err != nil: // a record that does not decode fails its own lookups only
				c.err = b.s.wrap(c.ctx, "get", err)
			case first:
				c.key, first = k, false
			default:
				c.key = k.Clone()
			}
		}
		return nil
	})
}

// idRow is a row whose Scan keeps the id it read (the first column), also
// when a later column fails: readers assign columns in order, so a row
// that does not scan fails its own lookups only.
type idRow struct {
	row Row
	id  string
}

func (r *idRow) Scan(dest ...any) error {
	err := r.row.Scan(dest...)
	if p, ok := dest[0].(*string); ok {
		r.id = *p
	}
	return err
}

// statementContext returns the context of batch's statement: cancelled
// when every call's context is done (each call waits for the statement,
// so no one caller's cancellation may end it for the others), with the
// values of the first call's.
func statementContext(batch []*lookupCall) (context.Context, func()) {
	if len(batch) == 1 {
		return batch[0].ctx, func() {}
	}
	ctx, cancel := context.WithCancel(context.WithoutCancel(batch[0].ctx))
	var left atomic.Int64
	left.Store(int64(len(batch)))
	stops := make([]func() bool, len(batch))
	for i, c := range batch {
		stops[i] = context.AfterFunc(c.ctx, func() {
			if left.Add(-1) == 0 {
				cancel()
			}
		})
	}
	return ctx, func() {
		for _, stop := range stops {
			stop()
		}
		cancel()
	}
}

// shape is the number of ids the statement for n ids reads: n rounded up
// to a power of two (max is one), so that a few statements, each
// prepared once, serve every batch.
func shape(n int) int {
	s := 1
	for s < n {
		s *= 2
	}
	return s
}

// dbReader reads lookups through the Store's *sql.DB, with each statement
// prepared once (database/sql prepares it again on each connection it
// runs on): SQLite would otherwise compile it at every lookup.
type dbReader struct {
	db    *sql.DB
	mu    sync.Mutex
	stmts sync.Map // query -> *sql.Stmt
}

var _ RowsReader = (*dbReader)(nil)

func (d *dbReader) prepare(ctx context.Context, query string) (*sql.Stmt, error) {
	if stmt, ok := d.stmts.Load(query); ok {
		return stmt.(*sql.Stmt), nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if stmt, ok := d.stmts.Load(query); ok {
		return stmt.(*sql.Stmt), nil
	}
	stmt, err := d.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	d.stmts.Store(query, stmt)
	return stmt, nil
}

// QueryRow implements [RowReader].
func (d *dbReader) QueryRow(ctx context.Context, query string, args ...any) Row {
	stmt, err := d.prepare(ctx, query)
	if err != nil {
		return errRow{err}
	}
	return stmt.QueryRowContext(ctx, args...)
}

// QueryRows implements [RowsReader].
func (d *dbReader) QueryRows(ctx context.Context, query string, args []any, scan func(Row) error) error {
	stmt, err := d.prepare(ctx, query)
	if err != nil {
		return err
	}
	rows, err := stmt.QueryContext(ctx, args...)
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

// errRow is a Row whose Scan returns err.
type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }
