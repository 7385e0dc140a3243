package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"time"

	_ "modernc.org/sqlite" // the "sqlite" database/sql driver, pure Go

	"github.com/keycaphq/keycap/keys/sqlstore"
	"github.com/keycaphq/keycap/keys/sqlstore/litepool"
)

// openStore opens (creating it if needed) the SQLite database at path and
// migrates keycap's tables, named with prefix ("" means keycap_). The
// returned func closes the database.
func openStore(path, prefix string, logger *slog.Logger) (*sqlstore.Store, func() error, error) {
	db, err := sql.Open("sqlite", sqliteDSN(path))
	if err != nil {
		return nil, nil, err
	}
	// A few connections serve every request: SQLite runs one writer at a
	// time anyway, and each extra connection is another page cache and
	// another reader contending on the WAL's shared-memory locks.
	conns := 2 * runtime.NumCPU()
	db.SetMaxOpenConns(conns)
	db.SetMaxIdleConns(conns)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, nil, fmt.Errorf("opening %s: %w", path, err)
	}
	store, err := sqlstore.New(db, sqlstore.SQLite, sqlstore.Options{TablePrefix: prefix, Logger: logger})
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	if err := store.Migrate(ctx); err != nil {
		db.Close()
		return nil, nil, fmt.Errorf("migrating %s: %w", path, err)
	}
	// The lookup of a key by id (every verification with the cache off)
	// reads through a pool of the same pure-Go SQLite without
	// database/sql: a fraction of the CPU (see README, Performance).
	pool, err := litepool.Open(fileURI(path), conns)
	if err != nil {
		db.Close()
		return nil, nil, fmt.Errorf("opening %s: %w", path, err)
	}
	if store, err = sqlstore.New(db, sqlstore.SQLite, sqlstore.Options{TablePrefix: prefix, Lookup: pool}); err != nil {
		pool.Close()
		db.Close()
		return nil, nil, err
	}
	return store, func() error { return errors.Join(pool.Close(), db.Close()) }, nil
}

// fileURI is a file: URI for path, escaped so that any file name works.
func fileURI(path string) string {
	return "file:" + strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path)
}

// sqliteDSN is a file: URI for path (escaped, so any file name works) with
// the pragmas a web app wants: WAL so readers don't wait for the writer,
// and a busy timeout instead of "database is locked" errors.
func sqliteDSN(path string) string {
	return fileURI(path) + "?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)" +
		"&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(ON)"
}
