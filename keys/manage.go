package keys

import (
	"context"
	"strings"
	"time"

	"github.com/keycaphq/keycap/policy"
)

// Get returns owner's key with id. Another owner's key is [ErrNotFound],
// exactly like a missing one.
func (m *Manager) Get(ctx context.Context, owner, id string) (*Key, error) {
	k, err := m.store.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if k.OwnerID != owner {
		return nil, ErrNotFound
	}
	return k, nil
}

// Lookup returns the key with id whoever owns it. It is meant for admin
// tools that have already checked the caller may see every key.
func (m *Manager) Lookup(ctx context.Context, id string) (*Key, error) {
	return m.store.Get(ctx, id)
}

// List returns a page of owner's keys, newest first, and the cursor of the
// next page ("" on the last page). Revoked keys are included.
func (m *Manager) List(ctx context.Context, owner string, page Page) ([]*Key, string, error) {
	if page.Limit <= 0 {
		page.Limit = DefaultPageLimit
	}
	page.Limit = min(page.Limit, MaxPageLimit)
	want := page.Limit
	page.Limit++ // one more tells whether there is a next page
	list, err := m.store.List(ctx, owner, page)
	if err != nil {
		return nil, "", err
	}
	if len(list) <= want {
		return list, "", nil
	}
	list = list[:want]
	return list, list[want-1].ID, nil
}

// UpdateRequest describes a change to a key; nil fields stay as they are.
type UpdateRequest struct {
	Name *string
	// Permissions replace the key's; they go through the policy like a new
	// key's, within the owner's current cap (and the caller's).
	Permissions policy.Permissions
	// Lifetime sets the expiry to now + Lifetime, never past the policy's
	// maximum lifetime counted from creation. 0 means the policy's default.
	Lifetime *time.Duration
	Caller   *Verified // the calling key, for delegation; nil for a session
	Actor    string    // for the audit; "" means the owner
}

// Update changes owner's key id. Refusals are the errors of
// [Manager.Create]; a revoked key cannot be changed ([ErrAlreadyRevoked]). Nothing
// is written on a refusal.
func (m *Manager) Update(ctx context.Context, owner, id string, u UpdateRequest) (*Key, error) {
	actor := or(u.Actor, owner)
	if err := checkCaller(u.Caller, owner); err != nil {
		return nil, err
	}
	k, err := m.Get(ctx, owner, id)
	if err != nil {
		return nil, err
	}
	if k.IsRevoked() {
		return nil, ErrAlreadyRevoked
	}
	before := k.Permissions
	next := k.Clone()
	if u.Name != nil {
		if next.Name, err = checkName(*u.Name); err != nil {
			return nil, err
		}
	}
	if u.Permissions != nil {
		subject, err := m.subjects.Subject(ctx, owner)
		if err != nil {
			return nil, err
		}
		if next.Permissions, err = m.policy.Grant(ctx, subject, u.Permissions, callerBounds(u.Caller)...); err != nil {
			m.auditRefusal(ctx, actor, owner, id, err)
			return nil, err
		}
	}
	now := m.now().UTC().Truncate(time.Millisecond)
	if u.Lifetime != nil {
		if next.ExpiresAt, err = m.expiry(next.Permissions, *u.Lifetime, k.CreatedAt, now, u.Caller); err != nil {
			m.auditRefusal(ctx, actor, owner, id, err)
			return nil, err
		}
	} else if max := m.policy.MaxLifetime(next.Permissions); u.Permissions != nil && max > 0 && (next.ExpiresAt.IsZero() || next.ExpiresAt.After(k.CreatedAt.Add(max))) {
		// New permissions may carry a shorter maximum lifetime than the
		// key's current expiry: say so rather than extend or cut silently.
		// Other changes (a rename) leave the expiry alone, even when a newer
		// policy would not allow it: Verify applies the current maximum.
		err := &policy.LifetimeError{Requested: lifetimeOf(next), Maximum: max}
		m.auditRefusal(ctx, actor, owner, id, err)
		return nil, err
	}
	next.UpdatedAt = now
	if err := m.store.Update(ctx, next); err != nil {
		return nil, err
	}
	m.forget(id)
	m.audit(ctx, Event{Type: EventUpdated, Time: now, Actor: actor, OwnerID: owner, KeyID: id, Before: before, After: next.Permissions})
	return next, nil
}

// RevokeRequest says who revokes a key and why.
type RevokeRequest struct {
	Actor  string // "" means the owner
	Reason string // free text, kept on the record
}

// Revoke revokes owner's key id: it stops working at once and the record
// is kept (time, actor, reason). Revoking a revoked key returns it as is.
func (m *Manager) Revoke(ctx context.Context, owner, id string, r RevokeRequest) (*Key, error) {
	k, err := m.Get(ctx, owner, id)
	if err != nil || k.IsRevoked() {
		return k, err
	}
	if len(r.Reason) > 500 {
		return nil, &FieldError{Field: "reason", Reason: "the reason is at most 500 bytes"}
	}
	now := m.now().UTC().Truncate(time.Millisecond)
	k.RevokedAt, k.RevokedBy, k.RevokedReason, k.UpdatedAt = now, or(r.Actor, owner), r.Reason, now
	if err := m.store.Update(ctx, k); err != nil {
		return nil, err
	}
	m.forget(id)
	m.audit(ctx, Event{Type: EventRevoked, Time: now, Actor: k.RevokedBy, OwnerID: owner, KeyID: id, Before: k.Permissions, Reason: r.Reason})
	return k, nil
}

// SetDisabled turns owner's key id off (true) or back on (false) as actor
// ("" means the owner); a disabled key is refused like a revoked one but
// can be enabled again. A key disabled by someone other than its owner
// (an admin) cannot be enabled by the owner or the owner's keys:
// [ErrDisabledByAdmin].
func (m *Manager) SetDisabled(ctx context.Context, owner, id string, disabled bool, actor string) (*Key, error) {
	k, err := m.Get(ctx, owner, id)
	if err != nil {
		return nil, err
	}
	if k.IsRevoked() {
		return nil, ErrAlreadyRevoked
	}
	if k.Disabled == disabled {
		return k, nil
	}
	actor = or(actor, owner)
	if !disabled && !ownerSide(k.DisabledBy, owner) && ownerSide(actor, owner) {
		return nil, ErrDisabledByAdmin
	}
	now := m.now().UTC().Truncate(time.Millisecond)
	k.Disabled, k.UpdatedAt, k.DisabledBy = disabled, now, ""
	if disabled {
		k.DisabledBy = actor
	}
	if err := m.store.Update(ctx, k); err != nil {
		return nil, err
	}
	m.forget(id)
	t := EventEnabled
	if disabled {
		t = EventDisabled
	}
	m.audit(ctx, Event{Type: t, Time: now, Actor: actor, OwnerID: owner, KeyID: id})
	return k, nil
}

// ownerSide reports whether actor acts as owner: the owner, one of the
// owner's keys ("key:<id>", delegation), or nobody recorded.
func ownerSide(actor, owner string) bool {
	return actor == "" || actor == owner || strings.HasPrefix(actor, "key:")
}

// Rotate gives owner's key id a new secret, returned once. The old secret
// keeps working for grace (0: it stops at once; at most the configured
// MaxRotationGrace). The key keeps its id, name, expiry and limits; its
// permissions are cut to the owner's current cap (and the caller's).
func (m *Manager) Rotate(ctx context.Context, owner, id string, grace time.Duration, caller *Verified, actor string) (*Key, string, error) {
	if grace < 0 || grace > m.maxGrace {
		return nil, "", &FieldError{Field: "grace_seconds", Reason: "the grace period is 0 to " + m.maxGrace.String()}
	}
	if err := checkCaller(caller, owner); err != nil {
		return nil, "", err
	}
	k, err := m.Get(ctx, owner, id)
	if err != nil {
		return nil, "", err
	}
	if k.IsRevoked() {
		return nil, "", ErrAlreadyRevoked
	}
	cap, err := m.Cap(ctx, owner, callerBounds(caller)...)
	if err != nil {
		return nil, "", err
	}
	before := k.Permissions
	k.Permissions = policy.Intersect(k.Permissions, cap)
	if k.Permissions.IsEmpty() {
		err := &policy.InvalidError{Path: "permissions", Reason: "the key holds no permission you may still grant; create a new key", Err: policy.ErrEmpty}
		m.auditRefusal(ctx, or(actor, owner), owner, id, err)
		return nil, "", err
	}
	now := m.now().UTC().Truncate(time.Millisecond)
	t, err := Generate(m.prefix, id)
	if err != nil {
		return nil, "", err
	}
	k.PreviousHash, k.PreviousExpiresAt = nil, time.Time{}
	if grace > 0 {
		k.PreviousHash, k.PreviousExpiresAt = k.Hash, now.Add(grace)
	}
	d := m.hasher.Sum(t.String())
	k.Hash, k.Hint, k.UpdatedAt = d[:], t.Hint(), now
	if err := m.store.Update(ctx, k); err != nil {
		return nil, "", err
	}
	m.forget(id)
	m.audit(ctx, Event{Type: EventRotated, Time: now, Actor: or(actor, owner), OwnerID: owner, KeyID: id, Before: before, After: k.Permissions})
	return k, t.String(), nil
}

func lifetimeOf(k *Key) time.Duration {
	if k.ExpiresAt.IsZero() {
		return 0
	}
	return k.ExpiresAt.Sub(k.CreatedAt)
}

func or(s, fallback string) string {
	if s != "" {
		return s
	}
	return fallback
}
