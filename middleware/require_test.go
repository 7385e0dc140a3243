package middleware_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap"
	keycaptest "github.com/keycaphq/keycap/httptest_helpers"
	"github.com/keycaphq/keycap/middleware"
	"github.com/keycaphq/keycap/policy"
	"github.com/keycaphq/keycap/session"
)

// TestRequireServeMux checks guards on net/http's ServeMux with Go 1.22
// patterns, for keys and for session users, each against their own cap.
func TestRequireServeMux(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	readOnly := f.keyClient(t, f.mint(t, "bob", policy.Permissions{"files": {"read"}}, 0).Key)

	tests := []struct {
		name   string
		client *keycaptest.Client
		method string
		path   string
		want   keycap.Code
	}{
		{"key: read", f.keyClient(t, f.aliceKey.Key), http.MethodGet, "/api/files/42", ""},
		{"key: write", f.keyClient(t, f.aliceKey.Key), http.MethodPost, "/api/files", ""},
		{"key: delete beyond the key", f.keyClient(t, f.aliceKey.Key), http.MethodDelete, "/api/files/42", keycap.CodeInsufficientPermissions},
		{"key: narrower than its owner", readOnly, http.MethodPost, "/api/files", keycap.CodeInsufficientPermissions},
		{"key: owner's other powers do not leak", readOnly, http.MethodGet, "/api/billing", keycap.CodeInsufficientPermissions},
		{"session: member reads", f.alice, http.MethodGet, "/api/files/42", ""},
		{"session: member writes", f.alice, http.MethodPost, "/api/files", ""},
		{"session: member may not delete", f.alice, http.MethodDelete, "/api/files/42", keycap.CodeInsufficientPermissions},
		{"session: viewer may not write", f.carol, http.MethodPost, "/api/files", keycap.CodeInsufficientPermissions},
		{"session: owner deletes", f.bob, http.MethodDelete, "/api/files/42", ""},
		{"session: owner reads billing", f.bob, http.MethodGet, "/api/billing", ""},
		{"session: admin has only its role", f.root, http.MethodGet, "/api/billing", keycap.CodeInsufficientPermissions},
		{"anonymous", f.anon, http.MethodGet, "/api/files/42", keycap.CodeUnauthenticated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var body any
			if tt.method == http.MethodPost {
				body = map[string]any{}
			}
			resp := tt.client.DoJSON(t, tt.method, tt.path, body)
			keycaptest.RequireCode(t, resp, tt.want)
			if tt.want == "" && tt.path == "/api/files/42" {
				var got map[string]string
				resp.JSON(t, &got)
				assert.Equal(t, "42", got["id"], "the mux's path values reach the handler")
				assert.Contains(t, got["route"], "/api/files/{id}")
			}
		})
	}

	// The mux answers for methods it has no pattern for; keycap is not asked.
	resp := f.alice.DoJSON(t, http.MethodPut, "/api/files", nil)
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
}

// TestRequireChi wires keycap into a chi router: Authenticate as router
// middleware, Require per route, and the keys handler mounted by pattern.
func TestRequireChi(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	kc := f.srv.Keycap

	r := chi.NewRouter()
	r.Use(f.srv.Sessions.LoadAndSave, kc.Authenticate)
	r.Handle("/api-keys", kc.KeysHandler())
	r.Handle("/api-keys/*", kc.KeysHandler())
	r.Route("/api/projects/{project}", func(r chi.Router) {
		r.With(middleware.Require("files:read")).Get("/files/{id}", func(w http.ResponseWriter, r *http.Request) {
			_ = json.NewEncoder(w).Encode(map[string]string{
				"project": chi.URLParam(r, "project"), "id": chi.URLParam(r, "id"), "path_value": r.PathValue("id"),
			})
		})
		r.With(middleware.Require("files:write", "projects:write")).Post("/files", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusCreated)
		})
	})
	server := httptest.NewServer(r)
	t.Cleanup(server.Close)
	alice := keycaptest.NewClient(t, server.URL).AddCookie(t, keycaptest.SessionCookie(t, f.srv.Sessions, keycaptest.SessionKey, "alice"))
	bob := keycaptest.NewClient(t, server.URL).AddCookie(t, keycaptest.SessionCookie(t, f.srv.Sessions, keycaptest.SessionKey, "bob"))

	// The keys handler through chi: create, then use the key.
	created := alice.CreateKey(t, "/api-keys", "via chi", policy.Permissions{"files": {"read"}})
	resp := alice.DoJSON(t, http.MethodGet, "/api-keys/"+created.ID, nil)
	keycaptest.RequireCode(t, resp, "")
	key := keycaptest.NewClient(t, server.URL).WithKey(created.Key)

	resp = key.DoJSON(t, http.MethodGet, "/api/projects/p1/files/f9", nil)
	keycaptest.RequireCode(t, resp, "")
	var got map[string]string
	resp.JSON(t, &got)
	assert.Equal(t, map[string]string{"project": "p1", "id": "f9", "path_value": "f9"}, got)

	resp = key.DoJSON(t, http.MethodPost, "/api/projects/p1/files", map[string]any{})
	keycaptest.RequireCode(t, resp, keycap.CodeInsufficientPermissions)
	assert.Equal(t, []string{"files:write", "projects:write"}, details[keycap.InsufficientDetails](t, resp).Missing)
	assert.Equal(t, "files:write, projects:write", resp.Header.Get("X-Accepted-Permissions"))

	// Session users against their own caps.
	resp = alice.DoJSON(t, http.MethodPost, "/api/projects/p1/files", map[string]any{})
	keycaptest.RequireCode(t, resp, keycap.CodeInsufficientPermissions)
	assert.Equal(t, []string{"projects:write"}, details[keycap.InsufficientDetails](t, resp).Missing)
	resp = bob.DoJSON(t, http.MethodPost, "/api/projects/p1/files", map[string]any{})
	assert.Equal(t, http.StatusCreated, resp.StatusCode)
	keycaptest.RequireCode(t, bob.WithHeader("Origin", "https://evil.example").DoJSON(t, http.MethodPost, "/api/projects/p1/files", map[string]any{}),
		keycap.CodeCSRF)

	// Revoke through chi; the key stops.
	keycaptest.RequireCode(t, alice.DoJSON(t, http.MethodDelete, "/api-keys/"+created.ID, nil), "")
	keycaptest.RequireCode(t, key.DoJSON(t, http.MethodGet, "/api/projects/p1/files/f9", nil), keycap.CodeKeyInvalid)
}

func TestRequireCSRF(t *testing.T) {
	t.Parallel()
	f := newFixture(t, keycaptest.WithMiddleware(func(o *middleware.Options) {
		o.TrustedOrigins = []string{"https://admin.example.com"}
	}))
	evil := func(c *keycaptest.Client) *keycaptest.Client { return c.WithHeader("Origin", "https://evil.example") }

	// Safe methods are never refused; keys are not ambient credentials.
	keycaptest.RequireCode(t, evil(f.alice).DoJSON(t, http.MethodGet, "/api/files", nil), "")
	keycaptest.RequireCode(t, evil(f.alice).DoJSON(t, http.MethodGet, "/api-keys", nil), "")
	keycaptest.RequireCode(t, evil(f.keyClient(t, f.aliceKey.Key)).DoJSON(t, http.MethodPost, "/api/files", map[string]any{}), "")
	keycaptest.RequireCode(t, f.keyClient(t, f.aliceKey.Key).WithHeader("Sec-Fetch-Site", "cross-site").DoJSON(t, http.MethodPost, "/api/files", map[string]any{}), "")

	// Same-origin browser requests pass.
	keycaptest.RequireCode(t, f.alice.WithHeader("Origin", f.srv.URL).DoJSON(t, http.MethodPost, "/api/files", map[string]any{}), "")
	keycaptest.RequireCode(t, f.alice.WithHeader("Sec-Fetch-Site", "same-origin").DoJSON(t, http.MethodPost, "/api/files", map[string]any{}), "")

	// Cross-origin state changes on a session are refused...
	resp := evil(f.alice).DoJSON(t, http.MethodPost, "/api/files", map[string]any{})
	keycaptest.RequireCode(t, resp, keycap.CodeCSRF)
	assert.NotContains(t, string(resp.Body), "cross-origin request detected", "the cause is not sent")
	keycaptest.RequireCode(t, evil(f.alice).DoJSON(t, http.MethodDelete, "/api-keys/"+f.aliceKey.ID, nil), keycap.CodeCSRF)

	// ...except from trusted origins.
	trusted := f.alice.WithHeader("Origin", "https://admin.example.com").WithHeader("Sec-Fetch-Site", "cross-site")
	keycaptest.RequireCode(t, trusted.DoJSON(t, http.MethodPost, "/api/files", map[string]any{}), "")
	k := trusted.CreateKey(t, "/api-keys", "from the admin site", policy.Permissions{"files": {"read"}})
	keycaptest.RequireCode(t, trusted.DoJSON(t, http.MethodDelete, "/api-keys/"+k.ID, nil), "")
}

// TestMisconfigured checks that wiring mistakes answer 500 MISCONFIGURED,
// naming the fix, and never panic.
func TestMisconfigured(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	kc, sm := f.srv.Keycap, f.srv.Sessions
	files := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	cookie := keycaptest.SessionCookie(t, sm, keycaptest.SessionKey, "alice")
	delegating, err := middleware.New(middleware.Options{Manager: f.srv.Manager, Sessions: session.SCS(sm, keycaptest.SessionKey), AllowDelegation: true})
	require.NoError(t, err)

	tests := []struct {
		name    string
		handler http.Handler
		key     string // sent as a bearer key
		cookie  bool   // send alice's session cookie
		method  string
		path    string
		want    keycap.Code
		mention string // the message names the fix
	}{
		{"Require without Authenticate", sm.LoadAndSave(middleware.Require("files:read")(files)), f.aliceKey.Key, false, http.MethodGet, "/", keycap.CodeMisconfigured, "Authenticate"},
		{"Require without Authenticate, session", sm.LoadAndSave(middleware.Require("files:read")(files)), "", true, http.MethodGet, "/", keycap.CodeMisconfigured, "Authenticate"},
		{"Require outside LoadAndSave, session", kc.Authenticate(middleware.Require("files:read")(files)), "", true, http.MethodGet, "/", keycap.CodeMisconfigured, "LoadAndSave"},
		{"Require outside LoadAndSave, anonymous", kc.Authenticate(middleware.Require("files:read")(files)), "", false, http.MethodGet, "/", keycap.CodeMisconfigured, "LoadAndSave"},
		{"Require outside LoadAndSave, key", kc.Authenticate(middleware.Require("files:read")(files)), f.aliceKey.Key, false, http.MethodGet, "/", "", ""},
		{"keys handler outside LoadAndSave", kc.Authenticate(kc.KeysHandler()), "", true, http.MethodGet, "/api-keys", keycap.CodeMisconfigured, "LoadAndSave"},
		{"keys handler alone", kc.KeysHandler(), "", true, http.MethodPost, "/api-keys", keycap.CodeMisconfigured, "LoadAndSave"},
		{"keys handler without Authenticate, session", sm.LoadAndSave(kc.KeysHandler()), "", true, http.MethodGet, "/api-keys", "", ""},
		{"keys handler without Authenticate, key", sm.LoadAndSave(kc.KeysHandler()), f.aliceKey.Key, true, http.MethodGet, "/api-keys", keycap.CodeDelegationNotAllowed, ""},
		{"keys handler without Authenticate, bad key", sm.LoadAndSave(kc.KeysHandler()), "kc_bad", true, http.MethodGet, "/api-keys", keycap.CodeKeyInvalid, ""},
		{"delegating keys handler outside LoadAndSave, key", delegating.KeysHandler(), f.aliceKey.Key, false, http.MethodGet, "/api-keys", "", ""},
		{"delegating keys handler outside LoadAndSave, session", delegating.KeysHandler(), "", true, http.MethodGet, "/api-keys", keycap.CodeMisconfigured, "LoadAndSave"},
		{"LoadAndSave inside Authenticate", kc.Authenticate(sm.LoadAndSave(middleware.Require("files:read")(files))), "", true, http.MethodGet, "/", "", ""},
		{"sessions skipped for keys", kc.Authenticate(kc.SkipForKeys(session.SCS(sm, keycaptest.SessionKey))(middleware.Require("files:read")(files))), f.aliceKey.Key, false, http.MethodGet, "/", "", ""},
		{"sessions still loaded without a key", kc.Authenticate(kc.SkipForKeys(session.SCS(sm, keycaptest.SessionKey))(middleware.Require("files:read")(files))), "", true, http.MethodGet, "/", "", ""},
		{"no key, no session", kc.Authenticate(kc.SkipForKeys(session.SCS(sm, keycaptest.SessionKey))(middleware.Require("files:read")(files))), "", false, http.MethodGet, "/", keycap.CodeUnauthenticated, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			server := httptest.NewServer(tt.handler)
			t.Cleanup(server.Close)
			c := keycaptest.NewClient(t, server.URL)
			if tt.cookie {
				c = c.AddCookie(t, cookie)
			}
			if tt.key != "" {
				c = c.WithKey(tt.key)
			}
			var body any
			if tt.method == http.MethodPost {
				body = map[string]any{"name": "x", "permissions": map[string][]string{"files": {"read"}}}
			}
			resp := c.DoJSON(t, tt.method, tt.path, body)
			keycaptest.RequireCode(t, resp, tt.want)
			if tt.mention != "" {
				assert.Contains(t, resp.Error(t).Message, tt.mention)
			}
		})
	}
}

func TestRequirePanicsAtSetup(t *testing.T) {
	t.Parallel()
	for _, perms := range [][]string{nil, {"files"}, {"Files:read"}, {"files:*"}, {"files:read", ":read"}, {"files:read write"}} {
		assert.Panics(t, func() { middleware.Require(perms...) }, "%q", perms)
	}
	assert.NotPanics(t, func() { middleware.Require("files:read", "billing.v2:read-all") })
}

// TestRequireRecorder drives the guard with httptest.NewRecorder, one
// handler at a time, as apps unit-test their own routes.
func TestRequireRecorder(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	reached := false
	h := f.srv.Keycap.Authenticate(middleware.Require("files:read")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached = true
		p, ok := middleware.PrincipalFrom(r.Context())
		require.True(t, ok)
		assert.Equal(t, f.aliceKey.ID, p.KeyID())
		assert.True(t, p.Has("files:read", "files:write"))
		assert.False(t, p.Has("files:delete"))
		assert.False(t, p.Has("files"))
	})))
	req := httptest.NewRequest(http.MethodGet, "/api/files", nil)
	req.Header.Set("X-API-Key", f.aliceKey.Key)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	assert.True(t, reached)
	assert.Equal(t, http.StatusOK, rec.Code)
}
