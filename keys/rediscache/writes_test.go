package rediscache_test

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/audit"
	"github.com/keycaphq/keycap/internal/testenv"
	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/keys/memstore"
	"github.com/keycaphq/keycap/keys/rediscache"
)

// unreachable returns a client of a Redis that is not there.
func unreachable(t *testing.T) *redis.Client {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", DialTimeout: 100 * time.Millisecond, MaxRetries: -1})
	t.Cleanup(func() { _ = rdb.Close() })
	return rdb
}

// While Redis is down, reads go to the wrapped store, changes are refused
// with nothing written, and a spent quota unit stays spent.
func TestRedisDown(t *testing.T) {
	ms := memstore.New()
	s, err := rediscache.New(ms, unreachable(t), rediscache.Options{Secret: newSecret()})
	require.NoError(t, err)
	k := newRecord(t, "alice", "files:read")
	one := int64(1)
	k.Remaining = &one
	require.NoError(t, s.Create(t.Context(), k, 0))

	got, err := s.Get(t.Context(), k.ID)
	require.NoError(t, err)
	assert.Equal(t, k.ID, got.ID)

	_, err = s.Change(t.Context(), k.ID, keys.Change{At: t0, Revoke: true, By: audit.User("alice")})
	require.ErrorIs(t, err, keys.ErrStoreUnavailable)
	assert.Contains(t, err.Error(), "nothing was changed")
	stored, err := ms.Get(t.Context(), k.ID)
	require.NoError(t, err)
	assert.False(t, !stored.RevokedAt.IsZero(), "a change was written while Redis could not be told to forget the record")
	assert.Equal(t, int64(1), stored.Version)

	remaining, ok, err := s.Consume(t.Context(), []string{k.ID}, t0)
	require.NoError(t, err, "the unit is spent in the store: the failed drop is retried later")
	assert.True(t, ok)
	assert.Zero(t, remaining)
}

// Consume and Touch drop every record they changed, so reads show the new
// quotas and last use at once.
func TestConsumeAndTouchDropCachedRecords(t *testing.T) {
	_, prefix := testenv.Redis(t)
	s := newCache(t, memstore.New(), prefix, newSecret(), nil)
	parent, child := newRecord(t, "alice", "files:read"), newRecord(t, "alice", "files:read")
	child.Ancestors = []string{parent.ID}
	for i, k := range []*keys.Key{parent, child} {
		left := int64(10 * (i + 1))
		k.Remaining = &left
		require.NoError(t, s.Create(t.Context(), k, 0))
		_, err := s.Get(t.Context(), k.ID) // cached
		require.NoError(t, err)
	}
	remaining, ok, err := s.Consume(t.Context(), []string{child.ID, parent.ID}, t0)
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, int64(9), remaining)
	for id, want := range map[string]int64{parent.ID: 9, child.ID: 19} {
		got, err := s.Get(t.Context(), id)
		require.NoError(t, err)
		assert.Equal(t, want, *got.Remaining, "the cached quota was not dropped")
	}

	require.NoError(t, s.Touch(t.Context(), child.ID, t0.Add(time.Hour), "192.0.2.1"))
	got, err := s.Get(t.Context(), child.ID)
	require.NoError(t, err)
	assert.Equal(t, "192.0.2.1", got.LastUsedIP, "the cached last use was not dropped")
}

// A refused Change writes nothing and leaves the cache coherent.
func TestRefusedChange(t *testing.T) {
	_, prefix := testenv.Redis(t)
	s := newCache(t, memstore.New(), prefix, newSecret(), nil)
	k := newRecord(t, "alice", "files:read")
	require.NoError(t, s.Create(t.Context(), k, 0))
	name := "renamed"
	_, err := s.Change(t.Context(), k.ID, keys.Change{Version: 7, At: t0, Name: &name})
	require.ErrorIs(t, err, keys.ErrConflict)
	_, err = s.Change(t.Context(), "nope", keys.Change{At: t0, Name: &name})
	require.ErrorIs(t, err, keys.ErrNotFound)
	got, err := s.Get(t.Context(), k.ID)
	require.NoError(t, err)
	assert.Equal(t, "k", got.Name)
	assert.Equal(t, int64(1), got.Version)
}

// A fill that comes back more than a TTL after it read the version token
// gives up: the token it would compare against may be gone.
func TestLateFillGivesUp(t *testing.T) {
	rdb, prefix := testenv.Redis(t)
	const ttl = 100 * time.Millisecond
	ms := memstore.New()
	slow := &gated{Store: ms, read: make(chan struct{}), release: make(chan struct{})}
	s, err := rediscache.New(slow, rdb, rediscache.Options{Prefix: prefix, Secret: newSecret(), TTL: ttl})
	require.NoError(t, err)
	k := newRecord(t, "alice", "files:read")
	require.NoError(t, s.Create(t.Context(), k, 0))
	slow.armed.Store(true)
	go func() { <-slow.read; time.Sleep(ttl + 20*time.Millisecond); close(slow.release) }()
	_, err = s.Get(t.Context(), k.ID)
	require.NoError(t, err)
	n, err := rdb.Exists(t.Context(), s.RecordKey(k.ID)).Result()
	require.NoError(t, err)
	assert.Zero(t, n, "a fill a TTL late was cached")
}

// meddling is a store whose Change lets another instance fill the cache
// with the old record just before writing (between the two drops), and
// cancels the caller's context once it has written: a client that went
// away while its revocation was written.
type meddling struct {
	keys.Store
	other  *rediscache.Store
	cancel func()
}

func (m *meddling) Change(ctx context.Context, id string, c keys.Change) (*keys.Key, error) {
	if _, err := m.other.Get(ctx, id); err != nil {
		return nil, err
	}
	k, err := m.Store.Change(ctx, id, c)
	m.cancel()
	return k, err
}

func TestChangeDropsAgainAfterCancel(t *testing.T) {
	_, prefix := testenv.Redis(t)
	ms, secret := memstore.New(), newSecret()
	other := newCache(t, ms, prefix, secret, nil)
	ctx, cancel := context.WithCancel(t.Context())
	s := newCache(t, &meddling{Store: ms, other: other, cancel: cancel}, prefix, secret, nil)
	k := newRecord(t, "alice", "files:read")
	require.NoError(t, s.Create(t.Context(), k, 0))

	_, err := s.Change(ctx, k.ID, keys.Change{At: t0, Revoke: true, By: audit.User("alice")})
	require.NoError(t, err)
	require.Error(t, ctx.Err())
	got, err := other.Get(t.Context(), k.ID)
	require.NoError(t, err)
	assert.True(t, !got.RevokedAt.IsZero(), "the old record cached between the drops survived the change")
}
