package redislimit

import "github.com/redis/go-redis/v9"

// The scripts read the time from Redis (TIME), not from the app: every
// instance counts in Redis's one timeline, so clock skew between
// instances admits nothing extra. A script that calls TIME and then writes
// needs effects replication, the default since Redis 5 and the only mode
// since Redis 7.
//
// Both take KEYS, one per bucket, and ARGV, a limit and a window in
// milliseconds per bucket (sliding adds a unique member suffix), and
// return {allowed, index, remaining, reset-ms}: when refused, index is the
// refusing bucket; when allowed, the bucket with the least remaining.

// fixed: each KEY is a hash of the current window's start (ms since the
// epoch, windows aligned to it) and the requests counted in it; a window
// that has passed counts as empty.
var fixed = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local best, bestLeft, bestReset = 0, -1, 0
local starts = {}
for i = 1, #KEYS do
  local limit, window = tonumber(ARGV[2*i-1]), tonumber(ARGV[2*i])
  local start = now - (now % window)
  starts[i] = string.format('%d', start)
  local cur = redis.call('HMGET', KEYS[i], 'start', 'n')
  local used = 0
  if cur[1] == starts[i] then used = tonumber(cur[2]) or 0 end
  local reset = start + window - now
  if used >= limit then return {0, i, 0, reset} end
  local left = limit - used - 1
  if bestLeft < 0 or left < bestLeft then best, bestLeft, bestReset = i, left, reset end
end
for i = 1, #KEYS do
  local window = tonumber(ARGV[2*i])
  if redis.call('HGET', KEYS[i], 'start') == starts[i] then
    redis.call('HINCRBY', KEYS[i], 'n', 1)
  else
    redis.call('HSET', KEYS[i], 'start', starts[i], 'n', 1)
  end
  redis.call('PEXPIRE', KEYS[i], window - (now % window))
end
return {1, best, bestLeft, bestReset}`)

// sliding: each KEY is a sorted set of admission times (ms), members
// "time-suffix".
var sliding = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local id = ARGV[#ARGV]
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
  redis.call('ZADD', KEYS[i], now, string.format('%d', now) .. '-' .. id)
  redis.call('PEXPIRE', KEYS[i], tonumber(ARGV[2*i]))
end
return {1, best, bestLeft, bestReset}`)
