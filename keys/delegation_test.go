package keys_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/audit"
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
		want error
	}{
		// A revocation also revokes the keys made through the key.
		{"parent revoked", func(f *fixture, p *keys.Verified) {
			_, err := f.m.Revoke(ctx, keys.RevokeRequest{Ref: ref("alice", p.ID)})
			require.NoError(t, err)
		}, keys.ErrRevokedForTest},
		{"parent disabled", func(f *fixture, p *keys.Verified) {
			_, err := f.disable(ctx, "alice", p.ID, true, audit.Actor{})
			require.NoError(t, err)
		}, keys.ErrParentInvalidForTest},
		// The child's default expiry was cut to the parent's: it expires too.
		{"parent expired", func(f *fixture, p *keys.Verified) { f.clock.Advance(2 * day) }, keys.ErrExpired},
	} {
		t.Run(end.name, func(t *testing.T) {
			f := newFixture(t)
			parent := f.verified(t, "alice", 2*day-1, "files:read", "files:write")
			child, token, err := f.m.Create(ctx, keys.CreateRequest{Owner: "alice", Name: "child",
				Permissions: policy.MustParse("files:read", "files:write"), Caller: parent})
			require.NoError(t, err)
			assert.Equal(t, parent.ID, child.Ancestors[len(child.Ancestors)-1])
			assert.Equal(t, f.record(t, parent.ID).ExpiresAt, child.ExpiresAt, "the default expiry is cut to the parent's")

			v, err := f.m.Verify(ctx, token, "")
			require.NoError(t, err)
			assert.Equal(t, policy.MustParse("files:read", "files:write"), v.Permissions)

			// Narrowing the parent narrows the child at its next request.
			_, err = f.m.Update(ctx, keys.UpdateRequest{Ref: ref("alice", parent.ID), Permissions: policy.MustParse("files:read")})
			require.NoError(t, err)
			v, err = f.m.Verify(ctx, token, "")
			require.NoError(t, err)
			assert.Equal(t, policy.MustParse("files:read"), v.Permissions)

			end.stop(f, parent)
			_, err = f.m.Verify(ctx, token, "")
			assert.ErrorIs(t, err, end.want)
		})
	}
}

func TestCallerMustShareTheOwner(t *testing.T) {
	f := newFixture(t)
	bobs := f.verified(t, "bob", 0, "files:read")
	before := f.store.writes()
	_, _, err := f.m.Create(context.Background(), keys.CreateRequest{Owner: "alice", Name: "x", Permissions: policy.MustParse("files:read"), Caller: bobs})
	var de *keys.DelegationError
	require.ErrorAs(t, err, &de)
	k, _ := f.create(t, "alice", "files:read")
	alices := keys.Ref{Owner: "alice", ID: k.ID, Caller: bobs}
	_, err = f.m.Update(context.Background(), keys.UpdateRequest{Ref: alices, Name: ptr("y")})
	require.ErrorAs(t, err, &de)
	_, _, err = f.m.Rotate(context.Background(), keys.RotateRequest{Ref: alices})
	require.ErrorAs(t, err, &de)
	_, err = f.m.Revoke(context.Background(), keys.RevokeRequest{Ref: alices})
	require.ErrorAs(t, err, &de)
	_, err = f.m.Get(context.Background(), alices)
	require.ErrorAs(t, err, &de)
	_, _, err = f.m.List(context.Background(), keys.ListRequest{Owner: "alice", Caller: bobs})
	require.ErrorAs(t, err, &de)
	assert.Equal(t, before+1, f.store.writes(), "only the setup key was written")
	assert.False(t, !f.record(t, k.ID).RevokedAt.IsZero())
}

// A revoked key used in a loop is audited once per interval, not once per
// request: denials cannot be turned into a write per request.
func TestDeniedVerificationsAreCoalesced(t *testing.T) {
	f := newFixture(t)
	k, token := f.create(t, "alice", "files:read")
	_, err := f.m.Revoke(context.Background(), keys.RevokeRequest{Ref: ref("alice", k.ID)})
	require.NoError(t, err)
	count := func() (n int) {
		for _, e := range f.audit.all() {
			if e.Type == audit.VerificationDenied {
				n++
			}
		}
		return n
	}
	for range 100 {
		_, err := f.m.Verify(context.Background(), token, "")
		require.ErrorIs(t, err, keys.ErrRevokedForTest)
	}
	assert.Equal(t, 1, count())
	f.clock.Advance(time.Minute)
	_, _ = f.m.Verify(context.Background(), token, "")
	assert.Equal(t, 2, count(), "audited again after the interval")
}

// An admin's disable holds against the owner and the owner's keys; the
// owner's own disable does not.
func TestAdminDisableIsSticky(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	k, _ := f.create(t, "alice", "files:read")
	_, err := f.disable(ctx, "alice", k.ID, true, audit.User("admin-1"))
	require.NoError(t, err)
	writes := f.store.writes()
	for _, actor := range []audit.Actor{{}, audit.User("alice"), audit.Key(k.ID)} {
		_, err = f.disable(ctx, "alice", k.ID, false, actor)
		require.ErrorIs(t, err, keys.ErrAdminChange, "actor %q", actor)
	}
	assert.Equal(t, writes, f.store.writes(), "a refusal writes nothing")
	enabled, err := f.disable(ctx, "alice", k.ID, false, audit.User("admin-2"))
	require.NoError(t, err)
	assert.False(t, enabled.Disabled)
	assert.True(t, enabled.DisabledBy.IsZero())

	_, err = f.disable(ctx, "alice", k.ID, true, audit.User("alice"))
	require.NoError(t, err)
	_, err = f.disable(ctx, "alice", k.ID, false, audit.User("alice"))
	require.NoError(t, err, "the owner undoes their own disable")
}

// TestDelegationDepth: a chain of keys each created by the one before it
// may hold MaxDelegationDepth (8) ancestors; the key that would have a 9th
// is refused before anything is stored. (Create used to store any depth,
// whose keys then failed every verification.)
func TestDelegationDepth(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	_, root := f.create(t, "alice", "files:read", "files:write")
	tokens := []string{root} // tokens[i] has i ancestors
	var chain []string
	for level := 1; level <= keys.MaxDelegationDepthForTest; level++ {
		caller := f.verify(t, tokens[level-1])
		chain = append(chain, caller.ID)
		k, token := f.delegate(t, caller, "files:read")
		require.Len(t, k.Ancestors, level)
		assert.Equal(t, chain, k.Ancestors, "root first, the parent last")
		tokens = append(tokens, token)
	}
	deepest := f.verify(t, tokens[keys.MaxDelegationDepthForTest])
	assert.Len(t, f.record(t, deepest.ID).Ancestors, keys.MaxDelegationDepthForTest)
	assert.Equal(t, policy.MustParse("files:read"), deepest.Permissions)

	before, records, events := f.store.snapshot(), f.stored(t, "alice"), f.audit.len()
	k, ninth, err := f.m.Create(ctx, keys.CreateRequest{Owner: "alice", Name: "too deep", Caller: deepest})
	var tooDeep *keys.DelegationError
	require.ErrorAs(t, err, &tooDeep)
	assert.Equal(t, keys.MaxDelegationDepthForTest, tooDeep.MaxDepth)
	assert.Nil(t, k)
	assert.Empty(t, ninth)
	assert.Equal(t, before, f.store.snapshot(), "the store is not asked")
	assert.Equal(t, records, f.stored(t, "alice"), "nothing stored")
	assert.Equal(t, events, f.audit.len())

	// The level above still mints a sibling at the deepest level.
	sibling, _ := f.delegate(t, f.verify(t, tokens[keys.MaxDelegationDepthForTest-1]))
	assert.Len(t, sibling.Ancestors, keys.MaxDelegationDepthForTest)
}

// TestRevokeRevokesDescendants: revoking a key revokes every key created
// through it (they stopped working with it), recorded with the reason, so
// that they no longer hold the owner's key limit; siblings and ancestors
// are untouched.
func TestRevokeRevokesDescendants(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	root := f.verified(t, "alice", 0, "files:read")
	mid, midToken, err := f.m.Create(ctx, keys.CreateRequest{Owner: "alice", Name: "mid", Caller: root})
	require.NoError(t, err)
	leaf, _, err := f.m.Create(ctx, keys.CreateRequest{Owner: "alice", Name: "leaf", Caller: f.verify(t, midToken)})
	require.NoError(t, err)
	sibling, _, err := f.m.Create(ctx, keys.CreateRequest{Owner: "alice", Name: "sibling", Caller: root})
	require.NoError(t, err)

	_, err = f.m.Revoke(ctx, keys.RevokeRequest{Ref: ref("alice", mid.ID), Reason: "leaked"})
	require.NoError(t, err)
	for _, id := range []string{mid.ID, leaf.ID} {
		assert.True(t, !f.record(t, id).RevokedAt.IsZero(), id)
	}
	assert.Contains(t, f.record(t, leaf.ID).RevokedReason, mid.ID)
	assert.False(t, !f.record(t, sibling.ID).RevokedAt.IsZero())
	assert.False(t, !f.record(t, root.ID).RevokedAt.IsZero())
}
