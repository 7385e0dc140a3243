package faults_test

import (
	"context"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap"
	keycaptest "github.com/keycaphq/keycap/httptest_helpers"
	"github.com/keycaphq/keycap/internal/faultproxy"
	"github.com/keycaphq/keycap/internal/testenv"
	"github.com/keycaphq/keycap/keys/rediscache"
)

// redisFixture is two app instances, A and B, sharing one SQLite store and
// one Redis cache in front of it, reached through a fault proxy.
type redisFixture struct {
	proxy  *faultproxy.Proxy
	direct *redis.Client // around the proxy, for the test's own checks
	prefix string
	a, b   *keycaptest.App
}

func newRedisFixture(t *testing.T) *redisFixture {
	t.Helper()
	direct, prefix := testenv.Redis(t)
	p := faultproxy.Start(t, testenv.Env("KEYCAP_REDIS_ADDR", "127.0.0.1:6379"))
	_, _, store := sqliteFile(t, "_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)")
	instance := func() *keycaptest.App {
		rdb := redis.NewClient(&redis.Options{Addr: p.Addr(), MaxRetries: -1,
			DialTimeout: 500 * time.Millisecond, ReadTimeout: 500 * time.Millisecond, WriteTimeout: 500 * time.Millisecond})
		t.Cleanup(func() { rdb.Close() })
		cache, err := rediscache.New(store, rdb, rediscache.Options{Prefix: prefix, Secret: secret})
		require.NoError(t, err)
		return newServer(t, cache)
	}
	f := &redisFixture{proxy: p, direct: direct, prefix: prefix, a: instance(), b: instance()}
	t.Cleanup(p.Heal)
	return f
}

// cached reports whether Redis holds key id's record.
func (f *redisFixture) cached(t *testing.T, id string) bool {
	t.Helper()
	n, err := f.direct.Exists(context.Background(), f.prefix+"key:{"+id+"}").Result()
	require.NoError(t, err)
	return n == 1
}

// TestRedisDown breaks the connection to Redis: verification falls back to
// the database, so valid keys still work and revoked ones never do; keys are
// created and listed as usual. A revocation asked while Redis is down
// answers 503 and changes nothing, on any instance: saved, it would be
// undone once Redis is back by the old record Redis still holds, served to
// the instances that did not make it. When Redis is back every instance
// agrees, and a revocation holds on all of them.
func TestRedisDown(t *testing.T) {
	f := newRedisFixture(t)
	alice := f.a.LogIn(t, "alice")
	good := alice.CreateKey(t, "/api-keys", "good", filesRead)
	gone := alice.CreateKey(t, "/api-keys", "revoked before", filesRead)
	later := alice.CreateKey(t, "/api-keys", "revoked after", filesRead)
	for _, k := range []keycaptest.CreatedKey{good, gone, later} {
		keycaptest.RequireCode(t, useKey(t, f.b, k.Key), "") // B fills Redis
		require.True(t, f.cached(t, k.ID))
	}
	keycaptest.RequireCode(t, alice.DoJSON(t, http.MethodDelete, "/api-keys/"+gone.ID, nil), "")
	keycaptest.RequireCode(t, useKey(t, f.b, gone.Key), keycap.CodeKeyInvalid)

	f.proxy.Break()
	for _, srv := range []*keycaptest.App{f.a, f.b} {
		keycaptest.RequireCode(t, timed(t, func() *keycaptest.Response { return useKey(t, srv, good.Key) }), "")
		keycaptest.RequireCode(t, timed(t, func() *keycaptest.Response { return useKey(t, srv, gone.Key) }), keycap.CodeKeyInvalid)
	}
	keycaptest.RequireCode(t, alice.DoJSON(t, http.MethodPost, "/api-keys", createBody("new")), "")
	keycaptest.RequireCode(t, alice.DoJSON(t, http.MethodGet, "/api-keys", nil), "")

	mark := logs.mark()
	requireUnavailable(t, alice.DoJSON(t, http.MethodDelete, "/api-keys/"+later.ID, nil))
	requireUnavailable(t, alice.DoJSON(t, http.MethodPatch, "/api-keys/"+later.ID, map[string]any{"name": "renamed"}))
	t.Logf("change with Redis down: logged cause %q", requireLogged(t, mark, 2)[0])
	for _, srv := range []*keycaptest.App{f.a, f.b} { // nothing was changed, on any instance
		keycaptest.RequireCode(t, timed(t, func() *keycaptest.Response { return useKey(t, srv, later.Key) }), "")
	}
	require.Positive(t, f.proxy.Stats().Refused, "the requests reached the broken proxy")

	healed := time.Now()
	f.proxy.Heal()
	for _, srv := range []*keycaptest.App{f.b, f.a} { // B first: it made no change
		keycaptest.RequireCode(t, useKey(t, srv, later.Key), "")
		keycaptest.RequireCode(t, useKey(t, srv, gone.Key), keycap.CodeKeyInvalid)
		keycaptest.RequireCode(t, useKey(t, srv, good.Key), "")
	}
	t.Logf("Redis back: right answers on both instances %v after Heal", time.Since(healed))
	require.True(t, f.cached(t, later.ID), "the cache is used again")
	var k struct{ Name string }
	resp := alice.DoJSON(t, http.MethodGet, "/api-keys/"+later.ID, nil)
	resp.JSON(t, &k)
	require.Equal(t, "revoked after", k.Name, "the refused rename was not written")

	keycaptest.RequireCode(t, alice.DoJSON(t, http.MethodDelete, "/api-keys/"+later.ID, nil), "")
	for _, srv := range []*keycaptest.App{f.b, f.a} {
		keycaptest.RequireCode(t, useKey(t, srv, later.Key), keycap.CodeKeyInvalid)
	}
}

// TestRedisDownQuota uses a key with a quota while Redis is down: the
// database counts the quota exactly, and each request that spends a unit is
// let through (a cache that could not be told is no reason to refuse it).
func TestRedisDownQuota(t *testing.T) {
	f := newRedisFixture(t)
	alice := f.a.LogIn(t, "alice")
	resp := alice.DoJSON(t, http.MethodPost, "/api-keys", map[string]any{"name": "metered", "permissions": filesRead, "remaining": 5})
	keycaptest.RequireCode(t, resp, "")
	var k keycaptest.CreatedKey
	resp.JSON(t, &k)
	keycaptest.RequireCode(t, useKey(t, f.b, k.Key), "") // cached in Redis; 4 left

	f.proxy.Break()
	for i, srv := range []*keycaptest.App{f.a, f.b, f.a, f.b} {
		resp := timed(t, func() *keycaptest.Response { return useKey(t, srv, k.Key) })
		keycaptest.RequireCode(t, resp, "")
		require.Equal(t, strconv.Itoa(3-i), resp.Header.Get("X-Quota-Remaining"))
	}
	keycaptest.RequireCode(t, useKey(t, f.a, k.Key), keycap.CodeQuotaExceeded)

	f.proxy.Heal()
	keycaptest.RequireCode(t, useKey(t, f.b, k.Key), keycap.CodeQuotaExceeded)
}
