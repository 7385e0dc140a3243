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
func (m *Manager) withinAncestors(ctx context.Context, r *record, v *Verified, now time.Time, clientIP string) error {
	// Each step follows the parent the record itself names, not the
	// child's list: a record written before ancestors were stored knows
	// only its parent, and its grandparent must still bind it.
	child, ns := r, now.UnixNano()
	for depth := 1; len(child.ancestors) > 0; depth++ {
		if depth > maxDelegationDepth {
			return errParentInvalid
		}
		parent, _, err := m.lookup(ctx, child.ancestors[len(child.ancestors)-1], now)
		if errors.Is(err, ErrNotFound) {
			return errParentInvalid
		} else if err != nil {
			return err
		}
		end := parent.end // its own expiry, or the policy's maximum lifetime
		if parent.revoked || parent.disabled || (end != 0 && ns >= end) || parent.ownerID != r.ownerID ||
			!madeBy(child, parent, ns) {
			return errParentInvalid
		}
		if !allows(parent.allowedIPs, clientIP) {
			return ErrIPNotAllowed // a key made by a key limited to IP ranges is limited to them too
		}
		if !policy.Subset(v.Permissions, parent.permissions) {
			v.Permissions = policy.Intersect(v.Permissions, parent.permissions)
		}
		v.Resources = policy.IntersectResources(v.Resources, parent.resources)
		if parent.remaining >= 0 {
			*v.chain = append(*v.chain, parent.id())
			if v.Remaining < 0 || parent.remaining < v.Remaining {
				v.Remaining = parent.remaining
			}
		}
		v.until(end)
		if child.parentGeneration != parent.generation { // made by the previous secret: it ends with its grace
			v.until(parent.secrets.previousUntil)
		}
		child = parent
	}
	return nil
}

// madeBy reports whether the secret of parent that created child still
// works at now (Unix nanoseconds): the current one, or the previous one
// within its grace period.
func madeBy(child, parent *record, now int64) bool {
	switch child.parentGeneration {
	case parent.generation:
		return true
	case parent.generation - 1:
		return parent.inGrace(now)
	}
	return false
}
