package memstore

import (
	"context"
	"time"

	"github.com/keycaphq/keycap/keys"
)

var _ keys.QuotaStore = (*Store)(nil)

// Consume implements [keys.QuotaStore]: it spends one unit of key id's
// quota at now, refilling it first when a refill is due.
func (s *Store) Consume(_ context.Context, id string, now time.Time) (remaining int64, ok bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k, found := s.byID[id]
	if !found {
		return 0, false, keys.ErrNotFound
	}
	if k.Remaining == nil {
		return -1, true, nil
	}
	left := *k.Remaining
	due := refillDue(k, now)
	if due {
		left = k.RefillAmount
	}
	if left <= 0 {
		return 0, false, nil // spent; a due refill of 0 is no refill
	}
	left--
	k.Remaining = &left // a fresh pointer: records handed out never share it
	if due {
		k.LastRefillAt = now
	}
	return left, true, nil
}

// refillDue reports whether k's quota is reset at now.
func refillDue(k *keys.Key, now time.Time) bool {
	if k.RefillInterval <= 0 || k.RefillAmount <= 0 {
		return false
	}
	from := k.LastRefillAt
	if from.IsZero() {
		from = k.CreatedAt
	}
	return !now.Before(from.Add(k.RefillInterval))
}
