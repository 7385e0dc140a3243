package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	keycaptest "github.com/keycaphq/keycap/httptest_helpers"
	"github.com/keycaphq/keycap/internal/testenv"
	"github.com/keycaphq/keycap/policy"
)

// postgresURL is the database the multi-instance tests use, each in a
// schema of its own; KEYCAP_POSTGRES_URL overrides it.
var postgresURL = testenv.Env("KEYCAP_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable")

// pair is two running instances and the database they share.
type pair struct {
	a, b           string // base URLs
	procA, procB   *process
	db             *sql.DB // the test's connection, in the instances' schema
	keysTable      string
	usersTable     string
	aliceA, aliceB *keycaptest.Client // alice's one session, sent to A and to B
}

// startPair creates a schema of its own (dropped at the end), starts two
// instances on it with the same secret, table prefix and env, stops them
// with SIGTERM at the end, and logs alice in on A.
func startPair(t *testing.T, bin, tablePrefix string, env ...string) *pair {
	t.Helper()
	db, databaseURL := newSchema(t)
	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	env = append([]string{"DATABASE_URL=" + databaseURL, "KEYCAP_SECRET=" + hex.EncodeToString(secret),
		"KEYCAP_TABLE_PREFIX=" + tablePrefix}, env...)
	p := &pair{db: db, keysTable: tablePrefix + "keys", usersTable: tablePrefix + "example_users"}
	portA, portB := freePort(t), freePort(t)
	for portB == portA {
		portB = freePort(t)
	}
	p.a, p.procA = startInstance(t, bin, portA, env)
	p.b, p.procB = startInstance(t, bin, portB, env)
	for _, proc := range []*process{p.procA, p.procB} {
		assert.Contains(t, proc.stderr(), "backends: shared by every instance")
	}
	p.aliceA = mustLogIn(t, p.a, "alice")
	u, err := url.Parse(p.a)
	require.NoError(t, err)
	var cookie *http.Cookie
	for _, c := range p.aliceA.HTTP.Jar.Cookies(u) {
		if c.Name == "keycap_session" {
			cookie = c
		}
	}
	require.NotNil(t, cookie, "logging in on A sets the session cookie")
	p.aliceB = keycaptest.NewClient(t, p.b).AddCookie(t, cookie)
	return p
}

// keyOn reads /api/files on base with key and no cookie.
func (p *pair) keyOn(t *testing.T, base, key string) *keycaptest.Response {
	t.Helper()
	return keycaptest.NewClient(t, base).WithKey(key).DoJSON(t, http.MethodGet, "/api/files", nil)
}

func requireStatus(t *testing.T, resp *keycaptest.Response, status int) {
	t.Helper()
	require.Equal(t, status, resp.StatusCode, "%s %s: %s", resp.Request.Method, resp.Request.URL.Path, resp.Body)
}

// createKey is CreateKey for another goroutine: it returns an error
// instead of failing the test.
func createKey(c *keycaptest.Client, name string) (keycaptest.CreatedKey, error) {
	var created keycaptest.CreatedKey
	body, _ := json.Marshal(map[string]any{"name": name, "permissions": policy.Permissions{"files": {"read"}}})
	req, err := http.NewRequest(http.MethodPost, c.BaseURL+"/api-keys", bytes.NewReader(body))
	if err != nil {
		return created, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return created, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return created, err
	}
	if resp.StatusCode != http.StatusCreated {
		return created, fmt.Errorf("create %q: %s: %s", name, resp.Status, data)
	}
	return created, json.Unmarshal(data, &created)
}

// startInstance starts the example on port with env and stops it with
// SIGTERM when the test ends, requiring a clean exit.
func startInstance(t *testing.T, bin, port string, env []string) (string, *process) {
	t.Helper()
	p := startExample(t, bin, t.TempDir(), port, env...)
	t.Cleanup(func() {
		// A connection dialed but never used holds up the server's
		// Shutdown for 5 s: close the clients' idle ones first.
		if idle, ok := http.DefaultTransport.(interface{ CloseIdleConnections() }); ok {
			idle.CloseIdleConnections()
		}
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.exited:
			if p.waitErr != nil {
				t.Errorf("the instance on port %s exited with %v\nstderr: %s", port, p.waitErr, p.stderr())
			}
		case <-time.After(10 * time.Second):
			t.Errorf("the instance on port %s did not stop within 10 s of SIGTERM", port)
		}
	})
	return "http://127.0.0.1:" + port, p
}

// ping skips or fails t unless Postgres answers.
func ping(t *testing.T) {
	t.Helper()
	db, err := sql.Open("pgx", postgresURL)
	require.NoError(t, err)
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		testenv.Unavailable(t, "Postgres", strings.Join(strings.Fields(err.Error()), " "))
	}
}

// newSchema creates a schema of its own, dropped when t ends (after the
// instances stop), and returns a connection to it and its DATABASE_URL.
func newSchema(t *testing.T) (*sql.DB, string) {
	t.Helper()
	schema := "keycap_mi_" + strings.ToLower(rand.Text()[:10])
	admin, err := sql.Open("pgx", postgresURL)
	require.NoError(t, err)
	_, err = admin.Exec("CREATE SCHEMA " + schema)
	require.NoError(t, err)
	t.Cleanup(func() {
		if _, err := admin.Exec("DROP SCHEMA " + schema + " CASCADE"); err != nil {
			t.Errorf("dropping schema %s: %v", schema, err)
		}
		admin.Close()
	})
	u, err := url.Parse(postgresURL)
	require.NoError(t, err)
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	db, err := sql.Open("pgx", u.String())
	require.NoError(t, err)
	db.SetMaxOpenConns(4)
	t.Cleanup(func() { db.Close() })
	return db, u.String()
}
