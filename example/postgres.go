package main

import (
	"context"
	"database/sql"
	"fmt"
	"hash/fnv"
	"log/slog"
	"time"

	"github.com/alexedwards/scs/postgresstore"
	"github.com/alexedwards/scs/v2"
	"github.com/jackc/pgx/v5/pgxpool"
	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver

	"github.com/keycaphq/keycap/keys/sqlstore"
)

// postgresBackend is the state the instances share in Postgres.
type postgresBackend struct {
	store         *sqlstore.Store
	users         *userTable
	sessions      scs.Store // nil when the sessions live in Redis
	usersTable    string
	sessionsTable string
	close         func() error
}

// openPostgres opens cfg.DatabaseURL, migrates keycap's tables and creates
// the example's: <prefix>example_users (seeded with alice and bob) and,
// unless sessions live in Redis, <prefix>sessions for scs's postgresstore.
// Instances starting together take turns (an advisory lock), since
// concurrent CREATE TABLE IF NOT EXISTS can fail in Postgres.
func openPostgres(cfg config, logger *slog.Logger) (*postgresBackend, error) {
	db, err := sql.Open("pgx", cfg.DatabaseURL)
	if err != nil {
		return nil, err
	}
	// Stay well below the server's max_connections (100 by default) with
	// several instances; requests beyond this wait for a connection.
	db.SetMaxOpenConns(20)
	db.SetMaxIdleConns(20)
	db.SetConnMaxIdleTime(5 * time.Minute)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pg, err := setUpPostgres(ctx, db, cfg, logger)
	if err != nil {
		db.Close()
		return nil, err
	}
	// The two reads of every verification with the cache off (the key,
	// its owner) go through a native pgx pool, with statements prepared
	// once per connection, in one statement: one round trip (owners.go).
	pool, err := newPgxPool(ctx, cfg.DatabaseURL)
	if err != nil {
		_ = pg.close()
		return nil, err
	}
	owners := &ownerReads{}
	lookup := newKeyReader(pool.Pool, pg.usersTable, owners)
	if pg.store, err = sqlstore.New(db, sqlstore.Postgres, sqlstore.Options{TablePrefix: cfg.TablePrefix, Lookup: lookup}); err != nil {
		pool.Close()
		_ = pg.close()
		return nil, err
	}
	pg.users.rows, pg.users.owners = pool, owners
	closeDB := pg.close
	pg.close = func() error { pool.Close(); return closeDB() }
	return pg, nil
}

// pgxPool is a pgx pool as a sqlstore.RowReader.
type pgxPool struct{ *pgxpool.Pool }

func newPgxPool(ctx context.Context, url string) (pgxPool, error) {
	c, err := pgxpool.ParseConfig(url)
	if err != nil {
		return pgxPool{}, fmt.Errorf("DATABASE_URL: %w", err)
	}
	c.MaxConns = 20 // as the *sql.DB: well below max_connections with several instances
	p, err := pgxpool.NewWithConfig(ctx, c)
	if err != nil {
		return pgxPool{}, fmt.Errorf("DATABASE_URL: %w", err)
	}
	return pgxPool{p}, nil
}

// QueryRow implements sqlstore.RowReader: pgx prepares and caches query
// per connection, and its ErrNoRows is sql.ErrNoRows.
func (p pgxPool) QueryRow(ctx context.Context, query string, args ...any) sqlstore.Row {
	return p.Pool.QueryRow(ctx, query, args...)
}

func setUpPostgres(ctx context.Context, db *sql.DB, cfg config, logger *slog.Logger) (*postgresBackend, error) {
	if err := db.PingContext(ctx); err != nil {
		return nil, fmt.Errorf("DATABASE_URL: %w", err)
	}
	store, err := sqlstore.New(db, sqlstore.Postgres, sqlstore.Options{TablePrefix: cfg.TablePrefix, Logger: logger})
	if err != nil {
		return nil, err
	}
	if err := store.Migrate(ctx); err != nil {
		return nil, fmt.Errorf("migrating keycap's tables: %w", err)
	}
	prefix := store.TablePrefix() // validated: safe in SQL text
	pg := &postgresBackend{store: store, usersTable: prefix + "example_users", close: db.Close}
	withSessions := cfg.RedisURL == ""
	if withSessions {
		pg.sessionsTable = prefix + "sessions"
	}
	if err := createExampleTables(ctx, db, pg.usersTable, pg.sessionsTable, cfg.BcryptCost); err != nil {
		return nil, err
	}
	if pg.users, err = newUserTable(db, pg.usersTable, cfg.BcryptCost, logger); err != nil {
		return nil, err
	}
	if withSessions {
		sessions := postgresstore.NewWithConfig(db, postgresstore.Config{
			TableName: pg.sessionsTable, CleanUpInterval: 5 * time.Minute, // deletes expired sessions
		})
		pg.sessions = sessions
		pg.close = func() error {
			sessions.StopCleanup() // before the database it cleans closes
			return db.Close()
		}
	}
	return pg, nil
}

// createExampleTables creates the users table and, unless sessionsTable
// is "", the sessions table of scs's postgresstore, as its README gives it.
func createExampleTables(ctx context.Context, db *sql.DB, usersTable, sessionsTable string, cost int) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	h := fnv.New64a()
	h.Write([]byte("keycap example " + usersTable))
	if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", int64(h.Sum64())); err != nil {
		return err
	}
	if err := createUserTable(ctx, tx, usersTable, cost); err != nil {
		return err
	}
	if sessionsTable != "" {
		for _, stmt := range []string{
			"CREATE TABLE IF NOT EXISTS " + sessionsTable + " (token TEXT PRIMARY KEY, data BYTEA NOT NULL, expiry TIMESTAMPTZ NOT NULL)",
			"CREATE INDEX IF NOT EXISTS " + sessionsTable + "_expiry_idx ON " + sessionsTable + " (expiry)",
		} {
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("creating %s: %w", sessionsTable, err)
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("creating the example's tables: %w", err)
	}
	return nil
}
