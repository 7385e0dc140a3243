package keys_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/audit"
	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/policy"
)

func TestGet(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	k, _ := f.create(t, "bob")

	got, err := f.m.Get(ctx, ref("bob", k.ID))
	require.NoError(t, err)
	assert.Equal(t, k, got)

	for _, tt := range []struct{ name, owner, id string }{
		{"another owner's key", "alice", k.ID},
		{"no owner", "", k.ID},
		{"unknown id", "bob", newToken(t, "kc").ID},
		{"empty id", "bob", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := f.m.Get(ctx, ref(tt.owner, tt.id))
			assert.ErrorIs(t, err, keys.ErrNotFound)
			assert.Nil(t, got)
		})
	}
}

// TestGetByCaller: a calling key reaches itself and the keys created
// through it; any other key of its owner answers like a missing one.
func TestGetByCaller(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	caller := f.verified(t, "bob", day, "files:read")
	child, childToken := f.delegate(t, caller)
	grandchild, _ := f.delegate(t, f.verify(t, childToken))
	sibling, _ := f.create(t, "bob")
	for _, id := range []string{caller.ID, child.ID, grandchild.ID} {
		got, err := f.m.Get(ctx, keys.Ref{Owner: "bob", ID: id, Caller: caller})
		require.NoError(t, err)
		assert.Equal(t, id, got.ID)
	}
	got, err := f.m.Get(ctx, keys.Ref{Owner: "bob", ID: sibling.ID, Caller: caller})
	assert.ErrorIs(t, err, keys.ErrNotFound, "out of reach")
	assert.Nil(t, got)
	_, err = f.m.Get(ctx, keys.Ref{Owner: "bob", ID: caller.ID, Caller: f.verify(t, childToken)})
	assert.ErrorIs(t, err, keys.ErrNotFound, "a key does not reach its parent")

	alices := f.verified(t, "alice", day, "files:read")
	_, err = f.m.Get(ctx, keys.Ref{Owner: "bob", ID: sibling.ID, Caller: alices})
	var de *keys.DelegationError
	assert.ErrorAs(t, err, &de, "another owner's calling key")
}

func TestList(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	created := map[string]*keys.Key{}
	for range 25 {
		k, _ := f.create(t, "bob")
		created[k.ID] = k
		f.clock.Advance(time.Second)
	}
	f.create(t, "alice") // another owner's key is never listed
	f.create(t, "alice")

	var (
		seen   = map[string]bool{}
		sizes  []int
		cursor string
		prev   *keys.Key
	)
	for page := 0; ; page++ {
		require.Less(t, page, 10, "pagination terminates")
		list, next, err := f.m.List(ctx, keys.ListRequest{Owner: "bob", Before: cursor, Limit: 10})
		require.NoError(t, err)
		sizes = append(sizes, len(list))
		for _, k := range list {
			assert.Equal(t, "bob", k.OwnerID)
			assert.False(t, seen[k.ID], "%s listed twice", k.ID)
			seen[k.ID] = true
			assert.Equal(t, created[k.ID], k)
			if prev != nil {
				assert.Less(t, k.ID, prev.ID, "newest first")
				assert.True(t, k.CreatedAt.Before(prev.CreatedAt), "newest first")
			}
			prev = k
		}
		if next == "" {
			break
		}
		assert.Equal(t, list[len(list)-1].ID, next, "the cursor is the last id of the page")
		cursor = next
	}
	assert.Equal(t, []int{10, 10, 5}, sizes)
	assert.Len(t, seen, 25)
}

func TestListLimits(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	for range 10 {
		f.create(t, "bob")
		f.clock.Advance(time.Millisecond)
	}
	tests := []struct {
		name      string
		limit     int
		wantLen   int
		wantNext  bool
		storeSees int // one more than the page, to know if there is a next
	}{
		{"default", 0, 10, false, keys.DefaultPageLimitForTest + 1},
		{"exactly what there is", 10, 10, false, 11},
		{"one short", 9, 9, true, 10},
		{"one", 1, 1, true, 2},
		{"the most", keys.MaxPageLimitForTest, 10, false, keys.MaxPageLimitForTest + 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			list, next, err := f.m.List(ctx, keys.ListRequest{Owner: "bob", Limit: tt.limit})
			require.NoError(t, err)
			assert.Len(t, list, tt.wantLen)
			assert.Equal(t, tt.wantNext, next != "")
			assert.Equal(t, tt.storeSees, f.store.lastPage.Limit)
		})
	}

	for _, bad := range []int{-5, keys.MaxPageLimitForTest + 1, 1_000_000} {
		_, _, err := f.m.List(ctx, keys.ListRequest{Owner: "bob", Limit: bad})
		var field *keys.FieldError
		require.ErrorAs(t, err, &field, "limit %d", bad)
		assert.Equal(t, "limit", field.Field)
	}

	list, next, err := f.m.List(ctx, keys.ListRequest{Owner: "nobody"})
	require.NoError(t, err)
	assert.Empty(t, list)
	assert.Empty(t, next)
}

func TestListIncludesRevoked(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	k, _ := f.create(t, "bob")
	_, err := f.m.Revoke(ctx, keys.RevokeRequest{Ref: ref("bob", k.ID)})
	require.NoError(t, err)
	list, _, err := f.m.List(ctx, keys.ListRequest{Owner: "bob"})
	require.NoError(t, err)
	require.Len(t, list, 1)
	assert.True(t, !list[0].RevokedAt.IsZero())
}

func ptr[T any](v T) *T { return &v }

func TestUpdate(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name  string
		perms []string // of the key to update, by alice (admin)
		after time.Duration
		u     keys.UpdateRequest
		check func(t *testing.T, before, after *keys.Key)
	}{
		{"rename", []string{"files:read"}, time.Hour, keys.UpdateRequest{Name: ptr("  renamed ")}, func(t *testing.T, b, a *keys.Key) {
			assert.Equal(t, "renamed", a.Name)
			assert.Equal(t, b.Permissions, a.Permissions)
			assert.Equal(t, b.ExpiresAt, a.ExpiresAt)
		}},
		{"narrow permissions", []string{"files:read", "files:write"}, time.Hour, keys.UpdateRequest{Permissions: policy.MustParse("files:read")}, func(t *testing.T, b, a *keys.Key) {
			assert.Equal(t, policy.MustParse("files:read"), a.Permissions)
			assert.Equal(t, b.Name, a.Name)
		}},
		{"widen permissions within the cap", []string{"files:read"}, time.Hour, keys.UpdateRequest{Permissions: policy.MustParse("files:read", "invoices:write")}, func(t *testing.T, b, a *keys.Key) {
			assert.Equal(t, policy.MustParse("files:read", "invoices:write"), a.Permissions)
		}},
		{"shorter lifetime", []string{"files:read"}, time.Hour, keys.UpdateRequest{Lifetime: ptr(10 * day)}, func(t *testing.T, b, a *keys.Key) {
			assert.Equal(t, a.UpdatedAt.Add(10*day), a.ExpiresAt, "counted from now")
		}},
		{"longer lifetime within the maximum from creation", []string{"files:read"}, 25 * day, keys.UpdateRequest{Lifetime: ptr(65 * day)}, func(t *testing.T, b, a *keys.Key) {
			assert.Equal(t, b.CreatedAt.Add(90*day), a.ExpiresAt)
		}},
		{"the shortest lifetime", []string{"files:read"}, time.Hour, keys.UpdateRequest{Lifetime: ptr(time.Second)}, func(t *testing.T, b, a *keys.Key) {
			assert.Equal(t, a.UpdatedAt.Add(time.Second), a.ExpiresAt)
		}},
		{"everything at once", []string{"files:read"}, time.Hour, keys.UpdateRequest{Name: ptr("n"), Permissions: policy.MustParse("files:delete"), Lifetime: ptr(day)}, func(t *testing.T, b, a *keys.Key) {
			assert.Equal(t, "n", a.Name)
			assert.Equal(t, policy.MustParse("files:delete"), a.Permissions)
			assert.Equal(t, a.UpdatedAt.Add(day), a.ExpiresAt)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, withCache)
			k, token := f.create(t, "alice", tt.perms...)
			_, err := f.m.Verify(ctx, token, "") // cache the record
			require.NoError(t, err)
			f.clock.Advance(tt.after)

			u := tt.u
			u.Ref = ref("alice", k.ID)
			got, err := f.m.Update(ctx, u)
			require.NoError(t, err)
			tt.check(t, k, got)
			assert.Equal(t, f.clock.Now().UTC().Truncate(time.Millisecond), got.UpdatedAt)
			assert.Equal(t, k.CreatedAt, got.CreatedAt)
			assert.Equal(t, k.Hash, got.Hash)
			assert.Equal(t, k.Version+1, got.Version, "one write")
			assert.Equal(t, 1, f.store.n("Change"), "one write")

			assert.Equal(t, got, f.record(t, k.ID))

			v, err := f.m.Verify(ctx, token, "")
			require.NoError(t, err, "the key still works")
			assert.Equal(t, got.Permissions, v.Permissions, "the change is seen at once, cache or not")

			e := f.audit.last(t)
			assert.Equal(t, audit.Updated, e.Type)
			assert.Equal(t, audit.User("alice"), e.Actor)
			assert.Equal(t, k.Permissions, e.Before)
			assert.Equal(t, got.Permissions, e.After)
		})
	}
}

// TestUpdateNothing: a request that changes nothing writes nothing and is
// not audited (the old Update wrote the record back and audited an
// update).
func TestUpdateNothing(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	k, _ := f.create(t, "alice", "files:read")
	events := f.audit.len()
	f.clock.Advance(time.Hour)
	for _, u := range []keys.UpdateRequest{{}, {Disabled: ptr(false)}} {
		u.Ref = ref("alice", k.ID)
		got, err := f.m.Update(ctx, u)
		require.NoError(t, err)
		assert.Equal(t, k, got)
	}
	assert.Zero(t, f.store.n("Change"))
	assert.Equal(t, k, f.record(t, k.ID))
	assert.Equal(t, events, f.audit.len())
}

// TestUpdateAfterPolicyTightened: a key whose expiry a newer policy would
// not allow can still be renamed; it stops working when the policy says.
func TestUpdateAfterPolicyTightened(t *testing.T) {
	ctx := context.Background()
	loose := policy.MustNew(policy.Config{AllowClientPermissions: true, Max: policy.MustParse("files:read")})
	f := newFixture(t, func(c *keys.Config) { c.Policy = loose })
	k, _ := f.create(t, "bob", "files:read")
	require.True(t, k.ExpiresAt.IsZero())

	tight := policy.MustNew(policy.Config{AllowClientPermissions: true, Max: policy.MustParse("files:read"), MaxLifetime: 30 * day})
	m := f.withPolicy(t, tight)
	got, err := m.Update(ctx, keys.UpdateRequest{Ref: ref("bob", k.ID), Name: ptr("renamed")})
	require.NoError(t, err)
	assert.Equal(t, "renamed", got.Name)

	_, err = m.Update(ctx, keys.UpdateRequest{Ref: ref("bob", k.ID), Lifetime: ptr(31 * day)})
	var lifetime *policy.LifetimeError
	assert.ErrorAs(t, err, &lifetime, "a new expiry must follow the current policy")
}

func TestUpdateRefusals(t *testing.T) {
	ctx := context.Background()
	asKey := func(u keys.UpdateRequest) func(*testing.T, *fixture, *keys.Key, string) keys.UpdateRequest {
		return func(t *testing.T, f *fixture, _ *keys.Key, token string) keys.UpdateRequest {
			u.Caller = f.verify(t, token) // the key changes itself
			return u
		}
	}
	tests := []struct {
		name  string
		owner string // who asks; the key is alice's, with files:read
		setup func(t *testing.T, f *fixture, k *keys.Key, token string) keys.UpdateRequest
		want  refusal
	}{
		{"permissions beyond the cap", "alice", update(keys.UpdateRequest{Permissions: policy.MustParse("notes:read")}),
			exceeds(policy.MustParse("notes:read"), policy.MustParse("files:read", "files:write", "files:delete", "invoices:read", "invoices:write"))},
		{"permissions beyond a demoted owner's cap", "alice", func(t *testing.T, f *fixture, k *keys.Key, _ string) keys.UpdateRequest {
			f.users.set("alice", policy.Subject{Roles: []string{"viewer"}})
			return keys.UpdateRequest{Permissions: policy.MustParse("files:read", "files:write")}
		}, exceeds(policy.MustParse("files:write"), policy.MustParse("files:read"))},
		{"permissions beyond the calling key", "alice", asKey(keys.UpdateRequest{Permissions: policy.MustParse("files:write")}),
			exceeds(policy.MustParse("files:write"), policy.MustParse("files:read"))},
		{"malformed permissions", "alice", update(keys.UpdateRequest{Permissions: policy.Permissions{"files": {"READ"}}}), invalid("files[0]")},
		{"a wildcard", "alice", update(keys.UpdateRequest{Permissions: policy.Permissions{"*": {"read"}}}), invalid("*")},
		{"empty permissions", "alice", update(keys.UpdateRequest{Permissions: policy.Permissions{}}), is(policy.ErrEmpty)},
		{"lifetime beyond the maximum from creation", "alice", func(t *testing.T, f *fixture, k *keys.Key, _ string) keys.UpdateRequest {
			f.clock.Advance(20 * day) // not expired: an expired key cannot be changed at all
			return keys.UpdateRequest{Lifetime: ptr(70*day + time.Millisecond)}
		}, tooLong(90 * day)},
		// Lifetimes are checked before the policy is asked: negative was a
		// policy.InvalidError; 0 used to mean the policy's default.
		{"negative lifetime", "alice", update(keys.UpdateRequest{Lifetime: ptr(-time.Hour)}), badField("expires_in")},
		{"a lifetime of zero", "alice", update(keys.UpdateRequest{Lifetime: ptr(time.Duration(0))}), badField("expires_in")},
		{"a lifetime under a second", "alice", update(keys.UpdateRequest{Lifetime: ptr(999 * time.Millisecond)}), badField("expires_in")},
		{"permissions whose rule is shorter than the expiry", "alice", update(keys.UpdateRequest{Permissions: policy.MustParse("files:delete")}), tooLong(7 * day)},
		{"lifetime beyond the calling key", "alice", asKey(keys.UpdateRequest{Lifetime: ptr(31 * day)}), func(t *testing.T, err error) {
			_, ok := errorAs[*keys.DelegationError](err)
			assert.True(t, ok, "want *keys.DelegationError, got %T: %v", err, err)
		}},
		{"empty name", "alice", update(keys.UpdateRequest{Name: ptr(" ")}), badField("name")},
		{"long name", "alice", update(keys.UpdateRequest{Name: ptr(strings.Repeat("x", 101))}), badField("name")},
		{"control character in the name", "alice", update(keys.UpdateRequest{Name: ptr("a\tb")}), badField("name")},
		{"another owner's key", "bob", update(keys.UpdateRequest{Name: ptr("mine now")}), is(keys.ErrNotFound)},
		{"a revoked key", "alice", func(t *testing.T, f *fixture, k *keys.Key, _ string) keys.UpdateRequest {
			_, err := f.m.Revoke(ctx, keys.RevokeRequest{Ref: ref("alice", k.ID)})
			require.NoError(t, err)
			return keys.UpdateRequest{Name: ptr("again")}
		}, is(keys.ErrAlreadyRevoked)},
		{"disabled owner", "alice", func(t *testing.T, f *fixture, k *keys.Key, _ string) keys.UpdateRequest {
			f.users.set("alice", policy.Subject{Roles: []string{"admin"}, Disabled: true})
			return keys.UpdateRequest{Permissions: policy.MustParse("files:read")}
		}, is(policy.ErrSubjectDisabled)},
		{"deleted owner", "alice", func(t *testing.T, f *fixture, k *keys.Key, _ string) keys.UpdateRequest {
			f.users.remove("alice")
			return keys.UpdateRequest{Permissions: policy.MustParse("files:read")}
		}, is(policy.ErrUnknownSubject)},
		{"an admin renaming another user's key", "alice", update(keys.UpdateRequest{Actor: audit.User("root"), Name: ptr("mine")}), is(keys.ErrAdminChange)},
		{"an admin changing another user's permissions", "alice", update(keys.UpdateRequest{Actor: audit.User("root"), Permissions: policy.MustParse("files:read")}), is(keys.ErrAdminChange)},
		{"an operator changing another user's expiry", "alice", update(keys.UpdateRequest{Actor: audit.Actor{Kind: audit.KindOperator, ID: "ops"}, Lifetime: ptr(day)}), is(keys.ErrAdminChange)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			k, token := f.create(t, "alice", "files:read")
			u := tt.setup(t, f, k, token)
			u.Owner, u.ID = tt.owner, k.ID
			before := f.store.snapshot()
			record := f.record(t, k.ID)

			got, err := f.m.Update(ctx, u)
			require.Error(t, err)
			tt.want(t, err)
			assert.Nil(t, got)

			assert.Equal(t, before["Change"], f.store.n("Change"), "nothing written")
			assert.Equal(t, before["Create"], f.store.n("Create"), "nothing written")
			assert.Equal(t, record, f.record(t, k.ID), "the record is unchanged")
		})
	}
}

func update(u keys.UpdateRequest) func(*testing.T, *fixture, *keys.Key, string) keys.UpdateRequest {
	return func(*testing.T, *fixture, *keys.Key, string) keys.UpdateRequest { return u }
}

func TestRevoke(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, withCache)
	k, token := f.create(t, "bob")
	_, err := f.m.Verify(ctx, token, "")
	require.NoError(t, err)
	f.clock.Advance(time.Hour)

	admin := audit.User("admin-1")
	got, err := f.m.Revoke(ctx, keys.RevokeRequest{Ref: ref("bob", k.ID), Actor: admin, Reason: "leaked in a log"})
	require.NoError(t, err)
	now := f.clock.Now().UTC().Truncate(time.Millisecond)
	assert.Equal(t, now, got.RevokedAt)
	assert.Equal(t, admin, got.RevokedBy)
	assert.Equal(t, "leaked in a log", got.RevokedReason)
	assert.True(t, !got.RevokedAt.IsZero())
	assert.Equal(t, got, f.record(t, k.ID))

	_, err = f.m.Verify(ctx, token, "")
	assert.ErrorIs(t, err, keys.ErrRevokedForTest, "at once, cache or not")

	e := f.audit.all()
	require.GreaterOrEqual(t, len(e), 2)
	revoked := e[len(e)-2] // then the verification denial
	assert.Equal(t, audit.Revoked, revoked.Type)
	assert.Equal(t, admin, revoked.Actor)
	assert.Equal(t, "leaked in a log", revoked.Reason)
	assert.Equal(t, k.ID, revoked.KeyID)

	// Revoking again returns the record as it is, and writes nothing.
	changes := f.store.n("Change")
	f.clock.Advance(time.Hour)
	again, err := f.m.Revoke(ctx, keys.RevokeRequest{Ref: ref("bob", k.ID), Reason: "again"})
	require.NoError(t, err)
	assert.Equal(t, got, again)
	assert.Equal(t, changes, f.store.n("Change"))

	// The owner is the default actor.
	k2, _ := f.create(t, "bob")
	got, err = f.m.Revoke(ctx, keys.RevokeRequest{Ref: ref("bob", k2.ID)})
	require.NoError(t, err)
	assert.Equal(t, audit.User("bob"), got.RevokedBy)
}

func TestRevokeRefusals(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	k, token := f.create(t, "bob")
	before := f.store.snapshot()

	_, err := f.m.Revoke(ctx, keys.RevokeRequest{Ref: ref("alice", k.ID)})
	assert.ErrorIs(t, err, keys.ErrNotFound, "another owner's key")
	_, err = f.m.Revoke(ctx, keys.RevokeRequest{Ref: ref("bob", newToken(t, "kc").ID)})
	assert.ErrorIs(t, err, keys.ErrNotFound)
	_, err = f.m.Revoke(ctx, keys.RevokeRequest{Ref: ref("bob", k.ID), Reason: strings.Repeat("x", 501)})
	badField("reason")(t, err)

	assert.Equal(t, before["Change"], f.store.n("Change"), "nothing written")
	_, err = f.m.Verify(ctx, token, "")
	assert.NoError(t, err, "still works")
}

// disable turns owner's key id off (true) or on as actor (zero: the owner).
func (f *fixture) disable(ctx context.Context, owner, id string, disabled bool, actor audit.Actor) (*keys.Key, error) {
	return f.m.Update(ctx, keys.UpdateRequest{Ref: ref(owner, id), Actor: actor, Disabled: ptr(disabled)})
}

// TestUpdateDisabled: what SetDisabled did, now folded into Update.
func TestUpdateDisabled(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, withCache)
	k, token := f.create(t, "bob")
	_, err := f.m.Verify(ctx, token, "")
	require.NoError(t, err)
	admin := audit.User("admin-1")

	got, err := f.disable(ctx, "bob", k.ID, true, admin)
	require.NoError(t, err)
	assert.True(t, got.Disabled)
	assert.Equal(t, admin, got.DisabledBy)
	_, err = f.m.Verify(ctx, token, "")
	assert.ErrorIs(t, err, keys.ErrDisabledForTest)
	assert.ErrorIs(t, err, keys.ErrInvalid)
	disabled := f.audit.all()[f.audit.len()-2]
	assert.Equal(t, audit.Disabled, disabled.Type)
	assert.Equal(t, admin, disabled.Actor)

	changes := f.store.n("Change")
	_, err = f.disable(ctx, "bob", k.ID, true, audit.Actor{})
	require.NoError(t, err)
	assert.Equal(t, changes, f.store.n("Change"), "no change, no write")

	_, err = f.disable(ctx, "bob", k.ID, false, audit.Actor{})
	require.ErrorIs(t, err, keys.ErrAdminChange, "an admin's disable holds against the owner")
	got, err = f.disable(ctx, "bob", k.ID, false, admin)
	require.NoError(t, err)
	assert.False(t, got.Disabled)
	assert.True(t, got.DisabledBy.IsZero())
	e := f.audit.last(t)
	assert.Equal(t, audit.Enabled, e.Type)
	assert.Equal(t, admin, e.Actor)
	_, err = f.m.Verify(ctx, token, "")
	assert.NoError(t, err, "enabled again")

	changes = f.store.n("Change")
	_, err = f.disable(ctx, "alice", k.ID, true, audit.Actor{})
	assert.ErrorIs(t, err, keys.ErrNotFound, "another owner's key")
	_, err = f.m.Revoke(ctx, keys.RevokeRequest{Ref: ref("bob", k.ID)})
	require.NoError(t, err)
	changes++
	_, err = f.disable(ctx, "bob", k.ID, false, audit.Actor{})
	assert.ErrorIs(t, err, keys.ErrAlreadyRevoked)
	assert.Equal(t, changes, f.store.n("Change"))
}

func TestRotate(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name      string
		grace     time.Duration
		oldWorks  time.Duration // for how long the old secret still works
		maxConfig time.Duration // Config.MaxRotationGrace
	}{
		{"grace", time.Hour, time.Hour, 0},
		{"no grace: the old secret stops at once", 0, 0, 0},
		{"the longest grace configured", 2 * time.Hour, 2 * time.Hour, 2 * time.Hour},
		{"the longest grace by default", 24 * time.Hour, 24 * time.Hour, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, withCache, func(c *keys.Config) { c.MaxRotationGrace = tt.maxConfig })
			k, oldToken := f.create(t, "bob", "files:read", "files:write")
			_, err := f.m.Verify(ctx, oldToken, "")
			require.NoError(t, err)
			f.clock.Advance(time.Minute)

			got, newToken, err := f.m.Rotate(ctx, keys.RotateRequest{Ref: ref("bob", k.ID), Grace: tt.grace})
			require.NoError(t, err)
			assert.Equal(t, int64(1), got.Generation, "the second secret")
			assert.Equal(t, k.Version+1, got.Version)
			assert.Equal(t, got, f.record(t, k.ID))
			assert.NotEqual(t, oldToken, newToken)
			assert.Equal(t, k.ID, got.ID, "the id stays")
			assert.Equal(t, k.Name, got.Name)
			assert.Equal(t, k.ExpiresAt, got.ExpiresAt, "rotation does not extend a key")
			assert.Equal(t, k.Permissions, got.Permissions)
			assert.Equal(t, digest(newToken), got.Hash)
			assert.NotEqual(t, k.Hint, got.Hint)
			tok, err := keys.ParseForTest(newToken)
			require.NoError(t, err)
			assert.Equal(t, k.ID, tok.ID)

			e := f.audit.last(t)
			assert.Equal(t, audit.Rotated, e.Type)
			assert.Equal(t, k.ID, e.KeyID)
			assert.Equal(t, audit.User("bob"), e.Actor)

			_, err = f.m.Verify(ctx, newToken, "")
			require.NoError(t, err, "the new secret works")
			_, err = f.m.Verify(ctx, oldToken, "")
			if tt.oldWorks == 0 {
				assert.ErrorIs(t, err, keys.ErrInvalid, "the old secret stopped")
				return
			}
			require.NoError(t, err, "the old secret works during the grace")
			f.clock.Advance(tt.oldWorks - time.Millisecond)
			_, err = f.m.Verify(ctx, oldToken, "")
			require.NoError(t, err, "the old secret works until the grace ends")
			f.clock.Advance(time.Millisecond)
			_, err = f.m.Verify(ctx, oldToken, "")
			assert.ErrorIs(t, err, keys.ErrInvalid, "the old secret stops when the grace ends")
			_, err = f.m.Verify(ctx, newToken, "")
			assert.NoError(t, err)
		})
	}
}

func TestRotateTwice(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	k, first := f.create(t, "bob")
	_, second, err := f.m.Rotate(ctx, keys.RotateRequest{Ref: ref("bob", k.ID), Grace: time.Hour})
	require.NoError(t, err)
	_, third, err := f.m.Rotate(ctx, keys.RotateRequest{Ref: ref("bob", k.ID), Grace: time.Hour})
	require.NoError(t, err)

	_, err = f.m.Verify(ctx, first, "")
	assert.ErrorIs(t, err, keys.ErrInvalid, "only the latest previous secret has a grace")
	_, err = f.m.Verify(ctx, second, "")
	assert.NoError(t, err)
	_, err = f.m.Verify(ctx, third, "")
	assert.NoError(t, err)
}

func TestRotateCutsToTheCap(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	k, _ := f.create(t, "alice", "files:read", "invoices:read")
	f.users.set("alice", policy.Subject{Roles: []string{"viewer"}})

	got, token, err := f.m.Rotate(ctx, keys.RotateRequest{Ref: ref("alice", k.ID)})
	require.NoError(t, err)
	assert.Equal(t, policy.MustParse("files:read"), got.Permissions)
	e := f.audit.last(t)
	assert.Equal(t, k.Permissions, e.Before)
	assert.Equal(t, got.Permissions, e.After)
	v, err := f.m.Verify(ctx, token, "")
	require.NoError(t, err)
	assert.Equal(t, policy.MustParse("files:read"), v.Permissions)
}

func TestRotateRefusals(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name  string
		owner string
		grace time.Duration
		// setup changes the world; it returns the key to rotate ("": bob's
		// files:read key) and the calling key (nil: bob himself).
		setup func(t *testing.T, f *fixture, k *keys.Key) (string, *keys.Verified)
		want  refusal
	}{
		{"negative grace", "bob", -time.Second, nil, badField("grace_seconds")},
		{"grace beyond the maximum", "bob", 24*time.Hour + time.Second, nil, badField("grace_seconds")},
		{"another owner's key", "alice", 0, nil, is(keys.ErrNotFound)},
		{"a revoked key", "bob", 0, func(t *testing.T, f *fixture, k *keys.Key) (string, *keys.Verified) {
			_, err := f.m.Revoke(ctx, keys.RevokeRequest{Ref: ref("bob", k.ID)})
			require.NoError(t, err)
			return "", nil
		}, is(keys.ErrAlreadyRevoked)},
		{"nothing left within the cap", "bob", 0, func(t *testing.T, f *fixture, k *keys.Key) (string, *keys.Verified) {
			f.users.set("bob", policy.Subject{})
			return "", nil
		}, is(policy.ErrEmpty)},
		// A calling key reaches only the keys made through it (it used to
		// be handed any key of its owner): the key to rotate is its child,
		// and the parent was narrowed to what the child does not hold.
		{"nothing left within the calling key", "bob", 0, func(t *testing.T, f *fixture, k *keys.Key) (string, *keys.Verified) {
			parent, parentToken := f.create(t, "bob", "files:read", "files:write")
			child, _ := f.delegate(t, f.verify(t, parentToken), "files:read")
			_, err := f.m.Update(ctx, keys.UpdateRequest{Ref: ref("bob", parent.ID), Permissions: policy.MustParse("files:write")})
			require.NoError(t, err)
			return child.ID, f.verify(t, parentToken)
		}, is(policy.ErrEmpty)},
		{"disabled owner", "bob", 0, func(t *testing.T, f *fixture, k *keys.Key) (string, *keys.Verified) {
			f.users.set("bob", policy.Subject{Roles: []string{"editor"}, Disabled: true})
			return "", nil
		}, is(policy.ErrSubjectDisabled)},
		{"deleted owner", "bob", 0, func(t *testing.T, f *fixture, k *keys.Key) (string, *keys.Verified) {
			f.users.remove("bob")
			return "", nil
		}, is(policy.ErrUnknownSubject)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			k, token := f.create(t, "bob", "files:read")
			id, caller := k.ID, (*keys.Verified)(nil)
			if tt.setup != nil {
				var other string
				if other, caller = tt.setup(t, f, k); other != "" {
					id = other
				}
			}
			changes := f.store.n("Change")
			record := f.record(t, id)

			got, newToken, err := f.m.Rotate(ctx, keys.RotateRequest{Ref: keys.Ref{Owner: tt.owner, ID: id, Caller: caller}, Grace: tt.grace})
			require.Error(t, err)
			tt.want(t, err)
			assert.Nil(t, got)
			assert.Empty(t, newToken)
			assert.Equal(t, changes, f.store.n("Change"), "nothing written")
			assert.Equal(t, record, f.record(t, id))

			if id == k.ID && record.RevokedAt.IsZero() && tt.name != "disabled owner" && tt.name != "deleted owner" && tt.name != "nothing left within the cap" {
				_, err = f.m.Verify(ctx, token, "")
				assert.NoError(t, err, "the old secret still works")
			}
		})
	}
}

func TestManagerCap(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	ownerCap, err := f.m.CapForTest(ctx, "bob")
	require.NoError(t, err)
	assert.Equal(t, policy.MustParse("files:read", "files:write"), ownerCap)

	ownerCap, err = f.m.CapForTest(ctx, "bob", policy.MustParse("files:read"))
	require.NoError(t, err)
	assert.Equal(t, policy.MustParse("files:read"), ownerCap)

	_, err = f.m.CapForTest(ctx, "zoe")
	assert.ErrorIs(t, err, policy.ErrUnknownSubject)
	_, err = f.m.CapForTest(ctx, "dave")
	assert.ErrorIs(t, err, policy.ErrSubjectDisabled)
}

// TestStoreErrorsPropagate: a failing store is reported as is, and nothing
// is audited as done.
func TestStoreErrorsPropagate(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	k, token := f.create(t, "bob")
	_, err := f.m.Verify(ctx, token, "203.0.113.9") // a use to flush later
	require.NoError(t, err)
	quota, quotaToken, err := f.m.Create(ctx, keys.CreateRequest{Owner: "bob", Name: "metered", Quota: &keys.Quota{Remaining: 5}})
	require.NoError(t, err)
	metered := f.verify(t, quotaToken)
	down := errors.Join(keys.ErrStoreUnavailable, errors.New("connection refused"))
	f.store.setWriteErr(down)
	events := f.audit.len()

	_, _, err = f.m.Create(ctx, keys.CreateRequest{Owner: "bob", Name: "k"})
	assert.ErrorIs(t, err, keys.ErrStoreUnavailable)
	_, _, err = f.m.List(ctx, keys.ListRequest{Owner: "bob"})
	assert.ErrorIs(t, err, keys.ErrStoreUnavailable)
	_, err = f.m.Update(ctx, keys.UpdateRequest{Ref: ref("bob", k.ID), Name: ptr("n")})
	assert.ErrorIs(t, err, keys.ErrStoreUnavailable)
	_, err = f.m.Revoke(ctx, keys.RevokeRequest{Ref: ref("bob", k.ID)})
	assert.ErrorIs(t, err, keys.ErrStoreUnavailable)
	_, err = f.disable(ctx, "bob", k.ID, true, audit.Actor{})
	assert.ErrorIs(t, err, keys.ErrStoreUnavailable)
	_, _, err = f.m.Rotate(ctx, keys.RotateRequest{Ref: ref("bob", k.ID)})
	assert.ErrorIs(t, err, keys.ErrStoreUnavailable)
	_, _, err = f.m.Consume(ctx, metered)
	assert.ErrorIs(t, err, keys.ErrStoreUnavailable)
	assert.ErrorIs(t, f.m.Close(), keys.ErrStoreUnavailable, "a failed Touch is reported by Close")
	assert.Equal(t, events, f.audit.len(), "nothing audited as done")

	f.store.setWriteErr(nil)
	_, err = f.m.Verify(ctx, token, "")
	assert.NoError(t, err, "the key is unchanged")
	assert.Equal(t, int64(5), *f.record(t, quota.ID).Remaining, "no request spent")
}

func TestFieldError(t *testing.T) {
	err := error(&keys.FieldError{Field: "name", Reason: "give the key a name"})
	assert.Equal(t, "keys: name: give the key a name", err.Error())
}

// TestVerifyCacheEvictsAfterDrops fills a small cache, drops records from
// it through changes, and fills it again: the clock hand must reuse the
// freed slots.
func TestVerifyCacheEvictsAfterDrops(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, func(c *keys.Config) { c.Cache = keys.CacheConfig{SingleInstance: true, Size: 4} })
	type key struct {
		record *keys.Key
		token  string
	}
	var all []key
	for range 12 {
		k, token := f.create(t, "bob")
		all = append(all, key{k, token})
	}
	disabled := make([]bool, len(all))
	for round := range 6 {
		for i, k := range all {
			if i%3 == round%3 {
				disabled[i] = !disabled[i]
				_, err := f.disable(ctx, "bob", k.record.ID, disabled[i], audit.Actor{})
				require.NoError(t, err)
			}
			v, err := f.m.Verify(ctx, k.token, "")
			if disabled[i] {
				assert.ErrorIs(t, err, keys.ErrDisabledForTest, "round %d, key %d", round, i)
			} else if assert.NoError(t, err, "round %d, key %d", round, i) {
				assert.Equal(t, k.record.ID, v.ID)
			}
			assert.LessOrEqual(t, f.m.CachedForTest(), 4)
		}
	}
}

// TestUpdateIfVersion: a change made conditional on the version the
// caller saw is refused with ErrConflict, writing nothing, once the key
// moved on; on the version it holds it is made.
func TestUpdateIfVersion(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	k, _ := f.create(t, "bob")
	seen := k.Version

	renamed := "renamed"
	moved, err := f.m.Update(ctx, keys.UpdateRequest{Ref: ref("bob", k.ID), Name: &renamed})
	require.NoError(t, err)
	require.Greater(t, moved.Version, seen)

	off := true
	got, err := f.m.Update(ctx, keys.UpdateRequest{Ref: ref("bob", k.ID), Disabled: &off, IfVersion: seen})
	require.ErrorIs(t, err, keys.ErrConflict)
	assert.Nil(t, got)
	now, err := f.m.Get(ctx, ref("bob", k.ID))
	require.NoError(t, err)
	assert.False(t, now.Disabled, "nothing written")
	assert.Equal(t, moved.Version, now.Version)

	got, err = f.m.Update(ctx, keys.UpdateRequest{Ref: ref("bob", k.ID), Disabled: &off, IfVersion: now.Version})
	require.NoError(t, err)
	assert.True(t, got.Disabled)
}
