package rediscache

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/keycaphq/keycap/keys"
)

// Options configures [New]. Secret is required; zero values of the rest
// mean the documented defaults.
type Options struct {
	// Secret keys the MAC that authenticates cached records: the server
	// secret, the same as [keys.Config].Secret (a key is derived from it
	// for this use alone), at least [keys.MinSecretLength] bytes. Every
	// instance sharing the cache needs the same one.
	Secret []byte
	// Prefix starts every Redis key; "" means "keycap:".
	Prefix string
	// TTL bounds how long a record stays cached; 0 means 5 minutes. It is
	// also the longest a change can take to reach other instances if Redis
	// became unreachable between a change's two drops (the second drop is
	// retried), and the longest a party able to write to Redis can replay
	// a record this cache sealed before a change (see the package doc).
	TTL time.Duration
	// Logger receives a warning, once per key id per minute, when a cached
	// record does not verify. nil means slog.Default().
	Logger *slog.Logger
}

// Store is a [keys.Store] that caches records in Redis in front of another
// Store. It is safe for concurrent use.
type Store struct {
	store   keys.Store
	rdb     redis.UniversalClient
	prefix  string
	ttl     time.Duration
	sealer  *sealer
	rejects *rejectLog

	mu       sync.Mutex
	pending  map[string]bool // ids whose drop failed, retried on the next call
	npending atomic.Int32    // len(pending), read without the lock on every Get
}

var _ keys.Store = (*Store)(nil)

// New returns store with a Redis cache in front of it. It returns an error
// when store or rdb is nil, o.Secret is shorter than
// [keys.MinSecretLength], or o.TTL is negative.
func New(store keys.Store, rdb redis.UniversalClient, o Options) (*Store, error) {
	switch {
	case store == nil:
		return nil, errors.New("rediscache: the store to cache is required")
	case rdb == nil:
		return nil, errors.New("rediscache: a Redis client is required")
	case len(o.Secret) < keys.MinSecretLength:
		return nil, fmt.Errorf("rediscache: Options.Secret must be at least %d bytes: use the server secret (keys.Config.Secret)", keys.MinSecretLength)
	case o.TTL < 0:
		return nil, errors.New("rediscache: Options.TTL must not be negative; 0 means 5 minutes")
	}
	o.Prefix = cmp.Or(o.Prefix, "keycap:")
	o.TTL = cmp.Or(o.TTL, 5*time.Minute)
	o.Logger = cmp.Or(o.Logger, slog.Default())
	return &Store{
		store: store, rdb: rdb, prefix: o.Prefix, ttl: o.TTL,
		sealer:  newSealer(o.Secret),
		rejects: newRejectLog(o.Logger),
		pending: map[string]bool{},
	}, nil
}

// Redis keys of a record: one hash slot per id ({id}), so the scripts work
// on Redis Cluster too.
func (s *Store) recordKey(id string) string  { return s.prefix + "key:{" + id + "}" }
func (s *Store) versionKey(id string) string { return s.prefix + "key:{" + id + "}:v" }

// Get implements [keys.Store]: Redis first, then the wrapped Store. A
// cached record is served only if its MAC verifies for this id; any other
// is a miss, logged.
func (s *Store) Get(ctx context.Context, id string) (*keys.Key, error) {
	s.retryDrops(ctx)
	start := time.Now()
	rkey := s.recordKey(id)
	vals, err := s.rdb.MGet(ctx, rkey, s.versionKey(id)).Result()
	if err != nil {
		// Redis is down: the wrapped Store is the truth, and asking it is safe.
		return s.store.Get(ctx, id)
	}
	if env, ok := vals[0].(string); ok {
		k, err := s.sealer.open(rkey, env, start)
		if err == nil && k.ID == id {
			return k, nil
		}
		if err == nil {
			err = errors.New("record of another id") // cannot verify unless the secret is shared with another deployment
		}
		if !errors.Is(err, errExpired) {
			s.rejects.note(ctx, id, rkey, err, start)
		}
	}
	version := "0"
	if v, ok := vals[1].(string); ok {
		version = v
	}
	k, err := s.store.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	s.fill(ctx, id, version, k, start)
	return k, nil
}

// fill caches k, read from the wrapped Store after the version token was
// read at start, unless a drop replaced the token since. A fill later than
// one TTL after start gives up: the token it compares against may have
// expired (drops keep it for 2 TTL) and a new drop's with it.
func (s *Store) fill(ctx context.Context, id, version string, k *keys.Key, start time.Time) {
	if time.Since(start) >= s.ttl {
		return
	}
	env := s.sealer.seal(s.recordKey(id), k, start.Add(s.ttl))
	_ = setIfUnchanged.Run(ctx, s.rdb, []string{s.recordKey(id), s.versionKey(id)},
		version, env, strconv.FormatInt(s.ttl.Milliseconds(), 10)).Err()
}

// Create implements [keys.Store]: the wrapped Store's. Nothing is cached:
// no record with the id could have been (misses are not cached).
func (s *Store) Create(ctx context.Context, k *keys.Key, maxLive int) error {
	return s.store.Create(ctx, k, maxLive)
}

// List implements [keys.Store]: the wrapped Store's, uncached.
func (s *Store) List(ctx context.Context, owner string, page keys.Page) ([]*keys.Key, error) {
	return s.store.List(ctx, owner, page)
}

// CountBySecret implements [keys.Store]: the wrapped Store's, uncached.
func (s *Store) CountBySecret(ctx context.Context, now time.Time) (map[string]int, error) {
	return s.store.CountBySecret(ctx, now)
}

// PruneKeys implements [keys.Store]: the wrapped Store deletes, then the
// cached records of the deleted keys are dropped.
func (s *Store) PruneKeys(ctx context.Context, revokedBefore, expiredBefore time.Time, limit int) ([]*keys.Key, error) {
	ids, err := s.store.PruneKeys(ctx, revokedBefore, expiredBefore, limit)
	var errs []error
	for _, k := range ids {
		if ierr := s.invalidate(ctx, k.ID); ierr != nil {
			errs = append(errs, ierr)
		}
	}
	if err == nil && len(errs) > 0 {
		err = errs[0]
	}
	return ids, err
}
