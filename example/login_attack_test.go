package main

// Attack tests of the atomic-changes work, written by an attacker who did
// not write the code: each TestAttack* once broke a guarantee (fixed since)
// or probed one that held; all are kept as regression tests.

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	keycaptest "github.com/keycaphq/keycap/httptest_helpers"
	"github.com/keycaphq/keycap/policy"
)

// The CHANGELOG fixed "POST /logout with a key header answers 500"; the
// same wiring (SkipForKeys: a request with a valid key loads no session)
// still answers POST /login with a key header 500: sessions.LogIn has no
// session data to write to. Any holder of a valid key (or a browser
// extension adding one) gets a 500 for a correct login.
func TestAttackLogInWithKeyHeaderAnswers500(t *testing.T) {
	_, srv := newTestApp(t)
	alice := mustLogIn(t, srv.URL, "alice")
	k := alice.CreateKey(t, "/api-keys", "ci", policy.Permissions{"files": {"read"}})

	c := keycaptest.NewClient(t, srv.URL).WithKey(k.Key)
	form := url.Values{"username": {"bob"}, "password": {"bob"}}
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/login", strings.NewReader(form.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp := c.Do(t, req)
	assert.Less(t, resp.StatusCode, 500, "POST /login with a key header: %d %s", resp.StatusCode, resp.Body)
}
