package memstore

import (
	"context"
	"time"
)

// CountBySecret implements [keys.Store].
func (s *Store) CountBySecret(_ context.Context, now time.Time) (map[string]int, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := map[string]int{}
	for _, k := range s.byID {
		if k.RevokedAt.IsZero() && !k.IsExpired(now) {
			out[k.SecretID]++
		}
	}
	return out, nil
}
