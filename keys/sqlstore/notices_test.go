package sqlstore_test

import (
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/keys/notify/notifytest"
	"github.com/keycaphq/keycap/keys/sqlstore"
)

// TestNotices runs the notify.Store contract on every dialect, each
// subtest on fresh tables reached through two database handles, as two
// instances of an app reach them (SQLite in memory: one handle, a
// database only one process sees).
func TestNotices(t *testing.T) {
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			var a, b *sql.DB
			switch d.name {
			case "SQLiteMemory":
				a = d.open(t)
				b = a
			case "SQLiteFile":
				path := filepath.Join(t.TempDir(), "keycap.db")
				a, b = openSQLiteAt(t, path), openSQLiteAt(t, path)
			default:
				a, b = d.open(t), d.open(t)
			}
			notifytest.Run(t, func(t *testing.T) (notifytest.Store, notifytest.Store) {
				s := newStore(t, a, d.dialect)
				other, err := sqlstore.New(b, d.dialect, sqlstore.Options{TablePrefix: s.TablePrefix()})
				require.NoError(t, err)
				return s, other
			})
		})
	}
}

// openSQLiteAt opens the SQLite file at path.
func openSQLiteAt(t testing.TB, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", sqliteFileDSN(path))
	require.NoError(t, err)
	db.SetMaxOpenConns(8)
	t.Cleanup(func() { db.Close() })
	return db
}
