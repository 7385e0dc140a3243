package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis returns a client for the Redis at KEYCAP_REDIS_ADDR (default
// 127.0.0.1:6379) and a key prefix unique to this test, whose keys are
// deleted when the test ends. It skips or fails t when Redis is down.
func Redis(t testing.TB) (*redis.Client, string) {
	t.Helper()
	addr := Env("KEYCAP_REDIS_ADDR", "127.0.0.1:6379")
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := rdb.Ping(ctx).Err(); err != nil {
		rdb.Close()
		Unavailable(t, "Redis at "+addr, err.Error())
		return nil, ""
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	prefix := "keycap-test:" + hex.EncodeToString(b) + ":"
	t.Cleanup(func() {
		ctx := context.Background()
		iter := rdb.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		for iter.Next(ctx) {
			rdb.Del(ctx, iter.Val())
		}
		rdb.Close()
	})
	return rdb, prefix
}
