package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/audit"
	"github.com/keycaphq/keycap/internal/keyforge"
	"github.com/keycaphq/keycap/internal/testenv"
	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/keys/sqlstore"
	"github.com/keycaphq/keycap/policy"
)

var (
	postgresURL = testenv.Env("KEYCAP_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable")
	mysqlURL    = "mysql://" + testenv.Env("KEYCAP_MYSQL_DSN", "root@tcp(127.0.0.1:3306)/test?parseTime=true")
)

// world is a database with keycap's tables and an app's Manager over it,
// and the CLI pointed at the same database.
type world struct {
	dsn, prefix, secret string
	app                 *keys.Manager
	store               *sqlstore.Store
	clock               *time.Time
}

func backends(t *testing.T) map[string]func(t *testing.T) *world {
	return map[string]func(t *testing.T) *world{
		"SQLite": func(t *testing.T) *world {
			return newWorld(t, "sqlite://"+filepath.Join(t.TempDir(), "app.db"), "")
		},
		"Postgres": func(t *testing.T) *world {
			testenv.Dial(t, "Postgres", "127.0.0.1:5432")
			var b [4]byte
			_, _ = rand.Read(b[:])
			return newWorld(t, postgresURL, "cli"+hex.EncodeToString(b[:])+"_")
		},
		"MySQL": func(t *testing.T) *world {
			testenv.Dial(t, "MySQL", "127.0.0.1:3306")
			var b [4]byte
			_, _ = rand.Read(b[:])
			return newWorld(t, mysqlURL, "cli"+hex.EncodeToString(b[:])+"_")
		},
	}
}

func newWorld(t *testing.T, dsn, prefix string) *world {
	t.Helper()
	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	w := &world{dsn: dsn, prefix: prefix, secret: hex.EncodeToString(secret)}
	out, _, code := w.cli(t, "", "migrate")
	require.Equal(t, exitOK, code, out)
	driver, source, dialect, err := driverFor(dsn)
	require.NoError(t, err)
	db, err := sql.Open(driver, source)
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	w.store, err = sqlstore.New(db, dialect, sqlstore.Options{TablePrefix: prefix})
	require.NoError(t, err)
	if prefix != "" {
		t.Cleanup(func() { dropTables(db, dialect, prefix) })
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	w.clock = &now
	w.app, err = keys.NewManager(keys.Config{Store: w.store, Secret: secret, SecretID: "1",
		Policy:   policy.MustNew(policy.Config{AllowClientPermissions: true, Max: policy.MustParse("files:read", "files:write")}),
		Subjects: policy.SubjectsFunc(func(_ context.Context, id string) (policy.Subject, error) { return policy.Subject{ID: id}, nil }),
		Auditor:  sqlstore.NewAuditor(w.store), Cache: keys.CacheConfig{Disabled: true},
		Now: func() time.Time { return *w.clock }})
	require.NoError(t, err)
	t.Cleanup(func() { w.app.Close() })
	return w
}

func dropTables(db *sql.DB, d sqlstore.Dialect, prefix string) {
	q := "SELECT tablename FROM pg_tables WHERE tablename LIKE $1"
	if d == sqlstore.MySQL {
		q = "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name LIKE ?"
	}
	rows, err := db.Query(q, prefix+"%")
	if err != nil {
		return
	}
	var names []string
	for rows.Next() {
		var n string
		_ = rows.Scan(&n)
		names = append(names, n)
	}
	rows.Close()
	for _, n := range names {
		_, _ = db.Exec("DROP TABLE IF EXISTS " + n)
	}
}

// cliAt runs the command with the CLI's clock at now.
func (w *world) cliAt(t *testing.T, now time.Time, args ...string) (string, string, int) {
	t.Helper()
	return w.run(t, "", func() time.Time { return now }, args...)
}

// cli runs the command with stdin and returns stdout, stderr and the exit code.
func (w *world) cli(t *testing.T, stdin string, args ...string) (string, string, int) {
	t.Helper()
	return w.run(t, stdin, time.Now, args...)
}

func (w *world) run(t *testing.T, stdin string, now func() time.Time, args ...string) (string, string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	environ := map[string]string{"DATABASE_URL": w.dsn, "USER": "ops", "KEYCAP_SECRETS": "1:" + w.secret}
	global := []string{}
	if w.prefix != "" {
		global = append(global, "-prefix", w.prefix)
	}
	c := &cli{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errOut, getenv: func(k string) string { return environ[k] }, now: now}
	code := c.run(context.Background(), append(global, args...))
	return out.String(), errOut.String(), code
}

func (w *world) create(t *testing.T, owner, name string, lifetime time.Duration) (*keys.Key, string) {
	t.Helper()
	k, token, err := w.app.Create(context.Background(), keys.CreateRequest{Owner: owner, Name: name,
		Permissions: policy.MustParse("files:read"), Lifetime: lifetime})
	require.NoError(t, err)
	return k, token
}

func (w *world) get(t *testing.T, id string) *keys.Key {
	t.Helper()
	k, err := w.store.Get(context.Background(), id)
	require.NoError(t, err)
	return k
}

func TestCLI(t *testing.T) {
	for name, open := range backends(t) {
		t.Run(name, func(t *testing.T) {
			t.Run("ListShowJSON", func(t *testing.T) { testListShow(t, open(t)) })
			t.Run("Offboarding", func(t *testing.T) { testOffboarding(t, open(t)) })
			t.Run("RevokeDisableEnable", func(t *testing.T) { testRevokeDisable(t, open(t)) })
			t.Run("Prune", func(t *testing.T) { testPrune(t, open(t)) })
			t.Run("VerifyAndSecrets", func(t *testing.T) { testVerify(t, open(t)) })
		})
	}
}

func testListShow(t *testing.T, w *world) {
	a, _ := w.create(t, "alice", "ci reader", 0)
	w.create(t, "bob", "bob's", 0)
	out, _, code := w.cli(t, "", "keys", "list", "-owner", "alice")
	require.Equal(t, exitOK, code)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 2, out)
	assert.Regexp(t, `^ID\s+OWNER\s+NAME\s+STATUS\s+PERMISSIONS`, lines[0])
	assert.Regexp(t, `^`+a.ID+`\s+alice\s+ci reader\s+active\s+files:read`, lines[1])

	out, _, code = w.cli(t, "", "-json", "keys", "show", a.ID)
	require.Equal(t, exitOK, code)
	var j map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &j), out)
	assert.Equal(t, a.ID, j["id"])
	assert.Equal(t, "alice", j["owner"])
	assert.Equal(t, "active", j["status"])
	assert.Equal(t, map[string]any{"files": []any{"read"}}, j["permissions"])
	assert.NotContains(t, out, "hash")

	_, errOut, code := w.cli(t, "", "keys", "show", "00000000000000zz")
	assert.Equal(t, exitNotFound, code)
	assert.Contains(t, errOut, "no key has the id")
	_, _, code = w.cli(t, "", "keys", "frobnicate")
	assert.Equal(t, exitUsage, code)
}

// Offboarding revokes exactly the user's live keys, after a confirmation.
func testOffboarding(t *testing.T, w *world) {
	var alice []string
	for i := range 3 {
		k, _ := w.create(t, "alice", fmt.Sprint("alice ", i), 0)
		alice = append(alice, k.ID)
	}
	old, _ := w.create(t, "alice", "already revoked", 0)
	_, err := w.app.Revoke(context.Background(), keys.RevokeRequest{Ref: keys.Ref{Owner: "alice", ID: old.ID}, Reason: "earlier"})
	require.NoError(t, err)
	bob, _ := w.create(t, "bob", "bob's", 0)

	out, errOut, code := w.cli(t, "n\n", "keys", "revoke", "-owner", "alice")
	assert.Equal(t, exitRefused, code, out)
	assert.Contains(t, errOut, "Revoke 3 live keys of alice?")
	for _, id := range alice {
		assert.False(t, !w.get(t, id).RevokedAt.IsZero(), "answered no: nothing revoked")
	}

	out, errOut, code = w.cli(t, "y\n", "-json", "keys", "revoke", "-owner", "alice", "-reason", "left the company")
	require.Equal(t, exitOK, code)
	assert.JSONEq(t, `{"owner": "alice", "revoked": 3}`, out, "stdout is the JSON answer alone")
	// Progress on stderr, a line per key even for a few, after the question.
	progress := strings.Split(strings.TrimSpace(errOut[strings.Index(errOut, "[y/N] ")+len("[y/N] "):]), "\n")
	require.Len(t, progress, 4, errOut)
	assert.Equal(t, "revoking 3 live keys of alice", progress[0])
	for i, line := range progress[1:] {
		assert.Regexp(t, fmt.Sprintf(`^revoked %d of 3: [0-9a-z]{16} "alice \d"$`, i+1), line)
	}
	for _, id := range alice {
		k := w.get(t, id)
		assert.True(t, !k.RevokedAt.IsZero())
		assert.Equal(t, audit.Operator("ops"), k.RevokedBy)
		assert.Equal(t, "left the company", k.RevokedReason)
	}
	assert.Equal(t, "earlier", w.get(t, old.ID).RevokedReason, "a revoked key is left as it was")
	assert.False(t, !w.get(t, bob.ID).RevokedAt.IsZero(), "another user's key is untouched")

	out, _, code = w.cli(t, "", "-json", "keys", "revoke", "-owner", "alice", "-yes")
	require.Equal(t, exitOK, code)
	assert.JSONEq(t, `{"owner": "alice", "revoked": 0}`, out)

	events, err := sqlstore.NewAuditor(w.store).Events(context.Background(), "alice", 10)
	require.NoError(t, err)
	require.NotEmpty(t, events)
	assert.Equal(t, audit.Revoked, events[0].Type)
	assert.Equal(t, audit.Operator("ops"), events[0].Actor, "audited with the operator as actor")
}

func testRevokeDisable(t *testing.T, w *world) {
	k, token := w.create(t, "alice", "deploy", 0)
	_, errOut, code := w.cli(t, "", "keys", "revoke", k.ID)
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, "-reason")

	out, _, code := w.cli(t, "", "-json", "keys", "disable", k.ID)
	require.Equal(t, exitOK, code, out)
	assert.Contains(t, out, `"status": "disabled"`)
	assert.Equal(t, audit.Operator("ops"), w.get(t, k.ID).DisabledBy)
	_, err := w.app.Verify(context.Background(), token, "")
	assert.ErrorIs(t, err, keys.ErrInvalid)

	_, _, code = w.cli(t, "", "keys", "enable", k.ID)
	require.Equal(t, exitOK, code)
	_, err = w.app.Verify(context.Background(), token, "")
	assert.NoError(t, err)

	out, _, code = w.cli(t, "", "keys", "revoke", k.ID, "-reason", "leaked in a log")
	require.Equal(t, exitOK, code)
	assert.Contains(t, out, "revoked "+k.ID)
	assert.Equal(t, "leaked in a log", w.get(t, k.ID).RevokedReason)
}

// prune removes only the keys dead for longer than asked, by the
// database's clock: the app's clock starts 130 days ago, and the CLI's
// own clock is a year wrong, either way (it must not matter).
func testPrune(t *testing.T, w *world) {
	ctx := context.Background()
	day := 24 * time.Hour
	*w.clock = time.Now().UTC().Add(-130 * day).Truncate(time.Millisecond)
	live, _ := w.create(t, "alice", "live", 0)
	revoked, _ := w.create(t, "alice", "revoked long ago", 0)
	_, err := w.app.Revoke(ctx, keys.RevokeRequest{Ref: keys.Ref{Owner: "alice", ID: revoked.ID}})
	require.NoError(t, err)
	expired, _ := w.create(t, "alice", "expired long ago", day)
	expiring, _ := w.create(t, "alice", "expires later", 200*day)
	*w.clock = w.clock.Add(100 * day)
	recent, _ := w.create(t, "alice", "revoked lately", 0)
	_, err = w.app.Revoke(ctx, keys.RevokeRequest{Ref: keys.Ref{Owner: "alice", ID: recent.ID}})
	require.NoError(t, err)
	_, _, code := w.cli(t, "", "prune")
	assert.Equal(t, exitUsage, code, "no age given")
	_, _, code = w.cli(t, "", "prune", "-revoked-older-than", "soon")
	assert.Equal(t, exitUsage, code)

	out, _, code := w.cli(t, "", "-json", "prune", "-revoked-older-than", "0d")
	assert.Equal(t, exitUsage, code, out)

	// Nothing has been dead for 200 days, whatever the CLI's clock says.
	out, _, code = w.cliAt(t, time.Now().Add(365*day), "-json", "prune", "-revoked-older-than", "200d", "-expired-older-than", "200d")
	require.Equal(t, exitOK, code)
	assert.JSONEq(t, `{"pruned": 0}`, out)

	// Now (130 days in): the key revoked at the start and the one that
	// expired after a day are pruned; the key revoked at +100 days is not,
	// nor the live key and the one that expires at +200 days.
	out, errOut, code := w.cliAt(t, time.Now().Add(-365*day), "-json", "prune", "-revoked-older-than", "60d", "-expired-older-than", "60d")
	require.Equal(t, exitOK, code, out)
	assert.JSONEq(t, `{"pruned": 2}`, out, "stdout is the JSON answer alone")
	assert.Regexp(t, `^pruning keys revoked before \S+ or expired before \S+\npruned 2 so far \(batch 1\)\n$`, errOut, "progress on stderr, for 2 keys too")
	for _, id := range []string{revoked.ID, expired.ID} {
		_, err := w.store.Get(ctx, id)
		assert.ErrorIs(t, err, keys.ErrNotFound)
	}
	for _, id := range []string{live.ID, expiring.ID, recent.ID} {
		w.get(t, id)
	}
	events, err := sqlstore.NewAuditor(w.store).Events(ctx, "alice", 2)
	require.NoError(t, err)
	require.Len(t, events, 2)
	assert.Equal(t, audit.Pruned, events[0].Type)
	assert.Equal(t, audit.Operator("ops"), events[0].Actor)
	assert.WithinDuration(t, time.Now(), events[0].Time, time.Minute, "audited at the database's time, not the CLI's")

	// audit prune, by the database's clock too: carol's events, 800 days
	// old, go; alice's, at most 130 days old, stay.
	*w.clock = time.Now().UTC().Add(-800 * day)
	w.create(t, "carol", "ancient", 0)
	out, _, code = w.cliAt(t, time.Now().Add(-800*day), "audit", "prune", "-older-than", "365d")
	require.Equal(t, exitOK, code, out)
	assert.Regexp(t, `^pruned 1 audit events`, out)
	events, err = sqlstore.NewAuditor(w.store).Events(ctx, "carol", 10)
	require.NoError(t, err)
	assert.Empty(t, events)
	events, err = sqlstore.NewAuditor(w.store).Events(ctx, "alice", 20)
	require.NoError(t, err)
	assert.Len(t, events, 9, "alice's 5 creations, 2 revocations and 2 prunings")
}

func testVerify(t *testing.T, w *world) {
	k, token := w.create(t, "alice", "ci", 0)
	out, _, code := w.cli(t, "", "-json", "verify", token)
	require.Equal(t, exitOK, code, out)
	var v struct {
		Valid       bool                `json:"valid"`
		Permissions map[string][]string `json:"permissions"`
		Counted     bool                `json:"counted"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &v))
	assert.True(t, v.Valid)
	assert.False(t, v.Counted)
	assert.Equal(t, map[string][]string{"files": {"read"}}, v.Permissions)
	assert.True(t, w.get(t, k.ID).LastUsedAt.IsZero(), "not counted as a use")

	out, _, code = w.cli(t, "", "verify", keyforge.Typo(token))
	assert.Equal(t, exitRefused, code)
	assert.Contains(t, out, "not valid")

	out, _, code = w.cli(t, "", "secrets", "report")
	require.Equal(t, exitOK, code)
	assert.Regexp(t, `(?m)^1\s+1\s+newest$`, out)
}
