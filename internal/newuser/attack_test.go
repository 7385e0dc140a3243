package main

// Attacks on keycap's wiring, written after reading middleware/ and
// session/ by an engineer who did not write them. Each TestAttack passes
// when the guarantee (or the documented behaviour) holds; those that found
// a defect were kept, asserting the fix.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/alexedwards/scs/v2"
	"github.com/go-chi/chi/v5"

	"github.com/keycaphq/keycap"
	keycaptest "github.com/keycaphq/keycap/httptest_helpers"
	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/middleware"
	"github.com/keycaphq/keycap/policy"
)

// probes are routes the attacks use: a session writer, an unguarded
// principal reader, and a guarded handler that (wrongly) writes to the
// principal's read-only permissions.
func probes(r chi.Router, sm *scs.SessionManager) {
	r.Post("/probe/session", func(w http.ResponseWriter, r *http.Request) {
		sm.Put(r.Context(), "note", r.URL.Query().Get("v"))
		fmt.Fprint(w, sm.GetString(r.Context(), "userID"))
	})
	r.Get("/probe/session", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s|%s", sm.GetString(r.Context(), "userID"), sm.GetString(r.Context(), "note"))
	})
	r.Get("/probe/principal", writePrincipal)
}

func writePrincipal(w http.ResponseWriter, r *http.Request) {
	p, ok := middleware.PrincipalFrom(r.Context())
	k, err := p.Key(r.Context())
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"ok": ok, "kind": int(p.Kind()), "owner": p.OwnerID(),
		"key": p.KeyID(), "has_key": k != nil, "permissions": p.Permissions().String()})
}

type principalJSON struct {
	OK          bool   `json:"ok"`
	Kind        int    `json:"kind"`
	Owner       string `json:"owner"`
	Key         string `json:"key"`
	HasKey      bool   `json:"has_key"`
	Permissions string `json:"permissions"`
}

func principalOf(t *testing.T, c *keycaptest.Client) principalJSON {
	t.Helper()
	resp := c.Get(t, "/probe/principal")
	var p principalJSON
	resp.JSON(t, &p)
	return p
}

// ---- SkipForKeys ----

// TestAttackSkipForKeysCookieWithKey: a keyed request that also carries
// bob's cookie neither reads nor writes bob's session under SkipForKeys,
// and gets no Set-Cookie; under the plain wiring it does both (documented:
// whoever holds the cookie may use it anyway).
func TestAttackSkipForKeysCookieWithKey(t *testing.T) {
	for _, skip := range []bool{true, false} {
		t.Run(fmt.Sprintf("skip=%v", skip), func(t *testing.T) {
			_, srv := startApp(t, config{SkipForKeys: skip, Routes: probes})
			alice := logIn(t, srv, "alice")
			key := alice.CreateKey(t, "/api-keys", "ci", policy.MustParse("notes:read"))
			bob := logIn(t, srv, "bob")
			bob.DoJSON(t, http.MethodPost, "/probe/session?v=original", nil)

			resp := bob.WithKey(key.Key).DoJSON(t, http.MethodPost, "/probe/session?v=overwritten", nil)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("probe: %d", resp.StatusCode)
			}
			seen := string(resp.Body)
			after := string(bob.Get(t, "/probe/session").Body)
			if skip {
				if seen != "" || after != "bob|original" || len(resp.Header.Values("Set-Cookie")) != 0 {
					t.Fatalf("SkipForKeys leaked the session: saw %q, after %q, Set-Cookie %v", seen, after, resp.Header.Values("Set-Cookie"))
				}
			} else if seen != "bob" || after != "bob|overwritten" {
				t.Fatalf("plain wiring: saw %q, after %q", seen, after)
			}
		})
	}
}

// TestAttackKeyPlusCookieNoEscalation: alice's read-only key sent with
// bob's (admin) cookie acts as the key, never as bob, on guarded routes and
// on the keys API; an invalid key with a good cookie is refused, not
// downgraded to the session. The reverse (a session gaining a key's
// power) needs the key itself.
func TestAttackKeyPlusCookieNoEscalation(t *testing.T) {
	for _, skip := range []bool{true, false} {
		t.Run(fmt.Sprintf("skip=%v", skip), func(t *testing.T) {
			_, srv := startApp(t, config{SkipForKeys: skip, Routes: probes})
			alice := logIn(t, srv, "alice")
			key := alice.CreateKey(t, "/api-keys", "ci", policy.MustParse("notes:read"))
			bob := logIn(t, srv, "bob")
			mixed := bob.WithKey(key.Key)

			keycaptest.RequireCode(t, mixed.DoJSON(t, http.MethodDelete, "/api/notes/1", nil), keycap.CodeInsufficientPermissions)
			keycaptest.RequireCode(t, mixed.Get(t, "/api-keys?owner=alice"), keycap.CodeDelegationNotAllowed)
			keycaptest.RequireCode(t, mixed.DoJSON(t, http.MethodPost, "/api-keys", map[string]any{"name": "x", "permissions": map[string][]string{"notes": {"delete"}}}), keycap.CodeDelegationNotAllowed)
			if p := principalOf(t, mixed); p.Kind != int(middleware.KindKey) || p.Owner != "alice" || p.Permissions != "notes:read" {
				t.Fatalf("principal of key+cookie: %+v", p)
			}
			// A wrong key with a good cookie: 401, no fallback to bob.
			bad := key.Key[:len(key.Key)-8] + "AAAAAAAA"
			keycaptest.RequireCode(t, bob.WithKey(bad).Get(t, "/api/notes"), keycap.CodeKeyInvalid)
			keycaptest.RequireCode(t, bob.WithHeader("X-API-Key", "kc_garbage").Get(t, "/api/notes"), keycap.CodeKeyInvalid)
			// X-API-Key wins over Authorization: a bad X-API-Key with a good
			// Bearer is refused (no "try the next header").
			keycaptest.RequireCode(t, srv.Anonymous(t).WithKey(key.Key).WithHeader("X-API-Key", bad).Get(t, "/api/notes"), keycap.CodeKeyInvalid)
			// A foreign bearer (a JWT) is not judged: the session answers.
			if p := principalOf(t, bob.WithHeader("Authorization", "Bearer eyJhbGciOi.x.y")); p.Kind != int(middleware.KindSession) || p.Owner != "bob" {
				t.Fatalf("foreign bearer + cookie: %+v", p)
			}
		})
	}
}

// TestAttackSkipForKeysLogOutWithKeyIsSilentNoop documents a SURPRISE (low):
// under SkipForKeys, a logout request that also carries an API key (a
// client library that adds the key to every request) answers success, but
// LogOut destroyed the empty stand-in session: the real session stays
// valid. LogOut returns nil, so the handler cannot tell. The docs say
// writes are dropped; they do not say LogIn/LogOut succeed without effect.
func TestAttackSkipForKeysLogOutWithKeyIsSilentNoop(t *testing.T) {
	_, srv := startApp(t, config{SkipForKeys: true, Routes: probes})
	bob := logIn(t, srv, "bob")
	key := bob.CreateKey(t, "/api-keys", "ci", policy.MustParse("notes:read"))
	resp := bob.WithKey(key.Key).PostForm(t, "/logout", nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: %d", resp.StatusCode)
	}
	if got := string(bob.Get(t, "/probe/session").Body); got != "bob|" {
		t.Fatalf("session after keyed logout: %q (the surprise is gone?)", got)
	}
	// Login with a key header: 303, but no session is created.
	c := srv.Anonymous(t).WithKey(key.Key)
	resp = c.PostForm(t, "/login", map[string][]string{"user": {"alice"}, "password": {"alice-pw"}})
	if resp.StatusCode != http.StatusSeeOther || len(resp.Header.Values("Set-Cookie")) != 0 {
		t.Fatalf("keyed login: %d %v", resp.StatusCode, resp.Header.Values("Set-Cookie"))
	}
}

// ---- PrincipalFrom ----

// TestAttackPrincipalFromKeyVsSession: the two kinds are told apart, and
// without Authenticate there is nobody.
func TestAttackPrincipalFromKeyVsSession(t *testing.T) {
	_, srv := startApp(t, config{Routes: probes})
	alice := logIn(t, srv, "alice")
	key := alice.CreateKey(t, "/api-keys", "ci", policy.MustParse("notes:read"))
	if p := principalOf(t, srv.Anonymous(t).KeyOnly(t, key.Key)); !p.OK || p.Kind != 1 || p.Key != key.ID || !p.HasKey || p.Owner != "alice" {
		t.Errorf("keyed: %+v", p)
	}
	if p := principalOf(t, alice); !p.OK || p.Kind != 2 || p.Key != "" || p.HasKey || p.Permissions != "notes:read" {
		t.Errorf("session: %+v", p)
	}
	if p := principalOf(t, srv.Anonymous(t)); p.OK || p.Kind != 0 {
		t.Errorf("anonymous: %+v", p)
	}
	// No Authenticate in front: nobody, even with a good key.
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set("Authorization", "Bearer "+key.Key)
	http.HandlerFunc(writePrincipal).ServeHTTP(rec, req)
	if !strings.Contains(rec.Body.String(), `"ok":false`) {
		t.Errorf("without Authenticate: %s", rec.Body)
	}
}

// TestAttackPrincipalPermissionsMutationEscalatesCachedKey: a handler that
// changes the permissions a Principal hands out changes nothing in keycap.
// (It once did: Principal.Permissions was the cached record's own map, so
// with an in-process cache a careless write let a files:read key of alice's
// read /billing, beyond her cap. Principal now hands out copies.)
func TestAttackPrincipalPermissionsMutationEscalatesCachedKey(t *testing.T) {
	app := keycaptest.NewApp(t,
		keycaptest.WithManager(func(c *keys.Config) { c.Cache.SingleInstance = true }),
		keycaptest.WithRoutes(func(mux *http.ServeMux) {
			mux.Handle("GET /careless", middleware.Require("files:read")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				p := middleware.MustPrincipal(r.Context())
				p.Permissions()["billing"] = []string{"read"} // a careless handler
				if k, err := p.Key(r.Context()); err == nil && k != nil {
					k.Permissions["billing"] = []string{"read"}
				}
			})))
			mux.Handle("GET /billing", middleware.Require("billing:read")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				fmt.Fprint(w, "billing data")
			})))
		}))
	// alice is a member: files and projects, never billing.
	key := app.LogIn(t, "alice").CreateKey(t, "/api-keys", "ci", policy.MustParse("files:read"))
	api := app.Anonymous(t).KeyOnly(t, key.Key)
	keycaptest.RequireCode(t, api.Get(t, "/billing"), keycap.CodeInsufficientPermissions)
	for range 3 {
		keycaptest.RequireCode(t, api.Get(t, "/careless"), "")
		keycaptest.RequireCode(t, api.Get(t, "/billing"), keycap.CodeInsufficientPermissions)
	}
	sessionUser := app.LogIn(t, "alice")
	keycaptest.RequireCode(t, sessionUser.Get(t, "/careless"), "")
	keycaptest.RequireCode(t, sessionUser.Get(t, "/billing"), keycap.CodeInsufficientPermissions)
}

// TestAttackPrincipalPermissionsMutationCacheOff: with the in-process cache
// off (the Postgres app), each verification reads a fresh record, so the
// same careless write does not outlive its request.
func TestAttackPrincipalPermissionsMutationCacheOff(t *testing.T) {
	_, srv := startApp(t, config{Routes: func(r chi.Router, _ *scs.SessionManager) {
		r.With(middleware.Require("notes:read")).Get("/careless", func(w http.ResponseWriter, r *http.Request) {
			middleware.MustPrincipal(r.Context()).Permissions()["notes"] = []string{"delete", "read"}
		})
	}})
	key := logIn(t, srv, "alice").CreateKey(t, "/api-keys", "ci", policy.MustParse("notes:read"))
	api := srv.Anonymous(t).KeyOnly(t, key.Key)
	keycaptest.RequireCode(t, api.Get(t, "/careless"), "")
	keycaptest.RequireCode(t, api.DoJSON(t, http.MethodDelete, "/api/notes/1", nil), keycap.CodeInsufficientPermissions)
}

// ---- Require without Authenticate ----

// TestAttackRequireWithoutAuthenticate: fail-closed (500 MISCONFIGURED),
// whether Authenticate is missing or placed after Require.
func TestAttackRequireWithoutAuthenticate(t *testing.T) {
	a, _ := startApp(t, config{})
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "reached") })

	missing := chi.NewRouter()
	missing.With(middleware.Require("notes:read")).Get("/x", ok)
	wrongOrder := chi.NewRouter()
	wrongOrder.Use(middleware.Require("notes:read"), a.Keycap.Authenticate)
	wrongOrder.Get("/x", ok)

	key, err := newKey(a, "alice", "notes:read")
	if err != nil {
		t.Fatal(err)
	}
	for name, h := range map[string]http.Handler{"missing": missing, "wrong order": wrongOrder} {
		srv := keycaptest.Start(t, a.Sessions.LoadAndSave(h))
		resp := srv.Anonymous(t).KeyOnly(t, key).Get(t, "/x")
		keycaptest.RequireCode(t, resp, keycap.CodeMisconfigured)
		if strings.Contains(string(resp.Body), "reached") {
			t.Fatalf("%s: handler reached", name)
		}
	}
}

func newKey(a *app, owner string, perms ...string) (string, error) {
	_, key, err := a.Manager.Create(context.Background(), keys.CreateRequest{Owner: owner, Name: "direct", Permissions: policy.MustParse(perms...)})
	return key, err
}

// TestAttackReadmeChiSnippetNeedsLoadAndSave: the README's "Guarding
// routes" snippet (r.Use(kc.Authenticate), r.Mount, r.With(Require)) shows
// no session loading. Served as is, every session-side request of the keys
// API is a 500 MISCONFIGURED: fail-closed, but the snippet is incomplete.
func TestAttackReadmeChiSnippetNeedsLoadAndSave(t *testing.T) {
	a, _ := startApp(t, config{})
	r := chi.NewRouter()
	r.Use(a.Keycap.Authenticate)
	r.Mount("/api-keys", a.Keycap.KeysHandler())
	srv := keycaptest.Start(t, r)
	keycaptest.RequireCode(t, srv.Anonymous(t).Get(t, "/api-keys"), keycap.CodeMisconfigured)
}

// ---- OnError ----

// capturingOnError answers "E <code>" as text with the code's status and
// counts its calls.
func capturingOnError(calls *atomic.Int32) func(http.ResponseWriter, *http.Request, *keycap.Error) {
	return func(w http.ResponseWriter, r *http.Request, err *keycap.Error) {
		calls.Add(1)
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(err.Code.Status())
		fmt.Fprintf(w, "E %s", err.Code)
	}
}

// TestAttackOnErrorWritesEveryRefusal: every refusal of Authenticate,
// Require and the keys handler (404, 405, CSRF, bad body, delegation) goes
// through OnError, with keycap's headers already set.
func TestAttackOnErrorWritesEveryRefusal(t *testing.T) {
	var calls atomic.Int32
	a, srv := startApp(t, config{Tweak: func(o *middleware.Options) { o.OnError = capturingOnError(&calls) }})
	alice := logIn(t, srv, "alice")
	key := alice.CreateKey(t, "/api-keys", "ci", policy.MustParse("notes:read"))
	api := srv.Anonymous(t).KeyOnly(t, key.Key)
	_ = a

	cases := []struct {
		name   string
		resp   *keycaptest.Response
		code   keycap.Code
		header string
		want   string
	}{
		{"no key", srv.Anonymous(t).Get(t, "/api/notes"), keycap.CodeUnauthenticated, "WWW-Authenticate", `Bearer realm="api"`},
		{"bad key", srv.Anonymous(t).KeyOnly(t, "kc_nope").Get(t, "/api/notes"), keycap.CodeKeyInvalid, "WWW-Authenticate", `error="invalid_token"`},
		{"missing permission", api.DoJSON(t, http.MethodDelete, "/api/notes/1", nil), keycap.CodeInsufficientPermissions, "X-Accepted-Permissions", "notes:delete"},
		{"405", alice.DoJSON(t, http.MethodPut, "/api-keys", nil), keycap.CodeMethodNotAllowed, "Allow", "GET, HEAD, POST"},
		{"404", alice.Get(t, "/api-keys/a/b/c"), keycap.CodeNotFound, "", ""},
		{"csrf", alice.WithHeader("Sec-Fetch-Site", "cross-site").DoJSON(t, http.MethodPost, "/api-keys", map[string]string{"name": "x"}), keycap.CodeCSRF, "", ""},
		{"bad body", alice.DoJSON(t, http.MethodPost, "/api-keys", "{"), keycap.CodeInvalidBody, "", ""},
		{"delegation", api.Get(t, "/api-keys"), keycap.CodeDelegationNotAllowed, "", ""},
		{"exceeds", alice.DoJSON(t, http.MethodPost, "/api-keys", map[string]any{"name": "x", "permissions": map[string][]string{"notes": {"delete"}}}), keycap.CodeExceedsMaximum, "", ""},
	}
	for _, c := range cases {
		if c.resp.StatusCode != c.code.Status() || string(c.resp.Body) != "E "+string(c.code) {
			t.Errorf("%s: %d %q, want the custom writer's %q", c.name, c.resp.StatusCode, c.resp.Body, "E "+string(c.code))
		}
		if c.header != "" && !strings.Contains(c.resp.Header.Get(c.header), c.want) {
			t.Errorf("%s: %s = %q, want %q", c.name, c.header, c.resp.Header.Get(c.header), c.want)
		}
	}
	if int(calls.Load()) != len(cases) {
		t.Errorf("OnError called %d times for %d refusals", calls.Load(), len(cases))
	}
}

// TestAttackOnErrorBypassedByRequireWithoutAuthenticate: as Options.OnError
// documents, a Require with no Authenticate in front has no Keycap to ask:
// it answers 500 MISCONFIGURED with keycap.WriteError's JSON, not through
// OnError, and logs to slog.Default.
func TestAttackOnErrorBypassedByRequireWithoutAuthenticate(t *testing.T) {
	var calls atomic.Int32
	var logged bytes.Buffer
	a, _ := startApp(t, config{Tweak: func(o *middleware.Options) {
		o.OnError = capturingOnError(&calls)
		o.Logger = slog.New(slog.NewTextHandler(&logged, nil))
	}})
	r := chi.NewRouter()
	r.With(middleware.Require("notes:read")).Get("/x", func(http.ResponseWriter, *http.Request) {})
	srv := keycaptest.Start(t, a.Sessions.LoadAndSave(r))
	resp := srv.Anonymous(t).Get(t, "/x")
	keycaptest.RequireCode(t, resp, keycap.CodeMisconfigured) // keycap's JSON, not "E MISCONFIGURED"
	if calls.Load() != 0 || logged.Len() != 0 {
		t.Fatalf("the bug is gone: OnError %d calls, Logger %q", calls.Load(), logged.String())
	}
}

// TestAttackLoggerDoubleLogsWithDefaultOnError: a 5xx cause is logged once,
// to Options.Logger, never to slog.Default. (WriteError once logged it
// there too.)
func TestAttackLoggerDoubleLogsWithDefaultOnError(t *testing.T) {
	var mine, global bytes.Buffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&global, nil)))
	t.Cleanup(func() { slog.SetDefault(prev) })

	var failing atomic.Bool
	app := keycaptest.NewApp(t,
		keycaptest.WithManager(func(c *keys.Config) {
			inner := c.Subjects
			c.Subjects = policy.SubjectsFunc(func(ctx context.Context, id string) (policy.Subject, error) {
				if failing.Load() {
					return policy.Subject{}, errors.New("users database down")
				}
				return inner.Subject(ctx, id)
			})
		}),
		keycaptest.WithMiddleware(func(o *middleware.Options) { o.Logger = slog.New(slog.NewTextHandler(&mine, nil)) }))
	key := app.LogIn(t, "alice").CreateKey(t, "/api-keys", "ci", policy.MustParse("files:read"))
	failing.Store(true)
	resp := app.Anonymous(t).KeyOnly(t, key.Key).Get(t, "/whoami")
	if resp.StatusCode < 500 {
		t.Fatalf("expected a 5xx, got %d %s", resp.StatusCode, resp.Body)
	}
	if !strings.Contains(mine.String(), "users database down") {
		t.Errorf("Options.Logger did not get the cause: %q", mine.String())
	}
	if strings.Contains(global.String(), "users database down") {
		t.Errorf("slog.Default got the cause too: %q", global.String())
	}
}

// ---- CrossOrigin ----

// TestAttackCrossOriginTrustedOrigins: an untrusted origin is refused on
// the keys API and on session-guarded DELETEs; the trusted one passes on
// both (TrustedOrigins is documented for the keys handler, and applies to
// the guarded routes too); a key request is not subject to it on guarded
// routes.
func TestAttackCrossOriginTrustedOrigins(t *testing.T) {
	_, srv := startApp(t, config{Tweak: func(o *middleware.Options) { o.TrustedOrigins = []string{"https://admin.example.com"} }})
	bob := logIn(t, srv, "bob")
	evil := bob.WithHeader("Sec-Fetch-Site", "cross-site").WithHeader("Origin", "https://evil.example")
	trusted := bob.WithHeader("Sec-Fetch-Site", "cross-site").WithHeader("Origin", "https://admin.example.com")
	oldBrowser := bob.WithHeader("Origin", "https://evil.example") // no Sec-Fetch-Site

	body := map[string]any{"name": "x", "permissions": map[string][]string{"notes": {"read"}}}
	keycaptest.RequireCode(t, evil.DoJSON(t, http.MethodPost, "/api-keys", body), keycap.CodeCSRF)
	keycaptest.RequireCode(t, oldBrowser.DoJSON(t, http.MethodPost, "/api-keys", body), keycap.CodeCSRF)
	keycaptest.RequireCode(t, evil.DoJSON(t, http.MethodDelete, "/api/notes/1", nil), keycap.CodeCSRF)
	keycaptest.RequireCode(t, oldBrowser.DoJSON(t, http.MethodDelete, "/api/notes/1", nil), keycap.CodeCSRF)
	// A path with a trailing slash or dot segments does not dodge the check.
	keycaptest.RequireCode(t, evil.DoJSON(t, http.MethodPost, "/api-keys/", body), keycap.CodeCSRF)
	var created keycaptest.CreatedKey
	resp := trusted.DoJSON(t, http.MethodPost, "/api-keys", body)
	keycaptest.RequireCode(t, resp, "")
	resp.JSON(t, &created)
	keycaptest.RequireCode(t, evil.DoJSON(t, http.MethodDelete, "/api-keys/"+created.ID+"/", nil), keycap.CodeCSRF)
	// An escaped slash is not a separator: no route, refused before anything.
	keycaptest.RequireCode(t, evil.DoJSON(t, http.MethodPost, "/api-keys/"+created.ID+"%2Frotate/", nil), keycap.CodeNotFound)
	if resp := trusted.DoJSON(t, http.MethodDelete, "/api/notes/1", nil); resp.StatusCode != http.StatusNoContent {
		t.Errorf("trusted origin on a guarded route: %d", resp.StatusCode)
	}
	// Safe methods pass cross-origin (the answer is the browser's to hide).
	keycaptest.RequireCode(t, evil.Get(t, "/api-keys"), "")
	// A key is not judged by origin on guarded routes.
	key := bob.CreateKey(t, "/api-keys", "ops", policy.MustParse("notes:delete"))
	if resp := srv.Anonymous(t).KeyOnly(t, key.Key).WithHeader("Sec-Fetch-Site", "cross-site").DoJSON(t, http.MethodDelete, "/api/notes/1", nil); resp.StatusCode != http.StatusNoContent {
		t.Errorf("key cross-site: %d", resp.StatusCode)
	}
	// Both options at once are refused at New.
	_, err := middleware.New(middleware.Options{Manager: startManager(t), TrustedOrigins: []string{"https://a.example"}, CrossOrigin: http.NewCrossOriginProtection()})
	if err == nil {
		t.Error("TrustedOrigins and CrossOrigin together were accepted")
	}
}

func startManager(t *testing.T) *keys.Manager {
	a, _ := startApp(t, config{})
	return a.Manager
}

// TestAttackCrossOriginDenyHandlerIgnored: as Options.CrossOrigin
// documents, keycap calls CrossOriginProtection.Check, which never runs the
// deny handler: a refusal is keycap's 403 CSRF (through OnError).
func TestAttackCrossOriginDenyHandlerIgnored(t *testing.T) {
	cop := http.NewCrossOriginProtection()
	var denied atomic.Int32
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		denied.Add(1)
		http.Error(w, "the app's own CSRF page", http.StatusTeapot)
	}))
	if err := cop.AddTrustedOrigin("https://admin.example.com"); err != nil {
		t.Fatal(err)
	}
	cop.AddInsecureBypassPattern("POST /api-keys/{id}/rotate")
	_, srv := startApp(t, config{Tweak: func(o *middleware.Options) { o.CrossOrigin = cop }})
	bob := logIn(t, srv, "bob")
	body := map[string]any{"name": "x", "permissions": map[string][]string{"notes": {"read"}}}
	// Trusted origins and bypass patterns are honoured.
	key := bob.WithHeader("Sec-Fetch-Site", "cross-site").WithHeader("Origin", "https://admin.example.com").CreateKey(t, "/api-keys", "x", policy.MustParse("notes:read"))
	evil := bob.WithHeader("Sec-Fetch-Site", "cross-site").WithHeader("Origin", "https://evil.example")
	keycaptest.RequireCode(t, evil.DoJSON(t, http.MethodPost, "/api-keys/"+key.ID+"/rotate", nil), "")
	// The deny handler is not.
	resp := evil.DoJSON(t, http.MethodPost, "/api-keys", body)
	if denied.Load() != 0 || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("the bug is gone: deny handler ran %d times, status %d", denied.Load(), resp.StatusCode)
	}
	keycaptest.RequireCode(t, resp, keycap.CodeCSRF)
}

// ---- Mount, paths, methods ----

// TestAttackMountPathsChiAndServeMux: trailing slashes, dot segments,
// encoded characters, HEAD and OPTIONS on the keys API mounted on chi (the
// app) and on a ServeMux (keycaptest.NewApp, which uses kc.Mount).
func TestAttackMountPathsChiAndServeMux(t *testing.T) {
	_, chiSrv := startApp(t, config{})
	mux := keycaptest.NewApp(t)
	for name, c := range map[string]struct {
		srv   *keycaptest.Server
		user  string
		perms policy.Permissions
	}{
		"chi":      {chiSrv, "alice", policy.MustParse("notes:read")},
		"servemux": {mux.Server, "alice", policy.MustParse("files:read")},
	} {
		t.Run(name, func(t *testing.T) {
			var user *keycaptest.Client
			if name == "chi" {
				user = logIn(t, c.srv, c.user)
			} else {
				user = c.srv.LogIn(t, c.user)
			}
			// POST on the collection with a trailing slash creates (no redirect).
			resp := user.DoJSON(t, http.MethodPost, "/api-keys/", map[string]any{"name": "slash", "permissions": c.perms})
			if resp.StatusCode != http.StatusCreated {
				t.Fatalf("POST /api-keys/: %d %s", resp.StatusCode, resp.Body)
			}
			var k keycaptest.CreatedKey
			resp.JSON(t, &k)
			// GET /api-keys/{id}/ is the record.
			keycaptest.RequireCode(t, user.Get(t, "/api-keys/"+k.ID+"/"), "")
			// HEAD answers like GET, with no body; OPTIONS is a JSON 405.
			head := user.DoJSON(t, http.MethodHead, "/api-keys/"+k.ID, nil)
			if head.StatusCode != http.StatusOK || len(head.Body) != 0 {
				t.Errorf("HEAD: %d %q", head.StatusCode, head.Body)
			}
			opt := user.DoJSON(t, http.MethodOptions, "/api-keys/"+k.ID, nil)
			keycaptest.RequireCode(t, opt, keycap.CodeMethodNotAllowed)
			// Dot segments never reach a key route with a dot-made id: the
			// mux answers 301 to the clean path or 404.
			for _, p := range []string{"/api-keys/x/../" + k.ID, "/api-keys/%2e%2e/api/notes", "/api-keys/../api/notes"} {
				resp := user.DoJSON(t, http.MethodDelete, p, nil)
				if resp.StatusCode == http.StatusOK {
					t.Errorf("DELETE %s revoked: %s", p, resp.Body)
				}
				t.Logf("DELETE %s: %d %s", p, resp.StatusCode, bytes.TrimSpace(resp.Body))
			}
			keycaptest.RequireCode(t, user.Get(t, "/api-keys/"+k.ID), "") // still active
			if !strings.Contains(string(user.Get(t, "/api-keys/"+k.ID).Body), `"status":"active"`) {
				t.Error("the key was changed through a dot path")
			}
			// An encoded slash in the id, then a trailing slash: the
			// trailing-slash rewrite clears RawPath, so %2F becomes a real
			// separator and reaches the rotate route (same auth, same CSRF
			// check: path confusion only).
			resp = user.DoJSON(t, http.MethodPost, "/api-keys/"+k.ID+"%2Frotate/", nil)
			t.Logf("POST /api-keys/{id}%%2Frotate/: %d", resp.StatusCode)
			// Percent-encoded route names are the routes.
			keycaptest.RequireCode(t, user.Get(t, "/api-keys/%67rantable"), "")
		})
	}
}

// TestAttackAllowHeaderOnReservedNames: every method but GET and HEAD on
// /api-keys/grantable answers 405 with Allow "GET, HEAD". (POST once listed
// DELETE and PATCH, which themselves answered 405.)
func TestAttackAllowHeaderOnReservedNames(t *testing.T) {
	_, srv := startApp(t, config{})
	alice := logIn(t, srv, "alice")
	resp := alice.DoJSON(t, http.MethodPost, "/api-keys/grantable", nil)
	keycaptest.RequireCode(t, resp, keycap.CodeMethodNotAllowed)
	allow := resp.Header.Get("Allow")
	del := alice.DoJSON(t, http.MethodDelete, "/api-keys/grantable", nil)
	keycaptest.RequireCode(t, del, keycap.CodeMethodNotAllowed)
	if allow != "GET, HEAD" || del.Header.Get("Allow") != "GET, HEAD" {
		t.Errorf("POST Allow %q, DELETE Allow %q; want GET, HEAD for both", allow, del.Header.Get("Allow"))
	}
}

// TestAttackChiMountElsewhereIs404: mounting the keys handler on chi at a
// path other than Options.Path is accepted at setup and answers 404 to
// everything (fail-closed, but no setup error says so).
func TestAttackChiMountElsewhereIs404(t *testing.T) {
	a, _ := startApp(t, config{})
	r := chi.NewRouter()
	r.Mount("/v1/keys", a.Keycap.KeysHandler())
	srv := keycaptest.Start(t, a.Sessions.LoadAndSave(a.Keycap.Authenticate(r)), keycaptest.WithSessions(a.SCS))
	keycaptest.RequireCode(t, srv.LogIn(t, "alice").Get(t, "/v1/keys"), keycap.CodeNotFound)
}

// TestAttackNotFoundAndMethodBeforeAuth: unknown routes and methods under
// /api-keys answer 404/405 JSON even without a session (route shape is
// public), and never touch a key.
func TestAttackNotFoundAndMethodBeforeAuth(t *testing.T) {
	_, srv := startApp(t, config{})
	anon := srv.Anonymous(t)
	keycaptest.RequireCode(t, anon.Get(t, "/api-keys/a/b"), keycap.CodeNotFound)
	keycaptest.RequireCode(t, anon.DoJSON(t, http.MethodPut, "/api-keys/x", nil), keycap.CodeMethodNotAllowed)
	keycaptest.RequireCode(t, anon.Get(t, "/api-keys/x"), keycap.CodeUnauthenticated)
	keycaptest.RequireCode(t, anon.Get(t, "/api-keys/activity"), keycap.CodeUnauthenticated)
}
