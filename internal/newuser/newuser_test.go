package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/keycaphq/keycap"
	keycaptest "github.com/keycaphq/keycap/httptest_helpers"
	"github.com/keycaphq/keycap/policy"
)

const (
	testDSN    = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	testPrefix = "newuser_"
)

// startApp wires the app on Postgres with the test's config and serves it.
// Its tables are emptied first, so that runs do not pile keys up against
// the key limit.
func startApp(t *testing.T, cfg config) (*app, *keycaptest.Server) {
	t.Helper()
	ctx := context.Background()
	db, err := sql.Open("pgx", testDSN)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.PingContext(ctx); err != nil {
		if os.Getenv("KEYCAP_REQUIRE_SERVICES") != "" {
			t.Fatalf("postgres at %s: %v", testDSN, err)
		}
		t.Skipf("postgres at %s not reachable: %v", testDSN, err)
	}
	cfg.DatabaseURL = testDSN
	if cfg.TablePrefix == "" {
		cfg.TablePrefix = testPrefix
	}
	if cfg.Secret == nil {
		cfg.Secret = []byte(rand.Text() + rand.Text())
	}
	a, err := newApp(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Manager.Close(); a.DB.Close() })
	for _, table := range []string{"keys", "events"} {
		if _, err := a.DB.ExecContext(ctx, "DELETE FROM "+cfg.TablePrefix+table); err != nil {
			t.Fatal(err)
		}
	}
	return a, keycaptest.Start(t, a.Handler, keycaptest.WithSessions(a.SCS))
}

func logIn(t *testing.T, srv *keycaptest.Server, id string) *keycaptest.Client {
	t.Helper()
	return srv.LogInWithForm(t, "/login", url.Values{"user": {id}, "password": {id + "-pw"}})
}

// me is the answer of GET /api/me.
type me struct {
	SessionUser string `json:"session_user"`
	Visits      int    `json:"visits"`
	Kind        int    `json:"kind"`
	Owner       string `json:"owner"`
	Key         string `json:"key"`
}

func getMe(t *testing.T, c *keycaptest.Client) (me, *keycaptest.Response) {
	t.Helper()
	resp := c.Get(t, "/api/me")
	var m me
	if resp.StatusCode == http.StatusOK {
		resp.JSON(t, &m)
	}
	return m, resp
}

func TestLogInThroughForm(t *testing.T) {
	_, srv := startApp(t, config{})

	// A wrong password sets no session.
	resp := srv.Anonymous(t).PostForm(t, "/login", url.Values{"user": {"alice"}, "password": {"nope"}})
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("wrong password: %d", resp.StatusCode)
	}
	keycaptest.RequireCode(t, srv.Anonymous(t).Get(t, "/api-keys"), keycap.CodeUnauthenticated)

	alice := logIn(t, srv, "alice")
	m, resp := getMe(t, alice)
	if resp.StatusCode != http.StatusOK || m.SessionUser != "alice" || m.Owner != "alice" || m.Kind != 2 {
		t.Fatalf("after login: %d %+v", resp.StatusCode, m)
	}
	keycaptest.RequireCode(t, alice.Get(t, "/api-keys"), "")

	resp = alice.PostForm(t, "/logout", nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: %d %s", resp.StatusCode, resp.Body)
	}
	keycaptest.RequireCode(t, alice.Get(t, "/api-keys"), keycap.CodeUnauthenticated)
	keycaptest.RequireCode(t, alice.Get(t, "/api/notes"), keycap.CodeUnauthenticated)
}

func TestKeyLifecycle(t *testing.T) {
	a, srv := startApp(t, config{})
	alice := logIn(t, srv, "alice")

	// Within the cap: 201 with Location, the key shown once.
	resp := alice.DoJSON(t, http.MethodPost, "/api-keys", map[string]any{"name": "dashboard", "permissions": map[string][]string{"notes": {"read"}}})
	keycaptest.RequireCode(t, resp, "")
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create: %d", resp.StatusCode)
	}
	var created keycaptest.CreatedKey
	resp.JSON(t, &created)
	if loc := resp.Header.Get("Location"); !strings.HasSuffix(loc, "/api-keys/"+created.ID) {
		t.Errorf("Location %q for id %s", loc, created.ID)
	}
	if !strings.HasPrefix(created.Key, "kc_") || created.Permissions.String() != "notes:read" {
		t.Fatalf("created: %+v", created)
	}

	// Beyond the cap: 403 with what was exceeded and what the cap is.
	resp = alice.DoJSON(t, http.MethodPost, "/api-keys", map[string]any{"name": "too much", "permissions": map[string][]string{"notes": {"read", "delete"}}})
	keycaptest.RequireCode(t, resp, keycap.CodeExceedsMaximum)
	var exceeds keycap.ExceedsMaximumDetails
	if err := json.Unmarshal(resp.Error(t).Details, &exceeds); err != nil {
		t.Fatal(err)
	}
	if exceeds.Exceeded.String() != "notes:delete" || exceeds.Maximum.String() != "notes:read" {
		t.Fatalf("details: %s", resp.Error(t).Details)
	}

	// Using it: 200.
	api := srv.Anonymous(t).WithKey(created.Key)
	resp = api.Get(t, "/api/notes")
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(resp.Body), `"owner":"alice"`) {
		t.Fatalf("GET /api/notes with the key: %d %s", resp.StatusCode, resp.Body)
	}
	// X-API-Key works too.
	resp = srv.Anonymous(t).WithHeader("X-API-Key", created.Key).Get(t, "/api/notes")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("X-API-Key: %d", resp.StatusCode)
	}

	// A permission it lacks: 403 naming it, in the body and the header.
	resp = api.DoJSON(t, http.MethodDelete, "/api/notes/1", nil)
	keycaptest.RequireCode(t, resp, keycap.CodeInsufficientPermissions)
	if got := resp.Header.Get("X-Accepted-Permissions"); got != "notes:delete" {
		t.Errorf("X-Accepted-Permissions = %q", got)
	}
	var insufficient keycap.InsufficientDetails
	if err := json.Unmarshal(resp.Error(t).Details, &insufficient); err != nil {
		t.Fatal(err)
	}
	if len(insufficient.Missing) != 1 || insufficient.Missing[0] != "notes:delete" {
		t.Errorf("missing = %v", insufficient.Missing)
	}
	// The docs promise no WWW-Authenticate on a 403; RFC 6750 would send
	// error="insufficient_scope". Record what keycap does.
	t.Logf("403 WWW-Authenticate: %q", resp.Header.Get("WWW-Authenticate"))

	// Revoke through the session: the revoked record, then 401.
	resp = alice.DoJSON(t, http.MethodDelete, "/api-keys/"+created.ID, map[string]string{"reason": "leaked"})
	keycaptest.RequireCode(t, resp, "")
	var rec struct {
		Status        string `json:"status"`
		RevokedReason string `json:"revoked_reason"`
		RevokedBy     string `json:"revoked_by"`
	}
	resp.JSON(t, &rec)
	if rec.Status != "revoked" || rec.RevokedReason != "leaked" || rec.RevokedBy != "alice" {
		t.Fatalf("revoked record: %s", resp.Body)
	}
	resp = api.Get(t, "/api/notes")
	keycaptest.RequireCode(t, resp, keycap.CodeKeyInvalid)
	if got := resp.Header.Get("WWW-Authenticate"); !strings.Contains(got, `error="invalid_token"`) {
		t.Errorf("WWW-Authenticate after revoke = %q", got)
	}

	_ = a
}

func TestDemotionTakesPowerAtNextRequest(t *testing.T) {
	a, srv := startApp(t, config{})
	bob := logIn(t, srv, "bob")
	key := bob.CreateKey(t, "/api-keys", "ops", policy.MustParse("notes:read", "notes:delete"))
	api := srv.Anonymous(t).KeyOnly(t, key.Key)
	if resp := api.DoJSON(t, http.MethodDelete, "/api/notes/7", nil); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("admin's key DELETE: %d %s", resp.StatusCode, resp.Body)
	}

	a.Users.setRole("bob", "member")
	keycaptest.RequireCode(t, api.DoJSON(t, http.MethodDelete, "/api/notes/7", nil), keycap.CodeInsufficientPermissions)
	if resp := api.Get(t, "/api/notes"); resp.StatusCode != http.StatusOK {
		t.Fatalf("reads go on: %d", resp.StatusCode)
	}
	// The stored record keeps what was granted; the effective permissions
	// shrink. Bob's session is demoted too.
	keycaptest.RequireCode(t, bob.DoJSON(t, http.MethodDelete, "/api/notes/7", nil), keycap.CodeInsufficientPermissions)

	a.Users.setRole("bob", "admin")
	if resp := api.DoJSON(t, http.MethodDelete, "/api/notes/7", nil); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("promoted again: %d", resp.StatusCode)
	}
}

func TestKeyedRequestReadsSession(t *testing.T) {
	for _, skip := range []bool{false, true} {
		name := "LoadAndSave(Authenticate)"
		if skip {
			name = "Authenticate(SkipForKeys)"
		}
		t.Run(name, func(t *testing.T) {
			_, srv := startApp(t, config{SkipForKeys: skip})
			alice := logIn(t, srv, "alice")
			key := alice.CreateKey(t, "/api-keys", "ci", policy.MustParse("notes:read"))

			// A key alone: the handler reads and writes the session, no panic.
			m, resp := getMe(t, srv.Anonymous(t).KeyOnly(t, key.Key))
			if resp.StatusCode != http.StatusOK || m.SessionUser != "" || m.Kind != 1 || m.Owner != "alice" || m.Key != key.ID {
				t.Fatalf("key only: %d %+v %s", resp.StatusCode, m, resp.Body)
			}
			// A key with alice's cookie.
			m, resp = getMe(t, alice.WithKey(key.Key))
			if resp.StatusCode != http.StatusOK || m.Kind != 1 {
				t.Fatalf("key+cookie: %d %+v", resp.StatusCode, m)
			}
			wantUser := "alice"
			if skip {
				wantUser = "" // the empty session of SkipForKeys
			}
			if m.SessionUser != wantUser {
				t.Errorf("key+cookie sees session user %q, want %q", m.SessionUser, wantUser)
			}
		})
	}
}

func TestAdminListsOthersKeys(t *testing.T) {
	_, srv := startApp(t, config{})
	alice := logIn(t, srv, "alice")
	key := alice.CreateKey(t, "/api-keys", "ci", policy.MustParse("notes:read"))
	bob := logIn(t, srv, "bob")

	resp := bob.Get(t, "/api-keys?owner=alice")
	keycaptest.RequireCode(t, resp, "")
	var list struct {
		Keys []struct {
			ID string `json:"id"`
		} `json:"keys"`
	}
	resp.JSON(t, &list)
	if len(list.Keys) != 1 || list.Keys[0].ID != key.ID {
		t.Fatalf("bob lists alice's keys: %s", resp.Body)
	}
	// Bob may revoke it, but not rename it.
	keycaptest.RequireCode(t, bob.DoJSON(t, http.MethodPatch, "/api-keys/"+key.ID+"?owner=alice", map[string]string{"name": "mine"}), keycap.CodeForbidden)
	keycaptest.RequireCode(t, bob.DoJSON(t, http.MethodDelete, "/api-keys/"+key.ID+"?owner=alice", nil), "")
	keycaptest.RequireCode(t, srv.Anonymous(t).KeyOnly(t, key.Key).Get(t, "/api/notes"), keycap.CodeKeyInvalid)
	// Alice is no admin.
	resp = alice.Get(t, "/api-keys?owner=bob")
	if resp.StatusCode < 400 {
		t.Fatalf("alice lists bob's keys: %d %s", resp.StatusCode, resp.Body)
	}
	t.Logf("non-admin ?owner=bob: %d %s", resp.StatusCode, resp.Body)
}

func TestMetricsAndShutdown(t *testing.T) {
	a, srv := startApp(t, config{})
	alice := logIn(t, srv, "alice")
	key := alice.CreateKey(t, "/api-keys", "ci", policy.MustParse("notes:read"))
	api := srv.Anonymous(t).KeyOnly(t, key.Key)
	keycaptest.RequireCode(t, api.Get(t, "/api/notes"), "")
	keycaptest.RequireCode(t, srv.Anonymous(t).KeyOnly(t, key.Key+"x").Get(t, "/api/notes"), keycap.CodeKeyInvalid)

	// Metrics on their own listener.
	metrics := httptest.NewServer(a.Metrics)
	defer metrics.Close()
	mresp, err := http.Get(metrics.URL)
	if err != nil {
		t.Fatal(err)
	}
	var body bytes.Buffer
	_, _ = body.ReadFrom(mresp.Body)
	mresp.Body.Close()
	for _, want := range []string{`keycap_verifications_total{outcome="accepted"} 1`, `keycap_verifications_total{outcome="malformed"} 1`, `keycap_key_events_total{type="created"} 1`} {
		if !strings.Contains(body.String(), want) {
			t.Errorf("metrics lack %s", want)
		}
	}

	// Shutdown: Close writes the last use still held in memory.
	a.Manager.Close()
	var lastUsed sql.NullTime
	if err := a.DB.QueryRow("SELECT last_used_at FROM "+testPrefix+"keys WHERE id = $1", key.ID).Scan(&lastUsed); err != nil {
		t.Fatal(err)
	}
	if !lastUsed.Valid {
		t.Errorf("last_used_at not written by Close")
	}
	// The Manager stays usable after Close, and Close twice is harmless.
	keycaptest.RequireCode(t, api.Get(t, "/api/notes"), "")
	a.Manager.Close()
	resp := alice.Get(t, "/api-keys/"+key.ID)
	var rec struct {
		LastUsedAt string `json:"last_used_at"`
	}
	resp.JSON(t, &rec)
	if rec.LastUsedAt == "" {
		t.Errorf("record has no last_used_at: %s", resp.Body)
	}
}

func TestGrantablePatchRotate(t *testing.T) {
	_, srv := startApp(t, config{})
	alice := logIn(t, srv, "alice")
	resp := alice.Get(t, "/api-keys/grantable")
	keycaptest.RequireCode(t, resp, "")
	var g struct {
		Permissions  policy.Permissions `json:"permissions"`
		Known        policy.Permissions `json:"known"`
		Allow        bool               `json:"allow_client_permissions"`
		MaxLifetimeS int64              `json:"max_lifetime_seconds"`
	}
	resp.JSON(t, &g)
	if g.Permissions.String() != "notes:read" || g.Known.String() != "keys:admin notes:delete notes:read" || !g.Allow || g.MaxLifetimeS != 90*24*3600 {
		t.Fatalf("grantable: %s", resp.Body)
	}
	// No permissions named and no policy Default: the README's own wiring
	// (no Default) answers 400, with a message about granting, not about
	// the missing field (friction log).
	resp = alice.DoJSON(t, http.MethodPost, "/api-keys", map[string]any{"name": "ci"})
	keycaptest.RequireCode(t, resp, keycap.CodeInvalidPermissions)
	key := alice.CreateKey(t, "/api-keys", "ci", policy.MustParse("notes:read"))

	// PATCH beyond the cap: refused, nothing written.
	resp = alice.DoJSON(t, http.MethodPatch, "/api-keys/"+key.ID, map[string]any{"name": "renamed", "permissions": map[string][]string{"notes": {"delete"}}})
	keycaptest.RequireCode(t, resp, keycap.CodeExceedsMaximum)
	resp = alice.Get(t, "/api-keys/"+key.ID)
	if !strings.Contains(string(resp.Body), `"name":"ci"`) {
		t.Fatalf("a refused PATCH wrote: %s", resp.Body)
	}
	// Rotation with no grace: the old secret stops at once.
	resp = alice.DoJSON(t, http.MethodPost, "/api-keys/"+key.ID+"/rotate", map[string]any{})
	keycaptest.RequireCode(t, resp, "")
	var rotated keycaptest.CreatedKey
	resp.JSON(t, &rotated)
	keycaptest.RequireCode(t, srv.Anonymous(t).KeyOnly(t, key.Key).Get(t, "/api/notes"), keycap.CodeKeyInvalid)
	keycaptest.RequireCode(t, srv.Anonymous(t).KeyOnly(t, rotated.Key).Get(t, "/api/notes"), "")

	// An admin revoking without ?owner= finds nothing (404), like a stranger.
	bob := logIn(t, srv, "bob")
	resp = bob.DoJSON(t, http.MethodDelete, "/api-keys/"+key.ID, nil)
	t.Logf("admin DELETE without ?owner=: %d %s", resp.StatusCode, resp.Body)
}
