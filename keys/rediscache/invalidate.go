package rediscache

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"

	"github.com/redis/go-redis/v9"

	"github.com/keycaphq/keycap/keys"
)

// A record's version key holds a token that every drop replaces with a
// fresh random one, and a fill caches a record only if the token is still
// the one read before the wrapped Store was asked. A counter would not do:
// once a version key expires, INCR starts again from 1 and may come back
// to the very value a slow fill read (ABA). Random tokens never come back,
// and the token outlives any fill that may still compare against it: a
// drop keeps it for 2 TTL, and a fill gives up after 1 TTL (see Get).
// Tokens are decimal integers below 2^62 so that an older keycap, whose
// drops INCR the version, can run beside this one during a rolling deploy.

// setIfUnchanged caches a record read from the wrapped Store only if the
// version token is still the one read before it.
var setIfUnchanged = redis.NewScript(`
if (redis.call('GET', KEYS[2]) or '0') == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
end
return 1`)

// drop replaces the version token and deletes the record, atomically.
var drop = redis.NewScript(`
redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
redis.call('DEL', KEYS[1])
return 1`)

// token returns a fresh version token.
func token() string { return strconv.FormatUint(rand.Uint64N(1<<62-1)+1, 10) }

// dropRecord replaces id's version token and deletes its cached record.
func (s *Store) dropRecord(ctx context.Context, id string) error {
	return drop.Run(ctx, s.rdb, []string{s.recordKey(id), s.versionKey(id)},
		token(), strconv.FormatInt(2*s.ttl.Milliseconds(), 10)).Err()
}

// invalidate drops id's cached record after a change was written, even if
// ctx was cancelled meanwhile (a client gone while its revocation was
// written must not leave the old record cached). If Redis cannot be
// reached the drop is retried on later calls, and the error says the
// change is saved.
func (s *Store) invalidate(ctx context.Context, id string) error {
	err := s.dropRecord(context.WithoutCancel(ctx), id)
	if err == nil {
		return nil
	}
	s.mu.Lock()
	s.pending[id] = true
	s.npending.Store(int32(len(s.pending)))
	s.mu.Unlock()
	return fmt.Errorf("%w: rediscache: the change is saved but other instances may serve the old record for up to %s: %v", keys.ErrStoreUnavailable, s.ttl, err)
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
		if s.dropRecord(ctx, id) != nil {
			return // still unreachable: try again on the next call
		}
		s.mu.Lock()
		delete(s.pending, id)
		s.npending.Store(int32(len(s.pending)))
		s.mu.Unlock()
	}
}
