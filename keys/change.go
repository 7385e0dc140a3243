package keys

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"time"

	"github.com/keycaphq/keycap/audit"
	"github.com/keycaphq/keycap/policy"
)

// maxChangeAttempts bounds how often a change is decided again on fresh
// state when another change wins the race to the Store.
const maxChangeAttempts = 4

// change reads the key ref names, lets decide make a Change of it, and
// writes it conditionally, as made by by, on the version read. When another change won in
// between it decides again on fresh state, up to maxChangeAttempts times,
// then answers [ErrConflict]. A decision with nothing to change writes
// nothing and returns the record as read (after == before).
func (m *Manager) change(ctx context.Context, ref Ref, by audit.Actor, decide func(k *Key, now time.Time) (Change, error)) (before, after *Key, err error) {
	for attempt := 1; ; attempt++ {
		k, err := m.Get(ctx, ref)
		if err != nil {
			return nil, nil, err
		}
		if !k.RevokedAt.IsZero() {
			return nil, nil, ErrAlreadyRevoked
		}
		now := m.stamp()
		c, err := decide(k, now)
		if err != nil {
			return nil, nil, err
		}
		if c.Name == nil && c.Permissions == nil && c.ExpiresAt == nil && c.Disabled == nil && c.Secret == nil && !c.EndGrace && c.AllowedIPs == nil &&
			c.Metadata == nil && c.Resources == nil && c.Description == nil && c.Remaining == nil && c.Refill == nil && !c.RemoveQuota {
			return k, k, nil
		}
		c.Version, c.At, c.By = k.Version, now, by
		after, err := m.store.Change(ctx, k.ID, c)
		m.forget(k.ID)
		if errors.Is(err, ErrConflict) && attempt < maxChangeAttempts {
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		return k, after, nil
	}
}

// refuseExpired refuses to change a key that has expired, by its own
// expiry or the policy's maximum lifetime: it stays expired.
func (m *Manager) refuseExpired(k *Key, now time.Time) error {
	if k.IsExpired(now) {
		return ErrAlreadyExpired
	}
	if maxAge := m.kinds.of(k).maxLifetime(m.policy, k.Permissions); maxAge > 0 && !now.Before(k.CreatedAt.Add(maxAge)) {
		return ErrAlreadyExpired
	}
	return nil
}

// auditChange audits an Update as the events its change amounts to;
// quota says the change set the quota (Consume moves Remaining too, so
// before and after alone cannot tell).
func (m *Manager) auditChange(ctx context.Context, actor audit.Actor, before, after *Key, quota bool) {
	e := audit.Event{Time: after.UpdatedAt, Actor: actor, OwnerID: after.OwnerID, KeyID: after.ID}
	if after.Name != before.Name || !after.ExpiresAt.Equal(before.ExpiresAt) || !samePermissions(before.Permissions, after.Permissions) ||
		!slices.Equal(before.AllowedIPs, after.AllowedIPs) || !bytes.Equal(before.Metadata, after.Metadata) || !before.Resources.Equal(after.Resources) ||
		before.Description != after.Description || quota {
		u := e
		u.Type, u.Before, u.After = audit.Updated, before.Permissions, after.Permissions
		u.BeforeResources, u.AfterResources = before.Resources, after.Resources
		if before.Description != after.Description {
			u.BeforeDescription, u.AfterDescription = before.Description, after.Description
		}
		if quota {
			u.BeforeQuota, u.AfterQuota = auditQuota(before), auditQuota(after)
		}
		m.audit(ctx, u)
	}
	if after.Disabled != before.Disabled || after.DisabledBy != before.DisabledBy {
		e.Type = audit.Enabled
		if after.Disabled {
			e.Type = audit.Disabled
		}
		m.audit(ctx, e)
	}
}

func samePermissions(a, b policy.Permissions) bool {
	return policy.Subset(a, b) && policy.Subset(b, a)
}

func lifetimeOf(k *Key) time.Duration {
	if k.ExpiresAt.IsZero() {
		return 0
	}
	return k.ExpiresAt.Sub(k.CreatedAt)
}
