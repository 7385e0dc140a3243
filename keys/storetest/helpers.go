package storetest

import (
	"crypto/rand"
	"reflect"
	"testing"
	"time"

	"github.com/keycaphq/keycap/audit"
	"github.com/keycaphq/keycap/internal/keyforge"

	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/policy"
)

// t0 is the base time of the records: UTC, whole milliseconds.
var t0 = time.Date(2025, 3, 4, 5, 6, 7, 890_000_000, time.UTC)

// newKey returns a minimal valid record of owner created at at, with a
// time-ordered id and a random 32-byte hash. Its Version is 0: [create]
// sets the 1 the Store keeps.
func newKey(t *testing.T, owner string, at time.Time) *keys.Key {
	t.Helper()
	id := keyforge.ID(at)
	return &keys.Key{
		ID:          id,
		OwnerID:     owner,
		Name:        "test key",
		Prefix:      "kc",
		Hint:        "kc_" + id + "_…ab12",
		Hash:        randomHash(),
		Permissions: policy.Permissions{"invoices": {"read"}},
		CreatedAt:   at,
		UpdatedAt:   at,
		CreatedBy:   audit.User(owner),
	}
}

// childOf returns a record of parent's owner created through parent
// (delegation), at parent's generation.
func childOf(t *testing.T, parent *keys.Key, at time.Time) *keys.Key {
	t.Helper()
	k := newKey(t, parent.OwnerID, at)
	k.Ancestors = append(append([]string(nil), parent.Ancestors...), parent.ID)
	k.ParentGeneration = parent.Generation
	k.CreatedBy = audit.Key(parent.ID)
	return k
}

// randomHash returns 32 random bytes. It may be called from any goroutine
// (crypto/rand.Read does not fail).
func randomHash() []byte {
	h := make([]byte, 32)
	_, _ = rand.Read(h)
	return h
}

// create stores k with no key limit and returns it as stored (Version 1).
func create(t *testing.T, s keys.Store, k *keys.Key) *keys.Key {
	t.Helper()
	require.NoError(t, s.Create(t.Context(), k, 0))
	k.Version = 1
	return k
}

// get returns the record with id, which must be stored.
func get(t *testing.T, s keys.Store, id string) *keys.Key {
	t.Helper()
	k, err := s.Get(t.Context(), id)
	require.NoError(t, err)
	return k
}

// requireStored fails t unless s holds exactly want under want.ID (see
// [normalized]).
func requireStored(t *testing.T, s keys.Store, want *keys.Key) {
	t.Helper()
	requireSame(t, want, get(t, s, want.ID))
}

// requireSame fails t unless got is want, after [normalized].
func requireSame(t *testing.T, want, got *keys.Key, msgAndArgs ...any) {
	t.Helper()
	require.Equal(t, normalized(want), normalized(got), msgAndArgs...)
}

// normalized returns a copy of k in which an empty Ancestors is nil: both
// mean "created by a person", and a Store may return either (a SQL column
// cannot tell them apart); so is an empty AllowedIPs (no restriction).
// Every other field must come back exactly: nil and empty Permissions are
// kept apart, as are a nil and a zero Remaining.
func normalized(k *keys.Key) *keys.Key {
	if k == nil {
		return nil
	}
	c := k.Clone()
	if len(c.Ancestors) == 0 {
		c.Ancestors = nil
	}
	if len(c.AllowedIPs) == 0 {
		c.AllowedIPs = nil
	}
	if len(c.Resources) == 0 {
		c.Resources = nil // no restriction, however a store keeps it
	}
	return c
}

// refused runs a call that must fail with want and write nothing: every
// record in before is stored unchanged afterwards.
func refused(t *testing.T, s keys.Store, want error, call func() error, before ...*keys.Key) {
	t.Helper()
	require.ErrorIs(t, call(), want)
	for _, k := range before {
		requireStored(t, s, k)
	}
}

// hashIsFree fails t unless a new record may take hash h: no record holds
// it as its current hash. The probe is stored under owner "probe".
func hashIsFree(t *testing.T, s keys.Store, h []byte) {
	t.Helper()
	probe := newKey(t, "probe", t0.Add(time.Hour))
	probe.Hash = append([]byte(nil), h...)
	require.NoError(t, s.Create(t.Context(), probe, 0), "the hash is still taken")
}

// hashIsTaken fails t unless creating a record with hash h is a conflict.
func hashIsTaken(t *testing.T, s keys.Store, h []byte) {
	t.Helper()
	probe := newKey(t, "probe", t0.Add(time.Hour))
	probe.Hash = append([]byte(nil), h...)
	require.ErrorIs(t, s.Create(t.Context(), probe, 0), keys.ErrConflict, "the hash is not taken")
	_, err := s.Get(t.Context(), probe.ID)
	require.ErrorIs(t, err, keys.ErrNotFound, "the conflicting probe was stored")
}

func ptr[T any](v T) *T { return &v }

// sameRecord reports whether a and b are the same record, after
// [normalized].
func sameRecord(a, b *keys.Key) bool {
	return reflect.DeepEqual(normalized(a), normalized(b))
}
