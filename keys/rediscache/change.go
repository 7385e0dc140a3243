package rediscache

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/keycaphq/keycap/keys"
)

// Change implements [keys.Store]: a drop, the wrapped Store's Change, then
// a drop again, so that a fill that read the old record before the change
// was written cannot put it back (see the package doc). When Redis cannot
// be told to forget the record first, nothing is written and the error
// wraps [keys.ErrStoreUnavailable]: a revocation saved while Redis is down
// would be undone, on every instance, by the old record Redis serves once
// it is back. When the second drop fails the change is saved, the drop is
// retried on later calls, and Change returns the record as written with an
// error wrapping [keys.ErrStoreUnavailable] that says so.
func (s *Store) Change(ctx context.Context, id string, c keys.Change) (*keys.Key, error) {
	s.retryDrops(ctx)
	if err := s.dropRecord(ctx, id); err != nil {
		return nil, fmt.Errorf("%w: rediscache: nothing was changed: Redis could not be told to forget the record: %v", keys.ErrStoreUnavailable, err)
	}
	k, err := s.store.Change(ctx, id, c)
	if err != nil {
		if !refused(err) {
			_ = s.invalidate(ctx, id) // the write may have happened: forget what a fill cached meanwhile
		}
		return nil, err
	}
	return k, s.invalidate(ctx, id)
}

// refused reports whether err is a refusal after which, by the Store
// contract, nothing was written.
func refused(err error) bool {
	return errors.Is(err, keys.ErrNotFound) || errors.Is(err, keys.ErrAlreadyRevoked) || errors.Is(err, keys.ErrConflict)
}

// Consume implements [keys.Store]: the wrapped Store's Consume, then every
// id in ids is dropped from the cache, whose quotas are now stale. A drop
// that fails is retried on later calls and is no reason to refuse the
// request: the wrapped Store counts the quota, not the cached record, and
// the unit is already spent.
func (s *Store) Consume(ctx context.Context, ids []string, now time.Time) (remaining int64, ok bool, err error) {
	remaining, ok, err = s.store.Consume(ctx, ids, now)
	if err != nil || !ok || remaining < 0 {
		return remaining, ok, err // refused, or no quota: nothing was written
	}
	for _, id := range ids {
		_ = s.invalidate(ctx, id)
	}
	return remaining, ok, nil
}

// Touch implements [keys.Store]; the cached record's last use is dropped
// with it so that reads show the new time.
func (s *Store) Touch(ctx context.Context, id string, t time.Time, ip string) error {
	if err := s.store.Touch(ctx, id, t, ip); err != nil {
		return err
	}
	return s.invalidate(ctx, id)
}
