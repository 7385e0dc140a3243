package keys_test

import (
	"context"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/internal/keyforge"
	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/policy"
)

// TestCacheTagFastPath: a cached key that passed the HMAC passes again by
// its SipHash tag, but nothing else does: a forged key for the same id
// (valid form and checksum, another secret) is refused on every try, also
// right after the real key's hits; a revocation through the Manager takes
// effect at the very next verification; the previous secret of a rotation
// is still told apart (PreviousSecret) and stops at the end of its grace.
func TestCacheTagFastPath(t *testing.T) {
	f := newFixture(t, withCache)
	ctx := context.Background()
	k, token := f.create(t, "alice", "invoices:read")
	for range 3 {
		v, err := f.m.Verify(ctx, token, "")
		require.NoError(t, err)
		assert.False(t, v.PreviousSecret)
	}
	accepted := 0
	for range 200 {
		if _, err := f.m.Verify(ctx, keyforge.Key("kc", k.ID), ""); err == nil {
			accepted++
		} else {
			assert.ErrorIs(t, err, keys.ErrInvalid)
		}
		_, err := f.m.Verify(ctx, token, "")
		require.NoError(t, err)
	}
	assert.Zero(t, accepted, "forged keys for a cached id accepted")

	_, fresh, err := f.m.Rotate(ctx, keys.RotateRequest{Ref: ref("alice", k.ID), Grace: time.Hour})
	require.NoError(t, err)
	for range 3 {
		v, err := f.m.Verify(ctx, token, "")
		require.NoError(t, err)
		assert.True(t, v.PreviousSecret, "the old secret is the previous one, whatever the cache saw")
		v, err = f.m.Verify(ctx, fresh, "")
		require.NoError(t, err)
		assert.False(t, v.PreviousSecret)
	}
	f.clock.Advance(time.Hour)
	_, err = f.m.Verify(ctx, token, "")
	assert.ErrorIs(t, err, keys.ErrInvalid, "the previous secret after its grace")

	_, err = f.m.Revoke(ctx, keys.RevokeRequest{Ref: ref("alice", k.ID)})
	require.NoError(t, err)
	_, err = f.m.Verify(ctx, fresh, "")
	assert.ErrorIs(t, err, keys.ErrInvalid, "a revoked key passed on its cached tag")
}

// TestCachedVerifiedFollowsOwner: the Verified a cache hit shares is
// answered only under the same cap and subject: a demotion cuts the very
// next verification.
func TestCachedVerifiedFollowsOwner(t *testing.T) {
	f := newFixture(t, withCache)
	ctx := context.Background()
	_, token := f.create(t, "alice", "invoices:read", "invoices:write")
	for range 3 {
		v, err := f.m.Verify(ctx, token, "")
		require.NoError(t, err)
		assert.True(t, v.Permissions.Has("invoices", "write"))
	}
	demoted := f.users.users["carol"] // a viewer
	demoted.ID = "alice"
	f.users.set("alice", demoted)
	v, err := f.m.Verify(ctx, token, "")
	require.NoError(t, err)
	assert.False(t, v.Permissions.Has("invoices", "write"), "a demoted owner's key kept its cached permissions")
	assert.Equal(t, []string{"viewer"}, v.Subject.Roles)
}

// TestHeapPerCachedKey measures the heap that cached keys hold: records
// of 2,000 keys are read into the cache and verified, and the live heap
// grows by at most 500 bytes a key (its cache entry, which holds the
// compact record and the tag, the shared Verified and its slot in the
// clock ring; see the README's Capacity). The presented keys are kept
// alive to the end, so that their freeing does not flatter the figure.
func TestHeapPerCachedKey(t *testing.T) {
	if testing.Short() {
		t.Skip("fills a cache of 2,000 keys")
	}
	const n = 2_000
	f := newFixture(t, func(c *keys.Config) {
		c.Cache = keys.CacheConfig{SingleInstance: true, Size: n}
		c.LastUsedInterval = -1
		c.Auditor = nil
	})
	ctx := context.Background()
	tokens := make([]string, n)
	for i := range tokens {
		owner := "user" + strconv.Itoa(i/50) // owners have at most 100 live keys
		f.users.set(owner, policy.Subject{ID: owner, Roles: []string{"admin"}})
		_, tokens[i] = f.create(t, owner, "invoices:read")
	}
	m, err := keys.NewManager(f.config) // an empty cache over the same store
	require.NoError(t, err)
	before := liveHeap()
	for _, tok := range tokens {
		for range 2 { // the first fills the cache, the second keeps a tag
			_, err := m.Verify(ctx, tok, "")
			require.NoError(t, err)
		}
	}
	perKey := (liveHeap() - before) / n
	runtime.KeepAlive(m)
	runtime.KeepAlive(tokens)
	t.Logf("heap per cached key: %d bytes", perKey)
	assert.LessOrEqual(t, perKey, int64(500))
}

func liveHeap() int64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}
