package middleware_test

// Attacks on the OpenAPI document: requests it calls invalid that the
// server accepts, and answers off it. Each exchange is checked by a
// checker of its own (with a transport of its own, so that the package's
// TestMain checker does not fail the whole run for them), and each
// mismatch is reported by the test that found it.

import (
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	keycaptest "github.com/keycaphq/keycap/httptest_helpers"
	"github.com/keycaphq/keycap/internal/openapicheck"
	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/middleware"
	"github.com/keycaphq/keycap/ratelimit"
)

// checked returns a client for base whose exchanges are checked against
// the document by a checker of its own, and that checker.
func checked(t *testing.T, base string) (*keycaptest.Client, *openapicheck.Checker) {
	t.Helper()
	doc, err := os.ReadFile("openapi.json")
	require.NoError(t, err)
	c, err := openapicheck.New(doc, "/api-keys")
	require.NoError(t, err)
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	client := keycaptest.NewClient(t, base)
	client.HTTP.Transport = c.Transport(tr)
	return client, c
}

func requireNoMismatch(t *testing.T, c *openapicheck.Checker) {
	t.Helper()
	failures, summary := c.Report()
	t.Log(summary)
	for _, f := range failures {
		t.Error(f)
	}
}

// Was a bug, fixed: the document's TokenForm has "additionalProperties": false (token
// and token_type_hint only), but introspection and revocation ignore any
// other parameter (readToken): the client authentication parameters of RFC
// 6749 §2.3.1 that RFC 7009/7662 clients send (client_id, client_secret),
// or anything else, get 200 for a request the document calls invalid.
// kin-openapi does not enforce additionalProperties on form bodies, so
// openapicheck misses it: the schema is read here.
func TestAttackOpenAPITokenFormExtraParams(t *testing.T) {
	f, _ := introspectionFixture(t, false)
	c, checker := checked(t, f.srv.URL)
	secret := c.WithHeader("Authorization", "Bearer "+serviceSecret)
	form := url.Values{"token": {f.bobKey.Key}, "client_id": {"svc"}, "client_secret": {"x"}}
	resp := secret.PostForm(t, "/api-keys/introspect", form)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", resp.Body)
	resp = c.PostForm(t, "/api-keys/revoke", url.Values{"token": {"not a key"}, "client_id": {"svc"}})
	require.Equal(t, http.StatusOK, resp.StatusCode)
	requireNoMismatch(t, checker)

	var doc struct {
		Components struct {
			Schemas map[string]json.RawMessage `json:"schemas"`
		} `json:"components"`
	}
	raw, err := os.ReadFile("openapi.json")
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(raw, &doc))
	var schema struct {
		Properties           map[string]any `json:"properties"`
		AdditionalProperties *bool          `json:"additionalProperties"`
	}
	require.NoError(t, json.Unmarshal(doc.Components.Schemas["TokenForm"], &schema))
	_, named := schema.Properties["client_id"]
	assert.True(t, named || schema.AdditionalProperties == nil || *schema.AdditionalProperties,
		"TokenForm forbids client_id, which the server accepts with 200")
}

// Was a bug, fixed: ForwardAuth.MethodHeader and URIHeader are configurable (nginx
// setups use X-Original-Method / X-Original-URI), and the served document
// is rewritten for Options.Path, but not for these: it still requires
// X-Forwarded-Method and X-Forwarded-Uri. With other names, the requests
// the gateway sends are invalid by the document and answered 200, and the
// ones the document describes are refused 400.
func TestAttackOpenAPIForwardAuthHeaderNames(t *testing.T) {
	f := newFixture(t, keycaptest.WithMiddleware(func(o *middleware.Options) {
		o.ForwardAuth = middleware.ForwardAuth{Rules: gatewayRules, MethodHeader: "X-Original-Method", URIHeader: "X-Original-Uri"}
	}))
	c, checker := checked(t, f.srv.URL)
	resp := c.WithKey(f.aliceKey.Key).WithHeader("X-Original-Method", "GET").WithHeader("X-Original-Uri", "/api/files").Get(t, "/api-keys/forward-auth")
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", resp.Body)
	requireNoMismatch(t, checker)
	assert.True(t, strings.Contains(string(f.srv.Keycap.OpenAPI()), "X-Original-Method"), "the served document names the headers the app configured")
}

// Held: the protocol routes' refusals, in keycap's JSON and as problems,
// match the document (401/403/404/405/400/429, with their headers).
func TestAttackOpenAPIProtocolRefusals(t *testing.T) {
	f, svcKey := introspectionFixture(t, false, keycaptest.WithMiddleware(func(o *middleware.Options) {
		o.Introspection = middleware.Introspection{Permission: "keys:introspect", Secret: serviceSecret}
		o.ForwardAuth = middleware.ForwardAuth{Rules: gatewayRules}
		o.RateLimit = middleware.RateLimit{PerKey: ratelimit.Limit{Requests: 3, Window: time.Hour}}
	}))
	c, checker := checked(t, f.srv.URL)
	for _, accept := range []string{"", "application/problem+json", "application/json;q=0.1, application/problem+json"} {
		c := c
		if accept != "" {
			c = c.WithHeader("Accept", accept)
		}
		tok := url.Values{"token": {f.bobKey.Key}}
		c.PostForm(t, "/api-keys/introspect", tok)
		c.WithKey(f.aliceKey.Key).PostForm(t, "/api-keys/introspect", tok)
		c.WithKey(f.aliceKey.Key+"x").PostForm(t, "/api-keys/introspect", tok)
		c.WithHeader("Authorization", "Bearer "+serviceSecret).PostForm(t, "/api-keys/introspect", url.Values{"token": {"a", "b"}})
		c.WithHeader("Authorization", "Bearer "+serviceSecret).DoJSON(t, "POST", "/api-keys/introspect", `{"token": "x"}`)
		c.PostForm(t, "/api-keys/revoke", url.Values{})
		c.WithKey(svcKey.Key).PostForm(t, "/api-keys/introspect", url.Values{"token": {strings.Repeat("a", 70<<10)}})
		for _, key := range []string{"", f.aliceKey.Key, f.bobKey.Key, "kc_x"} {
			for _, target := range []string{"/api/files", "/api/files/1", "/nope", "//x", "http://h/x", ""} {
				for _, method := range []string{"GET", "DELETE", "PATCH"} {
					cc := c.WithKey(key).WithHeader("X-Forwarded-Method", method)
					if target != "" {
						cc = cc.WithHeader("X-Forwarded-Uri", target)
					}
					cc.Get(t, "/api-keys/forward-auth")
				}
			}
		}
	}
	requireNoMismatch(t, checker)

	// A quota spent by forward auth, then a key expired.
	_, token, err := f.srv.Manager.Create(t.Context(), keys.CreateRequest{Owner: "bob", Name: "q", Permissions: filesRead, Quota: &keys.Quota{Remaining: 1}, Lifetime: time.Hour})
	require.NoError(t, err)
	for range 2 {
		c.WithKey(token).WithHeader("X-Forwarded-Method", "GET").WithHeader("X-Forwarded-Uri", "/api/files").Get(t, "/api-keys/forward-auth")
	}
	f.clock.Advance(2 * time.Hour)
	c.WithKey(token).WithHeader("X-Forwarded-Method", "GET").WithHeader("X-Forwarded-Uri", "/api/files").Get(t, "/api-keys/forward-auth")
	c.WithKey(token).PostForm(t, "/api-keys/introspect", url.Values{"token": {token}})
	requireNoMismatch(t, checker)
}
