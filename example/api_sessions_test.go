package main

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	keycaptest "github.com/keycaphq/keycap/httptest_helpers"
	"github.com/keycaphq/keycap/policy"
)

// TestAPIWithKeyLoadsNoSession: the demo API answers a request with a key
// without loading a session (scs then adds neither Vary: Cookie nor a
// cookie), even when the request also carries a logged-in session
// cookie, which does not change who the request is; a request with the
// cookie alone loads it and is the session user.
func TestAPIWithKeyLoadsNoSession(t *testing.T) {
	_, srv := newTestApp(t)
	alice := mustLogIn(t, srv.URL, "alice")
	k := alice.CreateKey(t, "/api-keys", "ci", policy.Permissions{"files": {"read"}})

	withKey := keycaptest.NewClient(t, srv.URL).WithKey(k.Key)
	resp := withKey.Get(t, "/api/files")
	require.Equal(t, http.StatusOK, resp.StatusCode, resp.Body)
	assert.Empty(t, resp.Header.Values("Vary"), "no session was loaded")
	assert.Empty(t, resp.Header.Values("Set-Cookie"))

	resp = alice.Get(t, "/api/files")
	require.Equal(t, http.StatusOK, resp.StatusCode, resp.Body)
	assert.Contains(t, resp.Header.Values("Vary"), "Cookie", "the session user's request loads the session")

	// The key page and the keys API still load the session for a request
	// with a key: only the demo API skips it.
	resp = withKey.Get(t, "/api-keys")
	assert.Contains(t, resp.Header.Values("Vary"), "Cookie")
}
