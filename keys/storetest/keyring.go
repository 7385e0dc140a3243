package storetest

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/policy"
)

// Server secrets of the keyring tests, by id.
var (
	secretA = []byte("storetest-server-secret-A-0123456789")
	secretB = []byte("storetest-server-secret-B-0123456789")
)

// ringManager returns a Manager over s like newManager's, whose newest
// server secret is the one named newest ("a" or "b"), accepting the ones
// named in old too.
func ringManager(t *testing.T, s keys.Store, newest string, old ...string) *keys.Manager {
	t.Helper()
	byID := map[string][]byte{"a": secretA, "b": secretB}
	c := keys.Config{
		Store: s,
		Policy: policy.MustNew(policy.Config{
			AllowClientPermissions: true,
			Roles:                  map[string]policy.Permissions{"member": policy.MustParse("files:read", "files:write", "invoices:read")},
			MaxKeys:                new(0),
		}),
		Subjects: policy.SubjectsFunc(func(_ context.Context, id string) (policy.Subject, error) {
			return policy.Subject{ID: id, Roles: []string{"member"}}, nil
		}),
		Secret:           byID[newest],
		SecretID:         newest,
		Cache:            keys.CacheConfig{Disabled: true},
		LastUsedInterval: -1,
	}
	for _, id := range old {
		if c.OldSecrets == nil {
			c.OldSecrets = map[string][]byte{}
		}
		c.OldSecrets[id] = byID[id]
	}
	m, err := keys.NewManager(c)
	require.NoError(t, err)
	return m
}

// counts returns m's SecretCounts.
func counts(t *testing.T, m *keys.Manager) map[string]int {
	t.Helper()
	n, err := m.SecretCounts(t.Context())
	require.NoError(t, err)
	return n
}

// testSecretRotation: keys made under secret a keep working once b is the
// newest, move to b (one write of the hash, the secret id and the version,
// nothing else) after one use, and are refused only once a is retired; the
// counts per secret are exact at each step.
func testSecretRotation(t *testing.T, s keys.Store) {
	ctx := t.Context()
	mA := ringManager(t, s, "a")
	made := make([]*keys.Key, 4) // used, used, never used, revoked
	secrets := make([]string, 4)
	for i := range made {
		made[i], secrets[i] = createKey(t, mA, "alice", 0)
		require.Equal(t, "a", made[i].SecretID)
	}
	_, err := mA.Revoke(ctx, keys.RevokeRequest{Ref: keys.Ref{Owner: "alice", ID: made[3].ID}})
	require.NoError(t, err)
	assert.Equal(t, map[string]int{"a": 3}, counts(t, mA), "revoked keys are not counted")

	mB := ringManager(t, s, "b", "a")
	assert.Equal(t, map[string]int{"a": 3, "b": 0}, counts(t, mB))
	for _, i := range []int{0, 1, 0} {
		require.True(t, works(t, mB, secrets[i]), "a key made under a works once b is the newest")
	}
	requireStored(t, s, made[0]) // verification wrote nothing: the move waits for its flush
	require.NoError(t, mB.Close())
	for _, k := range made[:2] {
		moved := get(t, s, k.ID)
		want := k.Clone()
		want.SecretID, want.Hash, want.Version = "b", moved.Hash, k.Version+1
		requireSame(t, want, moved, "a move writes the hash, the secret id and the version; it keeps UpdatedAt, Hint and Generation")
		require.NotEqual(t, k.Hash, moved.Hash)
	}
	moved := get(t, s, made[0].ID)
	require.True(t, works(t, mB, secrets[0]))
	require.NoError(t, mB.Close())
	requireStored(t, s, moved) // one write: a moved key is not moved again
	requireStored(t, s, made[2])
	assert.Equal(t, map[string]int{"a": 1, "b": 2}, counts(t, mB))

	k, secret := createKey(t, mB, "bob", 0)
	require.Equal(t, "b", k.SecretID, "new keys are hashed under the newest")
	assert.Equal(t, map[string]int{"a": 1, "b": 3}, counts(t, mB))

	retired := ringManager(t, s, "b")
	assert.Equal(t, map[string]int{"a": 1, "b": 3}, counts(t, retired), "a retired secret's keys are counted, and logged as refused")
	_, err = retired.Verify(ctx, secrets[2], "")
	assert.ErrorIs(t, err, keys.ErrInvalid, "the key never used is on the retired secret")
	for _, secret := range []string{secrets[0], secrets[1], secret} {
		assert.True(t, works(t, retired, secret), "keys on b work without a")
	}
	assert.True(t, works(t, mB, secrets[2]), "until retired, a still works")
	require.NoError(t, mB.Close())
}

// rehashWatch tallies the outcomes of the moves to the newest secret a
// Manager writes.
type rehashWatch struct {
	keys.Store
	c *tally
}

func (w rehashWatch) Change(ctx context.Context, id string, c keys.Change) (*keys.Key, error) {
	k, err := w.Store.Change(ctx, id, c)
	if c.Secret != nil && c.Secret.Rehash {
		switch {
		case err == nil:
			w.c.add("move landed")
		case errors.Is(err, keys.ErrAlreadyRevoked):
			w.c.add("move refused: revoked")
		case errors.Is(err, keys.ErrConflict):
			w.c.add("move refused: conflict")
		default:
			w.c.add("move failed: " + err.Error())
		}
	}
	return k, err
}
