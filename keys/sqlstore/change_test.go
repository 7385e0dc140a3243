package sqlstore_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/keycaphq/keycap/audit"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/keys/memstore"
	"github.com/keycaphq/keycap/policy"
)

var t1 = time.Date(2030, 1, 2, 3, 4, 5, 6_000_000, time.UTC)

// fullKey returns a record of owner with every field set, at version 1.
func fullKey(t testing.TB, owner string) *keys.Key {
	k := testKey(t, owner)
	k.CreatedAt, k.UpdatedAt, k.ExpiresAt = t1.Add(-time.Hour), t1.Add(-time.Hour), t1.Add(time.Hour)
	k.Ancestors, k.ParentGeneration, k.Generation = []string{"aaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbb"}, 2, 3
	k.PreviousHash, k.PreviousExpiresAt = bytes.Repeat([]byte{9}, 32), t1.Add(time.Minute)
	k.LastUsedAt, k.LastUsedIP = t1.Add(-time.Minute), "192.0.2.1"
	k.Remaining, k.RefillAmount, k.RefillInterval, k.LastRefillAt = ptr(int64(7)), 10, time.Hour, t1.Add(-30*time.Minute)
	return k
}

func ptr[T any](v T) *T { return &v }

// TestChangeEachField applies each field of a Change alone, on every
// dialect: the record comes back, and is stored, with that field, UpdatedAt
// and Version changed and nothing else; the in-memory reference store
// agrees.
func TestChangeEachField(t *testing.T) {
	newHash, otherHash := bytes.Repeat([]byte{7}, 32), bytes.Repeat([]byte{6}, 32)
	admin := audit.Actor{Kind: audit.KindOperator, ID: "ops"}
	tests := []struct {
		name   string
		before func(k *keys.Key) // the record before the change
		change keys.Change
		want   func(k *keys.Key)
	}{
		{"name", nil, keys.Change{Name: ptr("renamed")}, func(k *keys.Key) { k.Name = "renamed" }},
		{"permissions", nil, keys.Change{Permissions: policy.MustParse("files:read", "files:write")},
			func(k *keys.Key) { k.Permissions = policy.MustParse("files:read", "files:write") }},
		{"empty permissions", nil, keys.Change{Permissions: policy.Permissions{}}, func(k *keys.Key) { k.Permissions = policy.Permissions{} }},
		{"expiry", nil, keys.Change{ExpiresAt: ptr(t1.Add(48 * time.Hour))}, func(k *keys.Key) { k.ExpiresAt = t1.Add(48 * time.Hour) }},
		{"no expiry", nil, keys.Change{ExpiresAt: &time.Time{}}, func(k *keys.Key) { k.ExpiresAt = time.Time{} }},
		{"disable", nil, keys.Change{Disabled: ptr(true), By: admin},
			func(k *keys.Key) { k.Disabled, k.DisabledBy, k.DisabledAt, k.ChangedBy = true, admin, t1, admin }},
		{"enable", func(k *keys.Key) { k.Disabled, k.DisabledBy, k.DisabledAt = true, admin, t1.Add(-time.Hour) },
			keys.Change{Disabled: ptr(false), By: audit.User("u1")},
			func(k *keys.Key) {
				k.Disabled, k.DisabledBy, k.DisabledAt, k.ChangedBy = false, audit.Actor{}, time.Time{}, audit.User("u1")
			}},
		{"rotate with grace", nil, keys.Change{Secret: &keys.Secret{Hash: newHash, Hint: "kc_new", PreviousHash: bytes.Repeat([]byte{8}, 32), PreviousExpiresAt: t1.Add(time.Hour)}},
			func(k *keys.Key) {
				k.Hash, k.Hint, k.PreviousHash, k.PreviousExpiresAt = newHash, "kc_new", bytes.Repeat([]byte{8}, 32), t1.Add(time.Hour)
				k.Generation++
			}},
		{"rotate without grace", nil, keys.Change{Secret: &keys.Secret{Hash: otherHash, Hint: "kc_new", PreviousExpiresAt: t1}},
			func(k *keys.Key) {
				k.Hash, k.Hint, k.PreviousHash, k.PreviousExpiresAt = otherHash, "kc_new", nil, time.Time{}
				k.Generation++
			}},
		{"revoke", nil, keys.Change{Revoke: true, RevokeReason: "leaked", By: admin},
			func(k *keys.Key) { k.RevokedAt, k.RevokedBy, k.RevokedReason, k.ChangedBy = t1, admin, "leaked", admin }},
		{"several", nil, keys.Change{Name: ptr("both"), Disabled: ptr(true), By: audit.User("u1")},
			func(k *keys.Key) {
				k.Name, k.Disabled, k.DisabledBy, k.DisabledAt, k.ChangedBy = "both", true, audit.User("u1"), t1, audit.User("u1")
			}},
		{"only the time", nil, keys.Change{}, func(k *keys.Key) {}},
	}
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			s := newStore(t, d.open(t), d.dialect)
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					ctx := t.Context()
					k := fullKey(t, "u1")
					if tt.before != nil {
						tt.before(k)
					}
					ref := memstore.New()
					require.NoError(t, s.Create(ctx, k, 0))
					require.NoError(t, ref.Create(ctx, k, 0))
					c := tt.change
					c.Version, c.At = 1, t1

					got, err := s.Change(ctx, k.ID, c)
					require.NoError(t, err)
					want := k.Clone()
					tt.want(want)
					want.Version, want.UpdatedAt = 2, t1
					assert.Equal(t, want, got, "returned as written")
					requireRecord(t, s, want)
					fromRef, err := ref.Change(ctx, k.ID, c)
					require.NoError(t, err)
					assert.Equal(t, fromRef, got, "as the reference store")
				})
			}
		})
	}
}

// TestChangeRefusals: every refusal names its reason and writes nothing.
func TestChangeRefusals(t *testing.T) {
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			s := newStore(t, d.open(t), d.dialect)
			other := fullKey(t, "u2")
			require.NoError(t, s.Create(ctx, other, 0))
			revoke := keys.Change{At: t1, Revoke: true, RevokeReason: "first", By: audit.User("u1")}
			tests := []struct {
				name    string
				revoked bool // revoke the key first
				change  keys.Change
				want    error
			}{
				{"stale version", false, keys.Change{Version: 7, Name: ptr("x")}, keys.ErrConflict},
				{"stale version, revocation", false, keys.Change{Version: 2, Revoke: true}, keys.ErrConflict},
				{"hash of another key", false, keys.Change{Version: 1, Secret: &keys.Secret{Hash: other.Hash}}, keys.ErrConflict},
				{"hash of another key, any version", false, keys.Change{Secret: &keys.Secret{Hash: other.Hash}}, keys.ErrConflict},
				{"revoked: rename", true, keys.Change{Version: 2, Name: ptr("x")}, keys.ErrAlreadyRevoked},
				{"revoked: rename, any version", true, keys.Change{Name: ptr("x")}, keys.ErrAlreadyRevoked},
				{"revoked: stale version", true, keys.Change{Version: 1, Name: ptr("x")}, keys.ErrAlreadyRevoked},
				{"revoked: enable", true, keys.Change{Version: 2, Disabled: ptr(false)}, keys.ErrAlreadyRevoked},
				{"revoked: permissions", true, keys.Change{Version: 2, Permissions: policy.Permissions{}}, keys.ErrAlreadyRevoked},
				{"revoked: expiry", true, keys.Change{Version: 2, ExpiresAt: &time.Time{}}, keys.ErrAlreadyRevoked},
				{"revoked: rotate", true, keys.Change{Version: 2, Secret: &keys.Secret{Hash: bytes.Repeat([]byte{5}, 32)}}, keys.ErrAlreadyRevoked},
				{"revoked: revoke again", true, keys.Change{Revoke: true, RevokeReason: "second", By: audit.User("u9")}, keys.ErrAlreadyRevoked},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					k := fullKey(t, "u1")
					require.NoError(t, s.Create(ctx, k, 0))
					if tt.revoked {
						after, err := s.Change(ctx, k.ID, revoke)
						require.NoError(t, err)
						k = after
					}
					c := tt.change
					c.At = t1.Add(time.Minute)
					got, err := s.Change(ctx, k.ID, c)
					require.ErrorIs(t, err, tt.want)
					assert.Nil(t, got)
					requireRecord(t, s, k)
					requireRecord(t, s, other)
				})
			}
			_, err := s.Change(ctx, "0000000000000000", keys.Change{At: t1, Name: ptr("x")})
			assert.ErrorIs(t, err, keys.ErrNotFound)
			_, err = s.Change(ctx, "0000000000000000", keys.Change{Version: 1, At: t1, Revoke: true})
			assert.ErrorIs(t, err, keys.ErrNotFound)
		})
	}
}

// requireRecord fails t unless s holds exactly want under want.ID.
func requireRecord(t *testing.T, s keys.Store, want *keys.Key) {
	t.Helper()
	got, err := s.Get(t.Context(), want.ID)
	require.NoError(t, err)
	require.Equal(t, want, got)
}
