package keys_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/policy"
)

// TestPreviousSecretCannotManage: in a rotation's grace period the old
// secret still calls the API, but it may not mint, change, rotate or revoke
// keys, so a leaked secret on its way out cannot lock out the new one (or
// mint itself a successor that outlives the rotation).
func TestPreviousSecretCannotManage(t *testing.T) {
	ctx := context.Background()
	for _, cache := range []bool{false, true} {
		t.Run(map[bool]string{false: "no cache", true: "cache"}[cache], func(t *testing.T) {
			var options []func(*keys.Config)
			if cache {
				options = append(options, withCache)
			}
			f := newFixture(t, options...)
			k, oldToken := f.create(t, "bob", "files:read", "files:write")
			child, _ := f.delegate(t, f.verify(t, oldToken), "files:read")
			_, newToken, err := f.m.Rotate(ctx, keys.RotateRequest{Ref: ref("bob", k.ID), Grace: time.Hour})
			require.NoError(t, err)

			old, err := f.m.Verify(ctx, oldToken, "")
			require.NoError(t, err, "the old secret works during the grace")
			assert.True(t, old.PreviousSecret)
			assert.Equal(t, policy.MustParse("files:read", "files:write"), old.Permissions)
			fresh := f.verify(t, newToken)
			assert.False(t, fresh.PreviousSecret)

			before, records := f.store.snapshot(), f.stored(t, "bob")
			events := f.audit.len()
			for _, target := range []string{k.ID, child.ID} {
				r := keys.Ref{Owner: "bob", ID: target, Caller: old}
				_, _, err = f.m.Create(ctx, keys.CreateRequest{Owner: "bob", Name: "successor", Caller: old})
				assertPreviousSecret(t, err, "create")
				_, err = f.m.Update(ctx, keys.UpdateRequest{Ref: r, Name: ptr("mine")})
				assertPreviousSecret(t, err, "update")
				_, err = f.m.Update(ctx, keys.UpdateRequest{Ref: r, Disabled: ptr(true)})
				assertPreviousSecret(t, err, "disable")
				_, err = f.m.Revoke(ctx, keys.RevokeRequest{Ref: r})
				assertPreviousSecret(t, err, "revoke")
				_, _, err = f.m.Rotate(ctx, keys.RotateRequest{Ref: r})
				assertPreviousSecret(t, err, "rotate")
			}
			assert.Equal(t, before["Create"], f.store.n("Create"), "nothing written")
			assert.Equal(t, before["Change"], f.store.n("Change"), "nothing written")
			assert.Equal(t, records, f.stored(t, "bob"), "nothing written")
			assert.Equal(t, events, f.audit.len(), "nothing audited as done")

			// Reading stays allowed; the new secret manages as before.
			_, err = f.m.Get(ctx, keys.Ref{Owner: "bob", ID: child.ID, Caller: old})
			assert.NoError(t, err)
			_, err = f.m.Update(ctx, keys.UpdateRequest{Ref: keys.Ref{Owner: "bob", ID: child.ID, Caller: fresh}, Name: ptr("renamed")})
			assert.NoError(t, err)
		})
	}
}

// TestRotationEndsDelegatedKeys: a key created by a key works only while
// the parent's secret that created it works. Rotating a leaked parent ends
// the keys the leak could have minted (they used to survive it), at once
// or when the grace ends; keys minted with the new secret live on.
func TestRotationEndsDelegatedKeys(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		name  string
		grace time.Duration
	}{{"no grace", 0}, {"an hour's grace", time.Hour}} {
		for _, cache := range []bool{false, true} {
			t.Run(tt.name+map[bool]string{false: "", true: "/cache"}[cache], func(t *testing.T) {
				var options []func(*keys.Config)
				if cache {
					options = append(options, withCache)
				}
				f := newFixture(t, options...)
				parent, parentToken := f.create(t, "bob", "files:read")
				before, beforeToken := f.delegate(t, f.verify(t, parentToken))
				assert.Equal(t, int64(0), before.ParentGeneration)
				f.verify(t, beforeToken) // cached, where there is a cache

				_, newToken, err := f.m.Rotate(ctx, keys.RotateRequest{Ref: ref("bob", parent.ID), Grace: tt.grace})
				require.NoError(t, err)
				after, afterToken := f.delegate(t, f.verify(t, newToken))
				assert.Equal(t, int64(1), after.ParentGeneration)

				if tt.grace > 0 {
					f.verify(t, beforeToken)
					f.clock.Advance(tt.grace - time.Millisecond)
					f.verify(t, beforeToken) // until the grace ends
					f.clock.Advance(time.Millisecond)
				}
				_, err = f.m.Verify(ctx, beforeToken, "")
				if tt.grace == 0 { // ended at once: revoked too, so it no longer counts against the key limit
					assert.ErrorIs(t, err, keys.ErrRevokedForTest, "minted with the old secret")
				} else { // ended with the grace period: refused through its parent link
					assert.ErrorIs(t, err, keys.ErrParentInvalidForTest, "minted with the old secret")
				}
				assert.ErrorIs(t, err, keys.ErrInvalid)
				f.verify(t, afterToken)
				f.verify(t, newToken)
			})
		}
	}
}

// TestRotationEndsGrandchildren: the link is checked at every level: a
// grandchild made before its parent (itself a delegated key) rotated stops
// working; rotating the grandchild itself does not end its own children
// made with its new secret.
func TestRotationEndsGrandchildren(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	_, rootToken := f.create(t, "bob", "files:read")
	middle, middleToken := f.delegate(t, f.verify(t, rootToken))
	_, leafToken := f.delegate(t, f.verify(t, middleToken))
	f.verify(t, leafToken)

	_, newMiddle, err := f.m.Rotate(ctx, keys.RotateRequest{Ref: ref("bob", middle.ID)})
	require.NoError(t, err)
	_, err = f.m.Verify(ctx, leafToken, "")
	assert.ErrorIs(t, err, keys.ErrInvalid, "revoked with the middle key's old secret")
	f.verify(t, newMiddle) // the middle key's own parent link is untouched
	_, leaf2 := f.delegate(t, f.verify(t, newMiddle))
	f.verify(t, leaf2)
}

// assertPreviousSecret asserts err refuses a key presented with its
// previous secret.
func assertPreviousSecret(t *testing.T, err error, op string) {
	t.Helper()
	var d *keys.DelegationError
	if assert.ErrorAs(t, err, &d, op) {
		assert.True(t, d.PreviousSecret, "%s: %v", op, err)
	}
}
