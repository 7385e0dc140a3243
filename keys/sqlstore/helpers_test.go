package sqlstore_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"
	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/stretchr/testify/require"
	_ "modernc.org/sqlite"

	"github.com/keycaphq/keycap/internal/testenv"
	"github.com/keycaphq/keycap/keys/sqlstore"
)

// Where the services are; KEYCAP_POSTGRES_URL and KEYCAP_MYSQL_DSN
// override.
var (
	postgresURL = testenv.Env("KEYCAP_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable")
	mysqlDSN    = testenv.Env("KEYCAP_MYSQL_DSN", "root@tcp(127.0.0.1:3306)/test?parseTime=true")
)

// sqliteFileDSN is the recommended DSN for a SQLite file at path.
func sqliteFileDSN(path string) string {
	return "file:" + path + "?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)"
}

// openSQLiteFile opens a new SQLite file in a temporary directory.
func openSQLiteFile(t testing.TB) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", sqliteFileDSN(filepath.Join(t.TempDir(), "keycap.db")))
	require.NoError(t, err)
	db.SetMaxOpenConns(8)
	t.Cleanup(func() { db.Close() })
	return db
}

// openSQLiteMemory opens a new in-memory SQLite database on one
// connection: each connection to ":memory:" would see its own database.
func openSQLiteMemory(t testing.TB) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+randomName()+"?mode=memory&cache=shared")
	require.NoError(t, err)
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	return db
}

// openService opens a shared database or skips (fails, when services are
// required) if it does not answer.
func openService(t testing.TB, service, driver, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open(driver, dsn)
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		testenv.Unavailable(t, service, strings.Join(strings.Fields(err.Error()), " ")) // one line
	}
	db.SetMaxOpenConns(20) // below the servers' default connection limits
	return db
}

func openPostgres(t testing.TB) *sql.DB { return openService(t, "Postgres", "pgx", postgresURL) }
func openMySQL(t testing.TB) *sql.DB    { return openService(t, "MySQL", "mysql", mysqlDSN) }

// newStore returns a migrated Store on db with a table prefix of its own,
// whose tables are dropped when t ends.
func newStore(t testing.TB, db *sql.DB, d sqlstore.Dialect) *sqlstore.Store {
	t.Helper()
	prefix := randomName() + "_"
	s, err := sqlstore.New(db, d, sqlstore.Options{TablePrefix: prefix})
	require.NoError(t, err)
	require.NoError(t, s.Migrate(t.Context()))
	t.Cleanup(func() { dropTables(t, db, prefix) })
	return s
}

func dropTables(t testing.TB, db *sql.DB, prefix string) {
	for _, table := range []string{"keys", "events", "key_owners", "notices", "schema_migrations"} {
		if _, err := db.ExecContext(context.Background(), "DROP TABLE IF EXISTS "+prefix+table); err != nil {
			t.Errorf("dropping %s%s: %v", prefix, table, err)
		}
	}
}

// randomName returns a fresh lower-case identifier.
func randomName() string {
	return "kt" + strings.ToLower(rand.Text()[:10])
}

// dialects lists each backend with how to open it.
var dialects = []struct {
	name    string
	dialect sqlstore.Dialect
	open    func(testing.TB) *sql.DB
}{
	{"SQLiteFile", sqlstore.SQLite, openSQLiteFile},
	{"SQLiteMemory", sqlstore.SQLite, openSQLiteMemory},
	{"Postgres", sqlstore.Postgres, openPostgres},
	{"MySQL", sqlstore.MySQL, openMySQL},
}
