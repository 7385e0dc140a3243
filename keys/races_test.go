package keys_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/keys"
)

// cacheModes runs a race test with the cache off and on.
var cacheModes = []struct {
	name  string
	cache keys.CacheConfig
}{
	{"cache off", keys.CacheConfig{Disabled: true}},
	{"single instance cache", keys.CacheConfig{SingleInstance: true}},
}

// TestRevokeWinsOverConcurrentChanges: a revocation running at the same
// time as renames and rotations of the key, and verifications of it, is
// never undone, and no secret of the key works once Revoke has returned.
// (The old read-modify-write Update let a rename that read the record
// before the revocation write it back unrevoked.)
func TestRevokeWinsOverConcurrentChanges(t *testing.T) {
	ctx := context.Background()
	const trials = 200
	for _, mode := range cacheModes {
		t.Run(mode.name, func(t *testing.T) {
			f := newFixture(t, func(c *keys.Config) { c.Cache = mode.cache })
			var undone, acceptedAfter int
			outcomes := map[string]int{}
			for trial := range trials {
				k, original := f.create(t, "bob")
				f.verify(t, original)
				var (
					mu      sync.Mutex
					secrets = []string{original}
					revoked atomic.Bool
					wg      sync.WaitGroup
					start   = make(chan struct{})
				)
				count := func(what string, err error) {
					mu.Lock()
					defer mu.Unlock()
					switch {
					case err == nil:
						outcomes[what+": ok"]++
					case errors.Is(err, keys.ErrAlreadyRevoked), errors.Is(err, keys.ErrConflict):
						outcomes[what+": "+err.Error()]++
					default:
						t.Errorf("trial %d: %s: %v", trial, what, err)
					}
				}
				wg.Go(func() {
					<-start
					_, err := f.m.Revoke(ctx, keys.RevokeRequest{Ref: ref("bob", k.ID), Reason: "leaked"})
					revoked.Store(true)
					if !assert.NoError(t, err, "trial %d", trial) {
						return
					}
					if _, err := f.m.Verify(ctx, original, ""); !errors.Is(err, keys.ErrInvalid) {
						mu.Lock()
						acceptedAfter++
						mu.Unlock()
					}
				})
				for i := range 3 {
					wg.Go(func() {
						<-start
						_, err := f.m.Update(ctx, keys.UpdateRequest{Ref: ref("bob", k.ID), Name: ptr(fmt.Sprint("rename ", i))})
						count("rename", err)
					})
				}
				for range 2 {
					wg.Go(func() {
						<-start
						_, secret, err := f.m.Rotate(ctx, keys.RotateRequest{Ref: ref("bob", k.ID), Grace: time.Hour})
						count("rotate", err)
						if err == nil {
							mu.Lock()
							secrets = append(secrets, secret)
							mu.Unlock()
						}
					})
				}
				wg.Go(func() { // fills the cache while the others change the record
					<-start
					for !revoked.Load() {
						_, _ = f.m.Verify(ctx, original, "")
					}
				})
				close(start)
				wg.Wait()

				if f.record(t, k.ID).RevokedAt.IsZero() {
					undone++
				}
				for _, s := range secrets {
					if _, err := f.m.Verify(ctx, s, ""); !errors.Is(err, keys.ErrInvalid) {
						acceptedAfter++
					}
				}
			}
			assert.Zero(t, undone, "%d of %d revocations undone", undone, trials)
			assert.Zero(t, acceptedAfter, "secrets accepted after Revoke returned")
			t.Logf("%s: %v", mode.name, outcomes)
		})
	}
}

// TestConcurrentRotations: of rotations of one key that all decided on
// the same record, exactly one succeeds and the others answer ErrConflict;
// the winner's secret works. (Each used to succeed, handing out secrets
// that no longer worked.) The store pauses each rotation after its read
// until all four have read, so the interleaving happens every round.
func TestConcurrentRotations(t *testing.T) {
	ctx := context.Background()
	const rounds, rotations = 50, 4
	for _, mode := range cacheModes {
		t.Run(mode.name, func(t *testing.T) {
			f := newFixture(t, func(c *keys.Config) { c.Cache = mode.cache })
			k, token := f.create(t, "bob")
			for round := range rounds {
				var arrived atomic.Int32
				allRead := make(chan struct{})
				f.store.setAfterGet(func(id string) {
					if id != k.ID {
						return
					}
					switch n := arrived.Add(1); {
					case n < rotations:
						<-allRead
					case n == rotations:
						close(allRead)
					}
				})
				var (
					mu        sync.Mutex
					winners   []string
					conflicts int
					wg        sync.WaitGroup
				)
				for range rotations {
					wg.Go(func() {
						_, secret, err := f.m.Rotate(ctx, keys.RotateRequest{Ref: ref("bob", k.ID)})
						mu.Lock()
						defer mu.Unlock()
						switch {
						case err == nil:
							winners = append(winners, secret)
						case errors.Is(err, keys.ErrConflict):
							conflicts++
						default:
							t.Errorf("round %d: %v", round, err)
						}
					})
				}
				wg.Wait()
				f.store.setAfterGet(nil)
				require.Len(t, winners, 1, "round %d: exactly one rotation wins", round)
				require.Equal(t, rotations-1, conflicts, "round %d", round)
				_, err := f.m.Verify(ctx, token, "")
				require.ErrorIs(t, err, keys.ErrInvalid, "round %d: the secret before the round stopped", round)
				token = winners[0]
				v := f.verify(t, token)
				require.Equal(t, int64(round+1), f.record(t, v.ID).Generation, "one rotation per round")
			}
		})
	}
}
