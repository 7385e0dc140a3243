package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/alexedwards/scs/goredisstore"
	"github.com/alexedwards/scs/v2"
	"github.com/redis/go-redis/v9"

	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/keys/rediscache"
	"github.com/keycaphq/keycap/ratelimit"
	"github.com/keycaphq/keycap/ratelimit/redislimit"
)

// redisBackend is the state the instances share in Redis, every key under
// one prefix: <prefix>key:{id} for cached records, <prefix>session:<token>
// for sessions, <prefix>rl:... for rate-limit counters.
type redisBackend struct {
	store    *rediscache.Store
	sessions scs.Store
	limiter  ratelimit.Limiter
	describe string // the address and prefix, for the log
	close    func() error
}

// openRedis connects to rawURL (redis://[:password@]host:6379/db) and puts
// the coherent Redis cache in front of store. prefix "" means "keycap:".
// One go-redis client serves the cache, the sessions (scs's goredisstore)
// and the rate limiter.
func openRedis(rawURL, prefix string, store keys.Store, secret []byte, logger *slog.Logger) (*redisBackend, error) {
	opts, err := redis.ParseURL(rawURL)
	if err != nil {
		return nil, fmt.Errorf("REDIS_URL: %w", err)
	}
	if prefix == "" {
		prefix = "keycap:"
	}
	rdb := redis.NewClient(opts)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := rdb.Ping(ctx).Err(); err != nil {
		rdb.Close()
		return nil, fmt.Errorf("REDIS_URL: %w", err)
	}
	cache, err := rediscache.New(store, rdb, rediscache.Options{Prefix: prefix, Secret: secret, Logger: logger}) // records cached 5 minutes
	if err != nil {
		rdb.Close()
		return nil, err
	}
	return &redisBackend{
		store:    cache,
		sessions: goredisstore.NewWithPrefix(rdb, prefix+"session:"),
		limiter:  redislimit.New(rdb, prefix+"rl:"),
		describe: fmt.Sprintf("%s db %d prefix %q", opts.Addr, opts.DB, prefix),
		close:    rdb.Close,
	}, nil
}
