// Package sqlstore is a [keys.Store] on database/sql, for SQLite,
// PostgreSQL and MySQL or MariaDB.
//
// Every call is one conditional write of what the caller means, never a
// record written back whole: [Store.Change] updates only the columns its
// [keys.Change] sets, where the key is not revoked and still at the version
// the change was decided on; [Store.Consume] and [Store.Touch] write only
// their own columns; [Store.Create] counts an owner's live keys and
// inserts as one step per owner. Concurrent calls, from several processes
// too, never undo each other. See each method for how each dialect does it.
//
// The package imports no database driver: the app opens the *sql.DB with
// the driver it chose and passes it to [New] with the matching [Dialect].
// Call [Store.Migrate] once at start to create the tables, or apply
// [Store.Migrations] (also readable as migrations/<dialect>/*.sql in this
// package) with your own migration tool.
//
// # Lookups
//
// [Store.Get], the read of every verification that misses the cache, reads
// through the *sql.DB (each statement prepared once) or Options.Lookup (a
// driver's own pool: [RowReader]). Concurrent lookups are read together:
// while the Store's lookup statements are in flight, lookups that arrive
// wait for one to end and the next statement reads them all (WHERE id IN
// (...), up to Options.MaxBatch keys, a key many requests ask for read
// once). Each statement takes only lookups that arrived before it began,
// so every lookup still sees each change answered before its request
// began; on an idle Store a lookup runs at once. Under load this spares
// SQLite a read transaction and Postgres or MySQL a round trip per
// request (see the README's Performance section for figures).
//
// # Connection strings
//
// SQLite (modernc.org/sqlite, driver "sqlite"): use a file in WAL mode with a
// busy timeout, so that concurrent writers wait instead of failing:
//
//	file:keycap.db?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)
//
// An in-memory database exists per connection: give it one connection
// (db.SetMaxOpenConns(1)) or name it and share its cache
// (file:keycap?mode=memory&cache=shared), still with one connection, since
// a shared cache reports lock conflicts instead of waiting.
//
// PostgreSQL (github.com/jackc/pgx/v5/stdlib, driver "pgx"):
//
//	postgres://user:password@host:5432/dbname?sslmode=verify-full
//
// MySQL and MariaDB (github.com/go-sql-driver/mysql, driver "mysql"):
//
//	user:password@tcp(host:3306)/dbname
//
// parseTime and loc do not matter: times are written as UTC text and read
// back in UTC whatever the driver's settings.
//
// Bound the pool with db.SetMaxOpenConns below the server's connection
// limit: under load each concurrent request may hold a connection.
//
// # Schema
//
// <prefix>keys (keycap_keys by default) holds every field of [keys.Key]: id
// is the primary key and compares byte-wise, hash is unique, and an index
// on (owner_id, id) serves [Store.List] by keyset pagination. Permissions
// are JSON text; times are UTC with millisecond precision (Unix
// milliseconds in SQLite) and NULL when zero; RefillInterval is in
// milliseconds. Actors (created_by, revoked_by, disabled_by) are
// [audit.Actor.String]: "user:alice", "key:<id>", "" for none. ancestors
// holds [keys.Key].Ancestors as space-separated ids, root first; parent_id
// keeps the last of them, for tools that read it. version counts changes
// (1 when created) and generation rotations. <prefix>events holds what an
// [Auditor] records, one row per [audit.Event] with an auto-increment id,
// indexed on (owner_id, id) to list an owner's events newest first; it
// never holds a key or a hash. On MySQL, <prefix>key_owners holds one row
// per owner that has created a key with a limit: Create locks it.
// <prefix>schema_migrations records applied migrations.
//
// Migration 0003 upgrades a database of an earlier release: it adds
// version (1 for existing records), generation, ancestors (the parent, for
// existing delegated keys) and parent_generation, and rewrites the actors
// of records and events to the typed form ("alice" becomes "user:alice";
// "key:<id>" and "" stay).
package sqlstore
