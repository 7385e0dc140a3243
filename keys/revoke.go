package keys

import (
	"context"
	"errors"

	"github.com/keycaphq/keycap/audit"
)

// RevokeRequest says which key to revoke, who revokes it and why.
type RevokeRequest struct {
	// Ref names the key and the calling key, if any.
	Ref
	Actor  audit.Actor // who revokes it, for the record; zero means the calling key or the owner
	Reason string      // free text, kept on the record; at most 500 bytes
}

// Revoke revokes the key ref names: it stops working at once, for good
// (no later change of any kind makes it usable again), and the record is
// kept with the time, actor and reason. Revoking a revoked key returns it
// as is.
func (m *Manager) Revoke(ctx context.Context, r RevokeRequest) (*Key, error) {
	if err := checkManager(r.Caller, r.Owner); err != nil {
		return nil, err
	}
	if len(r.Reason) > 500 {
		return nil, &FieldError{Field: "reason", Reason: "the reason is at most 500 bytes"}
	}
	k, err := m.Get(ctx, r.Ref)
	if err != nil || k.IsRevoked() {
		return k, err
	}
	actor := actorFor(r.Actor, r.Caller, r.Owner)
	now := m.stamp()
	// Decided on nothing that can change: no version, so that no
	// concurrent change can make a revocation fail.
	after, err := m.store.Change(ctx, k.ID, Change{At: now, Revoked: &Revoked{By: actor, Reason: r.Reason}})
	m.forget(k.ID)
	if errors.Is(err, ErrAlreadyRevoked) {
		return m.store.Get(ctx, k.ID) // revoked at the same time: the first revocation stands
	} else if err != nil {
		return nil, err
	}
	m.audit(ctx, audit.Event{Type: audit.Revoked, Time: now, Actor: actor, OwnerID: k.OwnerID, KeyID: k.ID, Before: after.Permissions, Reason: r.Reason})
	return after, nil
}
