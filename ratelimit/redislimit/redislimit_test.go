package redislimit_test

import (
	"context"
	"fmt"
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

// Windows run on Redis's clock: a window frees its requests in real time,
// whatever time the caller passes.
func TestRedisWindowsFreeInRealTime(t *testing.T) {
	rdb, prefix := testenv.Redis(t)
	for _, algorithm := range []ratelimit.Algorithm{ratelimit.FixedWindow, ratelimit.SlidingWindow} {
		l := redislimit.New(rdb, prefix+"w"+string(rune('0'+algorithm))+":")
		b := ratelimit.Bucket{Name: "key:s", Limit: ratelimit.Limit{Requests: 1, Window: 300 * time.Millisecond}}
		res, err := l.Allow(t.Context(), algorithm, time.Now(), b)
		require.NoError(t, err)
		require.True(t, res.Allowed)
		res, err = l.Allow(t.Context(), algorithm, time.Now().Add(time.Hour), b) // a caller's clock far ahead changes nothing
		require.NoError(t, err)
		require.False(t, res.Allowed, "algorithm %d", algorithm)
		assert.Positive(t, res.RetryAfter)
		assert.LessOrEqual(t, res.RetryAfter, 300*time.Millisecond)
		time.Sleep(res.RetryAfter + 20*time.Millisecond)
		res, err = l.Allow(t.Context(), algorithm, time.Now(), b)
		require.NoError(t, err)
		assert.True(t, res.Allowed, "algorithm %d: the window did not free its request after RetryAfter", algorithm)
	}
}

// TestRedisClockSkewSharesOneBudget: two instances whose clocks are 30 s
// apart share one budget exactly. Counting on the callers' clocks, they
// would count in different fixed windows, and each would expire the
// other's sliding-window entries: twice the budget, or more.
func TestRedisClockSkewSharesOneBudget(t *testing.T) {
	rdb1, prefix := testenv.Redis(t)
	rdb2, _ := testenv.Redis(t)
	const requests, window = 10, 20 * time.Second
	behind := time.Date(2026, 1, 1, 0, 0, 15, 0, time.UTC) // instance A's clock; B's is 30 s ahead
	windowOf := func() int64 {
		now, err := rdb1.Time(t.Context()).Result()
		require.NoError(t, err)
		return now.UnixMilli() / window.Milliseconds()
	}
	for _, algorithm := range []ratelimit.Algorithm{ratelimit.FixedWindow, ratelimit.SlidingWindow} {
		for attempt := 0; ; attempt++ {
			p := fmt.Sprintf("%sskew%d-%d:", prefix, algorithm, attempt)
			a, b := redislimit.New(rdb1, p), redislimit.New(rdb2, p)
			bucket := ratelimit.Bucket{Name: "owner:u", Limit: ratelimit.Limit{Requests: requests, Window: window}}
			first := windowOf()
			admitted := 0
			for i := range 4 * requests {
				l, now := a, behind
				if i%2 == 1 {
					l, now = b, behind.Add(30*time.Second)
				}
				res, err := l.Allow(t.Context(), algorithm, now, bucket)
				require.NoError(t, err)
				if res.Allowed {
					admitted++
				}
			}
			if algorithm == ratelimit.FixedWindow && windowOf() != first && attempt < 3 {
				continue // Redis's clock crossed a window boundary during the trial: a new window may admit more
			}
			assert.Equal(t, requests, admitted, "algorithm %d: admitted %d of a budget of %d", algorithm, admitted, requests)
			break
		}
	}
}

// A set but invalid limit is refused, never read as no limit.
func TestRedisRefusesInvalidLimit(t *testing.T) {
	rdb, prefix := testenv.Redis(t)
	l := redislimit.New(rdb, prefix)
	_, err := l.Allow(t.Context(), ratelimit.FixedWindow, time.Now(), ratelimit.Bucket{Name: "key:z", Limit: ratelimit.Limit{Window: time.Minute}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "Requests of at least 1")
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
