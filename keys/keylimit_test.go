package keys_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/audit"
	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/policy"
)

// withMaxKeys sets the policy's key limit, other rules as testPolicy's.
func withMaxKeys(n int) func(*keys.Config) {
	return func(c *keys.Config) {
		c.Policy = policy.MustNew(policy.Config{
			AllowClientPermissions: true,
			Roles: map[string]policy.Permissions{
				"admin":  policy.MustParse("files:read", "files:write", "files:delete"),
				"editor": policy.MustParse("files:read", "files:write"),
			},
			Default:         policy.MustParse("files:read"),
			DefaultLifetime: 30 * day,
			MaxLifetime:     90 * day,
			MaxKeys:         n,
		})
	}
}

// TestKeyLimit: an owner holds at most MaxKeys live keys (there was no
// limit). Revoked and expired keys free their slot; keys created by keys
// count.
func TestKeyLimit(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, withMaxKeys(3))
	first, firstToken := f.create(t, "bob")
	f.create(t, "bob")
	_, shortLived, err := f.m.Create(ctx, keys.CreateRequest{Owner: "bob", Name: "short", Lifetime: time.Minute})
	require.NoError(t, err)
	f.create(t, "alice", "files:read") // alice's keys do not count against bob's limit

	refused := func(t *testing.T) {
		t.Helper()
		records, creates := f.stored(t, "bob"), f.store.n("Create")
		k, token, err := f.m.Create(ctx, keys.CreateRequest{Owner: "bob", Name: "one too many"})
		limit, ok := errorAs[*policy.KeyLimitError](err)
		require.True(t, ok, "want *policy.KeyLimitError, got %T: %v", err, err)
		assert.Equal(t, &policy.KeyLimitError{Limit: 3}, limit)
		assert.Nil(t, k)
		assert.Empty(t, token)
		assert.Equal(t, creates+1, f.store.n("Create"), "decided by the Store, atomically")
		assert.Equal(t, records, f.stored(t, "bob"), "nothing stored")
	}
	refused(t)

	// A disabled key may be enabled again: it counts.
	_, err = f.disable(ctx, "bob", first.ID, true, audit.Actor{})
	require.NoError(t, err)
	refused(t)

	// Revoking one frees a slot.
	_, err = f.m.Revoke(ctx, keys.RevokeRequest{Ref: ref("bob", first.ID)})
	require.NoError(t, err)
	_, fourth := f.create(t, "bob")
	refused(t)

	// An expired key does not count.
	f.clock.Advance(time.Minute)
	_, err = f.m.Verify(ctx, shortLived, "")
	require.ErrorIs(t, err, keys.ErrExpired)
	parent := f.verify(t, fourth)
	f.delegate(t, parent) // a key created by a key takes the slot
	refused(t)
	_, _, err = f.m.Create(ctx, keys.CreateRequest{Owner: "bob", Name: "delegated", Caller: parent})
	_, ok := errorAs[*policy.KeyLimitError](err)
	assert.True(t, ok, "delegated creation is limited too: %v", err)
	_, err = f.m.Verify(ctx, firstToken, "")
	assert.ErrorIs(t, err, keys.ErrRevokedForTest)
}

// TestKeyLimitConcurrent: 20 creations at once against a limit of 5
// create exactly 5, in every trial.
func TestKeyLimitConcurrent(t *testing.T) {
	ctx := context.Background()
	for trial := range 20 {
		f := newFixture(t, withMaxKeys(5))
		var created, limited atomic.Int64
		var wg sync.WaitGroup
		start := make(chan struct{})
		for range 20 {
			wg.Go(func() {
				<-start
				_, _, err := f.m.Create(ctx, keys.CreateRequest{Owner: "bob", Name: "racer"})
				if err == nil {
					created.Add(1)
				} else if _, ok := errorAs[*policy.KeyLimitError](err); assert.True(t, ok, "%v", err) {
					limited.Add(1)
				}
			})
		}
		close(start)
		wg.Wait()
		require.Equal(t, int64(5), created.Load(), "trial %d", trial)
		require.Equal(t, int64(15), limited.Load(), "trial %d", trial)
		require.Len(t, f.stored(t, "bob"), 5, "trial %d", trial)
	}
}

// TestKeyLimitNone: a negative MaxKeys means no limit.
func TestKeyLimitNone(t *testing.T) {
	f := newFixture(t, withMaxKeys(-1))
	for range policy.DefaultMaxKeys + 1 {
		f.create(t, "bob")
	}
	assert.Len(t, f.stored(t, "bob"), policy.DefaultMaxKeys+1)
}
