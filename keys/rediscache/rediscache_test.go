package rediscache_test

import (
	"context"
	"crypto/rand"
	"errors"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/internal/testenv"
	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/keys/memstore"
	"github.com/keycaphq/keycap/keys/rediscache"
	"github.com/keycaphq/keycap/policy"
)

// instances returns two Managers, as two app instances would have: each
// with its own Redis connection and cache wrapper, over one shared store,
// with no in-process cache. users is their shared user directory.
func instances(t *testing.T) (a, b *keys.Manager, users *sync.Map) {
	t.Helper()
	rdbA, prefix := testenv.Redis(t)
	rdbB, _ := testenv.Redis(t)
	shared := &hidden{memstore.New()}
	users = &sync.Map{}
	users.Store("alice", policy.Subject{ID: "alice", Roles: []string{"writer"}})
	subjects := keys.SubjectsFunc(func(_ context.Context, id string) (policy.Subject, error) {
		s, ok := users.Load(id)
		if !ok {
			return policy.Subject{}, keys.ErrUnknownSubject
		}
		return s.(policy.Subject), nil
	})
	pol := policy.MustNew(policy.Config{AllowClientPermissions: true, Roles: map[string]policy.Permissions{
		"writer": policy.MustParse("files:read", "files:write"),
		"reader": policy.MustParse("files:read"),
	}})
	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	mk := func(store keys.Store) *keys.Manager {
		m, err := keys.NewManager(keys.Config{Store: store, Policy: pol, Subjects: subjects, Secret: secret, Cache: keys.CacheConfig{Disabled: true}})
		require.NoError(t, err)
		return m
	}
	a = mk(rediscache.New(shared, rdbA, rediscache.Options{Prefix: prefix}))
	b = mk(rediscache.New(shared, rdbB, rediscache.Options{Prefix: prefix}))
	return a, b, users
}

// hidden hides memstore's Local method: the store stands for a shared one.
type hidden struct{ *memstore.Store }

func TestRevokeThroughOneInstanceRefusedByOther(t *testing.T) {
	a, b, _ := instances(t)
	ctx := context.Background()
	for i := range 50 {
		k, secret, err := a.Create(ctx, keys.CreateRequest{OwnerID: "alice", Name: "k", Permissions: policy.MustParse("files:read")})
		require.NoError(t, err)
		_, err = b.Verify(ctx, secret) // B caches the record in Redis
		require.NoError(t, err, "round %d", i)
		_, err = a.Revoke(ctx, "alice", k.ID, keys.RevokeRequest{})
		require.NoError(t, err)
		_, err = b.Verify(ctx, secret)
		require.ErrorIs(t, err, keys.ErrRevoked, "round %d: B accepted a key A revoked", i)
	}
}

// TestNoStaleRecordUnderConcurrency races B's cache fills against A's
// changes: once A's Revoke returns, no Verify on B may accept the key.
func TestNoStaleRecordUnderConcurrency(t *testing.T) {
	a, b, _ := instances(t)
	ctx := context.Background()
	for i := range 30 {
		k, secret, err := a.Create(ctx, keys.CreateRequest{OwnerID: "alice", Name: "k", Permissions: policy.MustParse("files:read")})
		require.NoError(t, err)
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					default:
						_, _ = b.Verify(ctx, secret)
					}
				}
			}()
		}
		_, err = a.Revoke(ctx, "alice", k.ID, keys.RevokeRequest{})
		require.NoError(t, err)
		for range 20 {
			_, err := b.Verify(ctx, secret)
			require.True(t, errors.Is(err, keys.ErrRevoked), "round %d: stale accept after revoke: %v", i, err)
		}
		close(stop)
		wg.Wait()
		_, err = b.Verify(ctx, secret)
		require.ErrorIs(t, err, keys.ErrRevoked)
	}
}

func TestUpdateAndDemotionSeenByOtherInstance(t *testing.T) {
	a, b, users := instances(t)
	ctx := context.Background()
	k, secret, err := a.Create(ctx, keys.CreateRequest{OwnerID: "alice", Name: "k", Permissions: policy.MustParse("files:read", "files:write")})
	require.NoError(t, err)
	v, err := b.Verify(ctx, secret)
	require.NoError(t, err)
	assert.True(t, policy.Satisfies(v.Permissions, "files:write"))

	_, err = a.Update(ctx, "alice", k.ID, keys.UpdateRequest{Permissions: policy.MustParse("files:read")})
	require.NoError(t, err)
	v, err = b.Verify(ctx, secret)
	require.NoError(t, err)
	assert.False(t, policy.Satisfies(v.Permissions, "files:write"), "B still sees the old permissions")

	_, err = a.Update(ctx, "alice", k.ID, keys.UpdateRequest{Permissions: policy.MustParse("files:read", "files:write")})
	require.NoError(t, err)
	users.Store("alice", policy.Subject{ID: "alice", Roles: []string{"reader"}}) // demoted in the shared directory
	v, err = b.Verify(ctx, secret)
	require.NoError(t, err)
	assert.Equal(t, policy.MustParse("files:read"), v.Permissions)

	_, _, err = a.Rotate(ctx, "alice", k.ID, 0, nil, "")
	require.NoError(t, err)
	_, err = b.Verify(ctx, secret)
	require.ErrorIs(t, err, keys.ErrInvalid, "the rotated-out secret still works on B")
}

// gated is a store whose next Get pauses after reading the record until
// released: an instance reading the database just before another changes it.
type gated struct {
	keys.Store
	read, release chan struct{}
	armed         bool
	mu            sync.Mutex
}

func (g *gated) Get(ctx context.Context, id string) (*keys.Key, error) {
	k, err := g.Store.Get(ctx, id)
	g.mu.Lock()
	armed := g.armed
	g.armed = false
	g.mu.Unlock()
	if armed {
		g.read <- struct{}{}
		<-g.release
	}
	return k, err
}

// TestSlowReaderCannotCacheOldRecord: B reads the old record from the
// database, A revokes (and drops the cache) before B writes the cache; B's
// late write must not put the revoked key's old record back.
func TestSlowReaderCannotCacheOldRecord(t *testing.T) {
	rdbA, prefix := testenv.Redis(t)
	rdbB, _ := testenv.Redis(t)
	shared := &hidden{memstore.New()}
	g := &gated{Store: shared, read: make(chan struct{}), release: make(chan struct{})}
	subjects := keys.SubjectsFunc(func(_ context.Context, id string) (policy.Subject, error) {
		return policy.Subject{ID: id}, nil
	})
	pol := policy.MustNew(policy.Config{AllowClientPermissions: true, Max: policy.MustParse("files:read")})
	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	mk := func(store keys.Store) *keys.Manager {
		m, err := keys.NewManager(keys.Config{Store: store, Policy: pol, Subjects: subjects, Secret: secret, Cache: keys.CacheConfig{Disabled: true}})
		require.NoError(t, err)
		return m
	}
	a := mk(rediscache.New(shared, rdbA, rediscache.Options{Prefix: prefix}))
	b := mk(rediscache.New(g, rdbB, rediscache.Options{Prefix: prefix}))
	ctx := context.Background()
	k, key, err := a.Create(ctx, keys.CreateRequest{OwnerID: "alice", Name: "k", Permissions: policy.MustParse("files:read")})
	require.NoError(t, err)

	g.armed = true
	done := make(chan error)
	go func() { _, err := b.Verify(ctx, key); done <- err }()
	<-g.read // B has the old record in hand
	_, err = a.Revoke(ctx, "alice", k.ID, keys.RevokeRequest{})
	require.NoError(t, err)
	close(g.release)
	require.NoError(t, <-done, "the request in flight before the revocation may pass")

	_, err = b.Verify(ctx, key)
	require.ErrorIs(t, err, keys.ErrRevoked, "B cached the record it read before the revocation")
}
