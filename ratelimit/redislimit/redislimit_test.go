package redislimit_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/internal/testenv"
	"github.com/keycaphq/keycap/ratelimit"
	"github.com/keycaphq/keycap/ratelimit/redislimit"
)

func TestRedisLimiter(t *testing.T) {
	rdb, prefix := testenv.Redis(t)
	ctx := context.Background()
	for _, algorithm := range []ratelimit.Algorithm{ratelimit.FixedWindow, ratelimit.SlidingWindow} {
		l := redislimit.New(rdb, prefix+"alg"+string(rune('0'+algorithm))+":")
		key := ratelimit.Bucket{Name: "key:a", Limit: ratelimit.Limit{Requests: 5, Window: time.Hour}}
		owner := ratelimit.Bucket{Name: "owner:u", Limit: ratelimit.Limit{Requests: 2, Window: time.Hour}}
		now := time.Now()
		res, err := l.Allow(ctx, algorithm, now, key, owner)
		require.NoError(t, err)
		require.True(t, res.Allowed)
		assert.Equal(t, "owner:u", res.Bucket.Name)
		assert.Equal(t, int64(1), res.Remaining)
		res, _ = l.Allow(ctx, algorithm, now, key, owner)
		require.True(t, res.Allowed)
		for range 3 {
			res, err = l.Allow(ctx, algorithm, now, key, owner)
			require.NoError(t, err)
			require.False(t, res.Allowed)
			assert.Equal(t, "owner:u", res.Bucket.Name)
			assert.Positive(t, res.RetryAfter)
		}
		// Refusals spent nothing from the key's bucket: 3 of 5 remain.
		res, _ = l.Allow(ctx, algorithm, now, key)
		require.True(t, res.Allowed)
		assert.Equal(t, int64(2), res.Remaining)
	}
}

func TestRedisSlidingWindowExpires(t *testing.T) {
	rdb, prefix := testenv.Redis(t)
	l := redislimit.New(rdb, prefix)
	b := ratelimit.Bucket{Name: "key:s", Limit: ratelimit.Limit{Requests: 1, Window: 100 * time.Millisecond}}
	t0 := time.Now()
	res, _ := l.Allow(context.Background(), ratelimit.SlidingWindow, t0, b)
	require.True(t, res.Allowed)
	res, _ = l.Allow(context.Background(), ratelimit.SlidingWindow, t0.Add(50*time.Millisecond), b)
	require.False(t, res.Allowed)
	assert.InDelta(t, 50, res.RetryAfter.Milliseconds(), 1)
	res, _ = l.Allow(context.Background(), ratelimit.SlidingWindow, t0.Add(101*time.Millisecond), b)
	require.True(t, res.Allowed)
}

// TestRedisExactAcrossInstances: two limiters with their own connections
// (two app instances) admit exactly the limit between them.
func TestRedisExactAcrossInstances(t *testing.T) {
	rdb1, prefix := testenv.Redis(t)
	rdb2, _ := testenv.Redis(t)
	for _, algorithm := range []ratelimit.Algorithm{ratelimit.FixedWindow, ratelimit.SlidingWindow} {
		p := prefix + "x" + string(rune('0'+algorithm)) + ":"
		a, b := redislimit.New(rdb1, p), redislimit.New(rdb2, p)
		bucket := ratelimit.Bucket{Name: "owner:u", Limit: ratelimit.Limit{Requests: 100, Window: time.Hour}}
		var admitted atomic.Int64
		var wg sync.WaitGroup
		for i := range 300 {
			l := a
			if i%2 == 1 {
				l = b
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				res, err := l.Allow(context.Background(), algorithm, time.Now(), bucket)
				if err == nil && res.Allowed {
					admitted.Add(1)
				}
			}()
		}
		wg.Wait()
		assert.Equal(t, int64(100), admitted.Load(), "algorithm %d", algorithm)
	}
}
