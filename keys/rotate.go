package keys

import (
	"cmp"
	"context"
	"time"

	"github.com/keycaphq/keycap/audit"
	"github.com/keycaphq/keycap/policy"
)

// RotateRequest asks for a new secret for a key.
type RotateRequest struct {
	// Ref names the key and the calling key, if any.
	Ref
	// Actor is who asks; zero means the calling key or the owner. Only the
	// owner's side may rotate ([ErrAdminChange]).
	Actor audit.Actor
	// Grace is how long the old secret keeps working: 0 stops it at once;
	// at most the configured MaxRotationGrace. None for a key hashed under
	// a retired server secret: its old secret works no more anyway.
	Grace time.Duration
}

// Rotate gives the key a new secret, returned once. The key keeps its id,
// name, expiry and limits; its permissions are cut to the owner's current
// cap (and the caller's). Keys created with the old secret (delegation)
// stop working when it does. Of rotations of one key running at once, one
// succeeds and the others answer [ErrConflict]: every returned secret
// works until a later change. Only the owner's side may rotate: an admin
// or an operator gets [ErrAdminChange], since the new secret acts as the
// owner.
func (m *Manager) Rotate(ctx context.Context, r RotateRequest) (*Key, string, error) {
	if r.Grace < 0 || r.Grace > m.maxGrace {
		return nil, "", &FieldError{Field: "grace_seconds", Reason: "the grace period is 0 to " + m.maxGrace.String()}
	}
	if err := checkManager(r.Caller, r.Owner); err != nil {
		return nil, "", err
	}
	actor := actorFor(r.Actor, r.Caller, r.Owner)
	s, err := m.sideOf(ctx, actor, r.Owner)
	if err != nil {
		return nil, "", err
	}
	if !s.owner {
		return nil, "", s.sideRefusal()
	}
	var token token
	generation := int64(-1)
	before, after, err := m.change(ctx, r.Ref, actor, func(k *Key, now time.Time) (Change, error) {
		if generation >= 0 && k.Generation != generation {
			return Change{}, ErrConflict // another rotation won: its secret is the one that works
		}
		generation = k.Generation
		if err := m.refuseExpired(k, now); err != nil {
			return Change{}, err
		}
		ownerCap, err := m.capOf(ctx, r.Owner, append(callerBounds(r.Caller), m.kinds.of(k).bounds()...)...)
		if err != nil {
			return Change{}, err
		}
		perms := cutTo(k.Permissions, ownerCap)
		if excess := policy.Excess(perms, s.rights); s.member && !excess.IsEmpty() {
			// The new secret is shown to the member: it may not act beyond
			// their own rights in the organization.
			return Change{}, &policy.ExceedsError{Exceeded: excess, Maximum: policy.Intersect(perms, s.rights), Bounds: []string{"user"}}
		}
		if perms.IsEmpty() {
			return Change{}, &policy.InvalidError{Path: "permissions", Reason: "the key holds no permission you may still grant; create a new key", Err: policy.ErrEmpty}
		}
		if token, err = generate(m.kinds.of(k).Prefix, k.ID); err != nil {
			return Change{}, err
		}
		d, secretID, grace := m.rotationHash(k, token.String(), r.Grace)
		s := &Secret{Hash: d[:], Hint: token.Hint(), SecretID: secretID}
		if grace {
			s.PreviousHash, s.PreviousExpiresAt = k.Hash, now.Add(r.Grace)
		}
		c := Change{Secret: s}
		if !policy.Subset(k.Permissions, perms) || !policy.Subset(perms, k.Permissions) {
			c.Permissions = perms
		}
		return c, nil
	})
	if err != nil {
		m.auditRefusal(ctx, actor, r.Owner, r.ID, err)
		return nil, "", err
	}
	if after.PreviousHash == nil { // no grace period: the old secret stopped at once
		m.revokeMintedBefore(ctx, after, actor)
	}
	m.audit(ctx, audit.Event{Type: audit.Rotated, Time: after.UpdatedAt, Actor: actor, OwnerID: after.OwnerID, KeyID: after.ID, Before: before.Permissions, After: after.Permissions})
	return after, token.String(), nil
}

// revokeMintedBefore revokes the keys k's previous secrets created (and
// theirs), after a rotation that ended them at once: they stopped working
// with that secret, and should no longer hold the owner's key limit.
func (m *Manager) revokeMintedBefore(ctx context.Context, k *Key, actor audit.Actor) {
	list, err := m.store.List(ctx, k.OwnerID, Page{Within: k.ID, Limit: maxPageLimit})
	if err != nil {
		return // they are refused anyway; the record catches up at the next revocation
	}
	for _, d := range list {
		if !d.RevokedAt.IsZero() || len(d.Ancestors) == 0 || d.Ancestors[len(d.Ancestors)-1] != k.ID || d.ParentGeneration >= k.Generation {
			continue
		}
		revoked, err := m.store.Change(ctx, d.ID, Change{At: k.UpdatedAt, By: actor, Revoke: true, RevokeReason: "the secret of " + k.ID + " that created it was rotated"})
		m.forget(d.ID)
		if err == nil {
			m.audit(ctx, audit.Event{Type: audit.Revoked, Time: k.UpdatedAt, Actor: actor, OwnerID: d.OwnerID, KeyID: d.ID, Before: d.Permissions, Reason: "parent's secret rotated"})
			m.revokeDescendants(ctx, revoked, actor)
		}
	}
}

// rotationHash hashes the new key raw of a rotation of k and reports
// whether k's old secret may keep working for grace. The new key is hashed
// under the newest server secret, unless the old one keeps working: its
// hash (k.Hash) is under the record's server secret, so the new key is
// hashed under that one too, one SecretID naming the secret of both (the
// first use after the grace period moves the key to the newest). When the
// record's server secret is retired the old key works no more: no grace.
func (m *Manager) rotationHash(k *Key, raw string, grace time.Duration) (d digest, secretID string, keepOld bool) {
	if grace > 0 {
		if h := m.secrets.hasher(k.SecretID); h != nil {
			return h.Sum(raw), cmp.Or(k.SecretID, defaultSecretID), true
		}
	}
	return m.hasher.Sum(raw), m.secrets.newestID, false
}
