package keys

import (
	"bytes"
	"context"
	"encoding/json"
	"net/netip"
	"time"

	"github.com/keycaphq/keycap/audit"
	"github.com/keycaphq/keycap/policy"
)

// UpdateRequest describes a change to a key; nil fields stay as they are.
// Every refusal is checked before anything is written, and the change is
// one write: all of it or none.
type UpdateRequest struct {
	// Ref names the key and the calling key, if any.
	Ref
	// Actor is who asks; zero means the calling key or the owner. Another
	// user (an admin) or an operator may only disable or enable the key
	// ([ErrAdminChange]).
	Actor audit.Actor
	// Name renames the key: 1 to 100 printable characters, trimmed.
	Name *string
	// Description replaces the key's description ([CreateRequest].Description
	// says what it may be); "" removes it. nil: unchanged.
	Description *string
	// Permissions replace the key's; they go through the policy like a new
	// key's, within the owner's current cap (and the caller's).
	Permissions policy.Permissions
	// Lifetime sets the expiry to now + Lifetime (at least a second), never
	// past the policy's maximum lifetime counted from creation.
	Lifetime *time.Duration
	// Disabled turns the key off or back on. A key disabled by an admin or
	// an operator cannot be enabled by its owner or the owner's keys
	// ([ErrAdminChange]).
	Disabled *bool
	// AllowedIPs replaces the key's allow-list ([CreateRequest].AllowedIPs
	// says what a list may be); an empty list lifts it, unless the policy
	// requires one for the key's permissions. nil: unchanged.
	AllowedIPs *[]netip.Prefix
	// Metadata replaces the key's metadata ([CreateRequest].Metadata says
	// what it may be); an empty object removes it. nil: unchanged.
	Metadata *json.RawMessage
	// Resources replaces the key's restriction to records (the whole of
	// it: [CreateRequest].Resources says what it may be); pointing to nil
	// or an empty map lifts it, and the key reaches every record its owner
	// can (within a calling key's restriction). nil: unchanged. Whenever
	// permissions or resources change, the restriction is checked again
	// against the key's actions and the owner's live access; a kept
	// restriction drops the resources the new permissions no longer hold.
	Resources *policy.Resources
	// Remaining sets how many requests the key has left (at least 0; 0:
	// none until its next refill). Where [Config].Quota sets a quota, it
	// is a cap: Remaining may only lower the key's (never above what the
	// key has left, nor above Config.Quota.Remaining for a key without
	// one). Where it sets none, the owner may raise, lower or set it; a
	// calling key may only lower its own (its owner gave it that budget),
	// but may raise the quota of a key it created, whose requests still
	// spend its own ([Manager.Consume] counts along the chain). Only a
	// raise above the count the change is decided on sets it exactly; a
	// lowering, the owner's too, is applied in the Store's write as the
	// lesser of the stored count and Remaining, so requests admitted
	// meanwhile are never given back, and the count itself sent back (a
	// client echoing the record) changes nothing. nil: unchanged.
	Remaining *int64
	// Refill sets the refill: RefillAmount and RefillInterval of the
	// Quota it points to (both positive, or both 0 to stop refills; its
	// Remaining is ignored). Within Config.Quota's refill where it sets a
	// quota, and within the key's own refill for a calling key changing
	// itself. A key without a quota needs Remaining too. A changed refill
	// restarts the refill clock at the change. nil: unchanged.
	Refill *Quota
	// RemoveQuota removes the key's quota and its refill; refused where
	// Config.Quota sets one and for a calling key's own quota. Not with
	// Remaining, nor with a Refill that refills.
	RemoveQuota bool
	// IfVersion, when not 0, makes the change conditional on the record
	// the caller decided it on: if the key's [Key].Version is another by
	// the time it is written, Update answers [ErrConflict] and writes
	// nothing (it is not decided again on fresh state). 0: decided on
	// whatever the key holds when it is written.
	IfVersion int64
}

// Update changes the key ref names. Refusals are the errors of
// [Manager.Create] ([*policy.AllowListError] also when new permissions
// need an allow-list the key lacks), [ErrAlreadyRevoked], [ErrAlreadyExpired],
// [ErrAdminChange] (an admin may only disable or enable another user's
// key, and an owner may not change a key an admin disabled) and [ErrConflict] when the key kept changing
// while the change was decided. Nothing is written on a refusal.
func (m *Manager) Update(ctx context.Context, u UpdateRequest) (*Key, error) {
	if err := checkManager(u.Caller, u.Owner); err != nil {
		return nil, err
	}
	actor := actorFor(u.Actor, u.Caller, u.Owner) // after checkManager: Caller.Key may be nil
	quota := false                                // the change written sets the quota
	before, after, err := m.change(ctx, u.Ref, actor, func(k *Key, now time.Time) (Change, error) {
		// Every refusal comes after the read: a key out of reach is
		// [ErrNotFound] whatever the request would do to it.
		c, err := m.updating(ctx, u, actor, k, now)
		quota = c.Remaining != nil || c.Refill != nil || c.RemoveQuota
		return c, err
	})
	if err != nil {
		m.auditRefusal(ctx, actor, u.Owner, u.ID, err)
		return nil, err
	}
	if after.Version == before.Version {
		return after, nil // nothing to change
	}
	m.auditChange(ctx, actor, before, after, quota)
	return after, nil
}

// updating decides the Change u makes to k at now, or refuses it.
func (m *Manager) updating(ctx context.Context, u UpdateRequest, actor audit.Actor, k *Key, now time.Time) (Change, error) {
	c := Change{}
	if u.IfVersion != 0 && k.Version != u.IfVersion {
		return c, ErrConflict
	}
	s, err := m.sideOf(ctx, actor, u.Owner)
	if err != nil {
		return c, err
	}
	if !s.owner && (u.Name != nil || u.Description != nil || u.Permissions != nil || u.Lifetime != nil || u.AllowedIPs != nil || u.Metadata != nil || u.Resources != nil ||
		u.changesQuota()) {
		return c, s.sideRefusal()
	}
	if u.Name != nil {
		name, err := checkName(*u.Name)
		if err != nil {
			return c, err
		}
		c.Name = &name
	}
	if u.Description != nil {
		d, err := checkDescription(*u.Description)
		if err != nil {
			return c, err
		}
		if d != k.Description {
			c.Description = &d
		}
	}
	if u.Metadata != nil {
		md, err := checkMetadata(*u.Metadata)
		if err != nil {
			return c, err
		}
		if !bytes.Equal(md, k.Metadata) {
			md = append(json.RawMessage{}, md...) // non-nil: an empty one removes it
			c.Metadata = &md
		}
	}
	if u.Lifetime != nil && *u.Lifetime < time.Second {
		return c, &FieldError{Field: "expires_in", Reason: "at least 1 second; leave it out to keep the expiry"}
	}
	if err := m.refuseExpired(k, now); err != nil {
		return c, err
	}
	perms := k.Permissions
	if u.Permissions != nil || u.Resources != nil {
		if c.Permissions, c.Resources, err = m.regrant(ctx, u, k, s); err != nil {
			return c, err
		}
		if c.Permissions != nil {
			perms = c.Permissions
		}
	}
	if u.Lifetime != nil {
		expiresAt, err := m.expiry(m.kinds.of(k), perms, *u.Lifetime, k.CreatedAt, now, u.Caller)
		if err != nil {
			return c, err
		}
		c.ExpiresAt = &expiresAt
	} else if maxAge := m.kinds.of(k).maxLifetime(m.policy, perms); u.Permissions != nil && maxAge > 0 && (k.ExpiresAt.IsZero() || k.ExpiresAt.After(k.CreatedAt.Add(maxAge))) {
		// New permissions may carry a shorter maximum lifetime than the
		// key's current expiry: say so rather than extend or cut silently.
		// Other changes (a rename) leave the expiry alone, even when a newer
		// policy would not allow it: Verify applies the current maximum.
		return c, &policy.LifetimeError{Requested: lifetimeOf(k), Maximum: maxAge}
	}
	if u.Disabled != nil {
		ownerSide := func(a audit.Actor) bool {
			if a == actor {
				return s.owner
			}
			as, err := m.sideOf(ctx, a, u.Owner)
			return err == nil && as.owner
		}
		if c.Disabled, err = disabling(k, *u.Disabled, actor, ownerSide); err != nil {
			return c, err
		}
	}
	if c.AllowedIPs, err = m.changingAllowList(k, u, perms); err != nil {
		return c, err
	}
	return c, m.changingQuota(u, k, &c, now)
}

// disabling returns the change that turns k off (disabled) or on as actor
// for owner, or nil when there is nothing to change. An admin's disable
// holds against the owner's side ([ErrAdminChange]), also when the
// admin disables a key its owner had already turned off: the admin then
// becomes who disabled it.
func disabling(k *Key, disabled bool, actor audit.Actor, ownerSide func(audit.Actor) bool) (*bool, error) {
	switch {
	case disabled && k.Disabled && (ownerSide(actor) || !ownerSide(k.DisabledBy)):
		return nil, nil // already off, and the disable already holds against whom it must
	case disabled:
		return &disabled, nil // the Change's By, the actor, becomes who disabled it
	case !k.Disabled:
		return nil, nil
	case !ownerSide(k.DisabledBy) && ownerSide(actor):
		return nil, errDisabledByAdmin
	}
	return &disabled, nil
}

// regrant decides the permissions (nil: unchanged) and the restriction to
// records (nil: unchanged) u gives k, within the owner's cap and live
// access and the calling key's bounds.
func (m *Manager) regrant(ctx context.Context, u UpdateRequest, k *Key, s side) (policy.Permissions, *policy.Resources, error) {
	perms, granted := k.Permissions, policy.Permissions(nil)
	var err error
	if u.Permissions != nil {
		if granted, err = m.grantFor(ctx, u.Owner, u.Permissions, u.Caller, s, m.kinds.of(k)); err != nil {
			return nil, nil, err
		}
		perms = granted
	}
	requested := k.Resources
	if u.Resources != nil {
		requested = *u.Resources
	} else if len(requested) > 0 {
		requested = requested.Clone()
		for name := range requested {
			if len(perms[name]) == 0 {
				delete(requested, name) // the key no longer acts on name
			}
		}
	}
	res, err := m.grantResources(ctx, u.Owner, perms, requested, u.Caller)
	if err != nil || res.Equal(k.Resources) {
		return granted, nil, err
	}
	return granted, &res, nil
}
