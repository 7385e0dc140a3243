package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/keys"
)

// testSecretRotations: each rotation counts a generation and swaps the
// hash index: the new hash is taken, the replaced one is free again (also
// while it is kept as PreviousHash: the previous secret is found through
// the key's id, never by its hash).
func testSecretRotations(t *testing.T, s keys.Store) {
	k := create(t, s, newKey(t, "u1", t0))
	for gen := int64(1); gen <= 3; gen++ {
		old, next := k.Hash, randomHash()
		sec := &keys.Secret{Hash: next, Hint: fmt.Sprintf("kc_…gen%d", gen)}
		if gen != 2 { // a grace period, then none, then one again
			sec.PreviousHash, sec.PreviousExpiresAt = old, t1.Add(time.Hour)
		}
		at := t1.Add(time.Duration(gen) * time.Second)
		got, err := s.Change(t.Context(), k.ID, keys.Change{Version: k.Version, At: at, Secret: sec})
		require.NoError(t, err)

		k.Version, k.UpdatedAt, k.Generation = k.Version+1, at, gen
		k.Hash, k.Hint = next, sec.Hint
		k.PreviousHash, k.PreviousExpiresAt = nil, time.Time{}
		if sec.PreviousHash != nil {
			k.PreviousHash, k.PreviousExpiresAt = old, sec.PreviousExpiresAt
		}
		requireSame(t, k, got)
		requireStored(t, s, k)
		hashIsTaken(t, s, next)
		hashIsFree(t, s, old)
	}
}

// testSecretHashOfRefusedRotationStaysFree: a rotation refused for its
// version takes no hash, and a later rotation may use it.
func testSecretHashOfRefusedRotationStaysFree(t *testing.T, s keys.Store) {
	k := create(t, s, newKey(t, "u1", t0))
	next := randomHash()
	rotate := func(v int64) (*keys.Key, error) {
		return s.Change(t.Context(), k.ID, keys.Change{Version: v, At: t1, Secret: &keys.Secret{Hash: next, Hint: "kc_…next"}})
	}
	_, err := rotate(k.Version + 1)
	require.ErrorIs(t, err, keys.ErrConflict)
	requireStored(t, s, k)
	hashIsTaken(t, s, k.Hash)

	got, err := rotate(k.Version)
	require.NoError(t, err, "the refused rotation left its hash behind")
	require.Equal(t, next, got.Hash)
	require.Equal(t, int64(1), got.Generation)
}
