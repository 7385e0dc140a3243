package keycaptest

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/alexedwards/scs/v2"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/session"
)

// SessionCookie returns the cookie of a new scs session in which userID is
// logged in under key ("" means "userID", as for session.SCS): a logged-in
// browser, for any server whose handlers share sm (and its store), such as
// one started without [Start]. Add it to a client with [Client.AddCookie].
// Like [Server.LogIn], it logs in with session.SCSSessions.LogIn inside
// sm.LoadAndSave.
func SessionCookie(t testing.TB, sm *scs.SessionManager, key, userID string) *http.Cookie {
	t.Helper()
	for _, c := range sessionCookies(t, session.SCS(sm, key), userID) {
		if c.Name == sm.Cookie.Name {
			return c
		}
	}
	require.FailNow(t, "keycaptest: scs set no "+sm.Cookie.Name+" cookie")
	return nil
}

// sessionCookies runs s.LogIn(userID) inside s.LoadAndSave, as the app's
// login handler would, and returns the cookies set, made host-only (no
// Domain) so that a jar sends them to the loopback test server.
func sessionCookies(t testing.TB, s SessionLogIn, userID string) []*http.Cookie {
	t.Helper()
	var err error
	rec := httptest.NewRecorder()
	s.LoadAndSave(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err = s.LogIn(r.Context(), userID)
	})).ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/", nil))
	require.NoError(t, err, "keycaptest: logging %q in", userID)
	resp := rec.Result()
	require.Less(t, resp.StatusCode, 400, "keycaptest: the session middleware answered %d: %s", resp.StatusCode, rec.Body)
	cookies := resp.Cookies()
	require.NotEmpty(t, cookies, "keycaptest: logging %q in set no cookie", userID)
	for _, c := range cookies {
		c.Domain = ""
	}
	return cookies
}
