package storetest

import (
	"testing"
	"time"

	"github.com/keycaphq/keycap/audit"

	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/policy"
)

// everyChange returns one Change of each kind, made at at, rotating to
// hash, with no Version.
func everyChange(at time.Time, hash []byte) map[string]keys.Change {
	return map[string]keys.Change{
		"rename":      {At: at, Name: ptr("renamed")},
		"permissions": {At: at, Permissions: policy.Permissions{"files": {"read"}}},
		"expiry":      {At: at, ExpiresAt: ptr(at.Add(time.Hour))},
		"disable":     {At: at, Disabled: ptr(true), By: audit.User("admin")},
		"enable":      {At: at, Disabled: ptr(false)},
		"rotate":      {At: at, Secret: &keys.Secret{Hash: hash, Hint: "kc_…rot1"}},
		"revoke":      {At: at, Revoke: true, RevokeReason: "again", By: audit.User("admin")},
	}
}

// testChangeRevokedIsTerminal: a revoked record refuses every change, at
// its version, at another, and at none, and nothing is written (a refused
// rotation's hash stays free).
func testChangeRevokedIsTerminal(t *testing.T, s keys.Store) {
	k := create(t, s, liveKey(t, "u1", t0))
	revoked, err := s.Change(t.Context(), k.ID, keys.Change{At: t1, Revoke: true, RevokeReason: "done", By: audit.User("u1")})
	require.NoError(t, err)
	require.Equal(t, t1, revoked.RevokedAt)

	hash := randomHash()
	for name, c := range everyChange(t1.Add(time.Second), hash) {
		for _, v := range []int64{0, revoked.Version, revoked.Version - 1, revoked.Version + 1} {
			c.Version = v
			refused(t, s, keys.ErrAlreadyRevoked, func() error {
				got, err := s.Change(t.Context(), k.ID, c)
				require.Nil(t, got, "%s at version %d returned a record", name, v)
				return err
			}, revoked)
		}
	}
	hashIsFree(t, s, hash)
}

// testChangeVersionConflict: a change decided on another version than the
// stored one is refused and writes nothing.
func testChangeVersionConflict(t *testing.T, s keys.Store) {
	k := create(t, s, liveKey(t, "u1", t0))
	k, err := s.Change(t.Context(), k.ID, keys.Change{Version: 1, At: t1, Name: ptr("at version 2")})
	require.NoError(t, err)
	require.Equal(t, int64(2), k.Version)

	hash := randomHash()
	for name, c := range everyChange(t1.Add(time.Second), hash) {
		for _, v := range []int64{1, 3, 100} {
			c.Version = v
			refused(t, s, keys.ErrConflict, func() error {
				got, err := s.Change(t.Context(), k.ID, c)
				require.Nil(t, got, "%s at version %d returned a record", name, v)
				return err
			}, k)
		}
	}
	hashIsFree(t, s, hash)
}

// testChangeVersion0Revokes: a revocation names no version and applies at
// any.
func testChangeVersion0Revokes(t *testing.T, s keys.Store) {
	k := create(t, s, liveKey(t, "u1", t0))
	for v := int64(1); v < 5; v++ {
		var err error
		k, err = s.Change(t.Context(), k.ID, keys.Change{Version: v, At: t1, Disabled: ptr(v%2 == 1), By: audit.User("u1")})
		require.NoError(t, err)
	}
	require.Equal(t, int64(5), k.Version)
	by := audit.Actor{Kind: audit.KindSystem, ID: "scanner"}
	got, err := s.Change(t.Context(), k.ID, keys.Change{At: t1.Add(time.Second), Revoke: true, RevokeReason: "found on GitHub", By: by})
	require.NoError(t, err)
	k.Version, k.UpdatedAt = 6, t1.Add(time.Second)
	k.RevokedAt, k.RevokedBy, k.RevokedReason, k.ChangedBy = t1.Add(time.Second), by, "found on GitHub", by
	requireSame(t, k, got)
	requireStored(t, s, k)
}

// testChangeHashConflict: rotating to a hash another record holds is a
// conflict; neither record changes.
func testChangeHashConflict(t *testing.T, s keys.Store) {
	a := create(t, s, liveKey(t, "u1", t0))
	b := create(t, s, liveKey(t, "u2", t0.Add(time.Millisecond)))
	for _, v := range []int64{0, b.Version} {
		refused(t, s, keys.ErrConflict, func() error {
			got, err := s.Change(t.Context(), b.ID, keys.Change{Version: v, At: t1, Name: ptr("stolen"),
				Secret: &keys.Secret{Hash: append([]byte(nil), a.Hash...), Hint: "kc_…a", PreviousHash: b.Hash, PreviousExpiresAt: t1.Add(time.Hour)}})
			require.Nil(t, got)
			return err
		}, a, b)
	}
	hashIsTaken(t, s, b.Hash)
}

func testNotFound(t *testing.T, s keys.Store) {
	ctx := t.Context()
	create(t, s, newKey(t, "u1", t0))
	for _, id := range []string{"0000000000000000", "zzzzzzzzzzzzzzzz", ""} {
		_, err := s.Get(ctx, id)
		require.ErrorIs(t, err, keys.ErrNotFound, "Get %q", id)
		hash := randomHash()
		for name, c := range everyChange(t1, hash) {
			for _, v := range []int64{0, 1} {
				c.Version = v
				got, err := s.Change(ctx, id, c)
				require.ErrorIs(t, err, keys.ErrNotFound, "Change %q: %s at version %d", id, name, v)
				require.Nil(t, got)
			}
		}
		hashIsFree(t, s, hash)
		_, _, err = s.Consume(ctx, []string{id}, t1)
		require.ErrorIs(t, err, keys.ErrNotFound, "Consume %q", id)
		require.NoError(t, s.Touch(ctx, id, t1, "192.0.2.1"), "Touch of an unknown id is not an error")
		_, err = s.Get(ctx, id)
		require.ErrorIs(t, err, keys.ErrNotFound, "a call created %q", id)
	}
}
