package keys

import (
	"context"
	"errors"
	"strings"
	"unicode"
	"unicode/utf8"

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
	if err := checkReason(r.Reason); err != nil {
		return nil, err
	}
	k, err := m.Get(ctx, r.Ref)
	if err != nil || k.IsRevoked() {
		return k, err
	}
	return m.revoke(ctx, k, actorFor(r.Actor, r.Caller, r.Owner), r.Reason)
}

// checkReason refuses a revocation reason that cannot be kept as text.
func checkReason(reason string) error {
	switch {
	case len(reason) > 500:
		return &FieldError{Field: "reason", Reason: "the reason is at most 500 bytes"}
	case !utf8.ValidString(reason) || strings.IndexFunc(reason, controlButNewline) >= 0:
		return &FieldError{Field: "reason", Reason: "the reason is text: valid UTF-8, no control characters but line breaks"}
	}
	return nil
}

// revoke revokes k, which is not revoked as read, by actor for reason, and
// the keys created through it.
func (m *Manager) revoke(ctx context.Context, k *Key, actor audit.Actor, reason string) (*Key, error) {
	now := m.stamp()
	// Decided on nothing that can change: no version, so that no
	// concurrent change can make a revocation fail.
	after, err := m.store.Change(ctx, k.ID, Change{At: now, Revoked: &Revoked{By: actor, Reason: reason}})
	m.forget(k.ID)
	if errors.Is(err, ErrAlreadyRevoked) {
		return m.store.Get(ctx, k.ID) // revoked at the same time: the first revocation stands
	} else if err != nil {
		return nil, err
	}
	m.audit(ctx, audit.Event{Type: audit.Revoked, Time: now, Actor: actor, OwnerID: k.OwnerID, KeyID: k.ID, Before: after.Permissions, Reason: reason})
	m.revokeDescendants(ctx, after, actor)
	return after, nil
}

// revokeDescendants revokes the keys created through k, which stopped
// working with it (verification refuses a key whose ancestor is revoked),
// so that the record says so and they no longer count against the owner's
// key limit. A failure here changes nothing that matters for security and
// is left for the next revocation to finish: the parent's answer stands.
func (m *Manager) revokeDescendants(ctx context.Context, k *Key, actor audit.Actor) {
	for before := ""; ; {
		list, err := m.store.List(ctx, k.OwnerID, Page{Within: k.ID, Before: before, Limit: maxPageLimit})
		if err != nil || len(list) == 0 {
			return
		}
		for _, d := range list {
			before = d.ID
			if d.ID == k.ID || d.IsRevoked() {
				continue
			}
			_, err := m.store.Change(ctx, d.ID, Change{At: k.RevokedAt, Revoked: &Revoked{By: actor, Reason: "the key " + k.ID + " that created it was revoked"}})
			m.forget(d.ID)
			if err == nil {
				m.audit(ctx, audit.Event{Type: audit.Revoked, Time: k.RevokedAt, Actor: actor, OwnerID: d.OwnerID, KeyID: d.ID, Before: d.Permissions, Reason: "parent revoked"})
			}
		}
		if len(list) < maxPageLimit {
			return
		}
	}
}

// controlButNewline reports control characters other than line breaks.
func controlButNewline(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\r' }
