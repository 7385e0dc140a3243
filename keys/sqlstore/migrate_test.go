package sqlstore_test

import (
	"context"
	"database/sql"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/audit"
	"github.com/keycaphq/keycap/keys/sqlstore"
)

func TestMigrations(t *testing.T) {
	for _, d := range []sqlstore.Dialect{sqlstore.SQLite, sqlstore.Postgres, sqlstore.MySQL} {
		t.Run(string(d), func(t *testing.T) {
			ms := sqlstore.Migrations(d)
			require.NotEmpty(t, ms)
			require.Equal(t, 1, ms[0].Version)
			require.Equal(t, "keys", ms[0].Name)
			for i, m := range ms {
				require.Equal(t, i+1, m.Version, "versions are consecutive from 1")
				require.Contains(t, m.SQL, " keycap_")
			}
			ms[0].SQL = "changed"
			require.NotEqual(t, "changed", sqlstore.Migrations(d)[0].SQL, "callers get a copy")

			db, err := sql.Open("sqlite", "file::memory:")
			require.NoError(t, err)
			defer db.Close()
			s, err := sqlstore.New(db, d, sqlstore.Options{TablePrefix: "app_"})
			require.NoError(t, err)
			for _, m := range s.Migrations() {
				require.NotContains(t, m.SQL, "keycap_")
				require.Contains(t, m.SQL, " app_")
			}
		})
	}
	require.Nil(t, sqlstore.Migrations("oracle"))
}

// TestMigrateConcurrent starts several "processes" (stores on their own
// pools) migrating the same tables at once, twice: every Migrate succeeds
// and each migration is recorded once.
func TestMigrateConcurrent(t *testing.T) {
	for _, d := range dialects {
		if d.name == "SQLiteMemory" {
			continue // one connection: nothing runs at once
		}
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			prefix := randomName() + "_"
			var dbs []*sql.DB
			if d.name == "SQLiteFile" {
				path := t.TempDir() + "/shared.db"
				for range 4 {
					db, err := sql.Open("sqlite", sqliteFileDSN(path))
					require.NoError(t, err)
					t.Cleanup(func() { db.Close() })
					dbs = append(dbs, db)
				}
			} else {
				for range 4 {
					dbs = append(dbs, d.open(t))
				}
				t.Cleanup(func() { dropTables(t, dbs[0], prefix) })
			}
			for round := range 2 {
				var wg sync.WaitGroup
				errs := make([]error, len(dbs))
				for i, db := range dbs {
					wg.Go(func() {
						s, err := sqlstore.New(db, d.dialect, sqlstore.Options{TablePrefix: prefix})
						if err == nil {
							err = s.Migrate(t.Context())
						}
						errs[i] = err
					})
				}
				wg.Wait()
				for _, err := range errs {
					require.NoError(t, err, "round %d", round)
				}
			}
			var n int
			require.NoError(t, dbs[0].QueryRowContext(t.Context(), "SELECT COUNT(*) FROM "+prefix+"schema_migrations").Scan(&n))
			require.Equal(t, len(sqlstore.Migrations(d.dialect)), n)
			var count int
			require.NoError(t, dbs[0].QueryRowContext(t.Context(), "SELECT COUNT(*) FROM "+prefix+"keys").Scan(&count))
		})
	}
}

// TestMigrationFilesApplyAsIs applies each dialect's files whole, with the
// default table names, as an app's own migration tool would, in a database
// (Postgres: a schema) of its own; then Migrate must accept the tables
// and the store must work on them.
func TestMigrationFilesApplyAsIs(t *testing.T) {
	for _, d := range dialects {
		if d.name == "SQLiteMemory" {
			continue
		}
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			var db *sql.DB
			switch d.dialect {
			case sqlstore.SQLite:
				db = d.open(t)
			case sqlstore.Postgres:
				admin := d.open(t)
				schema := randomName()
				_, err := admin.ExecContext(t.Context(), "CREATE SCHEMA "+schema)
				require.NoError(t, err)
				t.Cleanup(func() { _, _ = admin.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE") })
				db = openService(t, "Postgres", "pgx", postgresURL+"&search_path="+schema)
			case sqlstore.MySQL:
				admin := d.open(t)
				database := randomName()
				_, err := admin.ExecContext(t.Context(), "CREATE DATABASE "+database)
				require.NoError(t, err)
				t.Cleanup(func() { _, _ = admin.ExecContext(context.Background(), "DROP DATABASE "+database) })
				cfg, err := mysql.ParseDSN(mysqlDSN)
				require.NoError(t, err)
				cfg.DBName, cfg.MultiStatements = database, true
				db = openService(t, "MySQL", "mysql", cfg.FormatDSN())
			}
			for _, m := range sqlstore.Migrations(d.dialect) {
				_, err := db.ExecContext(t.Context(), m.SQL)
				require.NoError(t, err, "%04d_%s", m.Version, m.Name)
			}
			s, err := sqlstore.New(db, d.dialect, sqlstore.Options{})
			require.NoError(t, err)
			require.NoError(t, s.Migrate(t.Context()))
			k := testKey(t, "u1")
			require.NoError(t, s.Create(t.Context(), k, 0))
			got, err := s.Get(t.Context(), k.ID)
			require.NoError(t, err)
			require.Equal(t, k, got)
			a := sqlstore.NewAuditor(s)
			q := &audit.Quota{Remaining: 5, RefillAmount: 10, RefillInterval: time.Minute}
			a.Audit(t.Context(), audit.Event{Type: audit.Updated, OwnerID: "u1", KeyID: k.ID, AfterQuota: q})
			events, err := a.Events(t.Context(), "u1", 1)
			require.NoError(t, err)
			require.Len(t, events, 1)
			assert.Equal(t, q, events[0].AfterQuota)

			// The same schema as Migrate makes, column for column.
			m := newStore(t, db, d.dialect)
			tables := []string{"keys", "events", "notices", "schema_migrations"}
			if d.dialect == sqlstore.MySQL {
				tables = append(tables, "key_owners") // the owners' lock rows of its key limit
			}
			for _, table := range tables {
				assert.Equal(t, columnsOf(t, db, d.dialect, "keycap_"+table), columnsOf(t, db, d.dialect, m.TablePrefix()+table), table)
			}
		})
	}
}

// columnsOf lists table's columns in order, each with its declared type.
func columnsOf(t *testing.T, db *sql.DB, d sqlstore.Dialect, table string) []string {
	t.Helper()
	query := map[sqlstore.Dialect]string{
		sqlstore.SQLite: "SELECT name, type FROM pragma_table_info(?) ORDER BY cid",
		sqlstore.MySQL: "SELECT COLUMN_NAME, COLUMN_TYPE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? " +
			"ORDER BY ORDINAL_POSITION",
		sqlstore.Postgres: "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 " +
			"ORDER BY ordinal_position",
	}[d]
	rows, err := db.QueryContext(t.Context(), query, table)
	require.NoError(t, err)
	defer rows.Close()
	var out []string
	for rows.Next() {
		var name, typ string
		require.NoError(t, rows.Scan(&name, &typ))
		out = append(out, name+" "+typ)
	}
	require.NoError(t, rows.Err())
	require.NotEmpty(t, out, "table %s", table)
	return out
}
