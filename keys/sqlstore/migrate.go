package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"hash/fnv"
	"time"
)

// Migrate creates or upgrades the Store's tables: it applies the
// migrations not yet recorded in <prefix>schema_migrations and records
// them. Run it at start; it is idempotent and safe when several processes
// start at once: they take turns under a lock (pg_advisory_xact_lock on
// Postgres, GET_LOCK on MySQL, BEGIN IMMEDIATE on SQLite). On Postgres and
// SQLite all pending migrations apply in one transaction; on MySQL, where
// schema statements commit at once, each migration's schema statements run
// first (each idempotent) and its data statements then run in one
// transaction with its record.
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
	if err := s.apply(ctx, tx, nil); err != nil {
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
	return s.apply(ctx, conn, conn)
}

func (s *Store) migrateSQLite(ctx context.Context, conn *sql.Conn) error {
	// IMMEDIATE takes the write lock at once (waiting up to busy_timeout),
	// so a second process cannot read an old version table in between.
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return err
	}
	err := s.apply(ctx, conn, nil)
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

// querier is a *sql.Conn or a *sql.Tx.
type querier interface {
	execer
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// apply runs the migrations not yet recorded, in order, on db. With conn
// set (MySQL), each migration's data statements and its record run in a
// transaction of their own on conn.
func (s *Store) apply(ctx context.Context, db querier, conn *sql.Conn) error {
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
	for _, m := range s.Migrations() {
		if applied[m.Version] {
			continue
		}
		if err := s.applyOne(ctx, db, conn, m); err != nil {
			return fmt.Errorf("migration %04d_%s: %w", m.Version, m.Name, err)
		}
	}
	return nil
}

// applyOne runs m's schema statements on db, then its data statements and
// its record on db, or in a transaction on conn when conn is set.
func (s *Store) applyOne(ctx context.Context, db querier, conn *sql.Conn, m Migration) error {
	stmts := statements(m.SQL)
	n := leadingSchema(stmts)
	for _, stmt := range stmts[:n] {
		if err := s.execSchema(ctx, db, stmt); err != nil {
			return err
		}
	}
	data, tx := db, (*sql.Tx)(nil)
	if conn != nil {
		var err error
		if tx, err = conn.BeginTx(ctx, nil); err != nil {
			return err
		}
		defer tx.Rollback()
		data = tx
	}
	for _, stmt := range stmts[n:] {
		if conn != nil && isSchema(stmt) {
			return errors.New("a schema statement after a data statement would commit the data statements on their own")
		}
		if err := s.execSchema(ctx, data, stmt); err != nil {
			return err
		}
	}
	record := rebind(s.dialect, "INSERT INTO "+s.prefix+"schema_migrations (version, name, applied_at) VALUES (?, ?, ?)")
	if _, err := data.ExecContext(ctx, record, m.Version, m.Name, s.timeArg(time.Now())); err != nil {
		return err
	}
	if tx != nil {
		return tx.Commit()
	}
	return nil
}

// versionTable is the schema-version table of each dialect; %s is its name.
var versionTable = map[Dialect]string{
	SQLite:   "CREATE TABLE IF NOT EXISTS %s (version INTEGER NOT NULL PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)",
	Postgres: "CREATE TABLE IF NOT EXISTS %s (version INTEGER NOT NULL PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ(3) NOT NULL)",
	MySQL:    "CREATE TABLE IF NOT EXISTS %s (version INT NOT NULL PRIMARY KEY, name VARCHAR(255) NOT NULL, applied_at DATETIME(3) NOT NULL) ENGINE=InnoDB",
}
