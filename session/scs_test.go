package session_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/alexedwards/scs/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/session"
)

// app is a tiny scs app: /login?user= logs in, /logout logs out, /me
// answers the user id, /put-int stores a non-string id.
func app(t *testing.T, sm *scs.SessionManager, s *session.SCSSessions) *httptest.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
		if err := s.LogIn(r.Context(), r.URL.Query().Get("user")); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
		}
	})
	mux.HandleFunc("/logout", func(w http.ResponseWriter, r *http.Request) {
		if err := s.LogOut(r.Context()); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	})
	mux.HandleFunc("/me", func(w http.ResponseWriter, r *http.Request) {
		id, err := s.UserID(r.Context())
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		_, _ = io.WriteString(w, id)
	})
	mux.HandleFunc("/put-int", func(w http.ResponseWriter, r *http.Request) { sm.Put(r.Context(), "userID", 42) })
	srv := httptest.NewServer(sm.LoadAndSave(mux))
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, c *http.Client, url string) (int, string) {
	t.Helper()
	resp, err := c.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(body)
}

func TestSCS(t *testing.T) {
	t.Parallel()
	sm := scs.New()
	srv := app(t, sm, session.SCS(sm, ""))
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	c := &http.Client{Jar: jar}
	token := func() string {
		for _, ck := range jar.Cookies(mustURL(t, srv.URL)) {
			if ck.Name == sm.Cookie.Name {
				return ck.Value
			}
		}
		return ""
	}

	status, body := get(t, c, srv.URL+"/me")
	assert.Equal(t, http.StatusOK, status)
	assert.Equal(t, "", body, "nobody is logged in")

	// A session before login, to check that login renews the token.
	get(t, c, srv.URL+"/put-int")
	before := token()
	require.NotEmpty(t, before)
	_, body = get(t, c, srv.URL+"/me")
	assert.Equal(t, "", body, "a non-string id is nobody, not a crash")

	status, _ = get(t, c, srv.URL+"/login?user=alice")
	require.Equal(t, http.StatusOK, status)
	assert.NotEqual(t, before, token(), "logging in renews the session token (no fixation)")
	_, body = get(t, c, srv.URL+"/me")
	assert.Equal(t, "alice", body)

	status, body = get(t, c, srv.URL+"/login?user=")
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Contains(t, body, "empty user id")
	_, body = get(t, c, srv.URL+"/me")
	assert.Equal(t, "alice", body, "a refused login changes nothing")

	get(t, c, srv.URL+"/logout")
	_, body = get(t, c, srv.URL+"/me")
	assert.Equal(t, "", body)

	// The old token, replayed, is nobody.
	replay := &http.Client{}
	req, err := http.NewRequest(http.MethodGet, srv.URL+"/me", nil)
	require.NoError(t, err)
	req.AddCookie(&http.Cookie{Name: sm.Cookie.Name, Value: before})
	resp, err := replay.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	assert.Equal(t, "", string(data))
}

func TestSCSCustomKey(t *testing.T) {
	t.Parallel()
	sm := scs.New()
	s := session.SCS(sm, "uid")
	ctx, err := sm.Load(context.Background(), "")
	require.NoError(t, err)
	sm.Put(ctx, "userID", "wrong-key")
	id, err := s.UserID(ctx)
	require.NoError(t, err)
	assert.Equal(t, "", id)
	sm.Put(ctx, "uid", "bob")
	id, err = s.UserID(ctx)
	require.NoError(t, err)
	assert.Equal(t, "bob", id)

	require.NoError(t, s.LogIn(ctx, "carol"))
	assert.Equal(t, "carol", sm.GetString(ctx, "uid"))
}

// TestSCSWithoutLoadAndSave: outside LoadAndSave every method reports
// ErrNoSession instead of letting scs panic.
func TestSCSWithoutLoadAndSave(t *testing.T) {
	t.Parallel()
	s := session.SCS(scs.New(), "")
	ctx := context.Background()

	id, err := s.UserID(ctx)
	assert.ErrorIs(t, err, session.ErrNoSession)
	assert.Equal(t, "", id)
	assert.ErrorIs(t, s.LogIn(ctx, "alice"), session.ErrNoSession)
	assert.ErrorIs(t, s.LogOut(ctx), session.ErrNoSession)
	assert.Contains(t, session.ErrNoSession.Error(), "LoadAndSave")

	// Another manager's session is no session for this one.
	other := scs.New()
	octx, err := other.Load(ctx, "")
	require.NoError(t, err)
	_, err = s.UserID(octx)
	assert.ErrorIs(t, err, session.ErrNoSession)
}

func TestFunc(t *testing.T) {
	t.Parallel()
	var s session.Sessions = session.Func(func(ctx context.Context) (string, error) {
		if v, ok := ctx.Value(userKey{}).(string); ok {
			return v, nil
		}
		return "", session.ErrNoSession
	})
	id, err := s.UserID(context.WithValue(context.Background(), userKey{}, "dave"))
	require.NoError(t, err)
	assert.Equal(t, "dave", id)
	_, err = s.UserID(context.Background())
	assert.True(t, errors.Is(err, session.ErrNoSession))
}

type userKey struct{}

var _ session.Sessions = (*session.SCSSessions)(nil)

func mustURL(t *testing.T, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	require.NoError(t, err)
	return u
}
