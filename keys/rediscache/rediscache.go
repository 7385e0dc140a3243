// Package rediscache is a shared, coherent cache of key records in Redis,
// for several app instances that share one database: wrap the SQL store
// with it and turn the Manager's in-process cache off.
//
//	store := rediscache.New(sqlStore, rdb, rediscache.Options{})
//	mgr, _ := keys.NewManager(keys.Config{Store: store, Cache: keys.CacheConfig{Disabled: true}, ...})
//
// A verification then costs one Redis round trip on a hit and a database
// query on a miss. Every change made through any instance (revoke, update,
// rotate, disable) drops the record from Redis, is written to the database,
// and drops it again before the change is acknowledged, so the very next
// request on every instance sees it. A per-key version closes the race in
// which an instance reading the old record from the database would put it
// back after the drop.
//
// While Redis is unreachable, verification reads the database, so it stays
// correct; changes to keys are refused with [keys.ErrStoreUnavailable] and
// nothing is written, since Redis could not be told to forget the old record
// and would serve it to other instances once it is back.
package rediscache

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/keycaphq/keycap/keys"
)

// Options configures [New]. Zero values mean the documented defaults.
type Options struct {
	// Prefix starts every Redis key; "" means "keycap:".
	Prefix string
	// TTL bounds how long a record stays cached; 0 means 5 minutes. It is
	// also the longest a change can take to reach other instances if Redis
	// became unreachable between a change's two drops (the second drop is
	// retried).
	TTL time.Duration
}

// Store is a [keys.Store] that caches records in Redis in front of another
// Store. It is safe for concurrent use.
type Store struct {
	keys.Store
	rdb    redis.UniversalClient
	prefix string
	ttl    time.Duration

	mu       sync.Mutex
	pending  map[string]bool // ids whose drop failed, retried on the next call
	npending atomic.Int32    // len(pending), read without the lock on every Get
}

// New returns store with a Redis cache in front of it.
func New(store keys.Store, rdb redis.UniversalClient, o Options) *Store {
	if o.Prefix == "" {
		o.Prefix = "keycap:"
	}
	if o.TTL <= 0 {
		o.TTL = 5 * time.Minute
	}
	return &Store{Store: store, rdb: rdb, prefix: o.Prefix, ttl: o.TTL, pending: map[string]bool{}}
}

// Redis keys of a record: one hash slot per id ({id}), so the scripts work
// on Redis Cluster too.
func (s *Store) recordKey(id string) string  { return s.prefix + "key:{" + id + "}" }
func (s *Store) versionKey(id string) string { return s.prefix + "key:{" + id + "}:v" }

// setIfUnchanged caches a record read from the database only if no change
// was made since the version was read.
var setIfUnchanged = redis.NewScript(`
if (redis.call('GET', KEYS[2]) or '0') == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
end
return 1`)

// drop bumps the version and deletes the record, atomically.
var drop = redis.NewScript(`
redis.call('INCR', KEYS[2])
redis.call('PEXPIRE', KEYS[2], ARGV[1])
redis.call('DEL', KEYS[1])
return 1`)

// Get implements [keys.Store]: Redis first, then the wrapped Store.
func (s *Store) Get(ctx context.Context, id string) (*keys.Key, error) {
	s.retryDrops(ctx)
	vals, err := s.rdb.MGet(ctx, s.recordKey(id), s.versionKey(id)).Result()
	if err != nil {
		// Redis is down: the database is the truth, and asking it is safe.
		return s.Store.Get(ctx, id)
	}
	if data, ok := vals[0].(string); ok {
		var k keys.Key
		if err := json.Unmarshal([]byte(data), &k); err == nil {
			return &k, nil
		}
	}
	version := "0"
	if v, ok := vals[1].(string); ok {
		version = v
	}
	k, err := s.Store.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if data, err := json.Marshal(k); err == nil {
		_ = setIfUnchanged.Run(ctx, s.rdb, []string{s.recordKey(id), s.versionKey(id)},
			version, data, strconv.FormatInt(s.ttl.Milliseconds(), 10)).Err()
	}
	return k, nil
}

// Update implements [keys.Store]: a drop, the wrapped Store, then a drop
// again. When Redis cannot be told, nothing is written: a revocation saved
// while Redis is down would be undone, on every instance, by the old record
// Redis serves once it is back.
func (s *Store) Update(ctx context.Context, k *keys.Key) error {
	if err := s.dropRecord(ctx, k.ID); err != nil {
		return fmt.Errorf("%w: rediscache: nothing was changed: Redis could not be told to forget the record: %v", keys.ErrStoreUnavailable, err)
	}
	if err := s.Store.Update(ctx, k); err != nil {
		return err
	}
	return s.invalidate(ctx, k.ID)
}

// Touch implements [keys.Store]; the cached record's last use is dropped
// with it so that reads show the new time.
func (s *Store) Touch(ctx context.Context, id string, t time.Time, ip string) error {
	if err := s.Store.Touch(ctx, id, t, ip); err != nil {
		return err
	}
	return s.invalidate(ctx, id)
}

// Consume implements [keys.QuotaStore] when the wrapped Store does.
func (s *Store) Consume(ctx context.Context, id string, now time.Time) (int64, bool, error) {
	qs, ok := s.Store.(keys.QuotaStore)
	if !ok {
		return 0, false, errors.New("rediscache: the wrapped Store does not implement keys.QuotaStore")
	}
	remaining, ok, err := qs.Consume(ctx, id, now)
	if err != nil || remaining < 0 {
		return remaining, ok, err // no quota: nothing was written
	}
	// The quota changed (or was refilled): the cached record's is stale.
	// The wrapped Store counts the quota, not the cached record, so a drop
	// that failed (and is retried) is no reason to refuse a request whose
	// unit is already spent.
	_ = s.invalidate(ctx, id)
	return remaining, ok, nil
}

// dropRecord bumps id's version and deletes its cached record.
func (s *Store) dropRecord(ctx context.Context, id string) error {
	return drop.Run(ctx, s.rdb, []string{s.recordKey(id), s.versionKey(id)}, strconv.FormatInt(2*s.ttl.Milliseconds(), 10)).Err()
}

func (s *Store) invalidate(ctx context.Context, id string) error {
	err := s.dropRecord(ctx, id)
	if err == nil {
		return nil
	}
	s.mu.Lock()
	s.pending[id] = true
	s.npending.Store(int32(len(s.pending)))
	s.mu.Unlock()
	return fmt.Errorf("%w: the change is saved but other instances may serve the old record for up to %s: %v", keys.ErrStoreUnavailable, s.ttl, err)
}

// retryDrops retries drops that failed while Redis was unreachable.
func (s *Store) retryDrops(ctx context.Context) {
	if s.npending.Load() == 0 {
		return
	}
	s.mu.Lock()
	ids := make([]string, 0, len(s.pending))
	for id := range s.pending {
		ids = append(ids, id)
	}
	s.mu.Unlock()
	for _, id := range ids {
		if s.dropRecord(ctx, id) == nil {
			s.mu.Lock()
			delete(s.pending, id)
			s.npending.Store(int32(len(s.pending)))
			s.mu.Unlock()
		}
	}
}
