package faults_test

import (
	"context"
	"database/sql"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap"
	keycaptest "github.com/keycaphq/keycap/httptest_helpers"
	"github.com/keycaphq/keycap/keys/sqlstore"
)

// sqliteFile opens a SQLite file in a temporary directory with the pragmas
// of dsn ("_pragma=busy_timeout(200)&..."), and a migrated store on it.
func sqliteFile(t *testing.T, pragmas string) (path string, db *sql.DB, store *sqlstore.Store) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "keycap.db")
	db = openDB(t, "sqlite", "file:"+path+"?"+pragmas)
	store = newStore(t, db, openDB(t, "sqlite", "file:"+path), sqlstore.SQLite)
	return path, db, store
}

// TestSQLiteClosed closes the store's *sql.DB under the running app.
func TestSQLiteClosed(t *testing.T) {
	_, db, store := sqliteFile(t, "_pragma=busy_timeout(200)&_pragma=journal_mode(WAL)")
	srv := newServer(t, store)
	alice := srv.LogIn(t, "alice")
	k := alice.CreateKey(t, "/api-keys", "k", filesRead)
	require.NoError(t, db.Close())

	mark := logs.mark()
	requireUnavailable(t, alice.DoJSON(t, http.MethodPost, "/api-keys", createBody("k")))
	requireUnavailable(t, alice.DoJSON(t, http.MethodGet, "/api-keys", nil))
	requireUnavailable(t, useKey(t, srv, k.Key))
	t.Logf("closed: logged cause %q", requireLogged(t, mark, 3)[0])
}

// TestSQLiteReadOnly opens the database read-only (a read-only mount or
// file): writes answer 503, reads and verification go on.
func TestSQLiteReadOnly(t *testing.T) {
	path, db, store := sqliteFile(t, "_pragma=journal_mode(WAL)")
	srv := newServer(t, store)
	k := srv.LogIn(t, "alice").CreateKey(t, "/api-keys", "k", filesRead)
	require.NoError(t, db.Close())

	ro := openDB(t, "sqlite", "file:"+path+"?mode=ro")
	roStore, err := sqlstore.New(ro, sqlstore.SQLite, sqlstore.Options{TablePrefix: store.TablePrefix()})
	require.NoError(t, err)
	srv = newServer(t, roStore)
	alice := srv.LogIn(t, "alice")

	mark := logs.mark()
	requireUnavailable(t, alice.DoJSON(t, http.MethodPost, "/api-keys", createBody("k")))
	requireUnavailable(t, alice.DoJSON(t, http.MethodDelete, "/api-keys/"+k.ID, nil))
	t.Logf("read-only: logged cause %q", requireLogged(t, mark, 2)[0])
	keycaptest.RequireCode(t, alice.DoJSON(t, http.MethodGet, "/api-keys", nil), "")
	keycaptest.RequireCode(t, useKey(t, srv, k.Key), "") // the failed revoke changed nothing
}

// TestSQLiteFileRemoved deletes the database file under the running app:
// SQLite keeps the open file, so reads may go on, and in rollback-journal
// mode refuses writes to a file that is no longer there: 503. (In WAL mode
// SQLite does not notice and goes on writing to the deleted file.)
func TestSQLiteFileRemoved(t *testing.T) {
	path, _, store := sqliteFile(t, "_pragma=busy_timeout(200)&_pragma=journal_mode(DELETE)")
	srv := newServer(t, store)
	alice := srv.LogIn(t, "alice")
	k := alice.CreateKey(t, "/api-keys", "k", filesRead)
	require.NoError(t, os.Remove(path))

	mark := logs.mark()
	resp := alice.DoJSON(t, http.MethodPost, "/api-keys", createBody("k"))
	requireUnavailable(t, resp)
	t.Logf("removed: logged cause %q", requireLogged(t, mark, 1)[0])
	status := useKey(t, srv, k.Key).StatusCode
	assert.Contains(t, []int{http.StatusOK, http.StatusServiceUnavailable}, status)
}

// TestSQLiteBusy holds SQLite's write lock from another connection, as
// another process would. In WAL mode readers are not blocked: verification
// goes on, and a write that cannot get the lock within busy_timeout answers
// 503. A write whose lock is freed within busy_timeout waits and succeeds.
// In rollback-journal mode an exclusive lock blocks readers too:
// verification answers 503, never 200.
func TestSQLiteBusy(t *testing.T) {
	// lock takes the write lock (EXCLUSIVE: readers blocked too, in
	// rollback-journal mode) on a connection of its own; the returned func
	// releases it.
	lock := func(t *testing.T, path, mode string) func() {
		t.Helper()
		other := openDB(t, "sqlite", "file:"+path)
		conn, err := other.Conn(context.Background())
		require.NoError(t, err)
		_, err = conn.ExecContext(context.Background(), "BEGIN "+mode)
		require.NoError(t, err)
		released := false
		release := func() {
			if !released {
				released = true
				_, err := conn.ExecContext(context.Background(), "ROLLBACK")
				assert.NoError(t, err)
				conn.Close()
			}
		}
		t.Cleanup(release)
		return release
	}

	t.Run("WAL", func(t *testing.T) {
		path, _, store := sqliteFile(t, "_pragma=busy_timeout(200)&_pragma=journal_mode(WAL)")
		srv := newServer(t, store)
		alice := srv.LogIn(t, "alice")
		k := alice.CreateKey(t, "/api-keys", "k", filesRead)
		release := lock(t, path, "IMMEDIATE")

		mark := logs.mark()
		start := time.Now()
		requireUnavailable(t, timed(t, func() *keycaptest.Response {
			return alice.DoJSON(t, http.MethodPost, "/api-keys", createBody("busy"))
		}))
		assert.GreaterOrEqual(t, time.Since(start), 150*time.Millisecond, "the write waited for busy_timeout")
		t.Logf("busy: logged cause %q", requireLogged(t, mark, 1)[0])
		keycaptest.RequireCode(t, useKey(t, srv, k.Key), "")
		keycaptest.RequireCode(t, alice.DoJSON(t, http.MethodGet, "/api-keys", nil), "")
		release()
		keycaptest.RequireCode(t, alice.DoJSON(t, http.MethodPost, "/api-keys", createBody("free")), "")
	})

	t.Run("WaitsWithinBusyTimeout", func(t *testing.T) {
		path, _, store := sqliteFile(t, "_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)")
		srv := newServer(t, store)
		alice := srv.LogIn(t, "alice")
		release := lock(t, path, "IMMEDIATE")
		time.AfterFunc(200*time.Millisecond, release)
		start := time.Now()
		keycaptest.RequireCode(t, alice.DoJSON(t, http.MethodPost, "/api-keys", createBody("waited")), "")
		t.Logf("busy for %v, then created", time.Since(start).Round(time.Millisecond))
	})

	t.Run("RollbackJournal", func(t *testing.T) {
		path, _, store := sqliteFile(t, "_pragma=busy_timeout(200)&_pragma=journal_mode(DELETE)")
		srv := newServer(t, store)
		alice := srv.LogIn(t, "alice")
		k := alice.CreateKey(t, "/api-keys", "k", filesRead)
		revoked := alice.CreateKey(t, "/api-keys", "revoked", filesRead)
		keycaptest.RequireCode(t, alice.DoJSON(t, http.MethodDelete, "/api-keys/"+revoked.ID, nil), "")
		release := lock(t, path, "EXCLUSIVE")

		mark := logs.mark()
		requireUnavailable(t, timed(t, func() *keycaptest.Response { return useKey(t, srv, k.Key) }))
		requireUnavailable(t, timed(t, func() *keycaptest.Response { return useKey(t, srv, revoked.Key) }))
		requireUnavailable(t, timed(t, func() *keycaptest.Response {
			return alice.DoJSON(t, http.MethodPost, "/api-keys", createBody("busy"))
		}))
		requireLogged(t, mark, 3)
		release()
		keycaptest.RequireCode(t, useKey(t, srv, k.Key), "")
		keycaptest.RequireCode(t, useKey(t, srv, revoked.Key), keycap.CodeKeyInvalid)
	})
}
