package keycaptest_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/alexedwards/scs/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap"
	keycaptest "github.com/keycaphq/keycap/httptest_helpers"
	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/keys/memstore"
	"github.com/keycaphq/keycap/middleware"
	"github.com/keycaphq/keycap/policy"
)

type whoami struct {
	OwnerID     string `json:"owner_id"`
	KeyID       string `json:"key_id"`
	Permissions string `json:"permissions"`
}

func getWhoami(t *testing.T, c *keycaptest.Client) (int, whoami) {
	t.Helper()
	resp := c.DoJSON(t, http.MethodGet, "/whoami", nil)
	var w whoami
	if resp.StatusCode == http.StatusOK {
		resp.JSON(t, &w)
	}
	return resp.StatusCode, w
}

func TestNewServerDefaults(t *testing.T) {
	t.Parallel()
	srv := keycaptest.NewServer(t)

	_, w := getWhoami(t, srv.LogIn(t, "alice"))
	assert.Equal(t, whoami{OwnerID: "alice", Permissions: "files:read files:write projects:read"}, w)
	_, w = getWhoami(t, srv.LogIn(t, "bob"))
	assert.Equal(t, policy.Permissions(keycaptest.Owner).String(), w.Permissions)
	status, _ := getWhoami(t, srv.Anonymous(t))
	assert.Equal(t, http.StatusUnauthorized, status)
	status, _ = getWhoami(t, srv.LogIn(t, "mallory"))
	assert.Equal(t, http.StatusUnauthorized, status, "a user not in the directory is nobody")

	k := srv.LogIn(t, "alice").CreateKey(t, "/api-keys", "ci", policy.Permissions{"files": {"read"}})
	assert.NotEmpty(t, k.ID)
	assert.True(t, strings.HasPrefix(k.Key, "kc_"+k.ID+"_"))
	assert.Equal(t, policy.Permissions{"files": {"read"}}, k.Permissions)
	assert.NotEmpty(t, k.Hint)
	_, w = getWhoami(t, srv.Anonymous(t).WithKey(k.Key))
	assert.Equal(t, whoami{OwnerID: "alice", KeyID: k.ID, Permissions: "files:read"}, w)

	// The key is in the server's store, through its Manager.
	got, err := srv.Manager.Get(context.Background(), keys.Ref{Owner: "alice", ID: k.ID})
	require.NoError(t, err)
	assert.Equal(t, "ci", got.Name)
	_, err = srv.Store.Get(context.Background(), k.ID)
	require.NoError(t, err)
	assert.Same(t, srv.Manager, srv.Keycap.Manager())
}

func TestWhoamiIsJSON(t *testing.T) {
	t.Parallel()
	srv := keycaptest.NewServer(t, keycaptest.WithUser(`eve","key_id":"forged`, "member"))
	status, w := getWhoami(t, srv.LogIn(t, `eve","key_id":"forged`))
	require.Equal(t, http.StatusOK, status)
	assert.Equal(t, whoami{OwnerID: `eve","key_id":"forged`, Permissions: "files:read files:write projects:read"}, w)
}

func TestOptions(t *testing.T) {
	t.Parallel()
	store := memstore.New()
	srv := keycaptest.NewServer(t,
		keycaptest.WithCap(policy.Permissions{"docs": {"read", "write"}}),
		keycaptest.WithStore(store),
		keycaptest.WithUser("zoe"),
		keycaptest.WithManager(func(c *keys.Config) { c.Prefix = "acme" }),
		keycaptest.WithMiddleware(func(o *middleware.Options) { o.Path = "/keys" }),
		keycaptest.WithRoutes(func(mux *http.ServeMux) {
			mux.Handle("GET /docs", middleware.Require("docs:read")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.WriteString(w, "docs")
			})))
		}),
	)
	assert.Same(t, store, srv.Store)
	zoe := srv.LogIn(t, "zoe")
	k := zoe.CreateKey(t, "/keys", "docs", policy.Permissions{"docs": {"read"}})
	assert.True(t, strings.HasPrefix(k.Key, "acme_"), k.Key)
	_, err := store.Get(context.Background(), k.ID)
	require.NoError(t, err, "the key lives in the given store")

	resp := zoe.KeyOnly(t, k.Key).DoJSON(t, http.MethodGet, "/docs", nil)
	keycaptest.RequireCode(t, resp, "")
	assert.Equal(t, "docs", string(resp.Body))

	resp = zoe.DoJSON(t, http.MethodPost, "/keys", map[string]any{"name": "x", "permissions": map[string][]string{"docs": {"delete"}}})
	keycaptest.RequireCode(t, resp, keycap.CodeExceedsMaximum)

	// WithUser replaced the default users.
	status, _ := getWhoami(t, srv.LogIn(t, "alice"))
	assert.Equal(t, http.StatusUnauthorized, status)
}

func TestUsers(t *testing.T) {
	t.Parallel()
	u := keycaptest.NewUsers()
	ctx := context.Background()

	_, err := u.Subject(ctx, "alice")
	assert.ErrorIs(t, err, policy.ErrUnknownSubject)

	u.Set("alice", "member", "owner")
	s, err := u.Subject(ctx, "alice")
	require.NoError(t, err)
	assert.Equal(t, policy.Subject{ID: "alice", Roles: []string{"member", "owner"}}, s)

	u.Disable("alice", true)
	s, _ = u.Subject(ctx, "alice")
	assert.True(t, s.Disabled)
	assert.Equal(t, []string{"member", "owner"}, s.Roles, "disabling keeps the roles")
	u.Disable("alice", false)
	s, _ = u.Subject(ctx, "alice")
	assert.False(t, s.Disabled)

	u.Put(policy.Subject{ID: "bob", Attributes: map[string]string{"plan": "pro"}})
	s, _ = u.Subject(ctx, "bob")
	assert.Equal(t, "pro", s.Attributes["plan"])

	u.Delete("alice")
	_, err = u.Subject(ctx, "alice")
	assert.ErrorIs(t, err, policy.ErrUnknownSubject)

	// Disabling (or enabling) an unknown user does not bring it to life.
	u.Disable("ghost", false)
	_, err = u.Subject(ctx, "ghost")
	assert.ErrorIs(t, err, policy.ErrUnknownSubject)

	// Safe for concurrent use.
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			u.Set("carol", "viewer")
			u.Disable("carol", true)
			_, _ = u.Subject(ctx, "carol")
			u.Delete("carol")
		})
	}
	wg.Wait()
}

// echo answers what it received.
func echo(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"method": r.Method, "body": string(body), "content_type": r.Header.Get("Content-Type"),
		"authorization": r.Header.Get("Authorization"), "origin": r.Header.Get("Origin"), "cookies": len(r.Cookies()),
	})
}

func TestClient(t *testing.T) {
	t.Parallel()
	server := httptest.NewServer(http.HandlerFunc(echo))
	t.Cleanup(server.Close)
	c := keycaptest.NewClient(t, server.URL)
	got := func(resp *keycaptest.Response) map[string]any {
		var m map[string]any
		resp.JSON(t, &m)
		return m
	}

	m := got(c.DoJSON(t, http.MethodGet, "/", nil))
	assert.Equal(t, "", m["body"])
	assert.Equal(t, "", m["content_type"], "no body, no Content-Type")

	for _, body := range []any{[]byte(`{"a":1}`), `{"a":1}`, map[string]int{"a": 1}} {
		m = got(c.DoJSON(t, http.MethodPost, "/", body))
		assert.JSONEq(t, `{"a":1}`, m["body"].(string))
		assert.Equal(t, "application/json", m["content_type"])
	}

	withKey := c.WithKey("kc_k")
	withOrigin := withKey.WithHeader("Origin", "https://evil.example")
	assert.Equal(t, "Bearer kc_k", got(withOrigin.DoJSON(t, http.MethodGet, "/", nil))["authorization"])
	assert.Equal(t, "https://evil.example", got(withOrigin.DoJSON(t, http.MethodGet, "/", nil))["origin"])
	m = got(withKey.DoJSON(t, http.MethodGet, "/", nil))
	assert.Equal(t, "", m["origin"], "WithHeader returns a copy")
	assert.Equal(t, "", got(c.DoJSON(t, http.MethodGet, "/", nil))["authorization"], "WithKey returns a copy")

	// Cookies: WithKey shares the jar, KeyOnly has none.
	c.WithCookie(t, &http.Cookie{Name: "session", Value: "v", Path: "/"})
	assert.Equal(t, float64(1), got(withKey.DoJSON(t, http.MethodGet, "/", nil))["cookies"])
	assert.Equal(t, float64(0), got(c.KeyOnly(t, "kc_k").DoJSON(t, http.MethodGet, "/", nil))["cookies"])

	// Redirects are answered, not followed.
	redirect := httptest.NewServer(http.RedirectHandler("/elsewhere", http.StatusFound))
	t.Cleanup(redirect.Close)
	assert.Equal(t, http.StatusFound, keycaptest.NewClient(t, redirect.URL).DoJSON(t, http.MethodGet, "/", nil).StatusCode)
}

// TestSessionCookie logs in to an scs app that knows nothing of keycap.
func TestSessionCookie(t *testing.T) {
	t.Parallel()
	sm := scs.New()
	server := httptest.NewServer(sm.LoadAndSave(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, sm.GetString(r.Context(), "user"))
	})))
	t.Cleanup(server.Close)
	c := keycaptest.NewClient(t, server.URL).WithCookie(t, keycaptest.SessionCookie(t, sm, "user", "alice"))
	assert.Equal(t, "alice", string(c.DoJSON(t, http.MethodGet, "/", nil).Body))
	assert.Equal(t, "", string(keycaptest.NewClient(t, server.URL).DoJSON(t, http.MethodGet, "/", nil).Body))
}

// fakeT records failures instead of failing the test it wraps, to test
// assertions.
type fakeT struct {
	testing.TB
	mu     sync.Mutex
	failed bool
}

func (f *fakeT) Helper() {}
func (f *fakeT) Errorf(string, ...any) {
	f.mu.Lock()
	f.failed = true
	f.mu.Unlock()
}
func (f *fakeT) FailNow() {
	f.Errorf("")
	runtime.Goexit()
}

// fails reports whether check fails on a fake T wrapping t.
func fails(t testing.TB, check func(t testing.TB)) bool {
	f := &fakeT{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		check(f)
	}()
	<-done
	return f.failed
}

func TestRequireCode(t *testing.T) {
	t.Parallel()
	write := func(err error) *keycaptest.Response {
		rec := httptest.NewRecorder()
		keycap.WriteError(rec, err)
		resp := rec.Result()
		body, _ := io.ReadAll(resp.Body)
		return &keycaptest.Response{Response: resp, Body: body}
	}
	notFound := write(keycap.New(keycap.CodeKeyNotFound, "no such key"))
	assert.False(t, fails(t, func(t testing.TB) { keycaptest.RequireCode(t, notFound, keycap.CodeKeyNotFound) }))
	assert.True(t, fails(t, func(t testing.TB) { keycaptest.RequireCode(t, notFound, keycap.CodeKeyInvalid) }), "another code")
	assert.True(t, fails(t, func(t testing.TB) { keycaptest.RequireCode(t, notFound, "") }), "not a 2xx")

	wrongStatus := &keycaptest.Response{Response: &http.Response{StatusCode: http.StatusGone, Header: notFound.Header}, Body: notFound.Body}
	assert.True(t, fails(t, func(t testing.TB) { keycaptest.RequireCode(t, wrongStatus, keycap.CodeKeyNotFound) }), "the code's status is checked")

	noMessage := &keycaptest.Response{Response: &http.Response{StatusCode: http.StatusNotFound, Header: notFound.Header},
		Body: []byte(`{"code":"KEY_NOT_FOUND","message":"","details":{}}`)}
	assert.True(t, fails(t, func(t testing.TB) { keycaptest.RequireCode(t, noMessage, keycap.CodeKeyNotFound) }), "a message is required")

	unauthorized := write(keycap.New(keycap.CodeKeyInvalid, "bad key"))
	assert.False(t, fails(t, func(t testing.TB) { keycaptest.RequireCode(t, unauthorized, keycap.CodeKeyInvalid) }))
	unauthorized.Header.Del("WWW-Authenticate")
	assert.True(t, fails(t, func(t testing.TB) { keycaptest.RequireCode(t, unauthorized, keycap.CodeKeyInvalid) }), "a 401 needs WWW-Authenticate")

	ok := &keycaptest.Response{Response: &http.Response{StatusCode: http.StatusNoContent, Header: http.Header{}}}
	assert.False(t, fails(t, func(t testing.TB) { keycaptest.RequireCode(t, ok, "") }))
	notJSON := &keycaptest.Response{Response: &http.Response{StatusCode: http.StatusForbidden, Header: http.Header{}}, Body: []byte("forbidden")}
	assert.True(t, fails(t, func(t testing.TB) { keycaptest.RequireCode(t, notJSON, keycap.CodeForbidden) }))
}
