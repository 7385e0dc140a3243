// Package litepool reads a SQLite database through the pool of
// zombiezen.com/go/sqlite: the same pure-Go SQLite (modernc.org/sqlite) as
// the *sql.DB a sqlstore.Store writes through, without database/sql, with
// each query prepared once per connection. Set it as
// sqlstore.Options.Lookup: the lookup of a key by id, which every
// verification that misses the cache runs, then costs a fraction of the
// CPU and allocations (see README, Performance). Writes, listings and
// migrations stay on the *sql.DB.
package litepool

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime"
	"strconv"

	"zombiezen.com/go/sqlite"
	"zombiezen.com/go/sqlite/sqlitex"

	"github.com/keycaphq/keycap/keys/sqlstore"
)

// Pool is a pool of read connections to one SQLite database, a
// [sqlstore.RowReader]. Safe for concurrent use; Close it when done.
type Pool struct {
	pool *sqlitex.Pool
}

var _ sqlstore.RowReader = (*Pool)(nil)

// Open opens a pool of size connections (0: the number of CPUs, at least
// 4) to the SQLite database at uri, a file path or a "file:" URI naming
// the same file as the Store's *sql.DB. Connections use WAL, so that they
// read while the *sql.DB writes, and wait up to 5 s for a lock. Open fails
// if the database cannot be opened.
func Open(uri string, size int) (*Pool, error) {
	if size < 0 {
		return nil, errors.New("litepool: size must not be negative")
	}
	if size == 0 {
		size = max(runtime.NumCPU(), 4)
	}
	p, err := sqlitex.NewPool(uri, sqlitex.PoolOptions{
		Flags:    sqlite.OpenReadWrite | sqlite.OpenCreate | sqlite.OpenWAL | sqlite.OpenURI,
		PoolSize: size,
		PrepareConn: func(c *sqlite.Conn) error {
			return sqlitex.ExecuteTransient(c, "PRAGMA busy_timeout = 5000", nil)
		},
	})
	if err != nil {
		return nil, fmt.Errorf("litepool: %w", err)
	}
	return &Pool{pool: p}, nil
}

// Close closes every connection, waiting for those in use.
func (p *Pool) Close() error { return p.pool.Close() }

// QueryRow runs query with args (string, []byte, int64, float64, bool
// or nil, bound to "?" in order) and returns its first row, read whole
// before the connection goes back to the pool. A query that returns no
// row gives a Row whose Scan returns [sql.ErrNoRows].
func (p *Pool) QueryRow(ctx context.Context, query string, args ...any) sqlstore.Row {
	conn, err := p.pool.Take(ctx)
	if err != nil {
		return errRow{fmt.Errorf("litepool: %w", err)}
	}
	defer p.pool.Put(conn)
	stmt, err := conn.Prepare(query) // cached per connection, reset and cleared
	if err != nil {
		return errRow{fmt.Errorf("litepool: %w", err)}
	}
	defer func() { _ = stmt.Reset() }()
	for i, a := range args {
		if err := bind(stmt, i+1, a); err != nil {
			return errRow{err}
		}
	}
	ok, err := stmt.Step()
	switch {
	case err != nil:
		return errRow{fmt.Errorf("litepool: %w", err)}
	case !ok:
		return errRow{sql.ErrNoRows}
	}
	r := make(row, stmt.ColumnCount())
	for i := range r {
		r[i] = column(stmt, i)
	}
	return r
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
		return fmt.Errorf("litepool: cannot bind an argument of type %T", a)
	}
	return nil
}

// column reads column i of the current row as database/sql's driver
// value: int64, float64, string, []byte (a copy) or nil.
func column(stmt *sqlite.Stmt, i int) any {
	switch stmt.ColumnType(i) {
	case sqlite.TypeInteger:
		return stmt.ColumnInt64(i)
	case sqlite.TypeFloat:
		return stmt.ColumnFloat(i)
	case sqlite.TypeText:
		return stmt.ColumnText(i)
	case sqlite.TypeBlob:
		b := make([]byte, stmt.ColumnLen(i))
		stmt.ColumnBytes(i, b)
		return b
	}
	return nil
}

// row is a row read whole.
type row []any

// Scan assigns the row's columns to dest as database/sql's Row.Scan
// does for the destinations a sqlstore.Store passes.
func (r row) Scan(dest ...any) error {
	if len(dest) != len(r) {
		return fmt.Errorf("litepool: %d destinations for %d columns", len(dest), len(r))
	}
	for i, d := range dest {
		if err := assign(d, r[i]); err != nil {
			return fmt.Errorf("litepool: column %d: %w", i, err)
		}
	}
	return nil
}

func assign(dest, v any) error {
	if s, ok := dest.(sql.Scanner); ok {
		return s.Scan(v)
	}
	switch d := dest.(type) {
	case *string:
		switch x := v.(type) {
		case string:
			*d = x
		case []byte:
			*d = string(x)
		case int64:
			*d = strconv.FormatInt(x, 10)
		case float64:
			*d = strconv.FormatFloat(x, 'g', -1, 64)
		default:
			return fmt.Errorf("cannot read %T into a string", v)
		}
	case *[]byte:
		switch x := v.(type) {
		case nil:
			*d = nil
		case []byte:
			*d = x
		case string:
			*d = []byte(x)
		default:
			return fmt.Errorf("cannot read %T into []byte", v)
		}
	case *int64:
		x, ok := v.(int64)
		if !ok {
			return fmt.Errorf("cannot read %T into an int64", v)
		}
		*d = x
	case *bool:
		x, ok := v.(int64)
		if !ok {
			return fmt.Errorf("cannot read %T into a bool", v)
		}
		*d = x != 0
	default:
		return fmt.Errorf("cannot scan into %T", dest)
	}
	return nil
}

// errRow is a Row whose Scan returns err.
type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }
