// Package redislimit is a [ratelimit.Limiter] in Redis: exact across every
// app instance that shares the Redis server, with the all-or-nothing
// semantics of the interface (one Lua script per request). It counts on
// Redis's clock, not the instances': see [Limiter.Allow].
package redislimit

import (
	"cmp"
	"context"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/keycaphq/keycap/ratelimit"
)

// Limiter counts in Redis. Create it with [New]; it is safe for concurrent
// use. Buckets of one call must hash to one slot on Redis Cluster; on a
// single server or with Sentinel there is no such constraint. It needs
// Redis 5 or later (scripts that read the time, replicated by effects).
type Limiter struct {
	rdb    redis.UniversalClient
	prefix string
}

// New returns a Limiter keeping its counters under prefix ("" means
// "keycap:rl:").
func New(rdb redis.UniversalClient, prefix string) *Limiter {
	prefix = cmp.Or(prefix, "keycap:rl:")
	return &Limiter{rdb: rdb, prefix: prefix}
}

// Allow implements [ratelimit.Limiter]. It ignores now: windows are
// counted on Redis's clock (TIME, read inside the script), so that every
// instance counts in one timeline. Were each instance to pass its own
// clock, instances whose clocks disagree would count in different fixed
// windows, or expire each other's sliding-window entries early, and
// admit more than the limit between them. Reset and RetryAfter are
// durations, which need no shared clock. Allow returns the error of
// [ratelimit.Limit.Validate] for a bucket whose limit is set but invalid.
func (l *Limiter) Allow(ctx context.Context, algorithm ratelimit.Algorithm, _ time.Time, buckets ...ratelimit.Bucket) (ratelimit.Result, error) {
	var active []ratelimit.Bucket
	for _, b := range buckets {
		if err := b.Limit.Validate(); err != nil {
			return ratelimit.Result{}, err
		}
		if !b.Limit.IsZero() {
			active = append(active, b)
		}
	}
	if len(active) == 0 {
		return ratelimit.Result{Allowed: true}, nil
	}
	kind, script := "fh:", fixed // not "f:": those were string counters, one per window
	if algorithm == ratelimit.SlidingWindow {
		kind, script = "s:", sliding
	}
	keys := make([]string, len(active))
	args := make([]any, 0, 2*len(active)+1)
	for i, b := range active {
		keys[i] = l.prefix + kind + b.Name
		args = append(args, b.Limit.Requests, b.Limit.Window.Milliseconds())
	}
	if algorithm == ratelimit.SlidingWindow {
		args = append(args, member())
	}
	out, err := script.Run(ctx, l.rdb, keys, args...).Int64Slice()
	if err != nil {
		return ratelimit.Result{}, err
	}
	res := ratelimit.Result{
		Allowed:   out[0] == 1,
		Bucket:    active[out[1]-1],
		Remaining: out[2],
		Reset:     time.Duration(out[3]) * time.Millisecond,
	}
	if !res.Allowed {
		res.RetryAfter = res.Reset
	}
	return res, nil
}
