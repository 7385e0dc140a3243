package main

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/keycaphq/keycap"
	keycaptest "github.com/keycaphq/keycap/httptest_helpers"
	"github.com/keycaphq/keycap/policy"
)

// newTestApp returns the app over a fresh SQLite file in a temp dir,
// served by an httptest.Server; both are closed with the test.
func newTestApp(t *testing.T) (*app, *httptest.Server) {
	t.Helper()
	return newTestAppAt(t, filepath.Join(t.TempDir(), "keycap.db"), "")
}

// newTestAppAt is newTestApp with a given database file and KEYCAP_SECRET.
func newTestAppAt(t *testing.T, dbPath, secret string) (*app, *httptest.Server) {
	t.Helper()
	a, err := newApp(config{
		DBPath: dbPath, Secret: secret, BcryptCost: bcrypt.MinCost,
		LastUsedInterval: 100 * time.Millisecond, // so the page soon shows a key's last use
		Logger:           slog.New(slog.NewTextHandler(t.Output(), nil)),
	})
	require.NoError(t, err)
	srv := httptest.NewServer(a)
	t.Cleanup(func() {
		srv.Close()
		assert.NoError(t, a.Close())
	})
	return a, srv
}

// logIn posts the login form as user with password and returns the client
// (its cookie jar holds the session) and the answer.
func logIn(t *testing.T, baseURL, user, password string) (*keycaptest.Client, *keycaptest.Response) {
	t.Helper()
	c := keycaptest.NewClient(t, baseURL)
	form := url.Values{"username": {user}, "password": {password}}
	req, err := http.NewRequest(http.MethodPost, baseURL+"/login", strings.NewReader(form.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c, c.Do(t, req)
}

// mustLogIn logs user in with the right password and requires the redirect.
func mustLogIn(t *testing.T, baseURL, user string) *keycaptest.Client {
	t.Helper()
	c, resp := logIn(t, baseURL, user, user)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode, "log in as %s: %s", user, resp.Body)
	require.Equal(t, "/", resp.Header.Get("Location"))
	return c
}

// exerciseKeyFlow runs the example's story against a running app at
// baseURL: alice logs in, makes a read-only key, uses it, is refused what
// it does not hold and what she may not grant, revokes it, and the API
// refuses it. It returns nothing; every step is required.
func exerciseKeyFlow(t *testing.T, baseURL string) {
	t.Helper()
	alice := mustLogIn(t, baseURL, "alice")
	created := alice.CreateKey(t, "/api-keys", "ci reader", policy.Permissions{"files": {"read"}})
	assert.Equal(t, policy.Permissions{"files": {"read"}}, created.Permissions)
	key := alice.KeyOnly(t, created.Key)

	resp := key.DoJSON(t, http.MethodGet, "/api/files", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", resp.Body)
	var files struct{ Files []item }
	resp.JSON(t, &files)
	assert.NotEmpty(t, files.Files)

	resp = key.DoJSON(t, http.MethodDelete, "/api/files/1", nil)
	keycaptest.RequireCode(t, resp, keycap.CodeInsufficientPermissions)
	assert.JSONEq(t, `{"missing":["files:delete"]}`, string(resp.Error(t).Details))

	resp = alice.DoJSON(t, http.MethodPost, "/api-keys", map[string]any{
		"name": "too much", "permissions": policy.Permissions{"files": {"read", "delete"}}})
	keycaptest.RequireCode(t, resp, keycap.CodeExceedsMaximum)
	var details keycap.ExceedsMaximumDetails
	require.NoError(t, json.Unmarshal(resp.Error(t).Details, &details))
	assert.Equal(t, policy.Permissions{"files": {"delete"}}, details.Exceeded)
	assert.Equal(t, memberRole, details.Maximum)

	resp = alice.DoJSON(t, http.MethodDelete, "/api-keys/"+created.ID, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, "revoke: %s", resp.Body)
	assert.Contains(t, string(resp.Body), `"status":"revoked"`)

	resp = key.DoJSON(t, http.MethodGet, "/api/files", nil)
	keycaptest.RequireCode(t, resp, keycap.CodeKeyInvalid)
}
