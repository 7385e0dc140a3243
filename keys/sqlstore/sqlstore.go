package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strconv"
	"strings"

	"github.com/keycaphq/keycap/keys"
)

// Dialect names the SQL database a [Store] talks to. It decides the
// placeholders, the column types of the migrations and how errors are read.
// The zero Dialect is none: [New] refuses it.
type Dialect string

// The supported dialects.
const (
	SQLite   Dialect = "sqlite"   // modernc.org/sqlite (driver "sqlite"), SQLite 3.35+
	Postgres Dialect = "postgres" // github.com/jackc/pgx/v5/stdlib (driver "pgx"), PostgreSQL 12+
	MySQL    Dialect = "mysql"    // github.com/go-sql-driver/mysql, MySQL 8 or MariaDB 10.5+
)

// DefaultTablePrefix starts the name of every table and index the store
// creates when [Options].TablePrefix is empty: keycap_keys, keycap_events
// and keycap_schema_migrations.
const DefaultTablePrefix = "keycap_"

// Options configure a [Store]. The zero value is the default.
type Options struct {
	// TablePrefix starts every table and index name. It is 1 to 32
	// lower-case ASCII letters, digits and underscores, starting with a
	// letter or an underscore; "" means [DefaultTablePrefix].
	TablePrefix string
	// Logger receives what the Store and its [Auditor] log: an audit event
	// that could not be recorded (its type, owner and key id, never a key).
	// nil means slog.Default().
	Logger *slog.Logger
	// Lookup, when set, is where [Store.Get] reads a key's row (the one
	// query every verification that misses the cache runs) instead of
	// the *sql.DB: a driver's own pool, without database/sql's per-row
	// conversions, such as [github.com/keycaphq/keycap/keys/sqlstore/litepool]
	// for SQLite or a pgx pool for Postgres (see [RowReader]). It must
	// read the same database as the *sql.DB. nil: the *sql.DB.
	Lookup RowReader
	// MaxBatch is the most distinct keys one lookup statement reads.
	// Lookups that arrive while the Store's lookup statements are in
	// flight (at most max(GOMAXPROCS, 2) at once) wait for one to end and
	// are then read together, in one statement that began after each of
	// them arrived: each still sees every change answered before its
	// request began, and a key many requests ask for at once is read once.
	// A lookup on an idle Store runs at once; a statement running for more
	// than 100 ms stops counting against the limit, so that a stuck
	// connection does not hold back the others. Batching needs the *sql.DB
	// or a Lookup that is a [RowsReader]; with a Lookup that is only a
	// RowReader every lookup is a statement of its own. 0 means 32; 1
	// turns batching off; other values are rounded down to a power of two,
	// at most 256; negative values are refused.
	MaxBatch int
}

// RowReader runs a query that returns at most one row: [Store.Get]'s
// lookup by id, in the Store's dialect (placeholders "?" for SQLite and
// MySQL, "$1" for Postgres), with its arguments. Row.Scan must assign
// columns as database/sql's Row.Scan does into the destinations the Store
// passes (*string, *[]byte, *bool, *int64, and sql.Scanner values given
// the column as int64, float64, string, []byte, time.Time or nil), and
// return an error that errors.Is [sql.ErrNoRows] when there is no row
// (pgx's ErrNoRows is one). A pgx pool fits in one line, though its
// lookups are then not batched (make it a [RowsReader] for that):
//
//	sqlstore.Options{Lookup: sqlstore.RowReaderFunc(func(ctx context.Context, q string, args ...any) sqlstore.Row {
//		return pool.QueryRow(ctx, q, args...)
//	})}
type RowReader interface {
	// QueryRow runs query with args and returns its first row; an error
	// (no row included) is returned by the Row's Scan.
	QueryRow(ctx context.Context, query string, args ...any) Row
}

// RowsReader is a [RowReader] that also runs queries returning several
// rows: as Options.Lookup, the Store reads the keys that concurrent
// verifications look up together (see Options.MaxBatch).
// [github.com/keycaphq/keycap/keys/sqlstore/litepool] is one. For a pgx
// pool (the example's owners.go does this, with the owner's row joined):
//
//	type pgxLookup struct{ *pgxpool.Pool }
//
//	func (p pgxLookup) QueryRows(ctx context.Context, q string, args []any, scan func(sqlstore.Row) error) error {
//		rows, err := p.Query(ctx, q, args...)
//		if err != nil {
//			return err
//		}
//		defer rows.Close()
//		for rows.Next() {
//			if err := scan(rows); err != nil {
//				return err
//			}
//		}
//		return rows.Err()
//	}
//
// with QueryRow as for the RowReader above.
type RowsReader interface {
	RowReader
	// QueryRows runs query with args and calls scan with each row, in
	// order, until scan returns an error, which QueryRows returns; the Row
	// is valid only during its call.
	QueryRows(ctx context.Context, query string, args []any, scan func(Row) error) error
}

// Row is a row a [RowReader] returned: Scan reads its columns.
type Row interface {
	// Scan assigns the row's columns to dest, in order.
	Scan(dest ...any) error
}

// RowReaderFunc is a function as a [RowReader].
type RowReaderFunc func(ctx context.Context, query string, args ...any) Row

// QueryRow calls f.
func (f RowReaderFunc) QueryRow(ctx context.Context, query string, args ...any) Row {
	return f(ctx, query, args...)
}

// Store is a [keys.Store] on a database/sql database. It is safe for
// concurrent use, by many processes sharing the database too: every
// change is one conditional write, and the key limit and quotas are exact
// across processes. Create it with [New] and create its tables with
// [Store.Migrate] (or apply [Store.Migrations] yourself).
type Store struct {
	db      *sql.DB
	dialect Dialect
	prefix  string
	table   string // prefix + "keys"
	logger  *slog.Logger
	q       queries
	nq      noticeQueries // of notices.go

	lookup RowReader // Options.Lookup, or the *sql.DB's dbReader
	batch  *batcher  // lookups in batches (batch.go); nil: one statement per lookup
}

var _ keys.Store = (*Store)(nil)

var validPrefix = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,31}$`)

// New returns a Store on db, which must have been opened with a driver for
// dialect; the package imports no driver itself. It checks the options
// and touches no table: run [Store.Migrate] once at start.
func New(db *sql.DB, dialect Dialect, opts Options) (*Store, error) {
	if db == nil {
		return nil, errors.New("sqlstore: db is nil")
	}
	switch dialect {
	case SQLite, Postgres, MySQL:
	default:
		return nil, fmt.Errorf("sqlstore: unknown dialect %q; use sqlstore.SQLite, sqlstore.Postgres or sqlstore.MySQL", string(dialect))
	}
	if opts.MaxBatch < 0 {
		return nil, fmt.Errorf("sqlstore: MaxBatch %d: want 0 (the default, 32) or more", opts.MaxBatch)
	}
	prefix := cmp.Or(opts.TablePrefix, DefaultTablePrefix)
	if !validPrefix.MatchString(prefix) {
		return nil, fmt.Errorf("sqlstore: table prefix %q: want 1 to 32 of a-z, 0-9 and '_', starting with a letter or '_'", prefix)
	}
	s := &Store{db: db, dialect: dialect, prefix: prefix, table: prefix + "keys", logger: cmp.Or(opts.Logger, slog.Default()), lookup: opts.Lookup}
	s.q = newQueries(dialect, s.table, prefix)
	if s.lookup == nil {
		s.lookup = &dbReader{db: db}
	}
	if rr, ok := s.lookup.(RowsReader); ok && opts.MaxBatch != 1 {
		s.batch = newBatcher(s, rr, min(cmp.Or(opts.MaxBatch, 32), 256))
	}
	s.nq = newNoticeQueries(dialect, prefix)
	return s, nil
}

// Dialect returns the dialect the Store was created with.
func (s *Store) Dialect() Dialect { return s.dialect }

// TablePrefix returns the prefix of the Store's table and index names.
func (s *Store) TablePrefix() string { return s.prefix }

// rebind turns the ? placeholders of query into $1, $2, ... for Postgres.
// The package's queries hold no ? other than placeholders.
func rebind(d Dialect, query string) string {
	if d != Postgres {
		return query
	}
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
