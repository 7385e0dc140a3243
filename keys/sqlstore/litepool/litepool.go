// Package litepool reads a SQLite database through connections of
// zombiezen.com/go/sqlite: the same pure-Go SQLite (modernc.org/sqlite) as
// the *sql.DB a sqlstore.Store writes through, without database/sql. Set
// it as sqlstore.Options.Lookup: the lookup of a key by id, which every
// verification that misses the cache runs, then costs a fraction of the
// CPU and allocations (see README, Performance). Writes, listings and
// migrations stay on the *sql.DB.
//
// Per lookup it does what the query needs and nothing more: a connection
// taken from a channel (no goroutine, no derived context), the statement
// prepared once per connection, its arguments bound, one step, and the
// columns read straight into Scan's destinations before the statement is
// reset (which ends SQLite's read transaction) and the connection goes
// back. There is no BEGIN/COMMIT: the one statement is its own read
// transaction, on the latest committed state.
//
// A Pool is a [sqlstore.RowsReader]: the Store reads the keys that
// concurrent verifications look up in one statement (see
// sqlstore.Options.MaxBatch), one read transaction for them all.
package litepool

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"

	"zombiezen.com/go/sqlite"

	"github.com/keycaphq/keycap/keys/sqlstore"
)

// Pool is a pool of read-only connections to one SQLite database, a
// [sqlstore.RowReader]. Safe for concurrent use; Close it when done.
type Pool struct {
	free      chan *sqlite.Conn
	closed    chan struct{}
	closeOnce sync.Once
	opened    int // connections Open made: Close waits for each
}

var _ sqlstore.RowsReader = (*Pool)(nil)

// errClosed is returned by queries on a closed Pool.
var errClosed = errors.New("litepool: the pool is closed")

// Open opens size connections (0: the number of CPUs, at least 4) to the
// SQLite database at uri, a file path or a "file:" URI naming the same file
// as the Store's *sql.DB, which must be in WAL mode (so that these
// connections read while the *sql.DB writes). Connections are read-only
// (PRAGMA query_only) and wait up to 5 s for a lock. Open fails if the
// database cannot be opened.
func Open(uri string, size int) (*Pool, error) {
	if size < 0 {
		return nil, errors.New("litepool: size must not be negative")
	}
	if size == 0 {
		size = max(runtime.NumCPU(), 4)
	}
	p := &Pool{free: make(chan *sqlite.Conn, size), closed: make(chan struct{})}
	for range size {
		c, err := sqlite.OpenConn(uri, sqlite.OpenReadWrite|sqlite.OpenCreate|sqlite.OpenWAL|sqlite.OpenURI)
		if err == nil {
			c.SetBusyTimeout(5 * time.Second)
			if err = exec(c, "PRAGMA query_only = 1"); err != nil {
				c.Close()
			}
		}
		if err != nil {
			return nil, errors.Join(fmt.Errorf("litepool: %w", err), p.Close())
		}
		p.free <- c
		p.opened++
	}
	return p, nil
}

// exec runs a statement that returns no row, once.
func exec(c *sqlite.Conn, query string) error {
	stmt, _, err := c.PrepareTransient(query)
	if err != nil {
		return err
	}
	defer stmt.Finalize()
	_, err = stmt.Step()
	return err
}

// Close closes every connection, waiting for those in use to come back.
// Queries made after Close fail.
func (p *Pool) Close() error {
	var errs []error
	p.closeOnce.Do(func() {
		close(p.closed)
		for range p.opened {
			errs = append(errs, (<-p.free).Close())
		}
	})
	return errors.Join(errs...)
}

// take returns a free connection, waiting for one until ctx is done.
func (p *Pool) take(ctx context.Context) (*sqlite.Conn, error) {
	select {
	case <-p.closed:
		return nil, errClosed
	default:
	}
	select {
	case c := <-p.free:
		return c, nil
	default:
	}
	select {
	case c := <-p.free:
		return c, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("litepool: waiting for a connection: %w", ctx.Err())
	case <-p.closed:
		return nil, errClosed
	}
}

// QueryRow runs query with args (string, []byte, int64, int, float64,
// bool or nil, bound to "?" in order) and returns its first row, which
// holds the connection until its Scan, called once as with pgx, reads the
// columns and gives the connection back. A query that returns no row gives
// a Row whose Scan returns [sql.ErrNoRows]. ctx bounds the wait for a
// connection; a statement that started runs to its end (the lookups it
// serves read one row by primary key), bounded by the 5 s busy timeout.
func (p *Pool) QueryRow(ctx context.Context, query string, args ...any) sqlstore.Row {
	if err := ctx.Err(); err != nil {
		return &row{err: fmt.Errorf("litepool: %w", err)}
	}
	c, err := p.take(ctx)
	if err != nil {
		return &row{err: err}
	}
	stmt, err := c.Prepare(query) // cached per connection, reset and cleared
	if err == nil {
		err = bindAll(stmt, args)
	}
	var found bool
	if err == nil {
		found, err = stmt.Step()
	}
	switch {
	case err != nil:
		p.put(c, stmt)
		return &row{err: fmt.Errorf("litepool: %w", err)}
	case !found:
		p.put(c, stmt)
		return &row{err: sql.ErrNoRows}
	}
	return &row{p: p, c: c, stmt: stmt}
}

// QueryRows runs query with args (bound as by QueryRow) and calls scan
// with each row, in order, until scan returns an error. The statement is
// one read transaction; it is reset and the connection given back before
// QueryRows returns. ctx bounds the wait for a connection only, as for
// QueryRow.
func (p *Pool) QueryRows(ctx context.Context, query string, args []any, scan func(sqlstore.Row) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("litepool: %w", err)
	}
	c, err := p.take(ctx)
	if err != nil {
		return err
	}
	stmt, err := c.Prepare(query)
	if err != nil {
		p.put(c, nil)
		return fmt.Errorf("litepool: %w", err)
	}
	defer p.put(c, stmt)
	if err := bindAll(stmt, args); err != nil {
		return fmt.Errorf("litepool: %w", err)
	}
	r := stmtRow{stmt}
	for {
		found, err := stmt.Step()
		if err != nil {
			return fmt.Errorf("litepool: %w", err)
		}
		if !found {
			return nil
		}
		if err := scan(r); err != nil {
			return err
		}
	}
}

// put resets stmt (nil: none), which ends its read transaction, and gives
// c back to the pool.
func (p *Pool) put(c *sqlite.Conn, stmt *sqlite.Stmt) {
	if stmt != nil {
		_ = stmt.Reset()
	}
	p.free <- c
}

func bindAll(stmt *sqlite.Stmt, args []any) error {
	for i, a := range args {
		if err := bind(stmt, i+1, a); err != nil {
			return err
		}
	}
	return nil
}

func bind(stmt *sqlite.Stmt, i int, a any) error {
	switch v := a.(type) {
	case nil:
		stmt.BindNull(i)
	case string:
		stmt.BindText(i, v)
	case []byte:
		stmt.BindBytes(i, v)
	case int64:
		stmt.BindInt64(i, v)
	case int:
		stmt.BindInt64(i, int64(v))
	case float64:
		stmt.BindFloat(i, v)
	case bool:
		stmt.BindBool(i, v)
	default:
		return fmt.Errorf("cannot bind an argument of type %T", a)
	}
	return nil
}
