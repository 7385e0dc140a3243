package keys_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/policy"
)

// A key made by a key is capped by its parent at every verification, not
// only at creation, and stops working when the parent does.
func TestDelegatedKeyFollowsItsParent(t *testing.T) {
	ctx := context.Background()
	for _, end := range []struct {
		name string
		stop func(f *fixture, parent *keys.Verified)
	}{
		{"parent revoked", func(f *fixture, p *keys.Verified) {
			_, err := f.m.Revoke(ctx, "alice", p.Key.ID, keys.RevokeRequest{})
			require.NoError(t, err)
		}},
		{"parent disabled", func(f *fixture, p *keys.Verified) {
			_, err := f.m.SetDisabled(ctx, "alice", p.Key.ID, true, "")
			require.NoError(t, err)
		}},
		{"parent expired", func(f *fixture, p *keys.Verified) { f.clock.Advance(2 * day) }},
	} {
		t.Run(end.name, func(t *testing.T) {
			f := newFixture(t)
			parent := f.verified(t, "alice", 2*day-1, "files:read", "files:write")
			child, token, err := f.m.Create(ctx, keys.CreateRequest{OwnerID: "alice", Name: "child",
				Permissions: policy.MustParse("files:read", "files:write"), Caller: parent})
			require.NoError(t, err)
			assert.Equal(t, parent.Key.ID, child.ParentID)
			assert.Equal(t, parent.Key.ExpiresAt, child.ExpiresAt, "the default expiry is cut to the parent's")

			v, err := f.m.Verify(ctx, token)
			require.NoError(t, err)
			assert.Equal(t, policy.MustParse("files:read", "files:write"), v.Permissions)

			// Narrowing the parent narrows the child at its next request.
			_, err = f.m.Update(ctx, "alice", parent.Key.ID, keys.UpdateRequest{Permissions: policy.MustParse("files:read")})
			require.NoError(t, err)
			v, err = f.m.Verify(ctx, token)
			require.NoError(t, err)
			assert.Equal(t, policy.MustParse("files:read"), v.Permissions)

			end.stop(f, parent)
			_, err = f.m.Verify(ctx, token)
			require.Error(t, err)
			assert.True(t, errors.Is(err, keys.ErrInvalid) || errors.Is(err, keys.ErrExpired), "got %v", err)
		})
	}
}

func TestCallerMustShareTheOwner(t *testing.T) {
	f := newFixture(t)
	bobs := f.verified(t, "bob", 0, "files:read")
	before := f.store.writes()
	_, _, err := f.m.Create(context.Background(), keys.CreateRequest{OwnerID: "alice", Name: "x", Permissions: policy.MustParse("files:read"), Caller: bobs})
	var de *keys.DelegationError
	require.ErrorAs(t, err, &de)
	k, _ := f.create(t, "alice", "files:read")
	_, err = f.m.Update(context.Background(), "alice", k.ID, keys.UpdateRequest{Caller: bobs, Name: ptr("y")})
	require.ErrorAs(t, err, &de)
	_, _, err = f.m.Rotate(context.Background(), "alice", k.ID, 0, bobs, "")
	require.ErrorAs(t, err, &de)
	assert.Equal(t, before+1, f.store.writes(), "only the setup key was written")
}

// A revoked key used in a loop is audited once per interval, not once per
// request: denials cannot be turned into a write per request.
func TestDeniedVerificationsAreCoalesced(t *testing.T) {
	f := newFixture(t)
	k, token := f.create(t, "alice", "files:read")
	_, err := f.m.Revoke(context.Background(), "alice", k.ID, keys.RevokeRequest{})
	require.NoError(t, err)
	count := func() (n int) {
		for _, e := range f.audit.all() {
			if e.Type == keys.EventVerificationDenied {
				n++
			}
		}
		return n
	}
	for range 100 {
		_, err := f.m.Verify(context.Background(), token)
		require.ErrorIs(t, err, keys.ErrRevoked)
	}
	assert.Equal(t, 1, count())
	f.clock.Advance(time.Minute)
	_, _ = f.m.Verify(context.Background(), token)
	assert.Equal(t, 2, count(), "audited again after the interval")
}

// An admin's disable holds against the owner and the owner's keys; the
// owner's own disable does not.
func TestAdminDisableIsSticky(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	k, _ := f.create(t, "alice", "files:read")
	_, err := f.m.SetDisabled(ctx, "alice", k.ID, true, "admin-1")
	require.NoError(t, err)
	writes := f.store.writes()
	for _, actor := range []string{"", "alice", "key:" + k.ID} {
		_, err = f.m.SetDisabled(ctx, "alice", k.ID, false, actor)
		require.ErrorIs(t, err, keys.ErrDisabledByAdmin, "actor %q", actor)
	}
	assert.Equal(t, writes, f.store.writes(), "a refusal writes nothing")
	enabled, err := f.m.SetDisabled(ctx, "alice", k.ID, false, "admin-2")
	require.NoError(t, err)
	assert.False(t, enabled.Disabled)
	assert.Empty(t, enabled.DisabledBy)

	_, err = f.m.SetDisabled(ctx, "alice", k.ID, true, "alice")
	require.NoError(t, err)
	_, err = f.m.SetDisabled(ctx, "alice", k.ID, false, "alice")
	require.NoError(t, err, "the owner undoes their own disable")
}
