package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/policy"
)

// fullKey returns a record with every field set.
func fullKey(t *testing.T) *keys.Key {
	k := newKey(t, "user-ü 1", t0)
	k.Name = "CI deploy – prod ✓ \"quoted\" 'single'"
	k.Permissions = policy.Permissions{"invoices": {"read", "write"}, "users.admin": {"read"}}
	k.UpdatedAt = t0.Add(time.Second)
	k.ExpiresAt = t0.Add(90 * 24 * time.Hour)
	k.CreatedBy = "key:0123456789abcdef"
	k.ParentID = "0123456789abcdef"
	k.PreviousHash = randomHash(t)
	k.PreviousExpiresAt = t0.Add(time.Hour)
	k.LastUsedAt = t0.Add(2 * time.Second)
	k.LastUsedIP = "2001:db8::1"
	k.RevokedAt = t0.Add(3 * time.Second)
	k.RevokedBy = "admin-7"
	k.RevokedReason = "leaked in a build log"
	k.Disabled = true
	k.DisabledBy = "admin-1"
	k.Remaining = ptr(42)
	k.RefillAmount = 100
	k.RefillInterval = time.Hour
	k.LastRefillAt = t0.Add(4 * time.Second)
	return k
}

func testRoundTripFull(t *testing.T, s keys.Store) {
	k := create(t, s, fullKey(t))
	requireStored(t, s, k)
}

func testRoundTripMinimal(t *testing.T, s keys.Store) {
	id, err := keys.NewID(t0)
	require.NoError(t, err)
	k := create(t, s, &keys.Key{ID: id, OwnerID: "u1", Hash: randomHash(t), Permissions: policy.Permissions{"a": {"read"}}})
	requireStored(t, s, k) // zero times, empty strings, nil Remaining and PreviousHash
}

func testRoundTripNilAndEmpty(t *testing.T, s keys.Store) {
	zero := newKey(t, "u1", t0)
	zero.Remaining = ptr(0) // a spent quota, not "no quota"
	create(t, s, zero)
	requireStored(t, s, zero)

	empty := newKey(t, "u1", t0.Add(time.Millisecond))
	empty.Permissions = policy.Permissions{}
	create(t, s, empty)
	got, err := s.Get(t.Context(), empty.ID)
	require.NoError(t, err)
	require.NotNil(t, got.Permissions, "empty permissions came back nil")
	require.Empty(t, got.Permissions)

	none := newKey(t, "u1", t0.Add(2*time.Millisecond))
	none.Permissions = nil
	create(t, s, none)
	got, err = s.Get(t.Context(), none.ID)
	require.NoError(t, err)
	require.Nil(t, got.Permissions, "nil permissions came back non-nil")
	require.Nil(t, got.Remaining)
	require.Nil(t, got.PreviousHash)
}

func testRecordsAreCopies(t *testing.T, s keys.Store) {
	k := fullKey(t)
	want := k.Clone()
	create(t, s, k)
	k.Name, k.Hash[0], k.Permissions["invoices"][0], *k.Remaining = "changed", k.Hash[0]^1, "delete", 7
	requireStored(t, s, want) // the store kept no reference to what it was given

	got, err := s.Get(t.Context(), want.ID)
	require.NoError(t, err)
	got.Name, got.Hash[0], got.Permissions["invoices"][0], *got.Remaining = "changed", got.Hash[0]^1, "delete", 7
	requireStored(t, s, want) // nor to what it handed out
}

func testCreateConflictOnID(t *testing.T, s keys.Store) {
	k := create(t, s, newKey(t, "u1", t0))
	dup := newKey(t, "u2", t0)
	dup.ID = k.ID
	require.ErrorIs(t, s.Create(t.Context(), dup), keys.ErrConflict)
	requireStored(t, s, k)
	list, err := s.List(t.Context(), "u2", keys.Page{})
	require.NoError(t, err)
	require.Empty(t, list, "the conflicting record was stored")
}

func testCreateConflictOnHash(t *testing.T, s keys.Store) {
	k := create(t, s, newKey(t, "u1", t0))
	dup := newKey(t, "u2", t0.Add(time.Millisecond))
	dup.Hash = append([]byte(nil), k.Hash...)
	require.ErrorIs(t, s.Create(t.Context(), dup), keys.ErrConflict)
	_, err := s.Get(t.Context(), dup.ID)
	require.ErrorIs(t, err, keys.ErrNotFound, "the conflicting record was stored")
	requireStored(t, s, k)
}

func testNotFound(t *testing.T, s keys.Store) {
	_, err := s.Get(t.Context(), "0000000000000000")
	require.ErrorIs(t, err, keys.ErrNotFound)
	require.ErrorIs(t, s.Update(t.Context(), newKey(t, "u1", t0)), keys.ErrNotFound)
	create(t, s, newKey(t, "u1", t0))
	_, err = s.Get(t.Context(), "zzzzzzzzzzzzzzzz")
	require.ErrorIs(t, err, keys.ErrNotFound)
	require.NoError(t, s.Touch(t.Context(), "zzzzzzzzzzzzzzzz", t0, "192.0.2.1"), "Touch of an unknown id is not an error")
}

func testUpdateEveryField(t *testing.T, s keys.Store) {
	k := create(t, s, newKey(t, "u1", t0))
	next := fullKey(t)
	next.ID = k.ID
	require.NoError(t, s.Update(t.Context(), next))
	requireStored(t, s, next)

	back := newKey(t, "u1", t0) // and back to zero values
	back.ID = k.ID
	require.NoError(t, s.Update(t.Context(), back))
	requireStored(t, s, back)
}

func testUpdateUnchanged(t *testing.T, s keys.Store) {
	k := create(t, s, fullKey(t))
	require.NoError(t, s.Update(t.Context(), k.Clone()), "an update that changes nothing is not ErrNotFound")
	requireStored(t, s, k)
}

func testUpdateRotationFreesOldHash(t *testing.T, s keys.Store) {
	k := create(t, s, newKey(t, "u1", t0))
	old := k.Hash
	k.PreviousHash, k.Hash = old, randomHash(t)
	require.NoError(t, s.Update(t.Context(), k))
	requireStored(t, s, k)

	other := newKey(t, "u1", t0.Add(time.Millisecond))
	require.ErrorIs(t, s.Create(t.Context(), withHash(other, k.Hash)), keys.ErrConflict)
	require.NoError(t, s.Create(t.Context(), withHash(other, old)), "the replaced hash is free again")
}

func withHash(k *keys.Key, h []byte) *keys.Key {
	c := k.Clone()
	c.Hash = append([]byte(nil), h...)
	return c
}

func testUpdateConflictOnHash(t *testing.T, s keys.Store) {
	a := create(t, s, newKey(t, "u1", t0))
	b := create(t, s, newKey(t, "u1", t0.Add(time.Millisecond)))
	next := withHash(b, a.Hash)
	next.Name = "renamed"
	require.ErrorIs(t, s.Update(t.Context(), next), keys.ErrConflict)
	requireStored(t, s, a)
	requireStored(t, s, b)
}
