package ratelimit

import (
	"context"
	"sync"
	"time"
)

// Memory is an in-process [Limiter], exact within one process. The zero
// value is not usable; call [NewMemory]. It is safe for concurrent use.
// Idle buckets are dropped as they are met again after their window, and
// by a sweep every so many calls, so memory follows active clients.
type Memory struct {
	mu      sync.Mutex
	buckets map[string]*memBucket
	calls   int
}

type memBucket struct {
	start time.Time     // FixedWindow: the window's start
	count int64         // FixedWindow: requests in it
	log   []time.Time   // SlidingWindow: admission times, oldest first
	seen  time.Time     // last use, for the sweep
	idle  time.Duration // after this long unused the bucket is empty: its window
}

// NewMemory returns an empty Memory limiter.
func NewMemory() *Memory { return &Memory{buckets: map[string]*memBucket{}} }

// Allow implements [Limiter].
func (m *Memory) Allow(_ context.Context, algorithm Algorithm, now time.Time, buckets ...Bucket) (Result, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sweep(now)
	best := Result{Allowed: true, Remaining: -1}
	states := make([]*memBucket, len(buckets))
	for i, b := range buckets {
		if b.Limit.IsZero() {
			continue
		}
		st := m.bucket(b.Name)
		st.seen, st.idle = now, b.Limit.Window
		states[i] = st
		used, reset := st.usage(algorithm, b.Limit, now)
		if used >= b.Limit.Requests {
			return Result{Bucket: b, Remaining: 0, Reset: reset, RetryAfter: reset}, nil
		}
		if left := b.Limit.Requests - used - 1; best.Remaining < 0 || left < best.Remaining {
			best = Result{Allowed: true, Bucket: b, Remaining: left, Reset: reset}
		}
	}
	for i, b := range buckets { // every bucket has room: spend from all
		if st := states[i]; st != nil {
			st.spend(algorithm, b.Limit, now)
		}
	}
	if best.Remaining < 0 {
		best.Remaining = 0
	}
	return best, nil
}

func (m *Memory) bucket(name string) *memBucket {
	st := m.buckets[name]
	if st == nil {
		st = &memBucket{}
		m.buckets[name] = st
	}
	return st
}

// usage returns the requests counted in the current window and the time
// until the window frees one.
func (st *memBucket) usage(algorithm Algorithm, l Limit, now time.Time) (int64, time.Duration) {
	if algorithm == SlidingWindow {
		cutoff := now.Add(-l.Window)
		drop := 0
		for drop < len(st.log) && !st.log[drop].After(cutoff) {
			drop++
		}
		st.log = st.log[drop:]
		if len(st.log) == 0 {
			return 0, l.Window
		}
		return int64(len(st.log)), st.log[0].Add(l.Window).Sub(now)
	}
	start := now.Truncate(l.Window)
	if !st.start.Equal(start) {
		st.start, st.count = start, 0
	}
	return st.count, start.Add(l.Window).Sub(now)
}

func (st *memBucket) spend(algorithm Algorithm, _ Limit, now time.Time) {
	if algorithm == SlidingWindow {
		st.log = append(st.log, now)
		return
	}
	st.count++
}

// sweep drops, every 4096 calls, buckets unused for longer than their
// window: they would count nothing anyway.
func (m *Memory) sweep(now time.Time) {
	m.calls++
	if m.calls%4096 != 0 {
		return
	}
	for name, st := range m.buckets {
		if now.Sub(st.seen) > st.idle {
			delete(m.buckets, name)
		}
	}
}
