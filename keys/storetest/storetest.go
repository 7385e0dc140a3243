// Package storetest checks that a [keys.Store] keeps the contract the rest
// of keycap relies on. A store's tests call [Run]; it is imported by tests
// only.
package storetest

import (
	"crypto/rand"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/policy"
)

// Run runs the [keys.Store] contract as subtests of t: round trips of
// every field (nil and empty kept apart), conflicts on id and hash that
// store nothing, updates, not-found errors, listing order, pagination and
// owner isolation, forward-only Touch, and, when the store is a
// [keys.QuotaStore], exact Consume under concurrency and refills.
//
// newStore is called once per subtest and must return an empty store; it
// should register its own cleanup with t.Cleanup. Records use UTC times
// with millisecond precision, which every store is expected to keep
// exactly.
func Run(t *testing.T, newStore func(t *testing.T) keys.Store) {
	t.Helper()
	tests := []struct {
		name string
		run  func(t *testing.T, s keys.Store)
	}{
		{"RoundTripFull", testRoundTripFull},
		{"RoundTripMinimal", testRoundTripMinimal},
		{"RoundTripNilAndEmpty", testRoundTripNilAndEmpty},
		{"RecordsAreCopies", testRecordsAreCopies},
		{"CreateConflictOnID", testCreateConflictOnID},
		{"CreateConflictOnHash", testCreateConflictOnHash},
		{"NotFound", testNotFound},
		{"UpdateEveryField", testUpdateEveryField},
		{"UpdateUnchanged", testUpdateUnchanged},
		{"UpdateRotationFreesOldHash", testUpdateRotationFreesOldHash},
		{"UpdateConflictOnHash", testUpdateConflictOnHash},
		{"ListOrderAndPages", testListOrderAndPages},
		{"ListOwnerIsolation", testListOwnerIsolation},
		{"ListDefaultLimit", testListDefaultLimit},
		{"TouchForwardOnly", testTouchForwardOnly},
		{"ConsumeWithoutQuota", testConsumeWithoutQuota},
		{"ConsumeCountsDown", testConsumeCountsDown},
		{"ConsumeRefill", testConsumeRefill},
		{"ConsumeRefillFromCreation", testConsumeRefillFromCreation},
		{"ConsumeNotFound", testConsumeNotFound},
		{"ConsumeConcurrent", testConsumeConcurrent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.run(t, newStore(t))
		})
	}
}

// t0 is the base time of the records: UTC, whole milliseconds.
var t0 = time.Date(2025, 3, 4, 5, 6, 7, 890_000_000, time.UTC)

// newKey returns a minimal valid record of owner created at at, with a
// time-ordered id and a random 32-byte hash.
func newKey(t *testing.T, owner string, at time.Time) *keys.Key {
	t.Helper()
	id, err := keys.NewID(at)
	require.NoError(t, err)
	return &keys.Key{
		ID:          id,
		OwnerID:     owner,
		Name:        "test key",
		Prefix:      "kc",
		Hint:        "kc_" + id + "_…ab12",
		Hash:        randomHash(t),
		Permissions: policy.Permissions{"invoices": {"read"}},
		CreatedAt:   at,
		UpdatedAt:   at,
		CreatedBy:   owner,
	}
}

func randomHash(t *testing.T) []byte {
	t.Helper()
	h := make([]byte, 32)
	_, err := rand.Read(h)
	require.NoError(t, err)
	return h
}

// create stores k and returns it.
func create(t *testing.T, s keys.Store, k *keys.Key) *keys.Key {
	t.Helper()
	require.NoError(t, s.Create(t.Context(), k))
	return k
}

// requireStored fails t unless s holds exactly want under want.ID.
func requireStored(t *testing.T, s keys.Store, want *keys.Key) {
	t.Helper()
	got, err := s.Get(t.Context(), want.ID)
	require.NoError(t, err)
	require.Equal(t, want, got)
}

func ptr(v int64) *int64 { return &v }
