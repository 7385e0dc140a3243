package ratelimit_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/ratelimit"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func TestMemoryFixedWindow(t *testing.T) {
	m := ratelimit.NewMemory()
	b := ratelimit.Bucket{Name: "key:a", Limit: ratelimit.Limit{Requests: 3, Window: time.Minute}}
	for i := range 3 {
		res, err := m.Allow(context.Background(), ratelimit.FixedWindow, t0.Add(time.Duration(i)*time.Second), b)
		require.NoError(t, err)
		require.True(t, res.Allowed)
		assert.Equal(t, int64(2-i), res.Remaining)
	}
	res, err := m.Allow(context.Background(), ratelimit.FixedWindow, t0.Add(10*time.Second), b)
	require.NoError(t, err)
	assert.False(t, res.Allowed)
	assert.Equal(t, 50*time.Second, res.RetryAfter)
	res, _ = m.Allow(context.Background(), ratelimit.FixedWindow, t0.Add(time.Minute), b)
	assert.True(t, res.Allowed, "a new window starts afresh")
}

func TestMemorySlidingWindow(t *testing.T) {
	m := ratelimit.NewMemory()
	b := ratelimit.Bucket{Name: "key:a", Limit: ratelimit.Limit{Requests: 2, Window: time.Minute}}
	allow := func(at time.Duration) ratelimit.Result {
		res, err := m.Allow(context.Background(), ratelimit.SlidingWindow, t0.Add(at), b)
		require.NoError(t, err)
		return res
	}
	require.True(t, allow(50*time.Second).Allowed)
	require.True(t, allow(59*time.Second).Allowed)
	// A fixed window would reset at 60 s; the sliding one still holds both.
	res := allow(61 * time.Second)
	require.False(t, res.Allowed)
	assert.Equal(t, 49*time.Second, res.RetryAfter, "until the request at 50 s leaves the window")
	require.True(t, allow(110*time.Second+time.Millisecond).Allowed)
}

func TestMemoryAllOrNothing(t *testing.T) {
	m := ratelimit.NewMemory()
	key := ratelimit.Bucket{Name: "key:a", Limit: ratelimit.Limit{Requests: 10, Window: time.Minute}}
	owner := ratelimit.Bucket{Name: "owner:u", Limit: ratelimit.Limit{Requests: 1, Window: time.Minute}}
	res, _ := m.Allow(context.Background(), ratelimit.FixedWindow, t0, key, owner)
	require.True(t, res.Allowed)
	assert.Equal(t, "owner:u", res.Bucket.Name, "the tighter bucket is reported")
	for range 5 {
		res, _ = m.Allow(context.Background(), ratelimit.FixedWindow, t0, key, owner)
		require.False(t, res.Allowed)
		assert.Equal(t, "owner:u", res.Bucket.Name)
	}
	// The refusals spent nothing from the key's own bucket: 9 remain.
	res, _ = m.Allow(context.Background(), ratelimit.FixedWindow, t0, key)
	require.True(t, res.Allowed)
	assert.Equal(t, int64(8), res.Remaining)
}

func TestMemoryExactUnderConcurrency(t *testing.T) {
	for _, algorithm := range []ratelimit.Algorithm{ratelimit.FixedWindow, ratelimit.SlidingWindow} {
		m := ratelimit.NewMemory()
		b := ratelimit.Bucket{Name: "key:a", Limit: ratelimit.Limit{Requests: 100, Window: time.Hour}}
		var admitted atomic.Int64
		var wg sync.WaitGroup
		for range 300 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				res, err := m.Allow(context.Background(), algorithm, t0, b)
				if err == nil && res.Allowed {
					admitted.Add(1)
				}
			}()
		}
		wg.Wait()
		assert.Equal(t, int64(100), admitted.Load())
	}
}
