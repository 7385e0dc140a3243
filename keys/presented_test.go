package keys_test

import (
	"context"
	"strings"
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
		v, err := f.m.Inspect(ctx, token)
		require.NoError(t, err)
		assert.Equal(t, k.ID, v.Key.ID)
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
	_, err = f.m.Inspect(ctx, token)
	assert.ErrorIs(t, err, keys.ErrRevokedForTest, "the same refusals as Verify")
	_, err = f.m.Inspect(ctx, token+"x")
	assert.ErrorIs(t, err, keys.ErrMalformed)
}

// TestRevokePresented: a presented key is revoked by its own actor, with
// the keys created through it; revoking again changes nothing.
func TestRevokePresented(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, withCache)
	k, token := f.create(t, "bob")
	caller := f.verify(t, token)
	child, childToken := f.delegate(t, caller)
	_, err := f.m.Verify(ctx, token, "")
	require.NoError(t, err, "cached")

	got, err := f.m.RevokePresented(ctx, token, keys.RevokeRequest{Reason: "revoked by its holder"})
	require.NoError(t, err)
	require.NotNil(t, got)
	assert.Equal(t, k.ID, got.ID)
	assert.True(t, got.IsRevoked())
	assert.Equal(t, audit.Key(k.ID), got.RevokedBy, "the key revoked itself")
	assert.Equal(t, "revoked by its holder", got.RevokedReason)
	_, err = f.m.Verify(ctx, token, "")
	assert.ErrorIs(t, err, keys.ErrRevokedForTest, "at once, through the cache")
	_, err = f.m.Verify(ctx, childToken, "")
	assert.ErrorIs(t, err, keys.ErrInvalid, "its child stops with it")
	assert.True(t, f.record(t, child.ID).IsRevoked(), "and is revoked on record")

	changes := f.store.n("Change")
	again, err := f.m.RevokePresented(ctx, token, keys.RevokeRequest{Actor: audit.System("scanner"), Reason: "leaked"})
	require.NoError(t, err)
	assert.Equal(t, audit.Key(k.ID), again.RevokedBy, "the first revocation stands")
	assert.Equal(t, changes, f.store.n("Change"), "nothing written")

	k2, token2 := f.create(t, "bob")
	scanner := audit.System("github-secret-scanning")
	got, err = f.m.RevokePresented(ctx, token2, keys.RevokeRequest{Actor: scanner, Reason: "found at https://example.com/x"})
	require.NoError(t, err)
	assert.Equal(t, scanner, got.RevokedBy)
	e := f.audit.last(t)
	assert.Equal(t, audit.Revoked, e.Type)
	assert.Equal(t, scanner, e.Actor)
	assert.Equal(t, k2.ID, e.KeyID)
}

// TestRevokePresentedNoKey: whatever names no key gets the same answer,
// nil and no error, and nothing is written or audited.
func TestRevokePresentedNoKey(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	k, token := f.create(t, "bob")
	unknown := newToken(t, "kc").String()
	wrong, err := keys.GenerateForTest("kc", k.ID)
	require.NoError(t, err)
	other, err := keys.GenerateForTest("zz", k.ID)
	require.NoError(t, err)
	wrongSecret := wrong.String()
	for name, raw := range map[string]string{
		"empty": "", "garbage": "hello", "typo": typo(token), "other prefix": other.String(),
		"unknown id": unknown, "wrong secret": wrongSecret,
	} {
		t.Run(name, func(t *testing.T) {
			events, changes := f.audit.len(), f.store.n("Change")
			got, err := f.m.RevokePresented(ctx, raw, keys.RevokeRequest{})
			assert.NoError(t, err)
			assert.Nil(t, got)
			assert.Equal(t, changes, f.store.n("Change"), "nothing written")
			assert.Equal(t, events, f.audit.len(), "nothing audited")
		})
	}
	_, err = f.m.Verify(ctx, token, "")
	assert.NoError(t, err, "the real key still works")
}

// TestRevokePresentedStates: expired and disabled keys are revoked; a
// previous secret revokes the record during its grace and names no key
// after it.
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
	got, err := f.m.RevokePresented(ctx, lateToken, keys.RevokeRequest{})
	assert.NoError(t, err)
	assert.Nil(t, got, "a previous secret past its grace names no key")
	assert.False(t, f.record(t, late.ID).IsRevoked())

	got, err = f.m.RevokePresented(ctx, oldToken, keys.RevokeRequest{})
	require.NoError(t, err)
	require.NotNil(t, got, "a previous secret in its grace still works: it is ended")
	assert.True(t, f.record(t, rotated.ID).IsRevoked())

	got, err = f.m.RevokePresented(ctx, disabledToken, keys.RevokeRequest{})
	require.NoError(t, err)
	assert.True(t, got.IsRevoked())

	f.clock.Advance(31 * day)
	got, err = f.m.RevokePresented(ctx, expiredToken, keys.RevokeRequest{})
	require.NoError(t, err)
	assert.Equal(t, expired.ID, got.ID)
	assert.True(t, got.IsRevoked())
}

// TestRevokePresentedRefusals: a bad reason, or a Ref beside the key, is
// refused before any lookup.
func TestRevokePresentedRefusals(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	k, token := f.create(t, "bob")
	gets := f.store.n("Get")
	_, err := f.m.RevokePresented(ctx, token, keys.RevokeRequest{Reason: strings.Repeat("x", 501)})
	badField("reason")(t, err)
	_, err = f.m.RevokePresented(ctx, token, keys.RevokeRequest{Reason: "a\x00b"})
	badField("reason")(t, err)
	_, err = f.m.RevokePresented(ctx, token, keys.RevokeRequest{Ref: ref("bob", k.ID)})
	badField("ref")(t, err)
	assert.Equal(t, gets, f.store.n("Get"), "refused before any lookup")
	assert.False(t, f.record(t, k.ID).IsRevoked())

	f.store.getErr = keys.ErrStoreUnavailable
	_, err = f.m.RevokePresented(ctx, token, keys.RevokeRequest{})
	assert.ErrorIs(t, err, keys.ErrStoreUnavailable, "a store that cannot be asked is an error, not 'no key'")
}

// typo changes the last character of token.
func typo(token string) string {
	last := "x"
	if strings.HasSuffix(token, last) {
		last = "y"
	}
	return token[:len(token)-1] + last
}
