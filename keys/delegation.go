package keys

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/keycaphq/keycap/policy"
)

// maxDelegationDepth bounds chains of keys created by keys: a key has at
// most this many ancestors.
const maxDelegationDepth = 8

// errParentInvalid wraps [ErrInvalid] for a delegated key whose parent key
// (or one of its ancestors) was revoked, disabled, expired, deleted or
// rotated past the secret that created it.
var errParentInvalid = fmt.Errorf("%w: the key that created it no longer works", ErrInvalid)

// withinAncestors cuts a delegated key's permissions to every ancestor's
// and refuses it when an ancestor no longer works, or no longer works with
// the secret that created its child: a key made by a key never outlives or
// outgrows it, nor survives the rotation of a leaked secret that made it.
func (m *Manager) withinAncestors(ctx context.Context, k *Key, v *Verified, now time.Time, clientIP string) error {
	// Each step follows the parent the record itself names, not the
	// child's list: a record written before ancestors were stored knows
	// only its parent, and its grandparent must still bind it.
	child := k
	for depth := 1; len(child.Ancestors) > 0; depth++ {
		if depth > maxDelegationDepth {
			return errParentInvalid
		}
		parent, _, err := m.lookup(ctx, child.Ancestors[len(child.Ancestors)-1], now)
		if errors.Is(err, ErrNotFound) {
			return errParentInvalid
		} else if err != nil {
			return err
		}
		maxAge := m.kinds.of(parent).maxLifetime(m.policy, parent.Permissions)
		if !parent.RevokedAt.IsZero() || parent.Disabled || parent.IsExpired(now) || parent.OwnerID != k.OwnerID ||
			(maxAge > 0 && !now.Before(parent.CreatedAt.Add(maxAge))) || !madeBy(child, parent, now) {
			return errParentInvalid
		}
		if !allows(parent.AllowedIPs, clientIP) {
			return ErrIPNotAllowed // a key made by a key limited to IP ranges is limited to them too
		}
		if !policy.Subset(v.Permissions, parent.Permissions) {
			v.Permissions = policy.Intersect(v.Permissions, parent.Permissions)
		}
		v.Resources = policy.IntersectResources(v.Resources, parent.Resources)
		if parent.Remaining != nil {
			v.quota = append(v.quota, parent.ID)
			if v.Remaining < 0 || *parent.Remaining < v.Remaining {
				v.Remaining = *parent.Remaining
			}
		}
		v.until(m.lifetimeEnd(parent))
		if child.ParentGeneration != parent.Generation { // made by the previous secret: it ends with its grace
			v.until(parent.PreviousExpiresAt)
		}
		child = parent
	}
	return nil
}

// madeBy reports whether the secret of parent that created child still
// works: the current one, or the previous one within its grace period.
func madeBy(child, parent *Key, now time.Time) bool {
	switch child.ParentGeneration {
	case parent.Generation:
		return true
	case parent.Generation - 1:
		return parent.PreviousHash != nil && now.Before(parent.PreviousExpiresAt)
	}
	return false
}
