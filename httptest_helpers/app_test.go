package keycaptest_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap"
	keycaptest "github.com/keycaphq/keycap/httptest_helpers"
	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/keys/memstore"
	"github.com/keycaphq/keycap/middleware"
	"github.com/keycaphq/keycap/policy"
)

type whoami struct {
	OwnerID     string `json:"owner_id"`
	KeyID       string `json:"key_id"`
	Permissions string `json:"permissions"`
}

func getWhoami(t *testing.T, c *keycaptest.Client) (int, whoami) {
	t.Helper()
	resp := c.DoJSON(t, http.MethodGet, "/whoami", nil)
	var w whoami
	if resp.StatusCode == http.StatusOK {
		resp.JSON(t, &w)
	}
	return resp.StatusCode, w
}

func TestNewAppDefaults(t *testing.T) {
	t.Parallel()
	srv := keycaptest.NewApp(t)

	_, w := getWhoami(t, srv.LogIn(t, "alice"))
	assert.Equal(t, whoami{OwnerID: "alice", Permissions: "files:read files:write projects:read"}, w)
	_, w = getWhoami(t, srv.LogIn(t, "bob"))
	assert.Equal(t, policy.Permissions(keycaptest.Owner).String(), w.Permissions)
	status, _ := getWhoami(t, srv.Anonymous(t))
	assert.Equal(t, http.StatusUnauthorized, status)
	status, _ = getWhoami(t, srv.LogIn(t, "mallory"))
	assert.Equal(t, http.StatusUnauthorized, status, "a user not in the directory is nobody")

	k := srv.LogIn(t, "alice").CreateKey(t, "/api-keys", "ci", policy.Permissions{"files": {"read"}})
	assert.NotEmpty(t, k.ID)
	assert.True(t, strings.HasPrefix(k.Key, "kc_"+k.ID+"_"))
	assert.Equal(t, policy.Permissions{"files": {"read"}}, k.Permissions)
	assert.NotEmpty(t, k.Hint)
	_, w = getWhoami(t, srv.Anonymous(t).WithKey(k.Key))
	assert.Equal(t, whoami{OwnerID: "alice", KeyID: k.ID, Permissions: "files:read"}, w)

	// The key is in the server's store, through its Manager.
	got, err := srv.Manager.Get(context.Background(), keys.Ref{Owner: "alice", ID: k.ID})
	require.NoError(t, err)
	assert.Equal(t, "ci", got.Name)
	_, err = srv.Store.Get(context.Background(), k.ID)
	require.NoError(t, err)
}

func TestWhoamiIsJSON(t *testing.T) {
	t.Parallel()
	srv := keycaptest.NewApp(t, keycaptest.WithUser(`eve","key_id":"forged`, "member"))
	status, w := getWhoami(t, srv.LogIn(t, `eve","key_id":"forged`))
	require.Equal(t, http.StatusOK, status)
	assert.Equal(t, whoami{OwnerID: `eve","key_id":"forged`, Permissions: "files:read files:write projects:read"}, w)
}

func TestOptions(t *testing.T) {
	t.Parallel()
	store := memstore.New()
	srv := keycaptest.NewApp(t,
		keycaptest.WithCap(policy.Permissions{"docs": {"read", "write"}}),
		keycaptest.WithStore(store),
		keycaptest.WithUser("zoe"),
		keycaptest.WithManager(func(c *keys.Config) { c.Prefix = "acme" }),
		keycaptest.WithMiddleware(func(o *middleware.Options) { o.Path = "/keys" }),
		keycaptest.WithRoutes(func(mux *http.ServeMux) {
			mux.Handle("GET /docs", middleware.Require("docs:read")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.WriteString(w, "docs")
			})))
		}),
	)
	assert.Same(t, store, srv.Store)
	zoe := srv.LogIn(t, "zoe")
	k := zoe.CreateKey(t, "/keys", "docs", policy.Permissions{"docs": {"read"}})
	assert.True(t, strings.HasPrefix(k.Key, "acme_"), k.Key)
	_, err := store.Get(context.Background(), k.ID)
	require.NoError(t, err, "the key lives in the given store")

	resp := zoe.KeyOnly(t, k.Key).DoJSON(t, http.MethodGet, "/docs", nil)
	keycaptest.RequireCode(t, resp, "")
	assert.Equal(t, "docs", string(resp.Body))

	resp = zoe.DoJSON(t, http.MethodPost, "/keys", map[string]any{"name": "x", "permissions": map[string][]string{"docs": {"delete"}}})
	keycaptest.RequireCode(t, resp, keycap.CodeExceedsMaximum)

	// WithUser replaced the default users.
	status, _ := getWhoami(t, srv.LogIn(t, "alice"))
	assert.Equal(t, http.StatusUnauthorized, status)
}

func TestUsers(t *testing.T) {
	t.Parallel()
	u := keycaptest.NewUsers()
	ctx := context.Background()

	_, err := u.Subject(ctx, "alice")
	assert.ErrorIs(t, err, policy.ErrUnknownSubject)

	u.Set("alice", "member", "owner")
	s, err := u.Subject(ctx, "alice")
	require.NoError(t, err)
	assert.Equal(t, policy.Subject{ID: "alice", Roles: []string{"member", "owner"}}, s)

	u.Disable("alice", true)
	s, _ = u.Subject(ctx, "alice")
	assert.True(t, s.Disabled)
	assert.Equal(t, []string{"member", "owner"}, s.Roles, "disabling keeps the roles")
	u.Disable("alice", false)
	s, _ = u.Subject(ctx, "alice")
	assert.False(t, s.Disabled)

	u.Put(policy.Subject{ID: "bob", Attributes: map[string]string{"plan": "pro"}})
	s, _ = u.Subject(ctx, "bob")
	assert.Equal(t, "pro", s.Attributes["plan"])

	u.Delete("alice")
	_, err = u.Subject(ctx, "alice")
	assert.ErrorIs(t, err, policy.ErrUnknownSubject)

	// Disabling (or enabling) an unknown user does not bring it to life.
	u.Disable("ghost", false)
	_, err = u.Subject(ctx, "ghost")
	assert.ErrorIs(t, err, policy.ErrUnknownSubject)

	// Safe for concurrent use.
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			u.Set("carol", "viewer")
			u.Disable("carol", true)
			_, _ = u.Subject(ctx, "carol")
			u.Delete("carol")
		})
	}
	wg.Wait()
}
