package redislimit_test

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/keycaphq/keycap/ratelimit"
	"github.com/keycaphq/keycap/ratelimit/redislimit"
)

// Every instance of the app counts in one Redis, on Redis's clock; pass
// the limiter as middleware.RateLimit.Limiter.
func ExampleNew() {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
	l := redislimit.New(rdb, "")
	perKey := ratelimit.Bucket{Name: "key:k1", Limit: ratelimit.Limit{Requests: 600, Window: time.Minute}}
	res, err := l.Allow(context.Background(), ratelimit.SlidingWindow, time.Now(), perKey)
	if err != nil {
		return // Redis unreachable: answer 503
	}
	fmt.Println(res.Allowed)
}
