package middleware_test

import (
	"bytes"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap"
	keycaptest "github.com/keycaphq/keycap/httptest_helpers"
	"github.com/keycaphq/keycap/internal/openapicheck"
	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/middleware"
	"github.com/keycaphq/keycap/session"
)

// TestWiringOrders: with either wiring the README shows, a handler that
// reads and writes the session on a request made with a key neither panics
// nor fails: in the plain order it sees the session the request carries; in
// the faster order (SkipForKeys) it sees nobody and its writes are dropped.
// Requests without a key get their session in both.
func TestWiringOrders(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	sm := f.srv.Sessions
	sessions := session.SCS(sm, keycaptest.SessionKey)
	kc := f.srv.Keycap
	readsSession := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user := sm.GetString(r.Context(), keycaptest.SessionKey) // scs panics without session data
		sm.Put(r.Context(), "visited", true)
		_, _ = w.Write([]byte("user=" + user))
	})
	mux := http.NewServeMux()
	mux.Handle("GET /read", middleware.Require("files:read")(readsSession))
	for _, tt := range []struct {
		name         string
		handler      http.Handler
		keyedSession string // what the handler sees on a keyed request with alice's cookie
	}{
		{"plain: LoadAndSave outside Authenticate", sm.LoadAndSave(kc.Authenticate(mux)), "alice"},
		{"faster: SkipForKeys inside Authenticate", kc.Authenticate(kc.SkipForKeys(sessions)(mux)), ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(tt.handler)
			t.Cleanup(srv.Close)
			alice := keycaptest.NewClient(t, srv.URL).AddCookie(t, keycaptest.SessionCookie(t, sm, keycaptest.SessionKey, "alice"))

			resp := alice.WithKey(f.aliceKey.Key).DoJSON(t, http.MethodGet, "/read", nil)
			require.Equal(t, http.StatusOK, resp.StatusCode, "%s", resp.Body)
			assert.Equal(t, "user="+tt.keyedSession, string(resp.Body))
			if tt.keyedSession == "" {
				assert.Empty(t, resp.Header.Values("Set-Cookie"), "the empty session is never saved")
			}

			resp = alice.DoJSON(t, http.MethodGet, "/read", nil)
			require.Equal(t, http.StatusOK, resp.StatusCode, "%s", resp.Body)
			assert.Equal(t, "user=alice", string(resp.Body), "a browser request has its session")

			resp = keycaptest.NewClient(t, srv.URL).WithKey(f.aliceKey.Key).DoJSON(t, http.MethodGet, "/read", nil)
			require.Equal(t, http.StatusOK, resp.StatusCode, "%s", resp.Body)
			assert.Equal(t, "user=", string(resp.Body), "a key alone: nobody logged in, no panic")
		})
	}
}

// TestOptionsHooks: OnError writes every refusal after keycap set its
// headers, Logger receives the cause of a 5xx (never sent), and a given
// CrossOrigin protection is the one used.
func TestOptionsHooks(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	var written []*keycap.Error
	csrf := http.NewCrossOriginProtection()
	require.NoError(t, csrf.AddTrustedOrigin("https://admin.example.com"))
	f := newFixture(t, keycaptest.WithMiddleware(func(o *middleware.Options) {
		o.Logger = slog.New(slog.NewTextHandler(&logs, nil))
		o.CrossOrigin = csrf
		o.OnError = func(w http.ResponseWriter, r *http.Request, err *keycap.Error) {
			written = append(written, err)
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(err.Code.Status())
			_, _ = w.Write([]byte("custom: " + string(err.Code)))
		}
	}))

	resp := f.keyClient(t, "kc_not_a_key").DoJSON(t, http.MethodGet, "/api/files", nil)
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.Equal(t, "custom: KEY_INVALID", string(resp.Body))
	alice := f.alice.WithHeader(openapicheck.SkipHeader, "the test's own OnError writes text")
	assert.Contains(t, resp.Header.Get("WWW-Authenticate"), "Bearer", "keycap's headers come first")

	f.store.down.Store(true)
	resp = alice.DoJSON(t, http.MethodGet, "/api-keys", nil)
	f.store.down.Store(false)
	assert.Equal(t, "custom: STORE_UNAVAILABLE", string(resp.Body))
	assert.Contains(t, logs.String(), "STORE_UNAVAILABLE")
	assert.Contains(t, logs.String(), keys.ErrStoreUnavailable.Error(), "the cause is logged")
	assert.NotContains(t, string(resp.Body), "store unavailable", "and never sent")

	trusted := f.alice.WithHeader("Origin", "https://admin.example.com").WithHeader("Sec-Fetch-Site", "cross-site")
	keycaptest.RequireCode(t, trusted.DoJSON(t, http.MethodPost, "/api-keys", map[string]any{"name": "x", "permissions": map[string][]string{"files": {"read"}}}), "")
	resp = alice.WithHeader("Origin", "https://evil.example").WithHeader("Sec-Fetch-Site", "cross-site").
		DoJSON(t, http.MethodPost, "/api-keys", map[string]any{"name": "x"})
	assert.Equal(t, "custom: CSRF", string(resp.Body))

	require.NotEmpty(t, written)
	for _, e := range written {
		assert.True(t, errors.Is(e, &keycap.Error{Code: e.Code}))
		assert.False(t, strings.Contains(e.Message, "kc_not_a_key"), "no key in a message")
	}
	_, err := middleware.New(middleware.Options{Manager: f.srv.Manager, CrossOrigin: csrf, TrustedOrigins: []string{"https://x.example"}})
	assert.ErrorContains(t, err, "not both")
}
