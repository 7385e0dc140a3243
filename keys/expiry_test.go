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

// TestUpdateLifetimeAtLeastASecond: Update's Lifetime is a new expiry from
// now, at least a second; a pointer to 0 is refused (it used to mean the
// policy's default, which could also extend a key past what was asked).
func TestUpdateLifetimeAtLeastASecond(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	k, _ := f.create(t, "bob")
	for _, d := range []time.Duration{0, time.Nanosecond, time.Second - time.Millisecond, -time.Second} {
		got, err := f.m.Update(ctx, keys.UpdateRequest{Ref: ref("bob", k.ID), Lifetime: ptr(d)})
		badField("expires_in")(t, err)
		assert.Nil(t, got)
	}
	assert.Zero(t, f.store.n("Change"), "nothing written")
	assert.Equal(t, k, f.record(t, k.ID))

	got, err := f.m.Update(ctx, keys.UpdateRequest{Ref: ref("bob", k.ID), Lifetime: ptr(time.Second)})
	require.NoError(t, err)
	assert.Equal(t, got.UpdatedAt.Add(time.Second), got.ExpiresAt)

	// On Create, 0 still means the policy's default.
	k, _, err = f.m.Create(ctx, keys.CreateRequest{Owner: "bob", Name: "default"})
	require.NoError(t, err)
	assert.Equal(t, k.CreatedAt.Add(30*day), k.ExpiresAt)
}

// TestExpiredKeyCannotChange: an expired key stays expired. It cannot be
// renamed, re-permissioned, given a new expiry, disabled, enabled or
// rotated (each used to be written, re-expiring included); it can be
// revoked.
func TestExpiredKeyCannotChange(t *testing.T) {
	ctx := context.Background()
	changes := map[string]func(f *fixture, r keys.Ref) error{
		"rename": func(f *fixture, r keys.Ref) error {
			_, err := f.m.Update(ctx, keys.UpdateRequest{Ref: r, Name: ptr("renamed")})
			return err
		},
		"permissions": func(f *fixture, r keys.Ref) error {
			_, err := f.m.Update(ctx, keys.UpdateRequest{Ref: r, Permissions: policy.MustParse("files:read")})
			return err
		},
		"expiry": func(f *fixture, r keys.Ref) error {
			_, err := f.m.Update(ctx, keys.UpdateRequest{Ref: r, Lifetime: ptr(day)})
			return err
		},
		"disable": func(f *fixture, r keys.Ref) error {
			_, err := f.m.Update(ctx, keys.UpdateRequest{Ref: r, Disabled: ptr(true)})
			return err
		},
		"disable, as an admin": func(f *fixture, r keys.Ref) error {
			_, err := f.m.Update(ctx, keys.UpdateRequest{Ref: r, Actor: audit.User("root"), Disabled: ptr(true)})
			return err
		},
		"rotate": func(f *fixture, r keys.Ref) error {
			_, _, err := f.m.Rotate(ctx, keys.RotateRequest{Ref: r, Grace: time.Hour})
			return err
		},
	}
	expirations := map[string]func(f *fixture, k *keys.Key){
		"its own expiry":              func(f *fixture, k *keys.Key) { f.clock.Advance(k.ExpiresAt.Sub(f.clock.Now())) },
		"the policy's maximum, later": func(f *fixture, k *keys.Key) { f.clock.Advance(8 * day) },
	}
	for name, change := range changes {
		for how, expire := range expirations {
			t.Run(name+"/"+how, func(t *testing.T) {
				f := newFixture(t, withCache)
				var k *keys.Key
				var token string
				if how == "its own expiry" {
					k, token = f.create(t, "alice", "files:read", "files:write")
				} else { // files:delete keys live 7 days; this one was made to live 30 under a looser policy
					loose := policy.MustNew(policy.Config{AllowClientPermissions: true, Max: policy.MustParse("files:read", "files:delete"), DefaultLifetime: 30 * day})
					var err error
					k, token, err = f.withPolicy(t, loose).Create(ctx, keys.CreateRequest{Owner: "alice", Name: "old", Permissions: policy.MustParse("files:read", "files:delete")})
					require.NoError(t, err)
				}
				expire(f, k)
				_, err := f.m.Verify(ctx, token, "")
				require.ErrorIs(t, err, keys.ErrExpired)
				record, writes := f.record(t, k.ID), f.store.writes()

				assert.ErrorIs(t, change(f, ref("alice", k.ID)), keys.ErrAlreadyExpired)
				assert.Equal(t, writes, f.store.writes(), "nothing written")
				assert.Equal(t, record, f.record(t, k.ID))

				revoked, err := f.m.Revoke(ctx, keys.RevokeRequest{Ref: ref("alice", k.ID), Reason: "expired anyway"})
				require.NoError(t, err, "revoking an expired key works")
				assert.True(t, !revoked.RevokedAt.IsZero())
			})
		}
	}
}

// TestRefusedUpdateWritesNothing: an Update is all or nothing. Asking to
// rename, widen beyond the cap and enable a key an admin disabled is
// refused, and the record is untouched, version included (the rename and
// the enable used to be separate writes, so part of it could land).
func TestRefusedUpdateWritesNothing(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		name string
		u    keys.UpdateRequest
		want refusal
	}{
		{"beyond the cap", keys.UpdateRequest{Name: ptr("renamed"), Permissions: policy.MustParse("files:read", "files:delete"), Disabled: ptr(false)},
			exceeds(policy.MustParse("files:delete"), policy.MustParse("files:read", "files:write"))},
		{"within the cap", keys.UpdateRequest{Name: ptr("renamed"), Permissions: policy.MustParse("files:write"), Disabled: ptr(false)},
			is(keys.ErrAdminChange)},
		{"a rename and an enable", keys.UpdateRequest{Name: ptr("renamed"), Lifetime: ptr(day), Disabled: ptr(false)},
			is(keys.ErrAdminChange)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, withCache)
			k, token := f.create(t, "bob", "files:read")
			_, err := f.disable(ctx, "bob", k.ID, true, audit.User("root"))
			require.NoError(t, err)
			record, writes, events := f.record(t, k.ID), f.store.writes(), f.audit.len()

			u := tt.u
			u.Ref = ref("bob", k.ID)
			got, err := f.m.Update(ctx, u)
			tt.want(t, err)
			assert.Nil(t, got)
			assert.Equal(t, writes, f.store.writes(), "nothing written")
			after := f.record(t, k.ID)
			assert.Equal(t, record, after, "the record is unchanged")
			assert.Equal(t, record.Version, after.Version)
			assert.Equal(t, "test key", after.Name)
			assert.LessOrEqual(t, f.audit.len(), events+1, "at most the refusal is audited")
			_, err = f.m.Verify(ctx, token, "")
			assert.ErrorIs(t, err, keys.ErrDisabledForTest, "still disabled")
		})
	}
}
