package keys_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/audit"
	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/policy"
)

// TestActorsAreTyped: who acted is a typed value, never read back out of
// a user id. A user whose id looks like a key ("key:…") used to pass for
// one of the owner's keys, so their disable as an admin was not sticky.
func TestActorsAreTyped(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.users.set("key:0123456789abcdef", policy.Subject{Roles: []string{"admin"}})
	f.users.set("key:owner", policy.Subject{Roles: []string{"editor"}})

	t.Run("a user named key:… disabling another user's key, as an admin", func(t *testing.T) {
		k, _ := f.create(t, "bob")
		admin := audit.User("key:0123456789abcdef")
		got, err := f.disable(ctx, "bob", k.ID, true, admin)
		require.NoError(t, err)
		assert.Equal(t, admin, got.DisabledBy)
		record := f.record(t, k.ID)
		for _, owner := range []audit.Actor{{}, audit.User("bob"), audit.Key(k.ID)} {
			_, err = f.disable(ctx, "bob", k.ID, false, owner)
			assert.ErrorIs(t, err, keys.ErrAdminChange, "%v", owner)
		}
		assert.Equal(t, record, f.record(t, k.ID), "nothing written")
	})

	t.Run("a user named key:… managing their own key", func(t *testing.T) {
		k, token := f.create(t, "key:owner")
		assert.Equal(t, audit.User("key:owner"), k.CreatedBy)
		_, err := f.disable(ctx, "key:owner", k.ID, true, audit.User("key:owner"))
		require.NoError(t, err)
		got, err := f.disable(ctx, "key:owner", k.ID, false, audit.User("key:owner"))
		require.NoError(t, err)
		assert.False(t, got.Disabled)
		renamed, err := f.m.Update(ctx, keys.UpdateRequest{Ref: ref("key:owner", k.ID), Actor: audit.User("key:owner"), Name: ptr("mine")})
		require.NoError(t, err, "the owner, not an admin")
		assert.Equal(t, "mine", renamed.Name)
		f.verify(t, token)
	})

	t.Run("the String form parses back whatever the id holds", func(t *testing.T) {
		for _, a := range []audit.Actor{{}, audit.User("key:0123456789abcdef"), audit.Key("06we154rh3v7a04w"), {Kind: audit.KindOperator, ID: "a:b:c"}, {Kind: audit.KindSystem, ID: ""}} {
			var back audit.Actor
			require.NoError(t, back.UnmarshalText([]byte(a.String())))
			assert.Equal(t, a, back)
		}
		for _, bad := range []string{"bob", "admin:bob", ":x"} {
			var back audit.Actor
			assert.Error(t, back.UnmarshalText([]byte(bad)), bad)
		}
	})
}

// TestAdminCannotRotate: a rotation hands out a secret that acts as the
// key's owner, so only the owner's side may rotate; an admin or operator
// rotating another user's key is refused and nothing changes.
func TestAdminCannotRotate(t *testing.T) {
	ctx := context.Background()
	for _, actor := range []audit.Actor{audit.User("root"), {Kind: audit.KindOperator, ID: "ops"}} {
		t.Run(actor.String(), func(t *testing.T) {
			f := newFixture(t)
			k, token := f.create(t, "bob")
			changes, record := f.store.n("Change"), f.record(t, k.ID)
			got, secret, err := f.m.Rotate(ctx, keys.RotateRequest{Ref: ref("bob", k.ID), Actor: actor})
			assert.ErrorIs(t, err, keys.ErrAdminChange)
			assert.Nil(t, got)
			assert.Empty(t, secret)
			assert.Equal(t, changes, f.store.n("Change"), "nothing written")
			assert.Equal(t, record, f.record(t, k.ID))
			f.verify(t, token) // bob's secret still works
		})
	}
	// The owner's side rotates: the owner, named or not, and a system actor.
	f := newFixture(t)
	k, _ := f.create(t, "bob")
	for _, actor := range []audit.Actor{{}, audit.User("bob"), {Kind: audit.KindSystem, ID: "scanner"}} {
		_, _, err := f.m.Rotate(ctx, keys.RotateRequest{Ref: ref("bob", k.ID), Actor: actor})
		assert.NoError(t, err, "%v", actor)
	}
}

// TestAdminDisableTakesOver: an admin who disables a key its owner had
// already disabled becomes who disabled it, so the owner cannot enable it
// again (the admin's request used to be a silent no-op).
func TestAdminDisableTakesOver(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	k, token := f.create(t, "bob")
	_, err := f.disable(ctx, "bob", k.ID, true, audit.Actor{})
	require.NoError(t, err)
	admin := audit.User("root")
	got, err := f.disable(ctx, "bob", k.ID, true, admin)
	require.NoError(t, err)
	assert.True(t, got.Disabled)
	assert.Equal(t, admin, got.DisabledBy)
	e := f.audit.last(t)
	assert.Equal(t, audit.Disabled, e.Type)
	assert.Equal(t, admin, e.Actor)

	record := f.record(t, k.ID)
	_, err = f.disable(ctx, "bob", k.ID, false, audit.Actor{})
	assert.ErrorIs(t, err, keys.ErrAdminChange)
	assert.Equal(t, record, f.record(t, k.ID), "nothing written")

	// A second admin's disable, or the owner's, changes nothing.
	changes := f.store.n("Change")
	for _, actor := range []audit.Actor{audit.User("root-2"), audit.User("bob")} {
		got, err = f.disable(ctx, "bob", k.ID, true, actor)
		require.NoError(t, err)
		assert.Equal(t, admin, got.DisabledBy)
	}
	assert.Equal(t, changes, f.store.n("Change"))
	_, err = f.m.Verify(ctx, token, "")
	assert.ErrorIs(t, err, keys.ErrDisabledForTest)
}

// TestCallerWithoutRecord: a Caller that holds no record (a zero
// Verified) is refused like another owner's key; it used to panic in
// Create and Update.
func TestCallerWithoutRecord(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	k, _ := f.create(t, "bob")
	empty := &keys.Verified{}
	r := keys.Ref{Owner: "bob", ID: k.ID, Caller: empty}
	writes := f.store.writes()
	var de *keys.DelegationError
	_, _, err := f.m.Create(ctx, keys.CreateRequest{Owner: "bob", Name: "x", Caller: empty})
	assert.ErrorAs(t, err, &de)
	_, err = f.m.Update(ctx, keys.UpdateRequest{Ref: r, Name: ptr("x")})
	assert.ErrorAs(t, err, &de)
	_, _, err = f.m.Rotate(ctx, keys.RotateRequest{Ref: r})
	assert.ErrorAs(t, err, &de)
	_, err = f.m.Revoke(ctx, keys.RevokeRequest{Ref: r})
	assert.ErrorAs(t, err, &de)
	_, err = f.m.Get(ctx, r)
	assert.ErrorAs(t, err, &de)
	_, _, err = f.m.List(ctx, keys.ListRequest{Owner: "bob", Caller: empty})
	assert.ErrorAs(t, err, &de)
	assert.Equal(t, writes, f.store.writes())
}
