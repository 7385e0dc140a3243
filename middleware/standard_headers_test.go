package middleware_test

import (
	"encoding/json"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/dunglas/httpsfv"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap"
	keycaptest "github.com/keycaphq/keycap/httptest_helpers"
	"github.com/keycaphq/keycap/middleware"
	"github.com/keycaphq/keycap/ratelimit"
)

// TestInsufficientScopeChallenge: a key missing a permission gets RFC
// 6750's insufficient_scope challenge naming what it lacks; a session user
// gets none (there is no token to challenge).
func TestInsufficientScopeChallenge(t *testing.T) {
	f := newFixture(t)
	resp := f.keyClient(t, f.aliceKey.Key).DoJSON(t, "GET", "/api/report", nil)
	keycaptest.RequireCode(t, resp, keycap.CodeInsufficientPermissions)
	assert.Equal(t, `Bearer realm="api", error="insufficient_scope", scope="billing:read"`, resp.Header.Get("WWW-Authenticate"))
	assert.Equal(t, "billing:read", resp.Header.Get("X-Accepted-Permissions"))

	resp = f.alice.DoJSON(t, "GET", "/api/report", nil)
	keycaptest.RequireCode(t, resp, keycap.CodeInsufficientPermissions)
	assert.Empty(t, resp.Header.Get("WWW-Authenticate"), "a session has no token to challenge")
}

// TestProblemJSON: the existing refusals come as RFC 9457 problems to a
// client that prefers them, as keycap's JSON to everybody else.
func TestProblemJSON(t *testing.T) {
	f := newFixture(t)
	problem := "application/problem+json"
	for _, tt := range []struct {
		name   string
		client *keycaptest.Client
		method string
		path   string
		code   keycap.Code
	}{
		{"no key", f.anon.WithHeader("Authorization", "Bearer kc_nope"), "GET", "/api/files", keycap.CodeKeyInvalid},
		{"missing permission", f.keyClient(t, f.aliceKey.Key), "DELETE", "/api/files/1", keycap.CodeInsufficientPermissions},
		{"nobody", f.anon, "GET", "/api-keys", keycap.CodeUnauthenticated},
		{"no such key", f.alice, "GET", "/api-keys/0000000000000000", keycap.CodeKeyNotFound},
		{"no route", f.alice, "GET", "/api-keys/a/b/c", keycap.CodeNotFound},
		{"bad body", f.alice, "POST", "/api-keys", keycap.CodeInvalidBody},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp := tt.client.WithHeader("Accept", problem).DoJSON(t, tt.method, tt.path, nil)
			assert.Equal(t, tt.code.Status(), resp.StatusCode)
			assert.Equal(t, problem, resp.Header.Get("Content-Type"))
			var p struct {
				Type, Title, Detail, Code string
				Status                    int
				Details                   json.RawMessage
			}
			require.NoError(t, json.Unmarshal(resp.Body, &p), "%s", resp.Body)
			assert.Equal(t, keycap.ProblemType+string(tt.code), p.Type)
			assert.Equal(t, string(tt.code), p.Code)
			assert.Equal(t, tt.code.Status(), p.Status)
			assert.NotEmpty(t, p.Title)
			assert.NotEmpty(t, p.Detail)
			assert.NotEmpty(t, p.Details)

			plain := tt.client.WithHeader("Accept", "application/json").DoJSON(t, tt.method, tt.path, nil)
			keycaptest.RequireCode(t, plain, tt.code)
			assert.Equal(t, "application/json; charset=utf-8", plain.Header.Get("Content-Type"))
		})
	}
}

// TestOnErrorStillGetsTheError: a custom OnError receives the *keycap.Error
// whatever the client accepts.
func TestOnErrorStillGetsTheError(t *testing.T) {
	var got *keycap.Error
	f := newFixture(t, keycaptest.WithMiddleware(func(o *middleware.Options) {
		o.OnError = func(w http.ResponseWriter, r *http.Request, err *keycap.Error) {
			got = err
			w.WriteHeader(err.Code.Status())
		}
	}))
	resp := f.keyClient(t, f.aliceKey.Key).WithHeader("Accept", "application/problem+json").DoJSON(t, "DELETE", "/api/files/1", nil)
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
	require.NotNil(t, got)
	assert.Equal(t, keycap.CodeInsufficientPermissions, got.Code)
	assert.Contains(t, resp.Header.Get("WWW-Authenticate"), `error="insufficient_scope"`, "keycap's headers first")
}

// TestRateLimitStructuredFields: admitted and refused keyed requests carry
// RateLimit-Policy and RateLimit, which parse as RFC 8941 lists and agree
// with the older fields; a 429 has Retry-After.
func TestRateLimitStructuredFields(t *testing.T) {
	srv := keycaptest.NewApp(t, keycaptest.WithRoutes(filesRoutes), keycaptest.WithMiddleware(func(o *middleware.Options) {
		o.RateLimit = middleware.RateLimit{
			PerKey:   ratelimit.Limit{Requests: 2, Window: time.Minute},
			PerOwner: ratelimit.Limit{Requests: 10, Window: 1500 * time.Millisecond},
		}
	}))
	k := srv.LogIn(t, "alice").CreateKey(t, "/api-keys", "k", filesRead)
	c := srv.Anonymous(t).WithKey(k.Key)
	for i, status := range []int{200, 200, 429} {
		resp := c.DoJSON(t, "GET", "/api/files", nil)
		require.Equal(t, status, resp.StatusCode, "request %d", i)

		policies, err := httpsfv.UnmarshalList(resp.Header.Values("RateLimit-Policy"))
		require.NoError(t, err, "RateLimit-Policy: %q", resp.Header.Values("RateLimit-Policy"))
		require.Len(t, policies, 2)
		assert.Equal(t, map[string]int64{"q": 2, "w": 60}, params(t, policies[0], "key"))
		assert.Equal(t, map[string]int64{"q": 10, "w": 2}, params(t, policies[1], "owner"), "a window in whole seconds, rounded up")

		current, err := httpsfv.UnmarshalList(resp.Header.Values("RateLimit"))
		require.NoError(t, err, "RateLimit: %q", resp.Header.Values("RateLimit"))
		require.Len(t, current, 1)
		p := params(t, current[0], "key")
		assert.Equal(t, resp.Header.Get("RateLimit-Remaining"), itoa(p["r"]))
		assert.Equal(t, resp.Header.Get("RateLimit-Reset"), itoa(p["t"]))
		if status == 429 {
			assert.Equal(t, int64(0), p["r"])
			assert.NotEmpty(t, resp.Header.Get("Retry-After"))
		}
	}
}

// params checks that m is an Item naming policy, with integer parameters,
// and returns them.
func params(t *testing.T, m httpsfv.Member, policy string) map[string]int64 {
	t.Helper()
	item, ok := m.(httpsfv.Item)
	require.True(t, ok, "an item, not an inner list")
	assert.Equal(t, policy, item.Value, "the policy is named by a String")
	out := map[string]int64{}
	for _, name := range item.Params.Names() {
		v, _ := item.Params.Get(name)
		n, ok := v.(int64)
		require.True(t, ok, "parameter %s is an Integer: %#v", name, v)
		out[name] = n
	}
	return out
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
