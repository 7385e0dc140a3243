package keys

import (
	"context"
	"errors"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/keycaphq/keycap/audit"
)

// RevokeRequest says which key to revoke, who revokes it and why. The key
// is named by Ref, or presented: Presented holds the key itself, as a
// secret scanner found it or a client hands it in to be revoked (RFC
// 7009); then Ref must be zero.
type RevokeRequest struct {
	// Ref names the key and the calling key, if any.
	Ref
	// Actor is who revokes it, for the record; zero means the calling key
	// or the owner, or for a presented key the key itself.
	Actor  audit.Actor
	Reason string // free text, kept on the record; at most 500 bytes

	// Presented is the key itself, when it is not named by Ref: it is
	// revoked if it is a key this Manager would accept as its own (form,
	// prefix, id and keyed hash; a rotated key's previous secret while it
	// still works). Anything else is [ErrInvalid] or [ErrInvalid] (the
	// same for an unknown id and a wrong secret) and nothing is written.
	Presented string
	// Source is where a leaked key was found in public: a URL, or what a
	// scanner says of the place when it has no URL. Set, the revocation is
	// audited as [audit.Leaked] and the reason says where the key was found
	// (cut to 500 bytes on the record, whole in the event). Unlike Reason it
	// is never refused, since it comes from a third party: control
	// characters and invalid UTF-8 are replaced and it is cut to 2,000 bytes.
	Source string
}

// Revoke revokes the key r names or presents: it stops working at once,
// for good (no later change of any kind makes it usable again), and the
// record is kept with the time, actor and reason. Revoking a revoked key
// returns it as is and audits nothing, so that a report received twice
// changes nothing. The keys created through it are revoked with it.
func (m *Manager) Revoke(ctx context.Context, r RevokeRequest) (*Key, error) {
	if err := checkManager(r.Caller, r.Owner); err != nil {
		return nil, err
	}
	switch {
	case len(r.Reason) > 500:
		return nil, &FieldError{Field: "reason", Reason: "the reason is at most 500 bytes"}
	case !utf8.ValidString(r.Reason) || strings.IndexFunc(r.Reason, controlButNewline) >= 0:
		return nil, &FieldError{Field: "reason", Reason: "the reason is text: valid UTF-8, no control characters but line breaks"}
	case r.Presented != "" && r.Ref != (Ref{}):
		return nil, &FieldError{Field: "key", Reason: "name the key by its id or present the key itself, not both"}
	}
	var k *Key
	var err error
	previous := false
	if r.Presented != "" {
		k, previous, err = m.presented(ctx, r.Presented)
	} else {
		k, err = m.Get(ctx, r.Ref)
	}
	if err != nil || !k.RevokedAt.IsZero() {
		return k, err
	}
	actor := actorFor(r.Actor, r.Caller, r.Owner)
	if r.Presented != "" && r.Actor.IsZero() {
		actor = audit.Key(k.ID) // whoever holds the key acts as the key
	}
	typ, reason, full := audit.Revoked, r.Reason, r.Reason
	if r.Source != "" {
		typ, full = audit.Leaked, leakReason(r.Reason, r.Source)
		reason = cut(full, 500)
	}
	if previous {
		return m.endGrace(ctx, k, r.Presented, actor, typ, full)
	}
	now := m.stamp()
	// Decided on nothing that can change: no version, so that no
	// concurrent change can make a revocation fail.
	after, err := m.store.Change(ctx, k.ID, Change{At: now, By: actor, Revoke: true, RevokeReason: reason})
	m.forget(k.ID)
	if errors.Is(err, ErrAlreadyRevoked) {
		return m.store.Get(ctx, k.ID) // revoked at the same time: the first revocation stands
	} else if err != nil {
		return nil, err
	}
	m.audit(ctx, audit.Event{Type: typ, Time: now, Actor: actor, OwnerID: k.OwnerID, KeyID: k.ID, Before: after.Permissions, Reason: full})
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
			if d.ID == k.ID || !d.RevokedAt.IsZero() {
				continue
			}
			_, err := m.store.Change(ctx, d.ID, Change{At: k.RevokedAt, By: actor, Revoke: true, RevokeReason: "the key " + k.ID + " that created it was revoked"})
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

// endGrace ends the rotation grace of k's previous secret, presented as raw:
// that secret stops working at once, the key's current secret is untouched
// (so that whoever holds an old secret, leaked or not, cannot take down the
// key its owner rotated), and the keys the old secret created stop with it
// (their parent link needs it). If the key was rotated again meanwhile,
// raw is no longer its previous secret and nothing is changed.
func (m *Manager) endGrace(ctx context.Context, k *Key, raw string, actor audit.Actor, typ audit.Type, reason string) (*Key, error) {
	before, after, err := m.change(ctx, Ref{Owner: k.OwnerID, ID: k.ID}, actor, func(k *Key, now time.Time) (Change, error) {
		// Was a bug, fixed: raw was hashed under the newest server secret,
		// but a previous hash is under the record's (SecretID), so a leaked
		// previous secret of a key on an older server secret never ended.
		h := m.secrets.hasher(k.SecretID)
		if h == nil || k.PreviousHash == nil || !h.Sum(raw).Equal(k.PreviousHash) {
			return Change{}, nil // already ended, or another rotation since
		}
		return Change{EndGrace: true}, nil
	})
	if errors.Is(err, ErrAlreadyRevoked) {
		return m.store.Get(ctx, k.ID)
	} else if err != nil {
		return nil, err
	}
	if after.Version != before.Version {
		m.audit(ctx, audit.Event{Type: typ, Time: after.UpdatedAt, Actor: actor, OwnerID: k.OwnerID, KeyID: k.ID,
			Reason: "previous secret ended: " + cut(reason, 480)})
		// Was a bug, fixed: the keys the ended secret created stopped through
		// their parent link but stayed unrevoked on the record (listed as
		// active, holding the owner's key limit), unlike after a rotation
		// that ends the old secret at once.
		m.revokeMintedBefore(ctx, after, actor)
	}
	return after, nil
}
