package keys_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/keys/memstore"
)

// realClock makes the fixture's Manager read the real clock (Config.Now
// nil), so that cache hits may read the coarse clock.
func realClock(c *keys.Config) { c.Now = nil }

// TestCoarseClockNeverAdmitsPastExpiry: cached keys of a one-second
// lifetime, made 37 ms apart and verified in a tight loop on the real
// clock (where cache hits read the coarse clock far from a deadline) until
// well past their expiry, are never admitted by a verification that
// started at or after the expiry: near a deadline the exact clock decides.
// With the coarse clock there, the millisecond it lags admits some.
func TestCoarseClockNeverAdmitsPastExpiry(t *testing.T) {
	if testing.Short() {
		t.Skip("runs on the real clock for 1.6 s")
	}
	f := newFixture(t, withCache, realClock)
	ctx := context.Background()
	type key struct {
		expires time.Time
		token   string
	}
	var ks []key
	for range 8 {
		k, token, err := f.m.Create(ctx, keys.CreateRequest{Owner: "alice", Name: "short", Lifetime: time.Second})
		require.NoError(t, err)
		ks = append(ks, key{k.ExpiresAt, token})
		time.Sleep(37 * time.Millisecond)
	}
	var before, after, late int
	for time.Since(ks[len(ks)-1].expires) < 200*time.Millisecond {
		for _, k := range ks {
			start := time.Now()
			_, err := f.m.Verify(ctx, k.token, "")
			switch {
			case err == nil && !start.Before(k.expires):
				late++
			case err == nil:
				before++
			default:
				require.ErrorIs(t, err, keys.ErrExpired)
				after++
			}
		}
	}
	t.Logf("%d admitted before expiry, %d refused after, %d admitted late", before, after, late)
	assert.Zero(t, late, "verifications started at or after the expiry admitted")
	assert.Positive(t, before)
	assert.Positive(t, after)
}

// TestCoarseClockKeepsMaxStale: with MaxStale on the real clock, a
// revocation written to the Store behind the Manager's back is seen by
// every verification that starts MaxStale after the record was cached.
func TestCoarseClockKeepsMaxStale(t *testing.T) {
	if testing.Short() {
		t.Skip("runs on the real clock for 1.5 s")
	}
	store := memstore.New()
	f := newFixture(t, realClock, func(c *keys.Config) {
		c.Store = nonLocal{store}
		c.Cache = keys.CacheConfig{MaxStale: time.Second}
	})
	ctx := context.Background()
	type key struct {
		cached time.Time // the record was cached before this
		token  string
	}
	var ks []key
	for range 8 {
		k, token := f.create(t, "alice", "files:read")
		_, err := f.m.Verify(ctx, token, "")
		require.NoError(t, err)
		cached := time.Now()
		_, err = store.Change(ctx, k.ID, keys.Change{Version: k.Version, At: cached, By: k.CreatedBy, Revoke: true})
		require.NoError(t, err)
		ks = append(ks, key{cached, token})
		time.Sleep(37 * time.Millisecond)
	}
	stale, late := 0, 0
	for time.Since(ks[len(ks)-1].cached) < 1200*time.Millisecond {
		for _, k := range ks {
			start := time.Now()
			if _, err := f.m.Verify(ctx, k.token, ""); err == nil {
				if start.Sub(k.cached) >= time.Second {
					late++
				} else {
					stale++
				}
			}
		}
	}
	t.Logf("%d stale admissions within MaxStale, %d after", stale, late)
	assert.Zero(t, late, "a revocation unseen past MaxStale")
	assert.Positive(t, stale, "the cache served the record within MaxStale")
}
