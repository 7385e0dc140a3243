package memstore

import (
	"context"
	"slices"
	"time"

	"github.com/keycaphq/keycap/keys"
)

// PruneKeys implements [keys.Store] under the one lock: the check and the
// delete are one step.
func (s *Store) PruneKeys(_ context.Context, revokedBefore, expiredBefore time.Time, limit int) ([]*keys.Key, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var dead []string
	for id, k := range s.byID {
		if prunable(k, revokedBefore, expiredBefore) {
			dead = append(dead, id)
		}
	}
	slices.Sort(dead)
	if len(dead) > limit {
		dead = dead[:max(limit, 0)]
	}
	out := make([]*keys.Key, len(dead))
	for i, id := range dead {
		out[i] = &keys.Key{ID: id, OwnerID: s.byID[id].OwnerID}
		delete(s.byHash, string(s.byID[id].Hash))
		delete(s.byID, id)
	}
	return out, nil
}

// prunable reports whether k was revoked before revokedBefore or expired
// before expiredBefore (zero times: no such rule).
func prunable(k *keys.Key, revokedBefore, expiredBefore time.Time) bool {
	return (!revokedBefore.IsZero() && !k.RevokedAt.IsZero() && k.RevokedAt.Before(revokedBefore)) ||
		(!expiredBefore.IsZero() && !k.ExpiresAt.IsZero() && k.ExpiresAt.Before(expiredBefore))
}
