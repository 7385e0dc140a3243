package middleware_test

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	keycaptest "github.com/keycaphq/keycap/httptest_helpers"
	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/keys/memstore"
	"github.com/keycaphq/keycap/middleware"
	"github.com/keycaphq/keycap/policy"
)

// Roles of the test policy. Max is their union: a cap comes from the roles.
var (
	viewerRole = policy.Permissions{"files": {"read"}, "projects": {"read"}}
	memberRole = policy.Permissions{"files": {"read", "write"}, "projects": {"read"}}
	ownerRole  = policy.Permissions{"files": {"delete", "read", "write"}, "projects": {"delete", "read", "write"}, "billing": {"read"}}
	adminRole  = policy.Permissions{"files": {"read"}, "keys": {"admin"}}
)

// testPolicy lets clients choose permissions within their roles.
func testPolicy() policy.Config {
	return policy.Config{
		AllowClientPermissions: true,
		Max:                    policy.Union(viewerRole, memberRole, ownerRole, adminRole),
		Roles:                  map[string]policy.Permissions{"viewer": viewerRole, "member": memberRole, "owner": ownerRole, "admin": adminRole},
	}
}

// withLifetime is testPolicy with a maximum lifetime.
func withLifetime(longest time.Duration) keycaptest.AppOption {
	c := testPolicy()
	c.MaxLifetime = longest
	return keycaptest.WithPolicy(c)
}

// countingStore is a memstore that counts write attempts and can be taken
// down.
type countingStore struct {
	*memstore.Store
	creates, updates atomic.Int64
	down             atomic.Bool
	// readDelay, when set, pauses each Get up to that long (at random)
	// after it read the record: a database's round trip, the window in
	// which another write lands between a change's read and its write.
	readDelay atomic.Int64
}

func newCountingStore() *countingStore { return &countingStore{Store: memstore.New()} }

func (s *countingStore) Create(ctx context.Context, k *keys.Key, maxLive int) error {
	s.creates.Add(1)
	if s.down.Load() {
		return keys.ErrStoreUnavailable
	}
	return s.Store.Create(ctx, k, maxLive)
}

func (s *countingStore) Change(ctx context.Context, id string, c keys.Change) (*keys.Key, error) {
	s.updates.Add(1)
	if s.down.Load() {
		return nil, keys.ErrStoreUnavailable
	}
	return s.Store.Change(ctx, id, c)
}

func (s *countingStore) Get(ctx context.Context, id string) (*keys.Key, error) {
	if s.down.Load() {
		return nil, keys.ErrStoreUnavailable
	}
	k, err := s.Store.Get(ctx, id)
	if d := s.readDelay.Load(); d > 0 {
		time.Sleep(time.Duration(rand.Int64N(d)))
	}
	return k, err
}

func (s *countingStore) List(ctx context.Context, owner string, page keys.Page) ([]*keys.Key, error) {
	if s.down.Load() {
		return nil, keys.ErrStoreUnavailable
	}
	return s.Store.List(ctx, owner, page)
}

// writes is the number of Create and Change calls so far.
func (s *countingStore) writes() int64 { return s.creates.Load() + s.updates.Load() }

// snapshot returns every record of owners, without the last-used
// bookkeeping (written asynchronously, and not a change to the key).
func (s *countingStore) snapshot(t testing.TB, owners ...string) map[string]*keys.Key {
	t.Helper()
	out := map[string]*keys.Key{}
	for _, owner := range owners {
		list, err := s.Store.List(context.Background(), owner, keys.Page{Limit: 10_000})
		require.NoError(t, err)
		for _, k := range list {
			k.LastUsedAt, k.LastUsedIP = time.Time{}, ""
			out[k.ID] = k
		}
	}
	return out
}

// fakeClock is a settable clock for keys.Config.Now.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Now().UTC()} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// principalJSON is what GET /api/me answers.
type principalJSON struct {
	Kind        string             `json:"kind"`
	KeyID       string             `json:"key_id"`
	OwnerID     string             `json:"owner_id"`
	Permissions policy.Permissions `json:"permissions"`
	// Organization, KeyKind and Metadata are what Principal says of an
	// organization's key, a key's kind and its metadata.
	Organization bool            `json:"organization"`
	KeyKind      string          `json:"key_kind"`
	Metadata     json.RawMessage `json:"metadata,omitempty"`
}

// appRoutes are the app's own routes, guarded by Require.
func appRoutes(mux *http.ServeMux) {
	ok := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"route": r.Pattern, "id": r.PathValue("id")})
	}
	mux.Handle("GET /api/files", middleware.Require("files:read")(http.HandlerFunc(ok)))
	mux.Handle("GET /api/files/{id}", middleware.Require("files:read")(http.HandlerFunc(ok)))
	mux.Handle("POST /api/files", middleware.Require("files:write")(http.HandlerFunc(ok)))
	mux.Handle("DELETE /api/files/{id}", middleware.Require("files:delete")(http.HandlerFunc(ok)))
	mux.Handle("GET /api/billing", middleware.Require("billing:read")(http.HandlerFunc(ok)))
	mux.Handle("GET /api/report", middleware.Require("files:read", "billing:read")(http.HandlerFunc(ok)))
	mux.HandleFunc("GET /api/me", servePrincipal)
	mux.HandleFunc("POST /api/open", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
}

func servePrincipal(w http.ResponseWriter, r *http.Request) {
	p, ok := middleware.PrincipalFrom(r.Context())
	if !ok {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	kind := map[middleware.Kind]string{middleware.KindKey: "key", middleware.KindSession: "session"}[p.Kind()]
	k, err := p.Key(r.Context()) // the record, for its metadata: nil for a session
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	var metadata json.RawMessage
	if k != nil {
		metadata = k.Metadata
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(principalJSON{Kind: kind, KeyID: p.KeyID(), OwnerID: p.OwnerID(), Permissions: p.Permissions(),
		Organization: p.Organization(), KeyKind: p.KeyKind(), Metadata: metadata})
}

// fixture is a running app with users, sessions and a key each:
//
//	alice (member), bob (owner), carol (viewer), root (admin: keys:admin)
//
// aliceKey holds files:read and files:write; bobKey everything bob may grant.
type fixture struct {
	srv    *keycaptest.App
	store  *countingStore
	clock  *fakeClock
	alice  *keycaptest.Client
	bob    *keycaptest.Client
	carol  *keycaptest.Client
	root   *keycaptest.Client
	anon   *keycaptest.Client
	owners []string

	aliceKey keycaptest.CreatedKey
	bobKey   keycaptest.CreatedKey
}

// newFixture starts the app; opts come after the defaults, so they win.
func newFixture(t testing.TB, opts ...keycaptest.AppOption) *fixture {
	t.Helper()
	f := &fixture{store: newCountingStore(), clock: newFakeClock(), owners: []string{"alice", "bob", "carol", "root"}}
	defaults := []keycaptest.AppOption{
		keycaptest.WithStore(f.store),
		keycaptest.WithPolicy(testPolicy()),
		keycaptest.WithUser("alice", "member"),
		keycaptest.WithUser("bob", "owner"),
		keycaptest.WithUser("carol", "viewer"),
		keycaptest.WithUser("root", "admin"),
		keycaptest.WithManager(func(c *keys.Config) { c.Now = f.clock.Now }),
		keycaptest.WithRoutes(appRoutes),
	}
	f.srv = keycaptest.NewApp(t, append(defaults, opts...)...)
	f.alice = f.srv.LogIn(t, "alice")
	f.bob = f.srv.LogIn(t, "bob")
	f.carol = f.srv.LogIn(t, "carol")
	f.root = f.srv.LogIn(t, "root")
	f.anon = f.srv.Anonymous(t)
	f.aliceKey = f.mint(t, "alice", policy.Permissions{"files": {"read", "write"}}, 0)
	f.bobKey = f.mint(t, "bob", ownerRole, 0)
	return f
}

// mint creates a key for owner through the Manager (so that it works
// whatever the HTTP options), living for lifetime (0: the default).
func (f *fixture) mint(t testing.TB, owner string, perms policy.Permissions, lifetime time.Duration) keycaptest.CreatedKey {
	t.Helper()
	k, token, err := f.srv.Manager.Create(context.Background(), keys.CreateRequest{Owner: owner, Name: owner + " key", Permissions: perms, Lifetime: lifetime})
	require.NoError(t, err)
	return keycaptest.CreatedKey{ID: k.ID, Key: token, Hint: k.Hint, Permissions: k.Permissions}
}

// keyClient returns a client that sends key and no cookies.
func (f *fixture) keyClient(t testing.TB, key string) *keycaptest.Client {
	return f.srv.Anonymous(t).WithKey(key)
}

// get returns the stored record of key id, whoever owns it.
func (f *fixture) get(t testing.TB, id string) *keys.Key {
	t.Helper()
	k, err := f.store.Store.Get(context.Background(), id)
	require.NoError(t, err)
	return k
}

// keyBody is the JSON of a key record as the keys handler answers it.
type keyBody struct {
	ID                string             `json:"id"`
	Name              string             `json:"name"`
	Hint              string             `json:"hint"`
	Prefix            string             `json:"prefix"`
	OwnerID           string             `json:"owner_id"`
	Permissions       policy.Permissions `json:"permissions"`
	Status            string             `json:"status"`
	ExpiresAt         *time.Time         `json:"expires_at"`
	RevokedAt         *time.Time         `json:"revoked_at"`
	RevokedBy         string             `json:"revoked_by"`
	RevokedReason     string             `json:"revoked_reason"`
	CreatedBy         string             `json:"created_by"`
	ChangedBy         string             `json:"changed_by"`
	Kind              string             `json:"kind"`
	Metadata          json.RawMessage    `json:"metadata"`
	PreviousExpiresAt *time.Time         `json:"previous_secret_expires_at"`
	Key               string             `json:"key"`
}

type listBody struct {
	Keys       []keyBody `json:"keys"`
	NextCursor string    `json:"next_cursor"`
}

// details decodes the details of an error answer into a T.
func details[T any](t testing.TB, resp *keycaptest.Response) T {
	t.Helper()
	var d T
	require.NoError(t, json.Unmarshal(resp.Error(t).Details, &d), "details of %s", resp.Body)
	return d
}

// ids returns the ids of list, in order.
func ids(list []keyBody) []string {
	out := make([]string, len(list))
	for i, k := range list {
		out[i] = k.ID
	}
	return out
}

// sortedDesc reports whether s is in strictly descending order.
func sortedDesc(s []string) bool {
	for i := 1; i < len(s); i++ {
		if s[i-1] <= s[i] {
			return false
		}
	}
	return true
}

func ptr[T any](v T) *T { return &v }
