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
	assert.True(t, got.IsRevoked())
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
	assert.False(t, got.IsRevoked(), "ending a previous secret leaves the key")
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
	assert.False(t, f.record(t, k.ID).IsRevoked())
}
