package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap"
	keycaptest "github.com/keycaphq/keycap/httptest_helpers"
	"github.com/keycaphq/keycap/policy"
)

func TestKeyFlow(t *testing.T) {
	_, srv := newTestApp(t)
	exerciseKeyFlow(t, srv.URL)
}

func TestLogInRefused(t *testing.T) {
	_, srv := newTestApp(t)
	tests := []struct{ name, user, password string }{
		{"wrong password", "alice", "bob"},
		{"unknown user", "mallory", "mallory"},
		{"empty", "", ""},
		{"user name in another case", "Alice", "alice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, resp := logIn(t, srv.URL, tt.user, tt.password)
			require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
			assert.Empty(t, resp.Header.Values("Set-Cookie"), "no session is started")
			assert.Contains(t, string(resp.Body), "do not match")
			assert.Contains(t, string(resp.Body), `action="/login"`, "the page is shown again")
			keycaptest.RequireCode(t, c.DoJSON(t, http.MethodGet, "/api-keys", nil), keycap.CodeUnauthenticated)
		})
	}
}

func TestLogOut(t *testing.T) {
	_, srv := newTestApp(t)
	alice := mustLogIn(t, srv.URL, "alice")
	page := alice.DoJSON(t, http.MethodGet, "/", nil)
	assert.Contains(t, string(page.Body), "Signed in as <strong>alice</strong>")

	resp := alice.DoJSON(t, http.MethodPost, "/logout", nil)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	keycaptest.RequireCode(t, alice.DoJSON(t, http.MethodGet, "/api-keys", nil), keycap.CodeUnauthenticated)
	page = alice.DoJSON(t, http.MethodGet, "/", nil)
	assert.Contains(t, string(page.Body), `action="/login"`)
}

// The login forms work whatever else the request carries: a key header
// with a login or a logout never answers 500 (the session is loaded around
// every request).
func TestLogInAndOutWithKeyHeader(t *testing.T) {
	_, srv := newTestApp(t)
	alice := mustLogIn(t, srv.URL, "alice")
	k := alice.CreateKey(t, "/api-keys", "ci", policy.Permissions{"files": {"read"}})

	bob, resp := logIn(t, srv.URL, "bob", "bob")
	require.Equal(t, http.StatusSeeOther, resp.StatusCode, "%s", resp.Body)
	keycaptest.RequireCode(t, bob.DoJSON(t, http.MethodGet, "/api-keys", nil), "")
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/login", strings.NewReader(url.Values{"username": {"bob"}, "password": {"bob"}}.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer "+k.Key)
	resp = keycaptest.NewClient(t, srv.URL).Do(t, req)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode, "login with a key header: %s", resp.Body)

	resp = alice.WithKey(k.Key).DoJSON(t, http.MethodPost, "/logout", nil)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode, "%s", resp.Body)
	keycaptest.RequireCode(t, alice.DoJSON(t, http.MethodGet, "/api-keys", nil), keycap.CodeUnauthenticated)
}

func TestGrantDependsOnRole(t *testing.T) {
	_, srv := newTestApp(t)
	tests := []struct {
		user      string
		grantable policy.Permissions
		wantCode  keycap.Code // for billing:read; "" means 201
	}{
		{"alice", memberRole, keycap.CodeExceedsMaximum},
		{"bob", ownerRole, ""},
	}
	for _, tt := range tests {
		t.Run(tt.user, func(t *testing.T) {
			c := mustLogIn(t, srv.URL, tt.user)
			var g struct {
				Permissions policy.Permissions `json:"permissions"`
				Known       policy.Permissions `json:"known"`
			}
			c.DoJSON(t, http.MethodGet, "/api-keys/grantable", nil).JSON(t, &g)
			assert.Equal(t, tt.grantable, g.Permissions)
			assert.Equal(t, ownerRole, g.Known)

			resp := c.DoJSON(t, http.MethodPost, "/api-keys", map[string]any{
				"name": "billing", "permissions": policy.Permissions{"billing": {"read"}}, "expires_in": 3600})
			keycaptest.RequireCode(t, resp, tt.wantCode)
			if tt.wantCode != "" {
				assert.JSONEq(t, `{"billing":["read"]}`, string(detailsField(t, resp, "exceeded")))
				return
			}
			var k keycaptest.CreatedKey
			resp.JSON(t, &k)
			billing := c.KeyOnly(t, k.Key).DoJSON(t, http.MethodGet, "/api/billing", nil)
			assert.Equal(t, http.StatusOK, billing.StatusCode, "%s", billing.Body)
		})
	}
}

func TestDemoAPI(t *testing.T) {
	_, srv := newTestApp(t)
	bob := mustLogIn(t, srv.URL, "bob")
	key := bob.KeyOnly(t, bob.CreateKey(t, "/api-keys", "everything", ownerRole).Key)

	resp := key.DoJSON(t, http.MethodPost, "/api/projects", map[string]string{"name": "Launch"})
	require.Equal(t, http.StatusCreated, resp.StatusCode, "%s", resp.Body)
	var created item
	resp.JSON(t, &created)
	assert.Equal(t, "Launch", created.Name)
	assert.Equal(t, "bob", created.CreatedBy)
	assert.Equal(t, "/api/projects/4", resp.Header.Get("Location"))

	var list struct{ Projects []item }
	key.DoJSON(t, http.MethodGet, "/api/projects", nil).JSON(t, &list)
	assert.Len(t, list.Projects, 4)

	assert.Equal(t, http.StatusNoContent, key.DoJSON(t, http.MethodDelete, "/api/projects/4", nil).StatusCode)
	keycaptest.RequireCode(t, key.DoJSON(t, http.MethodDelete, "/api/projects/4", nil), keycap.CodeNotFound)
	keycaptest.RequireCode(t, key.DoJSON(t, http.MethodDelete, "/api/files/nope", nil), keycap.CodeNotFound)
	assert.Equal(t, http.StatusNoContent, key.DoJSON(t, http.MethodDelete, "/api/files/2", nil).StatusCode)

	for _, body := range []any{`{"name": ""}`, `{"title": "x"}`, `[]`, `{}`, map[string]string{"name": strings.Repeat("x", 101)}} {
		keycaptest.RequireCode(t, key.DoJSON(t, http.MethodPost, "/api/files", body), keycap.CodeInvalidBody)
	}
	resp = key.DoJSON(t, http.MethodGet, "/api/billing", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, string(resp.Body), `"plan":"Team"`)

	keycaptest.RequireCode(t, keycaptest.NewClient(t, srv.URL).DoJSON(t, http.MethodGet, "/api/files", nil), keycap.CodeUnauthenticated)
}

func TestSessionUsesAPIWithinItsRole(t *testing.T) {
	_, srv := newTestApp(t)
	alice := mustLogIn(t, srv.URL, "alice")
	assert.Equal(t, http.StatusOK, alice.DoJSON(t, http.MethodGet, "/api/files", nil).StatusCode)
	keycaptest.RequireCode(t, alice.DoJSON(t, http.MethodGet, "/api/billing", nil), keycap.CodeInsufficientPermissions)

	evil := alice.WithHeader("Origin", "https://evil.example").WithHeader("Sec-Fetch-Site", "cross-site")
	keycaptest.RequireCode(t, evil.DoJSON(t, http.MethodPost, "/api/files", map[string]string{"name": "x"}), keycap.CodeCSRF)
	keycaptest.RequireCode(t, evil.DoJSON(t, http.MethodPost, "/api-keys", map[string]string{"name": "x"}), keycap.CodeCSRF)
}

func TestFormsRefuseOtherSites(t *testing.T) {
	_, srv := newTestApp(t)
	c := keycaptest.NewClient(t, srv.URL).WithHeader("Sec-Fetch-Site", "cross-site")
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/login", strings.NewReader("username=alice&password=alice"))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp := c.Do(t, req)
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
	assert.Contains(t, string(resp.Body), "another site")
	keycaptest.RequireCode(t, c.DoJSON(t, http.MethodGet, "/api-keys", nil), keycap.CodeUnauthenticated)

	alice := mustLogIn(t, srv.URL, "alice")
	resp = alice.WithHeader("Sec-Fetch-Site", "cross-site").DoJSON(t, http.MethodPost, "/logout", nil)
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
	keycaptest.RequireCode(t, alice.DoJSON(t, http.MethodGet, "/api-keys", nil), "") // still logged in
}

func TestPageAndAssets(t *testing.T) {
	_, srv := newTestApp(t)
	c := keycaptest.NewClient(t, srv.URL)
	page := c.DoJSON(t, http.MethodGet, "/", nil)
	require.Equal(t, http.StatusOK, page.StatusCode)
	csp := page.Header.Get("Content-Security-Policy")
	assert.Contains(t, csp, "script-src 'self'")
	assert.Contains(t, csp, "style-src 'self'")
	assert.NotContains(t, csp, "unsafe-inline")
	assert.Equal(t, "DENY", page.Header.Get("X-Frame-Options"))
	assert.NotEmpty(t, page.Header.Get("Referrer-Policy"))
	assert.Equal(t, "no-store", page.Header.Get("Cache-Control"))
	assert.Contains(t, string(page.Body), "alice")
	assert.NotContains(t, string(page.Body), "style=", "the CSP allows no inline styles")

	for path, contentType := range map[string]string{"/static/keycap/keycap.js": "javascript", "/static/keycap/keycap.css": "text/css", "/static/app.css": "text/css", "/static/favicon.svg": "image/svg+xml"} {
		resp := c.DoJSON(t, http.MethodGet, path, nil)
		assert.Equal(t, http.StatusOK, resp.StatusCode, path)
		assert.Contains(t, resp.Header.Get("Content-Type"), contentType, path)
	}
	assert.Equal(t, http.StatusNotFound, c.DoJSON(t, http.MethodGet, "/nope", nil).StatusCode)
	assert.Equal(t, http.StatusNotFound, c.DoJSON(t, http.MethodGet, "/static/", nil).StatusCode)
}

// detailsField returns one field of the details of keycap's JSON error.
func detailsField(t *testing.T, resp *keycaptest.Response, name string) []byte {
	t.Helper()
	var details map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(resp.Error(t).Details, &details))
	return details[name]
}
