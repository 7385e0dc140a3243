package middleware_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap"
	keycaptest "github.com/keycaphq/keycap/httptest_helpers"
	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/middleware"
	"github.com/keycaphq/keycap/policy"
)

// echoed is what the echo route saw of a request.
type echoed struct {
	Method, Path, Query, Body string
	Header                    http.Header
	Principal                 bool
}

func echoRoute(mux *http.ServeMux) {
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		_, ok := middleware.PrincipalFrom(r.Context())
		_ = json.NewEncoder(w).Encode(echoed{r.Method, r.URL.Path, r.URL.RawQuery, string(body), r.Header, ok})
	})
}

func TestAuthenticatePassesRequestsWithoutKey(t *testing.T) {
	t.Parallel()
	f := newFixture(t, keycaptest.WithRoutes(func(mux *http.ServeMux) { appRoutes(mux); echoRoute(mux) }))

	tests := []struct {
		name   string
		header string
		value  string
	}{
		{"no credentials", "", ""},
		{"a JWT bearer token", "Authorization", "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2ln"},
		{"another app's prefixed token", "Authorization", "Bearer ghp_0123456789abcdef"},
		{"our prefix without the separator", "Authorization", "Bearer kcx_0123456789abcdef"},
		{"basic auth", "Authorization", "Basic YWxpY2U6c2VjcmV0"},
		{"a bare scheme", "Authorization", "Bearer "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := f.srv.Anonymous(t).WithHeader("X-Custom", "kept")
			if tt.header != "" {
				c = c.WithHeader(tt.header, tt.value)
			}
			req, err := http.NewRequest(http.MethodPut, f.srv.URL+"/echo?a=1&b=2", strings.NewReader("raw body"))
			require.NoError(t, err)
			resp := c.Do(t, req)
			require.Equal(t, http.StatusOK, resp.StatusCode, "%s", resp.Body)
			var got echoed
			resp.JSON(t, &got)
			assert.Equal(t, http.MethodPut, got.Method)
			assert.Equal(t, "/echo", got.Path)
			assert.Equal(t, "a=1&b=2", got.Query)
			assert.Equal(t, "raw body", got.Body)
			assert.Equal(t, "kept", got.Header.Get("X-Custom"))
			assert.Equal(t, strings.TrimSpace(tt.value), got.Header.Get(tt.header))
			assert.False(t, got.Principal, "nobody is authenticated")

			// A guarded route still wants someone.
			keycaptest.RequireCode(t, c.DoJSON(t, http.MethodGet, "/api/files", nil), keycap.CodeUnauthenticated)
		})
	}

	// A foreign bearer token beside a session: the session user is the caller.
	resp := f.alice.WithHeader("Authorization", "Bearer eyJhbGciOiJIUzI1NiJ9.e30.c2ln").DoJSON(t, http.MethodGet, "/api/me", nil)
	var me principalJSON
	resp.JSON(t, &me)
	assert.Equal(t, principalJSON{Kind: "session", OwnerID: "alice", Permissions: memberRole}, me)
}

func TestAuthenticateRequireKey(t *testing.T) {
	t.Parallel()
	f := newFixture(t, keycaptest.WithMiddleware(func(o *middleware.Options) { o.RequireKey = true }))

	for name, c := range map[string]*keycaptest.Client{
		"anonymous":       f.anon,
		"session":         f.alice,
		"foreign bearer":  f.srv.Anonymous(t).WithHeader("Authorization", "Bearer eyJhbGciOiJIUzI1NiJ9.e30.c2ln"),
		"empty X-API-Key": f.srv.Anonymous(t).WithHeader("X-API-Key", ""),
	} {
		resp := c.DoJSON(t, http.MethodGet, "/api/files", nil)
		keycaptest.RequireCode(t, resp, keycap.CodeUnauthenticated)
		assert.NotEmpty(t, resp.Header.Get("WWW-Authenticate"), name)
	}
	keycaptest.RequireCode(t, f.keyClient(t, f.aliceKey.Key).DoJSON(t, http.MethodGet, "/api/files", nil), "")
	keycaptest.RequireCode(t, f.keyClient(t, "kc_nonsense").DoJSON(t, http.MethodGet, "/api/files", nil), keycap.CodeKeyInvalid)
}

func TestAuthenticateHeaders(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	key := f.aliceKey.Key

	tests := []struct {
		name    string
		headers map[string]string
		want    keycap.Code
	}{
		{"bearer", map[string]string{"Authorization": "Bearer " + key}, ""},
		{"lower-case scheme", map[string]string{"Authorization": "bearer " + key}, ""},
		{"upper-case scheme", map[string]string{"Authorization": "BEARER " + key}, ""},
		{"spaces around the key", map[string]string{"Authorization": "Bearer   " + key + "  "}, ""},
		{"X-API-Key", map[string]string{"X-API-Key": key}, ""},
		{"x-api-key in lower case", map[string]string{"x-api-key": key}, ""},
		{"X-API-Key wins over a foreign bearer", map[string]string{"X-API-Key": key, "Authorization": "Bearer eyJ.e30.c2ln"}, ""},
		{"X-API-Key wins over a bearer key", map[string]string{"X-API-Key": "kc_bad", "Authorization": "Bearer " + key}, keycap.CodeKeyInvalid},
		{"X-API-Key with a Bearer scheme", map[string]string{"X-API-Key": "Bearer " + key}, keycap.CodeKeyInvalid},
		{"token scheme", map[string]string{"Authorization": "Token " + key}, keycap.CodeUnauthenticated},
		{"bearer with our prefix, malformed", map[string]string{"Authorization": "Bearer kc_abc"}, keycap.CodeKeyInvalid},
		{"a key with a trailing character", map[string]string{"Authorization": "Bearer " + key + "x"}, keycap.CodeKeyInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req, err := http.NewRequest(http.MethodGet, f.srv.URL+"/api/files", nil)
			require.NoError(t, err)
			for name, value := range tt.headers {
				req.Header[name] = []string{value} // as sent, not canonicalized here
			}
			resp := f.srv.Anonymous(t).Do(t, req)
			keycaptest.RequireCode(t, resp, tt.want)
			if tt.want == keycap.CodeKeyInvalid {
				assert.NotContains(t, string(resp.Body), key)
				assert.Contains(t, resp.Header.Get("WWW-Authenticate"), `error="invalid_token"`)
			}
		})
	}
}

func TestPrincipalFrom(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	me := func(c *keycaptest.Client) principalJSON {
		resp := c.DoJSON(t, http.MethodGet, "/api/me", nil)
		require.Equal(t, http.StatusOK, resp.StatusCode, "%s", resp.Body)
		var p principalJSON
		resp.JSON(t, &p)
		return p
	}

	assert.Equal(t, principalJSON{Kind: "key", KeyID: f.aliceKey.ID, OwnerID: "alice", Permissions: policy.Permissions{"files": {"read", "write"}}},
		me(f.keyClient(t, f.aliceKey.Key)))
	assert.Equal(t, principalJSON{Kind: "key", KeyID: f.bobKey.ID, OwnerID: "bob", Permissions: ownerRole},
		me(f.srv.Anonymous(t).WithHeader("X-API-Key", f.bobKey.Key)))
	assert.Equal(t, principalJSON{Kind: "session", OwnerID: "alice", Permissions: memberRole}, me(f.alice))
	assert.Equal(t, principalJSON{Kind: "session", OwnerID: "carol", Permissions: viewerRole}, me(f.carol))
	assert.Equal(t, principalJSON{Kind: "key", KeyID: f.aliceKey.ID, OwnerID: "alice", Permissions: policy.Permissions{"files": {"read", "write"}}},
		me(f.bob.WithKey(f.aliceKey.Key)), "a key wins over the session beside it")

	resp := f.anon.DoJSON(t, http.MethodGet, "/api/me", nil)
	assert.Equal(t, http.StatusNoContent, resp.StatusCode, "nobody: ok is false")

	f.srv.Users.Delete("carol")
	resp = f.carol.DoJSON(t, http.MethodGet, "/api/me", nil)
	assert.Equal(t, http.StatusNoContent, resp.StatusCode, "a deleted user's session is nobody")
}

// TestPrincipalFromConcurrent resolves the session principal from several
// goroutines of one request, as handlers that fan out do.
func TestPrincipalFromConcurrent(t *testing.T) {
	t.Parallel()
	f := newFixture(t, keycaptest.WithRoutes(func(mux *http.ServeMux) {
		mux.HandleFunc("GET /fan-out", func(w http.ResponseWriter, r *http.Request) {
			var wg sync.WaitGroup
			owners := make([]string, 8)
			for i := range owners {
				wg.Go(func() {
					p, _ := middleware.PrincipalFrom(r.Context())
					owners[i] = p.OwnerID()
				})
			}
			wg.Wait()
			_ = json.NewEncoder(w).Encode(owners)
		})
	}))
	for _, c := range []*keycaptest.Client{f.alice, f.keyClient(t, f.bobKey.Key)} {
		resp := c.DoJSON(t, http.MethodGet, "/fan-out", nil)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		var owners []string
		resp.JSON(t, &owners)
		assert.Len(t, owners, 8)
		assert.Equal(t, 1, len(uniq(owners)), "%v", owners)
	}
}

func uniq(s []string) map[string]bool {
	m := map[string]bool{}
	for _, v := range s {
		m[v] = true
	}
	return m
}

func TestMustPrincipal(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	h := f.srv.Keycap.Authenticate(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := middleware.MustPrincipal(r.Context())
		_, _ = io.WriteString(w, p.OwnerID())
	}))
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set("Authorization", "Bearer "+f.bobKey.Key)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	assert.Equal(t, "bob", rec.Body.String())

	assert.Panics(t, func() { middleware.MustPrincipal(context.Background()) })
	// Authenticate ran, but nobody is logged in and sessions are not loaded.
	assert.Panics(t, func() {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil))
	})
}

func TestDemotedUserKeyShrinks(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	key := f.keyClient(t, f.aliceKey.Key)
	whoami := func() string {
		resp := key.DoJSON(t, http.MethodGet, "/whoami", nil)
		require.Equal(t, http.StatusOK, resp.StatusCode, "%s", resp.Body)
		var w struct {
			Permissions string `json:"permissions"`
		}
		resp.JSON(t, &w)
		return w.Permissions
	}

	keycaptest.RequireCode(t, key.DoJSON(t, http.MethodPost, "/api/files", map[string]any{}), "")
	assert.Equal(t, "files:read files:write", whoami())

	f.srv.Users.Set("alice", "viewer")
	resp := key.DoJSON(t, http.MethodPost, "/api/files", map[string]any{})
	keycaptest.RequireCode(t, resp, keycap.CodeInsufficientPermissions)
	assert.Equal(t, []string{"files:write"}, details[keycap.InsufficientDetails](t, resp).Missing)
	assert.Equal(t, "files:write", resp.Header.Get("X-Accepted-Permissions"))
	assert.Equal(t, "files:read", whoami(), "the effective permissions shrink at once")
	keycaptest.RequireCode(t, key.DoJSON(t, http.MethodGet, "/api/files", nil), "")
	assert.Equal(t, policy.Permissions{"files": {"read", "write"}}, f.get(t, f.aliceKey.ID).Permissions, "the stored grant is kept")

	// Promoted again, the key gets back what it was granted, no more.
	f.srv.Users.Set("alice", "owner")
	keycaptest.RequireCode(t, key.DoJSON(t, http.MethodPost, "/api/files", map[string]any{}), "")
	keycaptest.RequireCode(t, key.DoJSON(t, http.MethodDelete, "/api/files/1", nil), keycap.CodeInsufficientPermissions)
	assert.Equal(t, "files:read files:write", whoami())

	// A role with nothing: the key authenticates but opens nothing.
	f.srv.Users.Set("alice", "no-such-role")
	keycaptest.RequireCode(t, key.DoJSON(t, http.MethodGet, "/api/files", nil), keycap.CodeInsufficientPermissions)
	assert.Equal(t, "", whoami())

	// Disabled, the key is invalid; enabled again, it works again.
	f.srv.Users.Set("alice", "member")
	f.srv.Users.Disable("alice", true)
	keycaptest.RequireCode(t, key.DoJSON(t, http.MethodGet, "/api/files", nil), keycap.CodeKeyInvalid)
	keycaptest.RequireCode(t, f.alice.DoJSON(t, http.MethodGet, "/api/files", nil), keycap.CodeSubjectDisabled)
	f.srv.Users.Disable("alice", false)
	keycaptest.RequireCode(t, key.DoJSON(t, http.MethodGet, "/api/files", nil), "")

	// Deleted, the key is invalid like any unknown key.
	f.srv.Users.Delete("alice")
	resp = key.DoJSON(t, http.MethodGet, "/api/files", nil)
	keycaptest.RequireCode(t, resp, keycap.CodeKeyInvalid)
	assert.Equal(t, string(f.keyClient(t, "kc_x").DoJSON(t, http.MethodGet, "/api/files", nil).Body), string(resp.Body), "no oracle")
}

func TestKeyExpiry(t *testing.T) {
	t.Parallel()
	f := newFixture(t, withLifetime(30*24*time.Hour))

	resp := f.alice.DoJSON(t, http.MethodPost, "/api-keys", map[string]any{"name": "default lifetime", "permissions": map[string][]string{"files": {"read"}}})
	require.Equal(t, http.StatusCreated, resp.StatusCode, "%s", resp.Body)
	var long keyBody
	resp.JSON(t, &long)
	require.NotNil(t, long.ExpiresAt)
	assert.WithinDuration(t, f.clock.Now().Add(30*24*time.Hour), *long.ExpiresAt, time.Second, "the default is the maximum")

	resp = f.alice.DoJSON(t, http.MethodPost, "/api-keys", map[string]any{"name": "an hour", "permissions": map[string][]string{"files": {"read"}}, "expires_in": 3600})
	require.Equal(t, http.StatusCreated, resp.StatusCode, "%s", resp.Body)
	var short keyBody
	resp.JSON(t, &short)
	require.NotNil(t, short.ExpiresAt)
	assert.WithinDuration(t, f.clock.Now().Add(time.Hour), *short.ExpiresAt, time.Second)

	shortKey, longKey := f.keyClient(t, short.Key), f.keyClient(t, long.Key)
	keycaptest.RequireCode(t, shortKey.DoJSON(t, http.MethodGet, "/api/files", nil), "")

	f.clock.Advance(time.Hour - time.Second)
	keycaptest.RequireCode(t, shortKey.DoJSON(t, http.MethodGet, "/api/files", nil), "")
	f.clock.Advance(time.Second)
	resp = shortKey.DoJSON(t, http.MethodGet, "/api/files", nil)
	keycaptest.RequireCode(t, resp, keycap.CodeKeyExpired)
	assert.Contains(t, resp.Header.Get("WWW-Authenticate"), "Bearer")
	keycaptest.RequireCode(t, longKey.DoJSON(t, http.MethodGet, "/api/files", nil), "")

	// An expired key stays expired: PATCH says so and writes nothing.
	before := f.get(t, short.ID)
	resp = f.alice.DoJSON(t, http.MethodPatch, "/api-keys/"+short.ID, map[string]any{"expires_in": 3600})
	keycaptest.RequireCode(t, resp, keycap.CodeKeyHasExpired)
	assert.Equal(t, before, f.get(t, short.ID), "nothing written")
	keycaptest.RequireCode(t, shortKey.DoJSON(t, http.MethodGet, "/api/files", nil), keycap.CodeKeyExpired)

	// A live key can be renewed within the maximum counted from creation,
	// not past it; past the maximum it has expired.
	f.clock.Advance(29 * 24 * time.Hour)
	resp = f.alice.DoJSON(t, http.MethodPatch, "/api-keys/"+long.ID, map[string]any{"expires_in": 2 * 24 * 3600})
	keycaptest.RequireCode(t, resp, keycap.CodeLifetimeExceedsMaximum)
	keycaptest.RequireCode(t, f.alice.DoJSON(t, http.MethodPatch, "/api-keys/"+long.ID, map[string]any{"expires_in": 12 * 3600}), "")
	f.clock.Advance(13 * time.Hour)
	keycaptest.RequireCode(t, longKey.DoJSON(t, http.MethodGet, "/api/files", nil), keycap.CodeKeyExpired)
	var shown keyBody
	f.alice.DoJSON(t, http.MethodGet, "/api-keys/"+long.ID, nil).JSON(t, &shown)
	assert.Equal(t, "expired", shown.Status, "the record says what verification says, on the Manager's clock")
	resp = f.alice.DoJSON(t, http.MethodPatch, "/api-keys/"+long.ID, map[string]any{"expires_in": 60})
	keycaptest.RequireCode(t, resp, keycap.CodeKeyHasExpired)
}

func TestStoreUnavailable(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	fresh := f.mint(t, "alice", policy.Permissions{"files": {"read"}}, 0) // never verified: not cached
	f.store.down.Store(true)

	resp := f.keyClient(t, fresh.Key).DoJSON(t, http.MethodGet, "/api/files", nil)
	keycaptest.RequireCode(t, resp, keycap.CodeStoreUnavailable)
	assert.NotContains(t, string(resp.Body), "keys: store", "the cause is logged, not sent")
	keycaptest.RequireCode(t, f.alice.DoJSON(t, http.MethodGet, "/api-keys", nil), keycap.CodeStoreUnavailable)
	keycaptest.RequireCode(t, f.alice.DoJSON(t, http.MethodPost, "/api-keys", map[string]any{"name": "x", "permissions": map[string][]string{"files": {"read"}}}),
		keycap.CodeStoreUnavailable)
	keycaptest.RequireCode(t, f.alice.DoJSON(t, http.MethodDelete, "/api-keys/"+fresh.ID, nil), keycap.CodeStoreUnavailable)

	f.store.down.Store(false)
	keycaptest.RequireCode(t, f.keyClient(t, fresh.Key).DoJSON(t, http.MethodGet, "/api/files", nil), "")
}

func TestClientIP(t *testing.T) {
	t.Parallel()
	f := newFixture(t, keycaptest.WithMiddleware(func(o *middleware.Options) {
		o.ClientIP = func(r *http.Request) string { return r.Header.Get("X-Forwarded-For") }
	}))
	keycaptest.RequireCode(t, f.keyClient(t, f.aliceKey.Key).WithHeader("X-Forwarded-For", "203.0.113.7").DoJSON(t, http.MethodGet, "/api/files", nil), "")
	require.NoError(t, f.srv.Manager.Close()) // flush last-used bookkeeping
	k, err := f.store.Get(context.Background(), f.aliceKey.ID)
	require.NoError(t, err)
	assert.Equal(t, "203.0.113.7", k.LastUsedIP)
	assert.False(t, k.LastUsedAt.IsZero())

	f = newFixture(t)
	keycaptest.RequireCode(t, f.keyClient(t, f.aliceKey.Key).DoJSON(t, http.MethodGet, "/api/files", nil), "")
	require.NoError(t, f.srv.Manager.Close())
	k, err = f.store.Get(context.Background(), f.aliceKey.ID)
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1", k.LastUsedIP, "the host of RemoteAddr, without the port")
}

var _ keys.Store = (*countingStore)(nil)

// TestStoreUnavailableToAKeyCaller: when the store fails while a key that
// manages keys (delegation) asks about the keys within its reach, the
// answer is 503 STORE_UNAVAILABLE, never 404 KEY_NOT_FOUND ("not
// reachable"), and nothing is written. The calling key itself is verified
// from the cache, so that only the reach's reads meet the failing store.
func TestStoreUnavailableToAKeyCaller(t *testing.T) {
	t.Parallel()
	f := newFixture(t,
		keycaptest.WithMiddleware(func(o *middleware.Options) { o.AllowDelegation = true }),
		keycaptest.WithManager(func(c *keys.Config) { c.Cache = keys.CacheConfig{SingleInstance: true} }))
	parent := f.keyClient(t, f.aliceKey.Key)
	child := parent.CreateKey(t, "/api-keys", "child", policy.Permissions{"files": {"read"}})
	keycaptest.RequireCode(t, parent.DoJSON(t, http.MethodGet, "/api-keys/"+child.ID, nil), "") // reachable, and the parent cached

	f.store.down.Store(true)
	for _, c := range []struct{ method, path string }{
		{http.MethodGet, "/api-keys/" + child.ID},
		{http.MethodGet, "/api-keys"},
		{http.MethodPatch, "/api-keys/" + child.ID},
		{http.MethodDelete, "/api-keys/" + child.ID},
		{http.MethodPost, "/api-keys/" + child.ID + "/rotate"},
	} {
		var body any
		if c.method == http.MethodPatch {
			body = map[string]any{"name": "renamed"}
		}
		keycaptest.RequireCode(t, parent.DoJSON(t, c.method, c.path, body), keycap.CodeStoreUnavailable)
	}
	f.store.down.Store(false)
	keycaptest.RequireCode(t, parent.DoJSON(t, http.MethodGet, "/api-keys/"+child.ID, nil), "")
	rec := f.get(t, child.ID)
	assert.Equal(t, "child", rec.Name, "not renamed")
	assert.True(t, rec.RevokedAt.IsZero(), "not revoked")
	keycaptest.RequireCode(t, f.keyClient(t, child.Key).DoJSON(t, http.MethodGet, "/api/files", nil), "") // not rotated
}
