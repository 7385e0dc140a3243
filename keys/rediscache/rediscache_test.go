package rediscache_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/internal/testenv"
	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/keys/memstore"
	"github.com/keycaphq/keycap/policy"
)

// instances returns two Managers, as two app instances would have: each
// with its own Redis connection and cache wrapper, over one shared store,
// with no in-process cache. users is their shared user directory.
func instances(t *testing.T) (a, b *keys.Manager, users *sync.Map) {
	t.Helper()
	_, prefix := testenv.Redis(t)
	shared := &hidden{memstore.New()}
	users = &sync.Map{}
	users.Store("alice", policy.Subject{ID: "alice", Roles: []string{"writer"}})
	subjects := policy.SubjectsFunc(func(_ context.Context, id string) (policy.Subject, error) {
		s, ok := users.Load(id)
		if !ok {
			return policy.Subject{}, policy.ErrUnknownSubject
		}
		return s.(policy.Subject), nil
	})
	pol := policy.MustNew(policy.Config{AllowClientPermissions: true, Roles: map[string]policy.Permissions{
		"writer": policy.MustParse("files:read", "files:write"),
		"reader": policy.MustParse("files:read"),
	}})
	secret := newSecret()
	mk := func(store keys.Store) *keys.Manager {
		m, err := keys.NewManager(keys.Config{Store: store, Policy: pol, Subjects: subjects, Secret: secret, Cache: keys.CacheConfig{Disabled: true}})
		require.NoError(t, err)
		return m
	}
	a = mk(newCache(t, shared, prefix, secret, nil))
	b = mk(newCache(t, shared, prefix, secret, nil))
	return a, b, users
}

func alices(id string) keys.Ref { return keys.Ref{Owner: "alice", ID: id} }

func TestRevokeThroughOneInstanceRefusedByOther(t *testing.T) {
	a, b, _ := instances(t)
	ctx := t.Context()
	for i := range 50 {
		k, secret, err := a.Create(ctx, keys.CreateRequest{Owner: "alice", Name: "k", Permissions: policy.MustParse("files:read")})
		require.NoError(t, err)
		_, err = b.Verify(ctx, secret, "") // B caches the record in Redis
		require.NoError(t, err, "round %d", i)
		_, err = a.Revoke(ctx, keys.RevokeRequest{Ref: alices(k.ID)})
		require.NoError(t, err)
		_, err = b.Verify(ctx, secret, "")
		require.ErrorIs(t, err, keys.ErrInvalid, "round %d: B accepted a key A revoked", i)
	}
}

// TestNoStaleVerifyUnderConcurrency races B's cache fills against A's
// revocations: once A's Revoke returns, no Verify on B may accept the key.
func TestNoStaleVerifyUnderConcurrency(t *testing.T) {
	a, b, _ := instances(t)
	ctx := t.Context()
	for i := range 30 {
		k, secret, err := a.Create(ctx, keys.CreateRequest{Owner: "alice", Name: "k", Permissions: policy.MustParse("files:read")})
		require.NoError(t, err)
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				for {
					select {
					case <-stop:
						return
					default:
						_, _ = b.Verify(ctx, secret, "")
					}
				}
			})
		}
		_, err = a.Revoke(ctx, keys.RevokeRequest{Ref: alices(k.ID)})
		require.NoError(t, err)
		for range 20 {
			_, err := b.Verify(ctx, secret, "")
			require.True(t, errors.Is(err, keys.ErrInvalid), "round %d: stale accept after revoke: %v", i, err)
		}
		close(stop)
		wg.Wait()
		_, err = b.Verify(ctx, secret, "")
		require.ErrorIs(t, err, keys.ErrInvalid)
	}
}

func TestUpdateAndDemotionSeenByOtherInstance(t *testing.T) {
	a, b, users := instances(t)
	ctx := t.Context()
	k, secret, err := a.Create(ctx, keys.CreateRequest{Owner: "alice", Name: "k", Permissions: policy.MustParse("files:read", "files:write")})
	require.NoError(t, err)
	v, err := b.Verify(ctx, secret, "")
	require.NoError(t, err)
	assert.True(t, policy.Satisfies(v.Permissions, "files:write"))

	_, err = a.Update(ctx, keys.UpdateRequest{Ref: alices(k.ID), Permissions: policy.MustParse("files:read")})
	require.NoError(t, err)
	v, err = b.Verify(ctx, secret, "")
	require.NoError(t, err)
	assert.False(t, policy.Satisfies(v.Permissions, "files:write"), "B still sees the old permissions")

	_, err = a.Update(ctx, keys.UpdateRequest{Ref: alices(k.ID), Permissions: policy.MustParse("files:read", "files:write")})
	require.NoError(t, err)
	users.Store("alice", policy.Subject{ID: "alice", Roles: []string{"reader"}}) // demoted in the shared directory
	v, err = b.Verify(ctx, secret, "")
	require.NoError(t, err)
	assert.Equal(t, policy.MustParse("files:read"), v.Permissions)

	_, _, err = a.Rotate(ctx, keys.RotateRequest{Ref: alices(k.ID)})
	require.NoError(t, err)
	_, err = b.Verify(ctx, secret, "")
	require.ErrorIs(t, err, keys.ErrInvalid, "the rotated-out secret still works on B")
}
