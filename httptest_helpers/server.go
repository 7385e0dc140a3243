package keycaptest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"
)

// Server is an app under test, running on a loopback address: whatever
// http.Handler the app serves, with whatever router. Create it with
// [Start]. Its clients log in through the app's own login form
// ([Server.LogInWithForm]) or straight through its sessions
// ([Server.LogIn], given [WithSessions]). Safe for concurrent use.
type Server struct {
	// Server is the running httptest server: URL, Close, Client. [Start]
	// registers Close with t.Cleanup; closing it again is harmless.
	*httptest.Server
	sessions SessionLogIn // nil: LogIn fails the test
}

// Option configures [Start].
type Option func(*Server)

// SessionLogIn is what [Server.LogIn] needs of the app's session system:
// its middleware and the call the app's login handler makes once the
// password is checked. *session.SCSSessions (from session.SCS) is one;
// apps with another session system write a small adapter.
// Implementations must be safe for concurrent use.
type SessionLogIn interface {
	// LoadAndSave loads the request's session for next and saves it
	// after, setting the session cookie on the answer.
	LoadAndSave(next http.Handler) http.Handler
	// LogIn records in ctx's session (loaded by LoadAndSave) that userID
	// is logged in.
	LogIn(ctx context.Context, userID string) error
}

// WithSessions lets [Server.LogIn] log users in through s, the app's own
// sessions: pass the value given to middleware.Options.Sessions when it is
// a *session.SCSSessions. s must share its store with the app's handler
// (for scs: the same *scs.SessionManager). nil is the same as not giving
// the option.
func WithSessions(s SessionLogIn) Option { return func(srv *Server) { srv.sessions = s } }

// Start serves h, the app's whole handler as it would be given to
// http.ListenAndServe (session and keycap middleware included), on a new
// httptest server that is closed when t ends. A nil h serves
// http.DefaultServeMux, as http.ListenAndServe does.
func Start(t testing.TB, h http.Handler, opts ...Option) *Server {
	t.Helper()
	s := &Server{}
	for _, o := range opts {
		o(s)
	}
	s.Server = httptest.NewServer(h)
	t.Cleanup(s.Close)
	return s
}

// Anonymous returns a new client of s with an empty cookie jar and no key.
func (s *Server) Anonymous(t testing.TB) *Client {
	t.Helper()
	return NewClient(t, s.URL)
}

// LogIn returns a new client logged in as userID, with no round trip to
// the app: s.LogIn(userID) runs inside s.LoadAndSave for the sessions given
// to [WithSessions], as in the app's login handler, and the cookies they
// set go to the client's jar. Without WithSessions it fails the test; use
// [Server.LogInWithForm] instead.
func (s *Server) LogIn(t testing.TB, userID string) *Client {
	t.Helper()
	require.NotNil(t, s.sessions, "keycaptest: Server.LogIn needs Start(t, h, keycaptest.WithSessions(...)); or use LogInWithForm")
	return s.Anonymous(t).addCookies(t, sessionCookies(t, s.sessions, userID)...)
}

// LogInWithForm returns a new client logged in through the app's own login
// form: it posts form (e.g. {"username": {"alice"}, "password": {"pw"}})
// to path, as a browser would, and keeps the cookies of the answer in the
// client's jar. It requires a 2xx or 3xx answer that sets a cookie; a
// redirect is not followed (see [Client.Follow]). To test a refused login
// or where the form redirects, use [Client.PostForm] on [Server.Anonymous].
func (s *Server) LogInWithForm(t testing.TB, path string, form url.Values) *Client {
	t.Helper()
	c := s.Anonymous(t)
	resp := c.PostForm(t, path, form)
	require.Less(t, resp.StatusCode, 400, "keycaptest: login form %s answered %d: %s", path, resp.StatusCode, resp.Body)
	require.NotEmpty(t, resp.Cookies(), "keycaptest: login form %s answered %d and set no cookie: %s", path, resp.StatusCode, resp.Body)
	return c
}
