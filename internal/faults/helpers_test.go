package faults_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/keycaphq/keycap/internal/keyforge"

	"github.com/go-sql-driver/mysql"
	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/stretchr/testify/require"
	_ "modernc.org/sqlite"

	"github.com/keycaphq/keycap"
	keycaptest "github.com/keycaphq/keycap/httptest_helpers"
	"github.com/keycaphq/keycap/internal/faultproxy"
	"github.com/keycaphq/keycap/internal/testenv"
	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/keys/sqlstore"
	"github.com/keycaphq/keycap/middleware"
	"github.com/keycaphq/keycap/policy"
)

// The tests of this package do not run in parallel: each reads what keycap
// logged during its own requests from one process-wide recorder, and each
// breaks its own proxy, so the time a failure takes is its own.

// Where the services are, as the other packages' tests find them.
var (
	postgresURL = testenv.Env("KEYCAP_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable")
	mysqlDSN    = testenv.Env("KEYCAP_MYSQL_DSN", "root@tcp(127.0.0.1:3306)/test?parseTime=true")
)

// failFast bounds how long one request may take to fail while a service is
// down: the drivers' timeouts are 2 s, and a request may pay one of them.
const failFast = 5 * time.Second

var filesRead = policy.Permissions{"files": {"read"}}

// requireUnavailable requires keycap's 503 STORE_UNAVAILABLE with nothing
// of the cause in the body.
func requireUnavailable(t *testing.T, resp *keycaptest.Response) {
	t.Helper()
	keycaptest.RequireCode(t, resp, keycap.CodeStoreUnavailable)
	var body map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(resp.Body, &body))
	require.Len(t, body, 3, "code, message and details only: %s", resp.Body)
	require.JSONEq(t, `{}`, string(body["details"]))
	lower := strings.ToLower(string(resp.Body))
	for _, leak := range []string{"sqlstore", "keys:", "sql:", "redis", "dial", "127.0.0.1", "connect", "eof", "reset", "timeout", "deadline", "locked", "readonly"} {
		require.NotContains(t, lower, leak, "the cause stays out of the body")
	}
}

// backend is a database server reached over TCP.
type backend struct {
	name    string
	dialect sqlstore.Dialect
	driver  string
	dsn     string                   // straight to the server
	addr    string                   // the server's host:port
	via     func(addr string) string // the DSN through addr, with 2 s timeouts
}

func postgresBackend(t *testing.T) backend {
	u, err := url.Parse(postgresURL)
	require.NoError(t, err)
	addr := u.Host
	if u.Port() == "" {
		addr = net.JoinHostPort(u.Hostname(), "5432")
	}
	return backend{name: "Postgres", dialect: sqlstore.Postgres, driver: "pgx", dsn: postgresURL, addr: addr,
		via: func(addr string) string {
			v := *u
			v.Host = addr
			q := v.Query()
			q.Set("connect_timeout", "2")
			v.RawQuery = q.Encode()
			return v.String()
		}}
}

func mysqlBackend(t *testing.T) backend {
	cfg, err := mysql.ParseDSN(mysqlDSN)
	require.NoError(t, err)
	return backend{name: "MySQL", dialect: sqlstore.MySQL, driver: "mysql", dsn: mysqlDSN, addr: cfg.Addr,
		via: func(addr string) string {
			c := cfg.Clone()
			c.Net, c.Addr = "tcp", addr
			c.Timeout, c.ReadTimeout, c.WriteTimeout = 2*time.Second, 2*time.Second, 2*time.Second
			return c.FormatDSN()
		}}
}

// eachSQL runs test for Postgres and MySQL, as subtests.
func eachSQL(t *testing.T, test func(t *testing.T, b backend)) {
	for _, b := range []func(*testing.T) backend{postgresBackend, mysqlBackend} {
		b := b(t)
		t.Run(b.name, func(t *testing.T) { test(t, b) })
	}
}

// fixture is a test server whose store reaches its database through a
// fault proxy.
type fixture struct {
	proxy  *faultproxy.Proxy
	direct *sql.DB // the test's own view of the table, around the proxy
	table  string
	srv    *keycaptest.App
}

func newFixture(t *testing.T, b backend) *fixture {
	t.Helper()
	testenv.Dial(t, b.name, b.addr)
	direct := openDB(t, b.driver, b.dsn)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := direct.PingContext(ctx); err != nil {
		testenv.Unavailable(t, b.name, strings.Join(strings.Fields(err.Error()), " "))
	}
	p := faultproxy.Start(t, b.addr)
	db := openDB(t, b.driver, b.via(p.Addr()))
	store := newStore(t, db, direct, b.dialect)
	f := &fixture{proxy: p, direct: direct, table: store.TablePrefix() + "keys", srv: newServer(t, store)}
	t.Cleanup(p.Heal) // held requests end before the server closes
	return f
}

func openDB(t *testing.T, driver, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open(driver, dsn)
	require.NoError(t, err)
	db.SetMaxOpenConns(8)
	t.Cleanup(func() { db.Close() })
	return db
}

// newStore returns a migrated store on db with tables of its own, dropped
// through direct when t ends.
func newStore(t *testing.T, db, direct *sql.DB, d sqlstore.Dialect) *sqlstore.Store {
	t.Helper()
	prefix := "kf" + strings.ToLower(rand.Text()[:10]) + "_"
	store, err := sqlstore.New(db, d, sqlstore.Options{TablePrefix: prefix})
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, store.Migrate(ctx))
	t.Cleanup(func() {
		for _, table := range []string{"keys", "schema_migrations"} {
			if _, err := direct.ExecContext(context.Background(), "DROP TABLE IF EXISTS "+prefix+table); err != nil {
				t.Errorf("dropping %s%s: %v", prefix, table, err)
			}
		}
	})
	return store
}

// secret keys the hashes of every test server, so that two servers on one
// table (two app instances) accept each other's keys.
var secret = []byte(rand.Text() + rand.Text())

// newServer starts a test app on store, with no in-process cache (every
// verification asks the store), no key limit, and GET /api/files guarded
// by files:read.
func newServer(t *testing.T, store keys.Store) *keycaptest.App {
	t.Helper()
	unlimited := keycaptest.DefaultPolicy()
	unlimited.MaxKeys = new(0) // bursts of creates test faults, not the key limit
	return keycaptest.NewApp(t,
		keycaptest.WithStore(store),
		keycaptest.WithPolicy(unlimited),
		keycaptest.WithManager(func(c *keys.Config) {
			c.Cache.Disabled = true
			c.Secret = secret
		}),
		keycaptest.WithRoutes(func(mux *http.ServeMux) {
			mux.Handle("GET /api/files", middleware.Require("files:read")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.WriteString(w, "files")
			})))
		}))
}

// request returns a func that sends method path body with c.
func request(t *testing.T, c *keycaptest.Client, method, path string, body any) func() *keycaptest.Response {
	return func() *keycaptest.Response { return c.DoJSON(t, method, path, body) }
}

// send is Client.DoJSON for other goroutines than the test's: it returns
// its error rather than failing the test.
func send(c *keycaptest.Client, method, path string, body any) (*keycaptest.Response, error) {
	data, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequest(method, c.BaseURL+path, bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err = io.ReadAll(resp.Body)
	return &keycaptest.Response{Response: resp, Body: data}, err
}

// useKey calls the guarded route with key alone.
func useKey(t *testing.T, srv *keycaptest.App, key string) *keycaptest.Response {
	t.Helper()
	return srv.Anonymous(t).WithKey(key).DoJSON(t, http.MethodGet, "/api/files", nil)
}

func createBody(name string) map[string]any {
	return map[string]any{"name": name, "permissions": filesRead}
}

// unknownKey returns a well-formed key that no store holds: its checksum
// passes, so only the store can say it is unknown.
func unknownKey(t *testing.T) string {
	t.Helper()
	return keyforge.Key("kc", keyforge.ID(time.Now()))
}

// timed runs do and requires that it answered within failFast.
func timed(t *testing.T, do func() *keycaptest.Response) *keycaptest.Response {
	t.Helper()
	start := time.Now()
	resp := do()
	require.Less(t, time.Since(start), failFast, "a store that is down must fail fast, not hang")
	return resp
}

// recoverWith sends do until it answers want (a 2xx), for up to 10 s, and
// returns how long that took and how many answers were something else.
func recoverWith(t *testing.T, since time.Time, want int, do func() *keycaptest.Response) (time.Duration, int) {
	t.Helper()
	failed := 0
	for {
		resp := do()
		if resp.StatusCode == want {
			return time.Since(since), failed
		}
		failed++
		require.Less(t, time.Since(since), 10*time.Second, "no recovery after 10 s; last answer %d %s", resp.StatusCode, resp.Body)
		time.Sleep(20 * time.Millisecond)
	}
}

// storedRow is a row of the keys table as the database holds it.
type storedRow struct {
	ID          string
	Hash        []byte
	Permissions sql.NullString
}

// rows reads every row of the fixture's table, around the proxy.
func (f *fixture) rows(t *testing.T) []storedRow {
	t.Helper()
	rows, err := f.direct.QueryContext(context.Background(), "SELECT id, hash, permissions FROM "+f.table)
	require.NoError(t, err)
	defer rows.Close()
	var out []storedRow
	for rows.Next() {
		var r storedRow
		require.NoError(t, rows.Scan(&r.ID, &r.Hash, &r.Permissions))
		out = append(out, r)
	}
	require.NoError(t, rows.Err())
	return out
}

// requireWhole requires that every row holds a 32-byte hash and non-empty
// permissions within what alice may grant.
func requireWhole(t *testing.T, rows []storedRow) {
	t.Helper()
	for _, r := range rows {
		require.Len(t, r.Hash, 32, "key %s: hash", r.ID)
		require.True(t, r.Permissions.Valid, "key %s: permissions are NULL", r.ID)
		var perms policy.Permissions
		require.NoError(t, json.Unmarshal([]byte(r.Permissions.String), &perms), "key %s: permissions %q", r.ID, r.Permissions.String)
		require.Equal(t, filesRead, perms, "key %s: permissions", r.ID)
	}
}
