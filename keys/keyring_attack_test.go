package keys_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/audit"
	"github.com/keycaphq/keycap/keys"
)

// TestAttackLeakedKeyOnOlderSecretIsRevoked: the operator rotated the
// server secret (B newest, A still accepted). A key made under A that
// nobody has used since still works: Verify checks it under A. A scanner
// then finds it in public and reports it (the GitHub partner endpoint and
// RFC 7009 self-revocation both call Revoke with Presented). The attack:
// the leaked key keeps working because the revocation by presentation
// hashes it under the newest secret only and answers "not ours".
// Safe when the report revokes it and the next verification refuses it.
func TestAttackLeakedKeyOnOlderSecretIsRevoked(t *testing.T) {
	f := newFixture(t, onA)
	ctx := context.Background()
	k, token := f.create(t, "alice")
	m := f.ringB(t, false)
	require.Equal(t, "a", k.SecretID)

	got, err := m.Revoke(ctx, keys.RevokeRequest{Presented: token, Actor: audit.System("secret-scanning"), Source: "https://example.com/paste"})
	// Was a bug, fixed: presented() hashed the key under the newest secret
	// only, so a leaked key still on an older secret was answered
	// ErrInvalid ("false_positive") and kept working.
	require.NoError(t, err, "a leaked key on an older server secret must be revocable by presentation")
	assert.True(t, !got.RevokedAt.IsZero())
	_, err = m.Verify(ctx, token, "")
	assert.ErrorIs(t, err, keys.ErrInvalid)
}

// TestAttackLeakedPreviousSecretOnOlderSecretEndsGrace: the same, for a
// key rotated with a grace period while on A (its new and previous hashes
// are both under A). Its previous secret leaks: presenting it must end
// that secret only, and the current one keeps working.
func TestAttackLeakedPreviousSecretOnOlderSecretEndsGrace(t *testing.T) {
	f := newFixture(t, onA)
	ctx := context.Background()
	k, old := f.create(t, "alice")
	m := f.ringB(t, false)
	_, current, err := m.Rotate(ctx, keys.RotateRequest{Ref: ref("alice", k.ID), Grace: time.Hour})
	require.NoError(t, err)
	require.Equal(t, "a", f.record(t, k.ID).SecretID, "a rotation with grace stays on the record's secret")
	v, err := m.Verify(ctx, old, "")
	require.NoError(t, err)
	require.True(t, v.PreviousSecret)

	got, err := m.Revoke(ctx, keys.RevokeRequest{Presented: old, Source: "https://example.com/paste"})
	require.NoError(t, err, "a leaked previous secret on an older server secret must be ended by presentation")
	assert.False(t, !got.RevokedAt.IsZero(), "ending a previous secret leaves the key")
	_, err = m.Verify(ctx, old, "")
	assert.ErrorIs(t, err, keys.ErrInvalid, "the leaked previous secret must stop working")
	_, err = m.Verify(ctx, current, "")
	assert.NoError(t, err, "the current secret keeps working")
}

// TestAttackRetiredSecretNotRevocableNorAccepted: a key on a retired
// secret is refused by Verify; presenting it is ErrInvalid (it names no
// key this Manager accepts) and writes nothing.
func TestAttackRetiredSecretNotRevocableNorAccepted(t *testing.T) {
	f := newFixture(t, onA)
	ctx := context.Background()
	k, token := f.create(t, "alice")
	m := f.ringB(t, true)
	writes := f.store.writes()
	_, err := m.Revoke(ctx, keys.RevokeRequest{Presented: token, Source: "x"})
	assert.True(t, errors.Is(err, keys.ErrInvalid), "got %v", err)
	assert.Equal(t, writes, f.store.writes())
	assert.False(t, !f.record(t, k.ID).RevokedAt.IsZero())
}

// TestAttackLeakedPreviousSecretMintedKeys: a key is rotated with a grace
// period; its previous secret leaks, and whoever holds it mints keys with
// it (delegation) while the grace lasts. The leak is reported and the
// previous secret ended at once (Revoke of the presented previous
// secret). The minted keys stop working through their parent link; they
// must also be revoked on the record, as a rotation without grace revokes
// them ("ended at once: revoked too, so it no longer counts against the
// key limit"): otherwise the leak's keys stay listed as active and hold
// the owner's key limit.
func TestAttackLeakedPreviousSecretMintedKeys(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	parent, old := f.create(t, "bob", "files:read")
	minted, mintedToken := f.delegate(t, f.verify(t, old)) // by the secret that leaked, before the rotation
	_, fresh, err := f.m.Rotate(ctx, keys.RotateRequest{Ref: ref("bob", parent.ID), Grace: time.Hour})
	require.NoError(t, err)
	f.verify(t, mintedToken)                             // works while the grace lasts
	kept, keptToken := f.delegate(t, f.verify(t, fresh)) // by the owner's new secret

	_, err = f.m.Revoke(ctx, keys.RevokeRequest{Presented: old, Actor: audit.System("secret-scanning"), Source: "https://example.com/paste"})
	require.NoError(t, err)
	_, err = f.m.Verify(ctx, mintedToken, "")
	assert.ErrorIs(t, err, keys.ErrInvalid, "a key minted by the ended secret stops")
	// Was a bug, fixed: ending a previous secret at once left the keys it
	// minted unrevoked on the record (listed as active, holding the key
	// limit), unlike a rotation without grace.
	assert.True(t, !f.record(t, minted.ID).RevokedAt.IsZero(), "a key minted by the ended secret is revoked on the record")
	assert.False(t, !f.record(t, kept.ID).RevokedAt.IsZero(), "a key minted by the new secret lives on")
	f.verify(t, keptToken)
	f.verify(t, fresh)
}
