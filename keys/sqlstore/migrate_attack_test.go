package sqlstore_test

// Attack tests of the atomic-changes work, written by an attacker who did
// not write the code: each TestAttack* once broke a guarantee (fixed since)
// or probed one that held; all are kept as regression tests.

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/internal/keyforge"
	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/policy"
)

// Migration 0003 sets ancestors = parent_id ("a one-level approximation of
// the chain"), and scanKey does the same for rows written by a pre-0003
// release. Verification (withinAncestors) only walks k.Ancestors, no longer
// the parent's own parent as the previous release did (withinParents
// followed parent_id to the root). So after the upgrade a grandchild key
// created before it no longer stops when its grandparent is revoked, and
// is no longer cut to the grandparent's permissions.
//
// Interleaving: v2 release: root (files:read) -> child (files:read) ->
// grandchild (files:read); upgrade (Migrate); owner revokes root; the
// grandchild still verifies with files:read.
func TestAttackMigratedGrandchildSurvivesRevokedGrandparent(t *testing.T) {
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			ctx := t.Context()
			db := d.open(t)
			s, _ := newStoreAt(t, db, d.dialect, 2)
			secret := make([]byte, 32)
			_, _ = rand.Read(secret)
			perms := policy.Permissions{"files": {"read"}}
			mk := func(ancestors ...string) (*keys.Key, string) {
				k := testKey(t, "alice")
				tok := keyforge.Key("kc", k.ID)
				mac := hmac.New(sha256.New, secret) // what keycap stores: HMAC-SHA256 of the key
				mac.Write([]byte(tok))
				k.Hash, k.Permissions, k.Ancestors = mac.Sum(nil), perms, ancestors
				time.Sleep(2 * time.Millisecond) // distinct, ordered ids
				return k, tok
			}
			root, _ := mk()
			child, _ := mk(root.ID)
			grand, grandTok := mk(root.ID, child.ID)
			require.NoError(t, s.InsertV2(ctx, root, "alice", "", ""))
			require.NoError(t, s.InsertV2(ctx, child, "key:"+root.ID, "", ""))
			require.NoError(t, s.InsertV2(ctx, grand, "key:"+child.ID, "", ""))
			require.NoError(t, s.Migrate(ctx))

			pol, err := policy.New(policy.Config{AllowClientPermissions: true, Max: perms})
			require.NoError(t, err)
			m, err := keys.NewManager(keys.Config{Store: s, Policy: pol, Secret: secret,
				Subjects: policy.SubjectsFunc(func(_ context.Context, id string) (policy.Subject, error) {
					return policy.Subject{ID: id}, nil
				}),
				Cache: keys.CacheConfig{Disabled: true}, LastUsedInterval: -1})
			require.NoError(t, err)

			_, err = m.Verify(ctx, grandTok, "")
			require.NoError(t, err, "the grandchild works before the revocation")
			_, err = m.Revoke(ctx, keys.RevokeRequest{Ref: keys.Ref{Owner: "alice", ID: root.ID}})
			require.NoError(t, err)

			got, err := s.Get(ctx, grand.ID)
			require.NoError(t, err)
			assert.Equal(t, []string{root.ID, child.ID}, got.Ancestors, "the migrated chain")
			_, err = m.Verify(ctx, grandTok, "")
			assert.ErrorIs(t, err, keys.ErrInvalid, "a grandchild must stop when its grandparent is revoked")
		})
	}
}
