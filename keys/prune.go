package keys

import (
	"context"
	"errors"
	"time"

	"github.com/keycaphq/keycap/audit"
)

// pruneBatch is how many records one [Store.PruneKeys] call deletes.
const pruneBatch = 500

// Prune deletes the records of keys revoked before revokedBefore or
// expired before expiredBefore (a zero time: no such rule), in batches,
// and returns how many it deleted. Both times must not be after now: a
// live key is never deleted. Each deletion is audited ([audit.Pruned]) with
// by as the actor; progress, when not nil, is called after each batch with
// the total so far. On an error the batches already deleted stay deleted
// and their count is returned with it.
func (m *Manager) Prune(ctx context.Context, revokedBefore, expiredBefore time.Time, by audit.Actor, progress func(deleted int)) (int, error) {
	now := m.stamp()
	if revokedBefore.After(now) || expiredBefore.After(now) {
		return 0, &FieldError{Field: "before", Reason: "must not be in the future: only keys already revoked or expired are pruned"}
	}
	if revokedBefore.IsZero() && expiredBefore.IsZero() {
		return 0, errors.New("keys: prune: give a time for revoked keys, expired keys or both")
	}
	total := 0
	for {
		dead, err := m.store.PruneKeys(ctx, revokedBefore, expiredBefore, pruneBatch)
		for _, k := range dead {
			m.audit(ctx, audit.Event{Type: audit.Pruned, Time: now, Actor: by, OwnerID: k.OwnerID, KeyID: k.ID})
			m.forget(k.ID)
		}
		total += len(dead)
		if progress != nil && len(dead) > 0 {
			progress(total)
		}
		if err != nil || len(dead) < pruneBatch {
			return total, err
		}
	}
}
