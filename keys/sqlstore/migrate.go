package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"hash/fnv"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Migration is one schema change of the store's tables.
type Migration struct {
	Version int    // 1, 2, ...: applied in this order, recorded once applied
	Name    string // from the file name: "keys" for 0001_keys.sql
	// SQL is the file's text: statements ending in ";", each idempotent
	// (CREATE ... IF NOT EXISTS), so applying it twice does no harm.
	SQL string
}

//go:embed migrations
var migrationFiles embed.FS

var migrationName = regexp.MustCompile(`^(\d{4})_([a-z0-9_]+)\.sql$`)

// migrations holds each dialect's migrations in version order.
var migrations = func() map[Dialect][]Migration {
	all := map[Dialect][]Migration{}
	for _, d := range []Dialect{SQLite, Postgres, MySQL} {
		dir := path.Join("migrations", string(d))
		entries, err := migrationFiles.ReadDir(dir)
		if err != nil {
			panic("sqlstore: " + err.Error())
		}
		for _, e := range entries {
			m := migrationName.FindStringSubmatch(e.Name())
			if m == nil {
				panic("sqlstore: migration file name " + e.Name() + " is not NNNN_name.sql")
			}
			text, err := migrationFiles.ReadFile(path.Join(dir, e.Name()))
			if err != nil {
				panic("sqlstore: " + err.Error())
			}
			v, _ := strconv.Atoi(m[1])
			all[d] = append(all[d], Migration{Version: v, Name: m[2], SQL: string(text)})
		}
		sort.Slice(all[d], func(i, j int) bool { return all[d][i].Version < all[d][j].Version })
	}
	return all
}()

// Migrations returns the migrations of dialect in version order, with the
// default table names (keycap_keys, ...); nil for an unknown dialect. They
// are the files under migrations/<dialect>/ in this package, for apps that
// apply schema changes with their own tool. [Store.Migrations] gives them
// with a Store's table prefix.
func Migrations(dialect Dialect) []Migration {
	return append([]Migration(nil), migrations[dialect]...)
}

// Migrations returns the migrations of the Store's dialect with its table
// prefix in every table and index name.
func (s *Store) Migrations() []Migration {
	out := Migrations(s.dialect)
	for i := range out {
		out[i].SQL = strings.ReplaceAll(out[i].SQL, DefaultTablePrefix, s.prefix)
	}
	return out
}

// statements splits a migration into its statements, without comments:
// the files hold no "--" or ";" inside string literals.
func statements(sql string) []string {
	var b strings.Builder
	for _, line := range strings.Split(sql, "\n") {
		line, _, _ = strings.Cut(line, "--")
		b.WriteString(line + "\n")
	}
	var out []string
	for _, stmt := range strings.Split(b.String(), ";") {
		if stmt = strings.TrimSpace(stmt); stmt != "" {
			out = append(out, stmt)
		}
	}
	return out
}

// Migrate creates or upgrades the Store's tables: it applies the
// migrations not yet recorded in <prefix>schema_migrations and records
// them. Run it at start; it is idempotent and safe when several processes
// start at once: they take turns under a lock (pg_advisory_xact_lock on
// Postgres, GET_LOCK on MySQL, BEGIN IMMEDIATE on SQLite).
func (s *Store) Migrate(ctx context.Context) error {
	// SQLite can answer BUSY without waiting for busy_timeout while several
	// processes open a new database at once (switching it to WAL): retry.
	for attempt := 1; ; attempt++ {
		err := s.migrate(ctx)
		if err == nil || s.dialect != SQLite || attempt == 20 || !sqliteBusy(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(time.Duration(attempt) * 25 * time.Millisecond):
		}
	}
}

// sqliteBusy reports a SQLITE_BUSY or SQLITE_LOCKED error.
func sqliteBusy(err error) bool {
	var code interface{ Code() int } // modernc.org/sqlite's *Error
	return errors.As(err, &code) && (code.Code()&0xff == 5 || code.Code()&0xff == 6)
}

func (s *Store) migrate(ctx context.Context) error {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return s.wrapOther(ctx, "migrate", err)
	}
	defer conn.Close()
	switch s.dialect {
	case Postgres:
		err = s.migratePostgres(ctx, conn)
	case MySQL:
		err = s.migrateMySQL(ctx, conn)
	default:
		err = s.migrateSQLite(ctx, conn)
	}
	return s.wrapOther(ctx, "migrate", err)
}

func (s *Store) migratePostgres(ctx context.Context, conn *sql.Conn) error {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	h := fnv.New64a()
	h.Write([]byte("keycap migrate " + s.prefix))
	if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", int64(h.Sum64())); err != nil {
		return err
	}
	if err := s.apply(ctx, tx); err != nil {
		return err
	}
	return tx.Commit()
}

func (s *Store) migrateMySQL(ctx context.Context, conn *sql.Conn) error {
	// DDL commits implicitly in MySQL, so a transaction would not hold.
	name := "keycap_migrate_" + s.prefix
	var got sql.NullInt64
	if err := conn.QueryRowContext(ctx, "SELECT GET_LOCK(?, 60)", name).Scan(&got); err != nil {
		return err
	}
	if got.Int64 != 1 {
		return errors.New("timed out after 60s waiting for the migration lock " + name)
	}
	defer func() {
		_ = conn.QueryRowContext(context.WithoutCancel(ctx), "SELECT RELEASE_LOCK(?)", name).Scan(new(sql.NullInt64))
	}()
	return s.apply(ctx, conn)
}

func (s *Store) migrateSQLite(ctx context.Context, conn *sql.Conn) error {
	// IMMEDIATE takes the write lock at once (waiting up to busy_timeout),
	// so a second process cannot read an old version table in between.
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return err
	}
	err := s.apply(ctx, conn)
	if err == nil {
		_, err = conn.ExecContext(ctx, "COMMIT")
	}
	if err != nil {
		if _, rerr := conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK"); rerr != nil {
			// Do not hand a connection with an open transaction back to
			// the pool.
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		}
	}
	return err
}

// apply runs the migrations not yet recorded, in order, on db.
func (s *Store) apply(ctx context.Context, db interface {
	execer
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}) error {
	versions := s.prefix + "schema_migrations"
	if _, err := db.ExecContext(ctx, fmt.Sprintf(versionTable[s.dialect], versions)); err != nil {
		return err
	}
	rows, err := db.QueryContext(ctx, "SELECT version FROM "+versions)
	if err != nil {
		return err
	}
	applied := map[int]bool{}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return err
		}
		applied[v] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	record := rebind(s.dialect, "INSERT INTO "+versions+" (version, name, applied_at) VALUES (?, ?, ?)")
	for _, m := range s.Migrations() {
		if applied[m.Version] {
			continue
		}
		for _, stmt := range statements(m.SQL) {
			if _, err := db.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("migration %04d_%s: %w", m.Version, m.Name, err)
			}
		}
		if _, err := db.ExecContext(ctx, record, m.Version, m.Name, s.timeArg(time.Now())); err != nil {
			return err
		}
	}
	return nil
}

// versionTable is the schema-version table of each dialect; %s is its name.
var versionTable = map[Dialect]string{
	SQLite:   "CREATE TABLE IF NOT EXISTS %s (version INTEGER NOT NULL PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)",
	Postgres: "CREATE TABLE IF NOT EXISTS %s (version INTEGER NOT NULL PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ(3) NOT NULL)",
	MySQL:    "CREATE TABLE IF NOT EXISTS %s (version INT NOT NULL PRIMARY KEY, name VARCHAR(255) NOT NULL, applied_at DATETIME(3) NOT NULL) ENGINE=InnoDB",
}
