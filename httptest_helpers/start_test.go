package keycaptest_test

import (
	"context"
	"crypto/rand"
	"io"
	"net/http"
	"net/url"
	"testing"

	"github.com/alexedwards/scs/v2"
	"github.com/go-chi/chi/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap"
	keycaptest "github.com/keycaphq/keycap/httptest_helpers"
	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/keys/memstore"
	"github.com/keycaphq/keycap/middleware"
	"github.com/keycaphq/keycap/policy"
	"github.com/keycaphq/keycap/session"
)

// appParts are what an app's main builds before its router: scs sessions
// (under "uid", not keycaptest's "userID") and keycap. Every user is a
// member: files:read and files:write.
type appParts struct {
	sm       *scs.SessionManager
	sessions *session.SCSSessions
	kc       *middleware.Keycap
}

func newAppParts(t *testing.T) appParts {
	t.Helper()
	sm := scs.New()
	pol := policy.MustNew(policy.Config{AllowClientPermissions: true,
		Roles: map[string]policy.Permissions{"member": policy.MustParse("files:read", "files:write")}})
	members := policy.SubjectsFunc(func(_ context.Context, id string) (policy.Subject, error) {
		return policy.Subject{ID: id, Roles: []string{"member"}}, nil
	})
	mgr, err := keys.NewManager(keys.Config{Store: memstore.New(), Policy: pol, Subjects: members, Secret: []byte(rand.Text() + rand.Text())})
	require.NoError(t, err)
	t.Cleanup(func() { _ = mgr.Close() })
	p := appParts{sm: sm, sessions: session.SCS(sm, "uid")}
	p.kc, err = middleware.New(middleware.Options{Manager: mgr, Sessions: p.sessions})
	require.NoError(t, err)
	return p
}

// logIn is the app's login form: the password is "pw-" and the user name;
// a success redirects to /home.
func (p appParts) logIn(w http.ResponseWriter, r *http.Request) {
	user := r.PostFormValue("user")
	if user == "" || r.PostFormValue("password") != "pw-"+user {
		http.Error(w, "wrong password", http.StatusUnauthorized)
		return
	}
	if err := p.sessions.LogIn(r.Context(), user); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	http.Redirect(w, r, "/home", http.StatusSeeOther)
}

// home greets the logged-in user.
func (p appParts) home(w http.ResponseWriter, r *http.Request) {
	id, _ := p.sessions.UserID(r.Context())
	_, _ = io.WriteString(w, "hello "+id)
}

// TestStartChi tests a chi app through its own login form: the kit needs
// nothing of its router or its sessions.
func TestStartChi(t *testing.T) {
	t.Parallel()
	p := newAppParts(t)
	r := chi.NewRouter()
	r.Post("/login", p.logIn)
	r.Get("/home", p.home)
	r.Mount("/api-keys", p.kc.KeysHandler())
	r.With(middleware.Require("files:read")).Get("/api/files/{id}", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "file "+chi.URLParam(r, "id"))
	})
	r.With(middleware.Require("files:delete")).Delete("/api/files/{id}", func(w http.ResponseWriter, r *http.Request) {})
	srv := keycaptest.Start(t, p.sm.LoadAndSave(p.kc.Authenticate(r)))

	alice := srv.LogInWithForm(t, "/login", url.Values{"user": {"alice"}, "password": {"pw-alice"}})
	assert.Equal(t, "hello alice", string(alice.Get(t, "/home").Body))
	key := alice.CreateKey(t, "/api-keys", "ci", policy.MustParse("files:read"))

	resp := srv.Anonymous(t).WithKey(key.Key).Get(t, "/api/files/7")
	keycaptest.RequireCode(t, resp, "")
	assert.Equal(t, "file 7", string(resp.Body))
	resp = alice.KeyOnly(t, key.Key).DoJSON(t, http.MethodDelete, "/api/files/7", nil)
	keycaptest.RequireCode(t, resp, keycap.CodeInsufficientPermissions)
	assert.JSONEq(t, `{"missing":["files:delete"]}`, string(resp.Error(t).Details))
	keycaptest.RequireCode(t, srv.Anonymous(t).Get(t, "/api/files/7"), keycap.CodeUnauthenticated)

	// The redirect, when a test wants it: answered, then followed.
	bob := srv.Anonymous(t)
	resp = bob.PostForm(t, "/login", url.Values{"user": {"bob"}, "password": {"pw-bob"}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	assert.Equal(t, "/home", resp.Header.Get("Location"))
	assert.Equal(t, "hello bob", string(bob.Follow(t, resp).Body))

	assert.True(t, fails(t, func(t testing.TB) {
		srv.LogInWithForm(t, "/login", url.Values{"user": {"alice"}, "password": {"wrong"}})
	}), "a refused login fails the test")
	assert.True(t, fails(t, func(t testing.TB) { srv.LogIn(t, "alice") }), "LogIn needs WithSessions")
}

// TestStartServeMux tests a ServeMux app by logging in straight through
// its sessions: no login form needed.
func TestStartServeMux(t *testing.T) {
	t.Parallel()
	p := newAppParts(t)
	mux := http.NewServeMux()
	p.kc.Mount(mux)
	mux.HandleFunc("GET /home", p.home)
	mux.Handle("GET /api/files/{id}", middleware.Require("files:read")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "file "+r.PathValue("id"))
	})))
	srv := keycaptest.Start(t, p.sm.LoadAndSave(p.kc.Authenticate(mux)), keycaptest.WithSessions(p.sessions))

	alice, bob := srv.LogIn(t, "alice"), srv.LogIn(t, "bob")
	assert.Equal(t, "hello alice", string(alice.Get(t, "/home").Body))
	assert.Equal(t, "hello bob", string(bob.Get(t, "/home").Body), "a session each")
	assert.Equal(t, "hello ", string(srv.Anonymous(t).Get(t, "/home").Body))

	key := alice.CreateKey(t, "/api-keys", "ci", policy.MustParse("files:read"))
	resp := srv.Anonymous(t).WithKey(key.Key).Get(t, "/api/files/7")
	keycaptest.RequireCode(t, resp, "")
	assert.Equal(t, "file 7", string(resp.Body))
	resp = bob.DoJSON(t, http.MethodPost, "/api-keys", map[string]any{"name": "x", "permissions": policy.MustParse("files:delete")})
	keycaptest.RequireCode(t, resp, keycap.CodeExceedsMaximum)

	assert.True(t, fails(t, func(t testing.TB) { srv.LogIn(t, "") }), "a login the sessions refuse fails the test")
}

// tokenSessions is a session system that is not scs: an opaque cookie
// naming a user in a map. It shows what an adapter for [Server.LogIn]
// needs.
type tokenSessions struct{ users map[string]string }

type loginKey struct{}

func (s *tokenSessions) LoadAndSave(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var login string
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), loginKey{}, &login)))
		if login != "" {
			token := rand.Text()
			s.users[token] = login
			http.SetCookie(w, &http.Cookie{Name: "tok", Value: token, Path: "/", Domain: "app.example"})
		}
	})
}

func (s *tokenSessions) LogIn(ctx context.Context, userID string) error {
	*ctx.Value(loginKey{}).(*string) = userID
	return nil
}

func TestStartOtherSessions(t *testing.T) {
	t.Parallel()
	s := &tokenSessions{users: map[string]string{}}
	srv := keycaptest.Start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie("tok")
		if err == nil {
			_, _ = io.WriteString(w, s.users[c.Value])
		}
	}), keycaptest.WithSessions(s))
	assert.Equal(t, "carol", string(srv.LogIn(t, "carol").Get(t, "/").Body), "the cookie's Domain is dropped for the test server")
}
