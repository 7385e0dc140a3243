package sqlstore_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/keys/memstore"
	"github.com/keycaphq/keycap/policy"
)

// TestMigrate0005 upgrades a database at version 3 holding a key made with
// the one server secret keycap had, on every dialect: the record is on
// secret "1" and may be used from anywhere; a Manager configured as before
// (Secret alone) still verifies it, and one that makes a new secret the
// newest, keeping the old one as "1", verifies it and moves it.
func TestMigrate0005(t *testing.T) {
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			s, _ := newStoreAt(t, d.open(t), d.dialect, 3)
			old, next := []byte("the secret keycap had before ids!"), []byte("the secret that replaces it, 32+ bytes")
			made := newTestManager(t, memstore.New(), keys.Config{Secret: old})
			k, secret, err := made.Create(ctx, keys.CreateRequest{Owner: "alice", Name: "ci", Permissions: policy.MustParse("invoices:read")})
			require.NoError(t, err)
			require.NoError(t, s.InsertV3(ctx, k))

			require.NoError(t, s.Migrate(ctx))
			got, err := s.Get(ctx, k.ID)
			require.NoError(t, err)
			assert.Equal(t, k, got, `secret_id "1", no allowed_ips`)
			require.NoError(t, s.Migrate(ctx), "again")

			before := newTestManager(t, s, keys.Config{Secret: old})
			_, err = before.Verify(ctx, secret, "")
			require.NoError(t, err, "configured as before the migration")
			ring := newTestManager(t, s, keys.Config{Secret: next, SecretID: "2", OldSecrets: map[string][]byte{"1": old}})
			_, err = ring.Verify(ctx, secret, "")
			require.NoError(t, err)
			require.NoError(t, ring.Close())
			got, err = s.Get(ctx, k.ID)
			require.NoError(t, err)
			assert.Equal(t, "2", got.SecretID)
			n, err := ring.SecretCounts(ctx)
			require.NoError(t, err)
			assert.Equal(t, map[string]int{"1": 0, "2": 1}, n)
		})
	}
}

// newTestManager returns a Manager over store with c's secrets, a policy
// that grants invoices:read to everybody and no cache.
func newTestManager(t *testing.T, store keys.Store, c keys.Config) *keys.Manager {
	t.Helper()
	c.Store = store
	c.Policy = policy.MustNew(policy.Config{AllowClientPermissions: true, Max: policy.MustParse("invoices:read")})
	c.Subjects = policy.SubjectsFunc(func(_ context.Context, id string) (policy.Subject, error) { return policy.Subject{ID: id}, nil })
	c.Cache = keys.CacheConfig{Disabled: true}
	c.LastUsedInterval = -1
	m, err := keys.NewManager(c)
	require.NoError(t, err)
	return m
}
