package middleware_test

// Attack tests of the interop work (#15): introspection, RFC 7009
// revocation, forward auth, problem+json, structured RateLimit fields and
// the OpenAPI document, written by an attacker who did not write the code.
// Tests whose comment starts "Was a bug, fixed" showed a bug the attacker
// found (they failed until it was fixed); the others are attacks that held.
// All are kept as regression tests.

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap"
	keycaptest "github.com/keycaphq/keycap/httptest_helpers"
	"github.com/keycaphq/keycap/internal/keyforge"
	"github.com/keycaphq/keycap/internal/openapicheck"
	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/middleware"
	"github.com/keycaphq/keycap/policy"
)

// child creates, through parent (a key of owner), a delegated key with
// perms living lifetime.
func child(t *testing.T, f *fixture, owner, parent string, perms policy.Permissions, lifetime time.Duration, quota *keys.Quota) keycaptest.CreatedKey {
	t.Helper()
	ctx := context.Background()
	v, err := f.srv.Manager.Verify(ctx, parent, "")
	require.NoError(t, err)
	k, token, err := f.srv.Manager.Create(ctx, keys.CreateRequest{Owner: owner, Name: "child", Permissions: perms, Lifetime: lifetime, Caller: v, Quota: quota})
	require.NoError(t, err)
	return keycaptest.CreatedKey{ID: k.ID, Key: token, Hint: k.Hint, Permissions: k.Permissions}
}

// Was a bug, fixed: introspection's "exp" ("when the key expires", README) is computed
// from the key's own record only (Keycap.expiry), but a delegated key stops
// working when its parent does (keys.withinAncestors). After the parent's
// expiry is shortened (PATCH expires_in, allowed), introspection of the
// child still reports its own, later exp: a resource server that caches an
// RFC 7662 answer until exp (as RFC 7662 §4 allows) keeps trusting a key
// that verification already refuses.
func TestAttackIntrospectExpIgnoresParent(t *testing.T) {
	f, _ := introspectionFixture(t, false)
	ctx := context.Background()
	parent := f.mint(t, "bob", ownerRole, 48*time.Hour)
	kid := child(t, f, "bob", parent.Key, filesRead, 24*time.Hour, nil)

	got, _ := introspect(t, f, kid.Key)
	require.True(t, got.Active)
	childExp := got.Exp

	// The owner shortens the parent's life to one hour.
	_, err := f.srv.Manager.Update(ctx, keys.UpdateRequest{Ref: keys.Ref{Owner: "bob", ID: parent.ID}, Lifetime: ptr(time.Hour)})
	require.NoError(t, err)
	parentExp := f.get(t, parent.ID).ExpiresAt.Unix()

	got, _ = introspect(t, f, kid.Key)
	require.True(t, got.Active)
	t.Logf("child exp %d (unchanged: %v), parent now expires at %d", got.Exp, got.Exp == childExp, parentExp)

	// Two hours later the child no longer works...
	f.clock.Advance(2 * time.Hour)
	keycaptest.RequireCode(t, f.keyClient(t, kid.Key).DoJSON(t, "GET", "/api/files", nil), keycap.CodeKeyInvalid)
	// ...although introspection had said it would work for 24 hours.
	assert.LessOrEqual(t, got.Exp, parentExp, "introspection's exp must not be later than the moment the key stops working (its parent's expiry)")
}

// Was a bug, fixed: the same with a rotation: a child minted with its parent's old
// secret stops working when the rotation's grace ends (madeBy), but its
// introspection exp is still its own expiry.
func TestAttackIntrospectExpIgnoresParentRotation(t *testing.T) {
	f, _ := introspectionFixture(t, false)
	ctx := context.Background()
	parent := f.mint(t, "bob", ownerRole, 0)
	kid := child(t, f, "bob", parent.Key, filesRead, 24*time.Hour, nil)
	_, _, err := f.srv.Manager.Rotate(ctx, keys.RotateRequest{Ref: keys.Ref{Owner: "bob", ID: parent.ID}, Grace: time.Minute})
	require.NoError(t, err)
	graceEnd := f.get(t, parent.ID).PreviousExpiresAt.Unix()

	got, _ := introspect(t, f, kid.Key)
	require.True(t, got.Active)
	f.clock.Advance(2 * time.Minute)
	keycaptest.RequireCode(t, f.keyClient(t, kid.Key).DoJSON(t, "GET", "/api/files", nil), keycap.CodeKeyInvalid)
	assert.NotZero(t, got.Exp)
	assert.LessOrEqual(t, got.Exp, graceEnd, "exp must not outlive the parent's secret that made the child")
}

// Was a bug, fixed: introspection reports a delegated key "active" with its own
// "remaining" while every request it makes is refused 429 QUOTA_EXCEEDED
// because its parent's quota (which it spends too) is gone. SECURITY.md:
// introspection "says {"active": false} for every key that does not work
// whatever the reason"; at the least "remaining" should be the tightest
// quota the key spends, as X-Quota-Remaining is.
func TestAttackIntrospectIgnoresAncestorQuota(t *testing.T) {
	f, _ := introspectionFixture(t, false)
	ctx := context.Background()
	k, parentToken, err := f.srv.Manager.Create(ctx, keys.CreateRequest{Owner: "bob", Name: "p", Permissions: ownerRole, Quota: &keys.Quota{Remaining: 1}})
	require.NoError(t, err)
	kid := child(t, f, "bob", parentToken, filesRead, 0, &keys.Quota{Remaining: 50})
	require.Equal(t, http.StatusOK, f.keyClient(t, parentToken).DoJSON(t, "GET", "/api/files", nil).StatusCode, "the parent spends its one request")
	require.Equal(t, int64(0), *f.get(t, k.ID).Remaining)

	keycaptest.RequireCode(t, f.keyClient(t, kid.Key).DoJSON(t, "GET", "/api/files", nil), keycap.CodeQuotaExceeded)
	got, _ := introspect(t, f, kid.Key)
	assert.False(t, got.Active, "a key that works for no request is not active")
	assert.Nil(t, got.Remaining, "an inactive key's answer says nothing else")

	// With one request left along the chain, it is active and says 1.
	_, parentToken, err = f.srv.Manager.Create(ctx, keys.CreateRequest{Owner: "bob", Name: "p2", Permissions: ownerRole, Quota: &keys.Quota{Remaining: 1}})
	require.NoError(t, err)
	kid = child(t, f, "bob", parentToken, filesRead, 0, &keys.Quota{Remaining: 50})
	got, _ = introspect(t, f, kid.Key)
	require.True(t, got.Active)
	require.NotNil(t, got.Remaining)
	assert.Equal(t, int64(1), *got.Remaining, "the tightest quota along the chain, not the key's own 50")
}

// Was a bug, fixed: a key demoted to no permissions at all is {"active": false} to
// introspection ("it can do nothing", describe), yet forward auth lets it
// through every route whose rule is empty ("any working key"), and
// Authenticate admits it on unguarded routes. The two interop endpoints
// disagree on whether the same key works: a service behind the gateway
// admits a key its sibling service, asking introspection, refuses.
func TestAttackDemotedKeyActiveForForwardAuthOnly(t *testing.T) {
	f, _ := introspectionFixture(t, false, keycaptest.WithMiddleware(func(o *middleware.Options) {
		o.ForwardAuth = middleware.ForwardAuth{Rules: gatewayRules}
		o.Introspection = middleware.Introspection{Permission: "keys:introspect", Secret: serviceSecret}
	}))
	demoted := f.mint(t, "root", policy.Permissions{"keys": {"admin"}}, 0)
	f.srv.Users.Set("root", "viewer") // keys:admin is gone: the key holds nothing

	got, _ := introspect(t, f, demoted.Key)
	assert.False(t, got.Active)
	resp := ask(t, f.keyClient(t, demoted.Key), "GET", "/api/status")
	t.Logf("forward auth of the same key: %d owner=%q permissions=%q", resp.StatusCode, resp.Header.Get("X-Keycap-Owner"), resp.Header.Get("X-Keycap-Permissions"))
	assert.Equal(t, got.Active, resp.StatusCode == http.StatusOK, "introspection and forward auth must agree on whether a key works")
}

// Was a bug, fixed: README: "A key presented with its previous secret, in a rotation's
// grace period, may call the API but not manage keys" (DELETE /api-keys/{id}
// with it is 403 DELEGATION_NOT_ALLOWED). Through POST /api-keys/revoke the
// previous secret ends the whole record: whoever still holds the secret that
// was rotated out (typically because it leaked) kills the new secret, and
// every key the new secret delegated, during the grace period.
func TestAttackRevokeWithPreviousSecret(t *testing.T) {
	f := newFixture(t, keycaptest.WithMiddleware(func(o *middleware.Options) { o.AllowDelegation = true }))
	ctx := context.Background()
	victim := f.mint(t, "bob", ownerRole, 0)
	_, fresh, err := f.srv.Manager.Rotate(ctx, keys.RotateRequest{Ref: keys.Ref{Owner: "bob", ID: victim.ID}, Grace: 10 * time.Minute})
	require.NoError(t, err)
	grandchild := child(t, f, "bob", fresh, filesRead, 0, nil)

	// The old secret may not manage keys...
	keycaptest.RequireCode(t, f.keyClient(t, victim.Key).DoJSON(t, "DELETE", "/api-keys/"+victim.ID, nil), keycap.CodeDelegationNotAllowed)
	// ...but RFC 7009 lets it revoke the record.
	require.Equal(t, http.StatusOK, f.anon.PostForm(t, "/api-keys/revoke", url.Values{"token": {victim.Key}}).StatusCode)

	newStatus := f.keyClient(t, fresh).DoJSON(t, "GET", "/api/files", nil).StatusCode
	kidStatus := f.keyClient(t, grandchild.Key).DoJSON(t, "GET", "/api/files", nil).StatusCode
	t.Logf("after the previous secret's holder revoked: new secret %d, key delegated by the new secret %d", newStatus, kidStatus)
	assert.Equal(t, http.StatusOK, newStatus, "the previous secret, which cannot manage keys, ended the new secret")
	assert.Equal(t, http.StatusOK, kidStatus, "and the keys the new secret created")
}

// Held: RFC 7009 revocation ends only the key presented (and what it
// created), never its parent or a sibling; any token that is not a working
// secret of a record answers the same empty 200 and writes nothing;
// cross-site requests with a user's cookies can do nothing without the key.
func TestAttackRevokePresentedScope(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	parent := f.mint(t, "bob", ownerRole, 0)
	kidA := child(t, f, "bob", parent.Key, filesRead, 0, nil)
	kidB := child(t, f, "bob", parent.Key, filesRead, 0, nil)
	grand := child(t, f, "bob", kidA.Key, filesRead, 0, nil)
	works := func(key string) bool {
		return f.keyClient(t, key).DoJSON(t, "GET", "/api/files", nil).StatusCode == http.StatusOK
	}

	// Past the grace period, the old secret revokes nothing.
	rotated := f.mint(t, "alice", filesRead, 0)
	_, fresh, err := f.srv.Manager.Rotate(ctx, keys.RotateRequest{Ref: keys.Ref{Owner: "alice", ID: rotated.ID}, Grace: time.Minute})
	require.NoError(t, err)
	f.clock.Advance(2 * time.Minute)

	writes := f.store.writes()
	cross := f.bob.WithHeader("Origin", "https://evil.example").WithHeader("Sec-Fetch-Site", "cross-site")
	for name, form := range map[string]url.Values{
		"old secret past grace":   {"token": {rotated.Key}},
		"parent id, kid's secret": {"token": {strings.Replace(kidA.Key, kidA.ID, parent.ID, 1)}},
		"hint":                    {"token": {parent.Hint}},
		"key id only":             {"token": {parent.ID}},
		"key with a space":        {"token": {" " + parent.Key}},
		"key, other case":         {"token": {strings.ToUpper(parent.Key[:3]) + parent.Key[3:]}},
		"cross-site, cookies":     {"token": {"kc_"}, "token_type_hint": {"refresh_token"}},
	} {
		var resp *keycaptest.Response
		if name == "cross-site, cookies" {
			resp = cross.PostForm(t, "/api-keys/revoke", form)
		} else {
			resp = f.anon.PostForm(t, "/api-keys/revoke", form)
		}
		assert.Equal(t, http.StatusOK, resp.StatusCode, name)
		assert.Empty(t, resp.Body, name)
	}
	assert.Equal(t, writes, f.store.writes(), "nothing written for tokens that are no working secret")
	assert.True(t, works(fresh))

	require.Equal(t, http.StatusOK, f.anon.PostForm(t, "/api-keys/revoke", url.Values{"token": {kidA.Key}}).StatusCode)
	assert.False(t, works(kidA.Key))
	assert.False(t, works(grand.Key), "what kidA created goes with it")
	assert.True(t, works(parent.Key), "the parent stays")
	assert.True(t, works(kidB.Key), "the sibling stays")
	assert.True(t, works(f.bobKey.Key))
}

// Held: who may introspect. The shared secret only counts in the
// Authorization header (not in the form, the query, X-API-Key, another
// scheme); a key needs the permission even to introspect itself; the
// secret is compared whole.
func TestAttackIntrospectCallerCredentials(t *testing.T) {
	f, svcKey := introspectionFixture(t, false)
	post := func(c *keycaptest.Client, path string, form url.Values) *keycaptest.Response {
		return c.PostForm(t, path, form)
	}
	tok := url.Values{"token": {f.bobKey.Key}}
	for name, tt := range map[string]struct {
		resp *keycaptest.Response
		code keycap.Code
	}{
		"secret in form":        {post(f.anon, "/api-keys/introspect", url.Values{"token": {f.bobKey.Key}, "client_secret": {serviceSecret}}), keycap.CodeUnauthenticated},
		"secret in query":       {post(f.anon, "/api-keys/introspect?secret="+serviceSecret+"&access_token="+serviceSecret, tok), keycap.CodeUnauthenticated},
		"secret as X-API-Key":   {post(f.anon.WithHeader("X-API-Key", serviceSecret), "/api-keys/introspect", tok), keycap.CodeKeyInvalid},
		"secret, Basic":         {post(f.anon.WithHeader("Authorization", "Basic "+serviceSecret), "/api-keys/introspect", tok), keycap.CodeUnauthenticated},
		"secret prefix":         {post(f.anon.WithHeader("Authorization", "Bearer "+serviceSecret[:len(serviceSecret)-1]), "/api-keys/introspect", tok), keycap.CodeKeyInvalid},
		"secret, tab suffix":    {post(f.anon.WithHeader("Authorization", "Bearer "+serviceSecret+"\tx"), "/api-keys/introspect", tok), keycap.CodeKeyInvalid},
		"self, no permission":   {post(f.keyClient(t, f.aliceKey.Key), "/api-keys/introspect", url.Values{"token": {f.aliceKey.Key}}), keycap.CodeInsufficientPermissions},
		"session of svc":        {post(f.srv.LogIn(t, "svc"), "/api-keys/introspect", tok), keycap.CodeUnauthenticated},
		"svc key as token only": {post(f.anon, "/api-keys/introspect", url.Values{"token": {svcKey.Key}}), keycap.CodeUnauthenticated},
	} {
		t.Run(name, func(t *testing.T) {
			if tt.code == "" {
				assert.NotEqual(t, http.StatusOK, tt.resp.StatusCode)
				return
			}
			keycaptest.RequireCode(t, tt.resp, tt.code)
			assert.NotContains(t, string(tt.resp.Body), `"active"`)
			assert.NotContains(t, string(tt.resp.Body), f.bobKey.Key)
		})
	}
}

// Held: introspection of anything that is not a working key says
// {"active": false} and nothing else, whatever the token (whitespace
// around a real key, a key of another user's id with a real secret,
// a parent revoked under its child, a previous secret past its grace).
func TestAttackIntrospectNoOracle(t *testing.T) {
	f, _ := introspectionFixture(t, false)
	ctx := context.Background()
	parent := f.mint(t, "bob", ownerRole, 0)
	kid := child(t, f, "bob", parent.Key, filesRead, 0, nil)
	_, err := f.srv.Manager.Revoke(ctx, keys.RevokeRequest{Ref: keys.Ref{Owner: "bob", ID: parent.ID}})
	require.NoError(t, err)
	rotated := f.mint(t, "alice", filesRead, 0)
	_, _, err = f.srv.Manager.Rotate(ctx, keys.RotateRequest{Ref: keys.Ref{Owner: "alice", ID: rotated.ID}, Grace: time.Minute})
	require.NoError(t, err)
	f.clock.Advance(2 * time.Minute)
	for name, token := range map[string]string{
		"child of revoked parent": kid.Key,
		"previous past grace":     rotated.Key,
		"spaces around a key":     " " + f.bobKey.Key + " ",
		"id swapped":              strings.Replace(f.aliceKey.Key, f.aliceKey.ID, f.bobKey.ID, 1),
		"two keys":                f.bobKey.Key + " " + f.aliceKey.Key,
	} {
		t.Run(name, func(t *testing.T) {
			_, resp := introspect(t, f, token)
			assert.JSONEq(t, `{"active": false}`, string(resp.Body))
		})
	}
}

// Held (measured, informational): introspection's time by kind of inactive
// token, through HTTP with the shared secret, interleaved, medians of many
// samples. Unknown ids skip the HMAC; revoked keys with the right secret
// may be audited; ids are public (the hint shows them), so telling an
// unknown id from a known one teaches nothing, and telling revoked from
// wrong needs the right secret. The test fails only on a gross gap.
func TestAttackIntrospectTiming(t *testing.T) {
	if testing.Short() {
		t.Skip("timing")
	}
	f, _ := introspectionFixture(t, false)
	ctx := context.Background()
	revoked := f.mint(t, "alice", filesRead, 0)
	_, err := f.srv.Manager.Revoke(ctx, keys.RevokeRequest{Ref: keys.Ref{Owner: "alice", ID: revoked.ID}})
	require.NoError(t, err)
	wrong := f.mint(t, "alice", filesRead, 0)
	classes := map[string]string{
		"malformed":    revoked.Key[:len(revoked.Key)-1] + "!",
		"unknown id":   keyforge.Key("kc", keyforge.ID(time.Now())),
		"wrong secret": keyforge.Key("kc", wrong.ID), // a well-formed key with a real id and a random secret
		"revoked":      revoked.Key,
		"active":       f.bobKey.Key,
	}
	c := f.anon.WithHeader("Authorization", "Bearer "+serviceSecret)
	samples := map[string][]time.Duration{}
	const n = 200
	for i := 0; i < n; i++ {
		for name, token := range classes {
			start := time.Now()
			resp := c.PostForm(t, "/api-keys/introspect", url.Values{"token": {token}})
			samples[name] = append(samples[name], time.Since(start))
			require.Equal(t, http.StatusOK, resp.StatusCode)
		}
	}
	medians := map[string]time.Duration{}
	for name, s := range samples {
		sortDurations(s)
		medians[name] = s[len(s)/2]
	}
	t.Logf("median introspection time by kind (n=%d each): %v", n, medians)
	ratio := float64(medians["revoked"]) / float64(medians["wrong secret"])
	assert.InDelta(t, 1, ratio, 0.5, "revoked vs wrong secret")
}

func sortDurations(s []time.Duration) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// Held: forward auth's routing. The most specific rule wins (a literal
// segment over a wildcard, a method over none), HEAD is GET's, unrouted
// paths are refused, and every unclean or non-path URI is 400 before any
// key is looked at; nothing the client sends besides the two headers
// changes the rule.
func TestAttackForwardAuthRouting(t *testing.T) {
	f := newFixture(t, keycaptest.WithMiddleware(func(o *middleware.Options) {
		o.ForwardAuth = middleware.ForwardAuth{Rules: map[string][]string{
			"GET /api/files/{id}":   {"files:read"},
			"GET /api/files/admin":  {"billing:read"},
			"/api/files/{id}":       {"files:write"},
			"DELETE /api/files/{$}": {"files:delete"},
			"GET /api/dir/":         {"projects:read"},
		}}
	}))
	alice := f.keyClient(t, f.aliceKey.Key) // files:read files:write
	for _, tt := range []struct {
		method, uri string
		code        keycap.Code // "" for 200
	}{
		{"GET", "/api/files/7", ""},
		{"HEAD", "/api/files/7", ""},
		{"GET", "/api/files/admin", keycap.CodeInsufficientPermissions},
		{"HEAD", "/api/files/admin", keycap.CodeInsufficientPermissions},
		{"GET", "/api/files/%61dmin", keycap.CodeInvalidField}, // an escape that decodes unlike it reads: refused
		{"GET", "/api/files/admin?x=/api/files/7", keycap.CodeInsufficientPermissions},
		{"PUT", "/api/files/7", ""},
		{"DELETE", "/api/files/", keycap.CodeInsufficientPermissions},
		{"GET", "/api/files/", keycap.CodeForbidden},
		{"GET", "/api/files", keycap.CodeForbidden},
		{"GET", "/api/dir", keycap.CodeInsufficientPermissions}, // redirected by a ServeMux to /api/dir/: its rule
		{"GET", "/api/files/admin/", keycap.CodeForbidden},
		{"GET", "/api/files/7/../admin", keycap.CodeInvalidField},
		{"GET", "/api/files/%2e%2e/files/admin", keycap.CodeInvalidField},
		{"GET", "/api/files/./7", keycap.CodeInvalidField},
		{"GET", "//api/files/7", keycap.CodeInvalidField},
		{"GET", "http://app/api/files/7", keycap.CodeInvalidField},
		{"GET", "*", keycap.CodeInvalidField},
		{"GET", "api/files/7", keycap.CodeInvalidField},
		{"CONNECT", "/api/files/7", ""},                  // the method-less rule
		{"get", "/api/files/7", keycap.CodeInvalidField}, // a lower-case method: backends disagree on it, refused
	} {
		t.Run(tt.method+" "+tt.uri, func(t *testing.T) {
			resp := ask(t, alice.WithHeader("X-Forwarded-Host", "other").WithHeader("X-Original-Uri", "/api/files/7"), tt.method, tt.uri)
			if tt.code == "" {
				assert.Equal(t, http.StatusOK, resp.StatusCode, "%s", resp.Body)
				return
			}
			keycaptest.RequireCode(t, resp, tt.code)
		})
	}
	// A bad URI is refused before the key: no rate limit or quota spent on it.
	keycaptest.RequireCode(t, ask(t, f.anon, "GET", "/a/../b"), keycap.CodeInvalidField)
}

// Held: the protocol routes skip the CSRF check by exact path only: a
// cross-site request riding a logged-in user's cookies on paths that look
// like them reaches no session route that changes state.
func TestAttackProtocolRoutesNoCSRFBypass(t *testing.T) {
	f := newFixture(t)
	victim := f.mint(t, "bob", filesRead, 0)
	cross := f.bob.WithHeader("Origin", "https://evil.example").WithHeader("Sec-Fetch-Site", "cross-site")
	for _, tt := range []struct{ method, path string }{
		{"DELETE", "/api-keys/" + victim.ID},
		{"DELETE", "/api-keys/revoke/../" + victim.ID},
		{"DELETE", "/api-keys/revoke/%2E%2E/" + victim.ID},
		{"DELETE", "/api-keys//" + victim.ID},
		{"DELETE", "/api-keys/" + victim.ID + "/"},
		{"DELETE", "/api-keys/" + victim.ID + "%2F"},
		{"POST", "/api-keys/" + victim.ID + "/rotate"},
		{"POST", "/api-keys/revoke/" + victim.ID},
		{"POST", "/api-keys/forward-auth/../" + victim.ID + "/rotate"},
		{"PATCH", "/api-keys/" + victim.ID},
		{"POST", "/api-keys/revoke"},
		{"POST", "/api-keys/introspect"},
		{"PATCH", "/api-keys/forward-auth"},
	} {
		req, err := http.NewRequest(tt.method, f.srv.URL+tt.path, strings.NewReader(`{"disabled": true}`))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(openapicheck.SkipHeader, "probes of paths off the document")
		resp := cross.Do(t, req)
		assert.NotEqual(t, http.StatusOK, resp.StatusCode, "%s %s: %s", tt.method, tt.path, resp.Body)
	}
	k := f.get(t, victim.ID)
	assert.False(t, !k.RevokedAt.IsZero())
	assert.False(t, k.Disabled)
	assert.Equal(t, int64(0), k.Generation, "not rotated")
}

// Held: the token is read from the form body only, once: not from the
// query, never two, bounded in size.
func TestAttackIntrospectTokenParsing(t *testing.T) {
	f, _ := introspectionFixture(t, false)
	c := f.anon.WithHeader("Authorization", "Bearer "+serviceSecret)
	resp := c.PostForm(t, "/api-keys/introspect?token="+url.QueryEscape(f.bobKey.Key), url.Values{"token": {"nothing"}})
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.JSONEq(t, `{"active": false}`, string(resp.Body), "the body's token, not the query's")
	keycaptest.RequireCode(t, c.PostForm(t, "/api-keys/introspect?token="+url.QueryEscape(f.bobKey.Key), url.Values{}), keycap.CodeInvalidBody)
	keycaptest.RequireCode(t, c.PostForm(t, "/api-keys/introspect", url.Values{"token": {f.bobKey.Key, f.aliceKey.Key}}), keycap.CodeInvalidBody)
	keycaptest.RequireCode(t, c.PostForm(t, "/api-keys/introspect", url.Values{"token": {"", f.bobKey.Key}}), keycap.CodeInvalidBody)
	keycaptest.RequireCode(t, c.PostForm(t, "/api-keys/introspect", url.Values{"token": {f.bobKey.Key}, "pad": {strings.Repeat("x", 70<<10)}}), keycap.CodeInvalidBody)
	keycaptest.RequireCode(t, c.PostForm(t, "/api-keys/revoke", url.Values{"token": {f.bobKey.Key}, "pad": {strings.Repeat("x", 70<<10)}}), keycap.CodeInvalidBody)
	require.Equal(t, http.StatusOK, f.keyClient(t, f.bobKey.Key).DoJSON(t, "GET", "/api/files", nil).StatusCode, "an oversized revocation revokes nothing")
}
