package main

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/keycaphq/keycap"
	keycaptest "github.com/keycaphq/keycap/httptest_helpers"
	"github.com/keycaphq/keycap/policy"
)

const introspectionSecret = "example-introspection-secret-0123456789"

// TestInterop: another service introspects alice's key with the shared
// secret, a gateway asks forward auth by the demo API's table, and the
// holder revokes the key by presenting it.
func TestInterop(t *testing.T) {
	a, err := newApp(config{DBPath: filepath.Join(t.TempDir(), "keycap.db"), BcryptCost: bcrypt.MinCost,
		IntrospectionSecret: introspectionSecret, Logger: slog.New(slog.NewTextHandler(t.Output(), nil))})
	require.NoError(t, err)
	srv := httptest.NewServer(a)
	t.Cleanup(func() { srv.Close(); assert.NoError(t, a.Close()) })

	alice := mustLogIn(t, srv.URL, "alice")
	created := alice.CreateKey(t, "/api-keys", "ci", policy.Permissions{"files": {"read", "write"}})
	doc := keycaptest.NewClient(t, srv.URL).Get(t, "/api-keys/openapi.json")
	require.Equal(t, http.StatusOK, doc.StatusCode)
	assert.Contains(t, string(doc.Body), `"openapi": "3.1.0"`)
	service := keycaptest.NewClient(t, srv.URL).WithHeader("Authorization", "Bearer "+introspectionSecret)
	resp := service.PostForm(t, "/api-keys/introspect", url.Values{"token": {created.Key}})
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", resp.Body)
	var got struct {
		Active bool   `json:"active"`
		Scope  string `json:"scope"`
		Sub    string `json:"sub"`
		KeyID  string `json:"key_id"`
	}
	resp.JSON(t, &got)
	assert.Equal(t, true, got.Active)
	assert.Equal(t, "files:read files:write", got.Scope)
	assert.Equal(t, "alice", got.Sub)
	assert.Equal(t, created.ID, got.KeyID)
	keycaptest.RequireCode(t, keycaptest.NewClient(t, srv.URL).PostForm(t, "/api-keys/introspect", url.Values{"token": {created.Key}}), keycap.CodeUnauthenticated)

	gateway := keycaptest.NewClient(t, srv.URL).WithKey(created.Key)
	for _, route := range apiRoutes {
		path := strings.Replace(route.Path, "{id}", "1", 1)
		resp := gateway.WithHeader("X-Forwarded-Method", route.Method).WithHeader("X-Forwarded-Uri", path).Get(t, "/api-keys/forward-auth")
		direct := keycaptest.NewClient(t, srv.URL).WithKey(created.Key).DoJSON(t, route.Method, path, `{"name": "x"}`)
		allowed := direct.StatusCode < 400 || direct.StatusCode == http.StatusNotFound // the app's own 404: the guard let it through
		assert.Equal(t, allowed, resp.StatusCode == http.StatusOK, "%s %s: forward auth answers as the app's guard (%d, %d)", route.Method, path, resp.StatusCode, direct.StatusCode)
		if resp.StatusCode == http.StatusOK {
			assert.Equal(t, "alice", resp.Header.Get("X-Keycap-Owner"))
		}
	}

	require.Equal(t, http.StatusOK, keycaptest.NewClient(t, srv.URL).PostForm(t, "/api-keys/revoke", url.Values{"token": {created.Key}}).StatusCode)
	keycaptest.RequireCode(t, gateway.Get(t, "/api/files"), keycap.CodeKeyInvalid)
	resp = service.PostForm(t, "/api-keys/introspect", url.Values{"token": {created.Key}})
	assert.JSONEq(t, `{"active": false}`, string(resp.Body))
	activity := alice.Get(t, "/api-keys/activity")
	require.Equal(t, http.StatusOK, activity.StatusCode)
	assert.Contains(t, string(activity.Body), "revoked by its holder", "the activity says who revoked it, and why")
}

// TestInteropIntrospectionOff: without the secret there is no
// introspection, and a short secret stops the app at start.
func TestInteropIntrospectionOff(t *testing.T) {
	_, srv := newTestApp(t)
	keycaptest.RequireCode(t, keycaptest.NewClient(t, srv.URL).PostForm(t, "/api-keys/introspect", url.Values{"token": {"x"}}), keycap.CodeNotFound)
	_, err := newApp(config{DBPath: filepath.Join(t.TempDir(), "keycap.db"), IntrospectionSecret: "short"})
	assert.ErrorContains(t, err, "Introspection.Secret")
}
