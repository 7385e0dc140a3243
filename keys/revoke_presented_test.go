package keys_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/audit"
	"github.com/keycaphq/keycap/keys"
)

// TestInspectIsNoUse: Inspect answers as Verify does, and writes no last
// use, however often it is asked.
func TestInspectIsNoUse(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	k, token := f.create(t, "bob", "files:read")
	for range 50 {
		v, err := f.m.Inspect(ctx, token, "")
		require.NoError(t, err)
		assert.Equal(t, k.ID, v.ID)
	}
	require.NoError(t, f.m.Close())
	assert.Equal(t, 0, f.store.n("Touch"), "an inspection is not a use")
	assert.True(t, f.record(t, k.ID).LastUsedAt.IsZero())

	_, err := f.m.Verify(ctx, token, "203.0.113.9")
	require.NoError(t, err)
	require.NoError(t, f.m.Close())
	assert.Equal(t, 1, f.store.n("Touch"), "a verification is")

	_, err = f.m.Revoke(ctx, keys.RevokeRequest{Ref: ref("bob", k.ID)})
	require.NoError(t, err)
	_, err = f.m.Inspect(ctx, token, "")
	assert.ErrorIs(t, err, keys.ErrRevokedForTest, "the same refusals as Verify")
	_, err = f.m.Inspect(ctx, token+"x", "")
	assert.ErrorIs(t, err, keys.ErrInvalid)
}

// TestRevokePresentedStates: expired and disabled keys are revoked; a
// previous secret presented during its grace ends that secret only (the
// rotated key keeps working), and names no key after it.
func TestRevokePresentedStates(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)

	expired, expiredToken := f.create(t, "bob")
	disabled, disabledToken := f.create(t, "bob")
	_, err := f.disable(ctx, "bob", disabled.ID, true, audit.Actor{})
	require.NoError(t, err)
	rotated, oldToken := f.create(t, "bob")
	_, _, err = f.m.Rotate(ctx, keys.RotateRequest{Ref: ref("bob", rotated.ID), Grace: time.Hour})
	require.NoError(t, err)
	late, lateToken := f.create(t, "bob")
	_, _, err = f.m.Rotate(ctx, keys.RotateRequest{Ref: ref("bob", late.ID), Grace: time.Minute})
	require.NoError(t, err)

	f.clock.Advance(10 * time.Minute) // past late's grace, within rotated's
	got, err := f.m.Revoke(ctx, keys.RevokeRequest{Presented: lateToken})
	assert.ErrorIs(t, err, keys.ErrInvalid, "a previous secret past its grace names no key")
	assert.Nil(t, got)
	assert.False(t, !f.record(t, late.ID).RevokedAt.IsZero())

	_, err = f.m.Verify(ctx, oldToken, "")
	require.NoError(t, err, "in its grace, the old secret works")
	got, err = f.m.Revoke(ctx, keys.RevokeRequest{Presented: oldToken})
	require.NoError(t, err)
	require.NotNil(t, got)
	assert.False(t, !f.record(t, rotated.ID).RevokedAt.IsZero(), "the rotated key lives on")
	assert.Nil(t, f.record(t, rotated.ID).PreviousHash, "its old secret is ended")
	_, err = f.m.Verify(ctx, oldToken, "")
	assert.ErrorIs(t, err, keys.ErrInvalid, "the old secret is refused at once")

	got, err = f.m.Revoke(ctx, keys.RevokeRequest{Presented: disabledToken})
	require.NoError(t, err)
	assert.True(t, !got.RevokedAt.IsZero())

	f.clock.Advance(31 * day)
	got, err = f.m.Revoke(ctx, keys.RevokeRequest{Presented: expiredToken})
	require.NoError(t, err)
	assert.Equal(t, expired.ID, got.ID)
	assert.True(t, !got.RevokedAt.IsZero())
}
