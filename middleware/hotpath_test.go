package middleware_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap"
	keycaptest "github.com/keycaphq/keycap/httptest_helpers"
	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/keys/memstore"
)

// tally counts Store calls by method.
type tally struct {
	keys.Store
	mu    sync.Mutex
	calls map[string]int
}

func newTally(s keys.Store) *tally { return &tally{Store: s, calls: map[string]int{}} }

func (t *tally) add(m string) { t.mu.Lock(); t.calls[m]++; t.mu.Unlock() }
func (t *tally) n(m string) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.calls[m]
}
func (t *tally) Create(ctx context.Context, k *keys.Key, maxLive int) error {
	t.add("Create")
	return t.Store.Create(ctx, k, maxLive)
}
func (t *tally) Get(ctx context.Context, id string) (*keys.Key, error) {
	t.add("Get")
	return t.Store.Get(ctx, id)
}
func (t *tally) Change(ctx context.Context, id string, c keys.Change) (*keys.Key, error) {
	t.add("Change")
	return t.Store.Change(ctx, id, c)
}
func (t *tally) Consume(ctx context.Context, ids []string, now time.Time) (int64, bool, error) {
	t.add("Consume")
	return t.Store.Consume(ctx, ids, now)
}
func (t *tally) Touch(ctx context.Context, id string, at time.Time, ip string) error {
	t.add("Touch")
	return t.Store.Touch(ctx, id, at, ip)
}

// TestHotPathWritesNothing: a thousand verified requests make no Store
// write and, with the in-process cache, one Store read; last-used
// bookkeeping is one coalesced write, off the request path.
func TestHotPathWritesNothing(t *testing.T) {
	store := newTally(memstore.New())
	srv := keycaptest.NewApp(t, keycaptest.WithStore(store), keycaptest.WithRoutes(filesRoutes),
		keycaptest.WithManager(func(c *keys.Config) { c.Cache.SingleInstance = true }))
	k := srv.LogIn(t, "alice").CreateKey(t, "/api-keys", "ci", filesRead)
	reads := store.n("Get")
	c := srv.Anonymous(t).WithKey(k.Key)
	for range 1000 {
		require.Equal(t, http.StatusOK, c.DoJSON(t, http.MethodGet, "/api/files", nil).StatusCode)
	}
	assert.Equal(t, 1, store.n("Create"))
	assert.Zero(t, store.n("Change")+store.n("Touch"), "verification wrote to the store")
	assert.LessOrEqual(t, store.n("Get")-reads, 1, "the cache serves repeated verifications")
	require.NoError(t, srv.Manager.Close())
	assert.Equal(t, 1, store.n("Touch"), "a thousand uses, one last-used write")
}

// TestMalformedKeysNeverReachTheStore: keys with a bad form or checksum
// are refused before any storage access.
func TestMalformedKeysNeverReachTheStore(t *testing.T) {
	store := newTally(memstore.New())
	srv := keycaptest.NewApp(t, keycaptest.WithStore(store), keycaptest.WithRoutes(filesRoutes))
	k := srv.LogIn(t, "alice").CreateKey(t, "/api-keys", "ci", filesRead)
	reads := store.n("Get")
	flip := []byte(k.Key)
	flip[len(flip)-8] ^= 0x01 // a typo in the secret: the checksum no longer matches
	for _, bad := range []string{
		string(flip),
		k.Key[:len(k.Key)-1],
		k.Key + "0",
		"kc_" + k.ID + "_" + "not-base62-at-all-not-base62-at!_AAAAAA",
		"kc_short",
	} {
		resp := srv.Anonymous(t).WithKey(bad).DoJSON(t, http.MethodGet, "/api/files", nil)
		keycaptest.RequireCode(t, resp, keycap.CodeKeyInvalid)
		assert.NotContains(t, string(resp.Body), bad, "errors never echo the key")
	}
	assert.Equal(t, reads, store.n("Get"), "a malformed key reached the store")
}
