package middleware_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap"
	keycaptest "github.com/keycaphq/keycap/httptest_helpers"
	"github.com/keycaphq/keycap/internal/keyforge"
	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/middleware"
	"github.com/keycaphq/keycap/policy"
	"github.com/keycaphq/keycap/ratelimit"
)

// serviceSecret is the shared secret of the introspection tests.
const serviceSecret = "introspection-secret-0123456789abcdef"

// introspectionFixture is the middleware fixture with introspection on,
// and a user "svc" whose role holds keys:introspect.
func introspectionFixture(t *testing.T, countAsUse bool, opts ...keycaptest.AppOption) (*fixture, keycaptest.CreatedKey) {
	t.Helper()
	pol := testPolicy()
	pol.Roles["service"] = policy.Permissions{"keys": {"introspect"}}
	pol.Max = policy.Union(pol.Max, pol.Roles["service"])
	f := newFixture(t, append([]keycaptest.AppOption{
		keycaptest.WithPolicy(pol), keycaptest.WithUser("svc", "service"),
		keycaptest.WithMiddleware(func(o *middleware.Options) {
			o.Introspection = middleware.Introspection{Permission: "keys:introspect", Secret: serviceSecret, CountAsUse: countAsUse}
		}),
	}, opts...)...)
	return f, f.mint(t, "svc", pol.Roles["service"], 0)
}

// introspection is the answer of POST /api-keys/introspect.
type introspection struct {
	Active      bool               `json:"active"`
	Scope       string             `json:"scope"`
	Sub         string             `json:"sub"`
	ClientID    string             `json:"client_id"`
	KeyID       string             `json:"key_id"`
	TokenType   string             `json:"token_type"`
	Exp         int64              `json:"exp"`
	Iat         int64              `json:"iat"`
	Permissions policy.Permissions `json:"permissions"`
	Remaining   *int64             `json:"remaining"`
}

// introspect asks about token with the shared secret and returns the
// answer, checking it is a 200 that may not be stored.
func introspect(t *testing.T, f *fixture, token string) (introspection, *keycaptest.Response) {
	t.Helper()
	resp := f.anon.WithHeader("Authorization", "Bearer "+serviceSecret).PostForm(t, "/api-keys/introspect", url.Values{"token": {token}})
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", resp.Body)
	assert.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
	var got introspection
	require.NoError(t, json.Unmarshal(resp.Body, &got))
	return got, resp
}

func TestIntrospectActive(t *testing.T) {
	f, _ := introspectionFixture(t, false)
	k := f.get(t, f.bobKey.ID)
	got, resp := introspect(t, f, f.bobKey.Key)
	assert.Equal(t, introspection{
		Active: true, Scope: policy.Permissions(ownerRole).String(), Sub: "bob", ClientID: k.ID, KeyID: k.ID, TokenType: "Bearer",
		Iat: k.CreatedAt.Unix(), Permissions: ownerRole,
	}, got)
	assert.Equal(t, "billing:read files:delete files:read files:write projects:delete projects:read projects:write", got.Scope)
	assert.NotContains(t, string(resp.Body), f.bobKey.Key, "the key is never echoed")

	// Expiry and quota are reported; the cap is re-checked: a demoted
	// owner's key reports the narrowed permissions.
	limited, token, err := f.srv.Manager.Create(context.Background(), keys.CreateRequest{Owner: "bob", Name: "q", Permissions: ownerRole,
		Lifetime: time.Hour, Quota: &keys.Quota{Remaining: 7}})
	require.NoError(t, err)
	f.srv.Users.Set("bob", "member")
	got, _ = introspect(t, f, token)
	assert.True(t, got.Active)
	assert.Equal(t, limited.ExpiresAt.Unix(), got.Exp)
	assert.Equal(t, int64(7), *got.Remaining)
	assert.Equal(t, policy.Permissions(memberRole), got.Permissions, "cut to the owner's current cap")
	assert.Equal(t, "files:read files:write projects:read", got.Scope)
}

// TestIntrospectInactive: anything but a working key is {"active": false},
// and nothing else: the answer never says why.
func TestIntrospectInactive(t *testing.T) {
	f, _ := introspectionFixture(t, false)
	ctx := context.Background()
	revoked := f.mint(t, "alice", filesRead, 0)
	_, err := f.srv.Manager.Revoke(ctx, keys.RevokeRequest{Ref: keys.Ref{Owner: "alice", ID: revoked.ID}})
	require.NoError(t, err)
	expired := f.mint(t, "carol", filesRead, time.Hour)
	demoted := f.mint(t, "root", policy.Permissions{"keys": {"admin"}}, 0)
	f.srv.Users.Set("root", "viewer") // keys:admin is gone: the key can do nothing
	disabled := f.mint(t, "bob", filesRead, 0)
	f.srv.Users.Disable("bob", true)
	f.clock.Advance(2 * time.Hour)
	other := strings.Replace(f.aliceKey.Key, "kc_", "zz_", 1)
	for name, token := range map[string]string{
		"revoked": revoked.Key, "expired": expired.Key, "demoted to nothing": demoted.Key, "owner disabled": disabled.Key,
		"malformed": "kc_nonsense", "typo": f.aliceKey.Key[:len(f.aliceKey.Key)-1] + "!", "other prefix": other,
		"unknown": keyforge.Key("kc", keyforge.ID(time.Now())), "not a key at all": "hello",
	} {
		t.Run(name, func(t *testing.T) {
			_, resp := introspect(t, f, token)
			assert.JSONEq(t, `{"active": false}`, string(resp.Body))
		})
	}
}

// TestIntrospectCallers: only callers the app chose may ask.
func TestIntrospectCallers(t *testing.T) {
	f, svcKey := introspectionFixture(t, false)
	form := url.Values{"token": {f.bobKey.Key}}
	ask := func(c *keycaptest.Client) *keycaptest.Response { return c.PostForm(t, "/api-keys/introspect", form) }

	resp := ask(f.anon)
	keycaptest.RequireCode(t, resp, keycap.CodeUnauthenticated)
	assert.Contains(t, resp.Header.Get("WWW-Authenticate"), "Bearer")
	keycaptest.RequireCode(t, ask(f.bob), keycap.CodeUnauthenticated) // a session is not a service
	keycaptest.RequireCode(t, ask(f.anon.WithHeader("Authorization", "Bearer "+serviceSecret+"x")), keycap.CodeKeyInvalid)
	keycaptest.RequireCode(t, ask(f.anon.WithHeader("Authorization", "Basic "+serviceSecret)), keycap.CodeUnauthenticated)

	resp = ask(f.keyClient(t, f.aliceKey.Key))
	keycaptest.RequireCode(t, resp, keycap.CodeInsufficientPermissions)
	assert.Equal(t, `Bearer realm="api", error="insufficient_scope", scope="keys:introspect"`, resp.Header.Get("WWW-Authenticate"))
	assert.JSONEq(t, `{"missing": ["keys:introspect"]}`, string(resp.Error(t).Details))

	resp = ask(f.keyClient(t, svcKey.Key))
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", resp.Body)
	assert.Contains(t, string(resp.Body), `"active":true`)
	resp = ask(f.anon.WithHeader("X-API-Key", svcKey.Key))
	require.Equal(t, http.StatusOK, resp.StatusCode, "X-API-Key works as for Authenticate")

	_, err := f.srv.Manager.Revoke(context.Background(), keys.RevokeRequest{Presented: svcKey.Key})
	require.NoError(t, err)
	keycaptest.RequireCode(t, ask(f.keyClient(t, svcKey.Key)), keycap.CodeKeyInvalid)

	// Bad forms are refused, whoever asks.
	secret := f.anon.WithHeader("Authorization", "Bearer "+serviceSecret)
	for name, resp := range map[string]*keycaptest.Response{
		"no token":   secret.PostForm(t, "/api-keys/introspect", url.Values{"token_type_hint": {"access_token"}}),
		"two tokens": secret.PostForm(t, "/api-keys/introspect", url.Values{"token": {"a", "b"}}),
		"JSON":       secret.DoJSON(t, "POST", "/api-keys/introspect", map[string]string{"token": f.bobKey.Key}),
		"GET":        secret.Get(t, "/api-keys/introspect?token="+f.bobKey.Key),
	} {
		switch name {
		case "GET":
			keycaptest.RequireCode(t, resp, keycap.CodeMethodNotAllowed)
			assert.Equal(t, "POST", resp.Header.Get("Allow"))
		default:
			keycaptest.RequireCode(t, resp, keycap.CodeInvalidBody)
		}
	}
}

// TestIntrospectNotConfigured: without Options.Introspection the route is
// not there; a bad configuration fails in New.
func TestIntrospectNotConfigured(t *testing.T) {
	f := newFixture(t)
	resp := f.anon.WithHeader("Authorization", "Bearer "+serviceSecret).PostForm(t, "/api-keys/introspect", url.Values{"token": {f.bobKey.Key}})
	keycaptest.RequireCode(t, resp, keycap.CodeNotFound)
	for _, bad := range []middleware.Introspection{
		{Secret: "short"}, {Permission: "not a permission"}, {CountAsUse: true},
	} {
		_, err := middleware.New(middleware.Options{Manager: f.srv.Manager, Introspection: bad})
		assert.Error(t, err, "%+v", bad)
	}
}

// TestIntrospectionIsNoUse: by default an introspection records no use
// and spends nothing; with CountAsUse it is a use like a request.
func TestIntrospectionIsNoUse(t *testing.T) {
	for _, count := range []bool{false, true} {
		t.Run(map[bool]string{false: "default", true: "CountAsUse"}[count], func(t *testing.T) {
			f, _ := introspectionFixture(t, count, keycaptest.WithMiddleware(func(o *middleware.Options) {
				o.Introspection = middleware.Introspection{Secret: serviceSecret, CountAsUse: count}
				o.RateLimit = middleware.RateLimit{PerKey: ratelimit.Limit{Requests: 3, Window: time.Hour}}
			}))
			_, token, err := f.srv.Manager.Create(context.Background(), keys.CreateRequest{Owner: "bob", Name: "q", Permissions: filesRead, Quota: &keys.Quota{Remaining: 2}})
			require.NoError(t, err)
			var active int
			for range 5 {
				got, _ := introspect(t, f, token)
				if got.Active {
					active++
				}
			}
			require.NoError(t, f.srv.Manager.Close())
			v, err := f.srv.Manager.Inspect(context.Background(), token, "")
			require.NoError(t, err)
			k, err := f.srv.Manager.Get(context.Background(), keys.Ref{Owner: v.OwnerID, ID: v.ID})
			require.NoError(t, err)
			if !count {
				assert.Equal(t, 5, active, "nothing spent")
				assert.Equal(t, int64(2), v.Remaining)
				assert.Equal(t, int64(2), *k.Remaining)
				assert.True(t, k.LastUsedAt.IsZero(), "no use recorded")
				return
			}
			assert.Equal(t, 2, active, "the quota of 2 is spent by introspections")
			assert.Equal(t, int64(0), *k.Remaining)
			assert.False(t, k.LastUsedAt.IsZero(), "a use is recorded")
		})
	}
}

// TestIntrospectAllowedIPs: a key limited to IP ranges is active only
// when the asking service says it was presented from within them
// (client_ip); without client_ip, or from outside, it is inactive, never an
// error. A client_ip that is not an address is 400 INVALID_FIELD. With
// CountAsUse, the use is recorded from client_ip, not from the service.
func TestIntrospectAllowedIPs(t *testing.T) {
	for _, countAsUse := range []bool{false, true} {
		t.Run(map[bool]string{false: "inspect", true: "count as use"}[countAsUse], func(t *testing.T) {
			f, _ := introspectionFixture(t, countAsUse)
			k, token, err := f.srv.Manager.Create(context.Background(), keys.CreateRequest{Owner: "bob", Name: "office", Permissions: filesRead,
				AllowedIPs: []netip.Prefix{netip.MustParsePrefix("203.0.113.0/24")}})
			require.NoError(t, err)
			ask := func(form url.Values) *keycaptest.Response {
				form.Set("token", token)
				return f.anon.WithHeader("Authorization", "Bearer "+serviceSecret).PostForm(t, "/api-keys/introspect", form)
			}
			active := func(form url.Values) bool {
				resp := ask(form)
				require.Equal(t, http.StatusOK, resp.StatusCode, "%s", resp.Body)
				var got introspection
				require.NoError(t, json.Unmarshal(resp.Body, &got))
				if !got.Active {
					assert.JSONEq(t, `{"active": false}`, string(resp.Body))
				}
				return got.Active
			}
			assert.False(t, active(url.Values{}), "no client_ip: the key's ranges cannot be checked")
			assert.False(t, active(url.Values{"client_ip": {"198.51.100.7"}}), "outside the ranges")
			assert.True(t, active(url.Values{"client_ip": {"203.0.113.7"}}))
			assert.True(t, active(url.Values{"client_ip": {"::ffff:203.0.113.8"}}), "IPv4-mapped is the IPv4 address")
			for _, bad := range []string{"nope", "203.0.113.7/32", "fe80::1%eth0", ""} {
				resp := ask(url.Values{"client_ip": {bad}})
				keycaptest.RequireCode(t, resp, keycap.CodeInvalidField)
				assert.Contains(t, string(resp.Body), `"field":"client_ip"`, bad)
			}
			keycaptest.RequireCode(t, ask(url.Values{"client_ip": {"203.0.113.7", "203.0.113.8"}}), keycap.CodeInvalidBody)
			require.NoError(t, f.srv.Manager.Close()) // flush last-used bookkeeping
			if countAsUse {
				// (the first use within LastUsedInterval is the one recorded)
				assert.Equal(t, "203.0.113.7", f.get(t, k.ID).LastUsedIP, "the use is recorded from client_ip, not the service's address")
			} else {
				assert.True(t, f.get(t, k.ID).LastUsedAt.IsZero(), "no use recorded")
			}
		})
	}
}
