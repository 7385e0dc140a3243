package middleware_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap"
	keycaptest "github.com/keycaphq/keycap/httptest_helpers"
	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/middleware"
	"github.com/keycaphq/keycap/ratelimit"
)

// gatewayRules are the forward-auth rules of the tests.
var gatewayRules = map[string][]string{
	"GET /api/files":         {"files:read"},
	"GET /api/files/{id}":    {"files:read"},
	"DELETE /api/files/{id}": {"files:delete"},
	"GET /api/status":        {},
}

func forwardFixture(t *testing.T, opts ...keycaptest.AppOption) *fixture {
	t.Helper()
	return newFixture(t, append([]keycaptest.AppOption{keycaptest.WithMiddleware(func(o *middleware.Options) {
		o.ForwardAuth = middleware.ForwardAuth{Rules: gatewayRules}
		o.RateLimit = middleware.RateLimit{PerKey: ratelimit.Limit{Requests: 20, Window: time.Hour}}
	})}, opts...)...)
}

// ask sends the subrequest a gateway sends for method uri by c.
func ask(t *testing.T, c *keycaptest.Client, method, uri string) *keycaptest.Response {
	t.Helper()
	return c.WithHeader("X-Forwarded-Method", method).WithHeader("X-Forwarded-Uri", uri).Get(t, "/api-keys/forward-auth")
}

func TestForwardAuth(t *testing.T) {
	f := forwardFixture(t)
	alice := f.keyClient(t, f.aliceKey.Key)

	resp := ask(t, alice, "GET", "/api/files/7?full=1")
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", resp.Body)
	assert.Equal(t, "alice", resp.Header.Get("X-Keycap-Owner"))
	assert.Equal(t, f.aliceKey.ID, resp.Header.Get("X-Keycap-Key-Id"))
	assert.Equal(t, "files:read files:write", resp.Header.Get("X-Keycap-Permissions"))
	assert.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
	assert.NotEmpty(t, resp.Header.Get("RateLimit"), "rate limited like any keyed request")
	assert.Equal(t, http.StatusOK, ask(t, alice, "GET", "/api/status").StatusCode, "an empty rule: any key")
	assert.Equal(t, http.StatusOK, ask(t, f.anon.WithHeader("X-API-Key", f.aliceKey.Key), "HEAD", "/api/files").StatusCode)

	resp = ask(t, alice, "DELETE", "/api/files/7")
	keycaptest.RequireCode(t, resp, keycap.CodeInsufficientPermissions)
	assert.Equal(t, `Bearer realm="api", error="insufficient_scope", scope="files:delete"`, resp.Header.Get("WWW-Authenticate"))
	assert.Empty(t, resp.Header.Get("X-Keycap-Owner"))

	for name, tt := range map[string]struct {
		resp *keycaptest.Response
		code keycap.Code
	}{
		"no key":     {ask(t, f.anon, "GET", "/api/files"), keycap.CodeUnauthenticated},
		"session":    {ask(t, f.alice, "GET", "/api/files"), keycap.CodeUnauthenticated},
		"bad key":    {ask(t, f.keyClient(t, f.aliceKey.Key+"x"), "GET", "/api/files"), keycap.CodeKeyInvalid},
		"no rule":    {ask(t, alice, "POST", "/api/files"), keycap.CodeForbidden},
		"other path": {ask(t, alice, "GET", "/admin"), keycap.CodeForbidden},
		"unclean":    {ask(t, alice, "GET", "/api/status/../files/1"), keycap.CodeInvalidField},
		"absolute":   {ask(t, alice, "GET", "http://evil.example/api/files"), keycap.CodeInvalidField},
		"no method":  {f.keyClient(t, f.aliceKey.Key).WithHeader("X-Forwarded-Uri", "/api/files").Get(t, "/api-keys/forward-auth"), keycap.CodeInvalidField},
		"no uri":     {f.keyClient(t, f.aliceKey.Key).WithHeader("X-Forwarded-Method", "GET").Get(t, "/api-keys/forward-auth"), keycap.CodeInvalidField},
		"relative":   {ask(t, alice, "GET", "api/files"), keycap.CodeInvalidField},
	} {
		t.Run(name, func(t *testing.T) {
			keycaptest.RequireCode(t, tt.resp, tt.code)
			assert.Empty(t, tt.resp.Header.Get("X-Keycap-Owner"))
		})
	}

	// Revocation takes effect at the next request.
	_, err := f.srv.Manager.Revoke(t.Context(), keys.RevokeRequest{Presented: f.aliceKey.Key})
	require.NoError(t, err)
	keycaptest.RequireCode(t, ask(t, alice, "GET", "/api/files"), keycap.CodeKeyInvalid)
}

// TestForwardAuthLimits: a forwarded request spends the key's rate limit
// and quota like a request to the app.
func TestForwardAuthLimits(t *testing.T) {
	f := newFixture(t, keycaptest.WithMiddleware(func(o *middleware.Options) {
		o.ForwardAuth = middleware.ForwardAuth{Rules: map[string][]string{"/": nil}, OwnerHeader: "X-User"}
		o.RateLimit = middleware.RateLimit{PerKey: ratelimit.Limit{Requests: 3, Window: time.Hour}}
	}))
	c := f.keyClient(t, f.bobKey.Key)
	for range 3 {
		resp := ask(t, c, "POST", "/anything")
		require.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Equal(t, "bob", resp.Header.Get("X-User"), "a header name of the app's choice")
	}
	resp := ask(t, c, "POST", "/anything")
	keycaptest.RequireCode(t, resp, keycap.CodeRateLimited)
	assert.NotEmpty(t, resp.Header.Get("Retry-After"))
	assert.Empty(t, resp.Header.Get("X-User"))
}

func TestForwardAuthConfiguration(t *testing.T) {
	f := newFixture(t)
	keycaptest.RequireCode(t, ask(t, f.keyClient(t, f.aliceKey.Key), "GET", "/api/files"), keycap.CodeNotFound)
	for name, bad := range map[string]middleware.ForwardAuth{
		"bad permission":   {Rules: map[string][]string{"/": {"files"}}},
		"host":             {Rules: map[string][]string{"example.com/": nil}},
		"bad pattern":      {Rules: map[string][]string{"GET /{": nil}},
		"conflict":         {Rules: map[string][]string{"GET /a/{x}": nil, "GET /{y}/b": nil}},
		"bad header":       {Rules: map[string][]string{"/": nil}, OwnerHeader: "X Owner"},
		"bad method field": {Rules: map[string][]string{"/": nil}, MethodHeader: "a:b"},
	} {
		_, err := middleware.New(middleware.Options{Manager: f.srv.Manager, ForwardAuth: bad})
		assert.Error(t, err, name)
	}
}
