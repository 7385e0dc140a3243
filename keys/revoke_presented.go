package keys

import (
	"context"
	"errors"

	"github.com/keycaphq/keycap/audit"
)

// RevokePresented revokes the key raw on the word of whoever presents it:
// holding a key is the right to end it. It serves a key's holder revoking
// it (OAuth token revocation, RFC 7009) and a secret scanner reporting a
// leak. r says who acts (zero Actor: the key itself, [audit.Key]) and why
// (Reason, at most 500 bytes, kept on the record); r.Ref must be zero, since
// raw names the key.
//
// raw must be the key as issued: its form and checksum, this Manager's
// prefix, a record with its id, and its keyed hash (or, during a
// rotation's grace period, the previous one: a secret that still works is
// ended by revoking the record) are checked as [Manager.Verify] checks
// them, against the Store rather than the cache. A raw that names no key
// (malformed, another prefix, an unknown id, a wrong secret or a previous
// secret past its grace) returns nil and no error, the same answer
// whatever the reason, and writes nothing. A key that matches is revoked
// as [Manager.Revoke] revokes it (for good, with the keys created through
// it; audited as [audit.Revoked]) and returned; one already revoked is
// returned as it is, whoever revoked it. An expired or disabled key is
// revoked too. The only errors are a bad Reason or a non-zero Ref
// ([FieldError]) and the Store's ([ErrStoreUnavailable]).
func (m *Manager) RevokePresented(ctx context.Context, raw string, r RevokeRequest) (*Key, error) {
	if r.Ref != (Ref{}) {
		return nil, &FieldError{Field: "ref", Reason: "RevokePresented revokes the key presented: leave the Ref empty"}
	}
	if err := checkReason(r.Reason); err != nil {
		return nil, err
	}
	t, err := parse(raw)
	if err != nil || t.Prefix != m.prefix {
		return nil, nil
	}
	k, err := m.store.Get(ctx, t.ID)
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	d := m.hasher.Sum(raw)
	current := d.Equal(k.Hash)
	previous := k.PreviousHash != nil && m.now().Before(k.PreviousExpiresAt) && d.Equal(k.PreviousHash)
	switch {
	case !current && !previous:
		return nil, nil
	case k.IsRevoked():
		return k, nil
	}
	actor := r.Actor
	if actor.IsZero() {
		actor = audit.Key(k.ID)
	}
	return m.revoke(ctx, k, actor, r.Reason)
}
