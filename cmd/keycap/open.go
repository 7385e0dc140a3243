package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"   // the "mysql" database/sql driver
	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
	_ "modernc.org/sqlite"             // the "sqlite" database/sql driver, pure Go

	"github.com/keycaphq/keycap/audit"
	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/keys/sqlstore"
	"github.com/keycaphq/keycap/policy"
)

// backend is the open database: its store, its audit table and a Manager
// over them acting as the operator.
type backend struct {
	db      *sql.DB
	store   *sqlstore.Store
	auditor *sqlstore.Auditor
	manager *keys.Manager
	actor   audit.Actor
	now     func() time.Time // the database's clock (see dbClock)
}

func (b *backend) close() error {
	var errs []error
	if b.manager != nil {
		errs = append(errs, b.manager.Close())
	}
	return errors.Join(append(errs, b.db.Close())...)
}

// driverFor returns the database/sql driver, the data source name and the
// dialect of a DSN.
func driverFor(dsn string) (driver, source string, d sqlstore.Dialect, err error) {
	switch {
	case dsn == "":
		return "", "", "", usageError{"no database: give -dsn or set DATABASE_URL (postgres://..., mysql://..., sqlite:///path)"}
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		return "pgx", dsn, sqlstore.Postgres, nil
	case strings.HasPrefix(dsn, "mysql://"):
		source, err = mysqlSource(strings.TrimPrefix(dsn, "mysql://"))
		return "mysql", source, sqlstore.MySQL, err
	case strings.HasPrefix(dsn, "sqlite://"):
		return "sqlite", sqliteDSN(strings.TrimPrefix(dsn, "sqlite://")), sqlstore.SQLite, nil
	case strings.HasPrefix(dsn, "sqlite:"):
		return "sqlite", sqliteDSN(strings.TrimPrefix(dsn, "sqlite:")), sqlstore.SQLite, nil
	case !strings.Contains(dsn, "://"):
		return "sqlite", sqliteDSN(dsn), sqlstore.SQLite, nil
	}
	return "", "", "", usageError{"unknown database URL: want postgres://..., mysql://... or sqlite:///path"}
}

// mysqlSource parses a go-sql-driver DSN and sets parseTime=true and
// loc=UTC whatever it says (every other parameter is kept): the tool then
// reads every time as UTC, as the store writes them. Appending text to the
// DSN instead would keep a parseTime=false, and would land in the database
// name when the password holds a '?'.
func mysqlSource(text string) (string, error) {
	cfg, err := mysql.ParseDSN(text)
	if err != nil {
		return "", usageError{"mysql:// URL: " + err.Error() + ": want mysql://user:password@tcp(host:3306)/dbname"}
	}
	cfg.ParseTime, cfg.Loc = true, time.UTC
	return cfg.FormatDSN(), nil
}

// sqliteDSN is the example's: WAL and a busy timeout, any file name.
func sqliteDSN(path string) string {
	escaped := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path)
	return "file:" + escaped + "?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(ON)"
}

// open connects to the database and reads its clock. With a Manager
// (every command but migrate and audit prune), the server secrets come
// from KEYCAP_SECRETS or KEYCAP_SECRET when set; otherwise a random one,
// which is enough for everything but verify and secrets report; adjust,
// when not nil, changes the Manager's configuration first (verify's kinds
// and policy).
func (c *cli) open(ctx context.Context, withManager bool, adjust func(*keys.Config) error) (*backend, error) {
	driver, source, dialect, err := driverFor(c.dsn)
	if err != nil {
		return nil, err
	}
	db, err := sql.Open(driver, source)
	if err != nil {
		return nil, err
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connecting to the database: %w", err)
	}
	b := &backend{db: db, actor: audit.Operator(c.actor)}
	if b.now, err = dbClock(ctx, db, dialect, c.now); err != nil {
		db.Close()
		return nil, err
	}
	if b.store, err = sqlstore.New(db, dialect, sqlstore.Options{TablePrefix: c.prefix}); err != nil {
		db.Close()
		return nil, usageError{err.Error()}
	}
	b.auditor = sqlstore.NewAuditor(b.store)
	if !withManager {
		return b, nil
	}
	ring, err := c.keyring()
	if err != nil {
		db.Close()
		return nil, err
	}
	cfg := keys.Config{
		Store: b.store,
		// The operator's tool does not know the app's policy or users: a
		// policy with no bound, every owner a subject with no role. No
		// command grants anything; verify says so.
		Policy:   policy.MustNew(policy.Config{}),
		Subjects: policy.SubjectsFunc(func(_ context.Context, id string) (policy.Subject, error) { return policy.Subject{ID: id}, nil }),
		Auditor:  b.auditor,
		Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
		Cache:    keys.CacheConfig{Disabled: true},
		Now:      b.now,
	}
	ring.Apply(&cfg)
	if adjust != nil {
		if err := adjust(&cfg); err != nil {
			db.Close()
			return nil, err
		}
	}
	if cfg.Secret == nil {
		cfg.Secret = make([]byte, 32)
		_, _ = rand.Read(cfg.Secret)
	}
	if b.manager, err = keys.NewManager(cfg); err != nil {
		db.Close()
		if adjust != nil {
			return nil, usageError{err.Error()} // verify's -key-prefix, -kind, -max-lifetime
		}
		return nil, err
	}
	return b, nil
}

// with opens the database, runs f and closes it.
func (c *cli) with(ctx context.Context, withManager bool, f func(b *backend) error) error {
	return c.withConfig(ctx, withManager, nil, f)
}

// withConfig is with, the Manager's configuration changed by adjust.
func (c *cli) withConfig(ctx context.Context, withManager bool, adjust func(*keys.Config) error, f func(b *backend) error) error {
	b, err := c.open(ctx, withManager, adjust)
	if err != nil {
		return err
	}
	err = f(b)
	return errors.Join(err, b.close())
}
