package rediscache_test

import (
	"context"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/audit"
	"github.com/keycaphq/keycap/internal/testenv"
	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/keys/memstore"
	"github.com/keycaphq/keycap/keys/rediscache"
	"github.com/keycaphq/keycap/policy"
)

// jittery pauses a little after each Get has read the record, so that
// cache fills of records read before a change land during and after it.
type jittery struct{ keys.Store }

func (j jittery) Get(ctx context.Context, id string) (*keys.Key, error) {
	k, err := j.Store.Get(ctx, id)
	time.Sleep(time.Duration(rand.IntN(400)) * time.Microsecond)
	return k, err
}

// TestRevokedNeverServedAfterChange races many Gets filling the cache,
// through three instances, against a revocation: no Get that starts after
// Change returned may return the record unrevoked.
func TestRevokedNeverServedAfterChange(t *testing.T) {
	_, prefix := testenv.Redis(t)
	shared, secret := memstore.New(), newSecret()
	writer := newCache(t, shared, prefix, secret, nil)
	readers := []*rediscache.Store{writer, newCache(t, jittery{shared}, prefix, secret, nil), newCache(t, jittery{shared}, prefix, secret, nil)}
	const trials, goroutines, getsAfter = 200, 8, 4
	var staleTrials, staleGets, racedGets int64
	for trial := range trials {
		k := newRecord(t, "alice", "files:read")
		require.NoError(t, writer.Create(t.Context(), k, 0))
		var returned atomic.Bool
		var stale, raced atomic.Int64
		var wg sync.WaitGroup
		for g := range goroutines {
			r := readers[g%len(readers)]
			wg.Go(func() {
				for after := 0; after < getsAfter; {
					done := returned.Load() // before the Get starts
					got, err := r.Get(t.Context(), k.ID)
					if !assert.NoError(t, err) {
						return
					}
					switch {
					case done && got.RevokedAt.IsZero():
						stale.Add(1)
					case !done && got.RevokedAt.IsZero():
						raced.Add(1)
					}
					if done {
						after++
					}
				}
			})
		}
		time.Sleep(time.Duration(rand.IntN(500)) * time.Microsecond) // fills in flight
		_, err := writer.Change(t.Context(), k.ID, keys.Change{At: t0, Revoke: true, By: audit.User("alice")})
		require.NoError(t, err, "trial %d", trial)
		returned.Store(true)
		wg.Wait()
		if stale.Load() > 0 {
			staleTrials++
		}
		staleGets += stale.Load()
		racedGets += raced.Load()
	}
	t.Logf("%d Gets returned the unrevoked record while Change ran", racedGets)
	assert.Zero(t, staleTrials, "%d of %d trials served the revoked key unrevoked after Change returned (%d Gets)", staleTrials, trials, staleGets)
}

// gated is a store whose next Get pauses after reading the record until
// released: an instance reading the database just before another changes it.
type gated struct {
	keys.Store
	read, release chan struct{}
	armed         atomic.Bool
}

func (g *gated) Get(ctx context.Context, id string) (*keys.Key, error) {
	k, err := g.Store.Get(ctx, id)
	if g.armed.Swap(false) {
		g.read <- struct{}{}
		<-g.release
	}
	return k, err
}

// TestSlowReaderCannotCacheOldRecord: B reads the old record from the
// database, A revokes (and drops the cache) before B writes the cache; B's
// late write must not put the revoked key's old record back.
func TestSlowReaderCannotCacheOldRecord(t *testing.T) {
	_, prefix := testenv.Redis(t)
	shared := &hidden{memstore.New()}
	g := &gated{Store: shared, read: make(chan struct{}), release: make(chan struct{})}
	subjects := policy.SubjectsFunc(func(_ context.Context, id string) (policy.Subject, error) {
		return policy.Subject{ID: id}, nil
	})
	pol := policy.MustNew(policy.Config{AllowClientPermissions: true, Max: policy.MustParse("files:read")})
	secret := newSecret()
	mk := func(store keys.Store) *keys.Manager {
		m, err := keys.NewManager(keys.Config{Store: store, Policy: pol, Subjects: subjects, Secret: secret, Cache: keys.CacheConfig{Disabled: true}})
		require.NoError(t, err)
		return m
	}
	a := mk(newCache(t, shared, prefix, secret, nil))
	b := mk(newCache(t, g, prefix, secret, nil))
	ctx := t.Context()
	k, key, err := a.Create(ctx, keys.CreateRequest{Owner: "alice", Name: "k", Permissions: policy.MustParse("files:read")})
	require.NoError(t, err)

	g.armed.Store(true)
	done := make(chan error)
	go func() { _, err := b.Verify(ctx, key, ""); done <- err }()
	<-g.read // B has the old record in hand
	_, err = a.Revoke(ctx, keys.RevokeRequest{Ref: alices(k.ID)})
	require.NoError(t, err)
	close(g.release)
	require.NoError(t, <-done, "the request in flight before the revocation may pass")

	_, err = b.Verify(ctx, key, "")
	require.ErrorIs(t, err, keys.ErrInvalid, "B cached the record it read before the revocation")
}
