// Package redislimit is a [ratelimit.Limiter] in Redis: exact across every
// app instance that shares the Redis server, with the all-or-nothing
// semantics of the interface (one Lua script per request).
package redislimit

import (
	"context"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/keycaphq/keycap/ratelimit"
)

// Limiter counts in Redis. Create it with [New]; it is safe for concurrent
// use. Buckets of one call must hash to one slot on Redis Cluster; on a
// single server or with Sentinel there is no such constraint.
type Limiter struct {
	rdb    redis.UniversalClient
	prefix string
}

// New returns a Limiter keeping its counters under prefix ("" means
// "keycap:rl:").
func New(rdb redis.UniversalClient, prefix string) *Limiter {
	if prefix == "" {
		prefix = "keycap:rl:"
	}
	return &Limiter{rdb: rdb, prefix: prefix}
}

// fixed: KEYS are the buckets' counters for the current window; ARGV is
// limit and window-ms pairs, then now-ms. Returns {allowed, index,
// remaining, reset-ms}: when refused, index is the refusing bucket; when
// allowed, the bucket with the least remaining.
var fixed = redis.NewScript(`
local now = tonumber(ARGV[#ARGV])
local best, bestLeft, bestReset = 0, -1, 0
for i = 1, #KEYS do
  local limit, window = tonumber(ARGV[2*i-1]), tonumber(ARGV[2*i])
  local used = tonumber(redis.call('GET', KEYS[i]) or '0')
  local reset = window - (now % window)
  if used >= limit then return {0, i, 0, reset} end
  local left = limit - used - 1
  if bestLeft < 0 or left < bestLeft then best, bestLeft, bestReset = i, left, reset end
end
for i = 1, #KEYS do
  local window = tonumber(ARGV[2*i])
  redis.call('INCR', KEYS[i])
  redis.call('PEXPIRE', KEYS[i], window - (now % window))
end
return {1, best, bestLeft, bestReset}`)

// sliding: KEYS are sorted sets of admission times; ARGV is limit and
// window-ms pairs, then now-ms and a unique member suffix.
var sliding = redis.NewScript(`
local now, id = tonumber(ARGV[#ARGV-1]), ARGV[#ARGV]
local best, bestLeft, bestReset = 0, -1, 0
for i = 1, #KEYS do
  local limit, window = tonumber(ARGV[2*i-1]), tonumber(ARGV[2*i])
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now - window)
  local used = redis.call('ZCARD', KEYS[i])
  local reset = window
  if used > 0 then
    local oldest = redis.call('ZRANGE', KEYS[i], 0, 0, 'WITHSCORES')
    reset = tonumber(oldest[2]) + window - now
  end
  if used >= limit then return {0, i, 0, reset} end
  local left = limit - used - 1
  if bestLeft < 0 or left < bestLeft then best, bestLeft, bestReset = i, left, reset end
end
for i = 1, #KEYS do
  redis.call('ZADD', KEYS[i], now, now .. '-' .. id)
  redis.call('PEXPIRE', KEYS[i], tonumber(ARGV[2*i]))
end
return {1, best, bestLeft, bestReset}`)

// Allow implements [ratelimit.Limiter]. Times are in milliseconds.
func (l *Limiter) Allow(ctx context.Context, algorithm ratelimit.Algorithm, now time.Time, buckets ...ratelimit.Bucket) (ratelimit.Result, error) {
	var active []ratelimit.Bucket
	for _, b := range buckets {
		if !b.Limit.IsZero() {
			active = append(active, b)
		}
	}
	if len(active) == 0 {
		return ratelimit.Result{Allowed: true}, nil
	}
	nowMS := now.UnixMilli()
	keys := make([]string, len(active))
	args := make([]any, 0, 2*len(active)+2)
	for i, b := range active {
		window := b.Limit.Window.Milliseconds()
		if algorithm == ratelimit.SlidingWindow {
			keys[i] = l.prefix + "s:" + b.Name
		} else {
			keys[i] = l.prefix + "f:" + b.Name + ":" + strconv.FormatInt(nowMS/window, 10)
		}
		args = append(args, b.Limit.Requests, window)
	}
	args = append(args, nowMS)
	script := fixed
	if algorithm == ratelimit.SlidingWindow {
		script = sliding
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
