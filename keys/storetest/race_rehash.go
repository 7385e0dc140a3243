package storetest

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/keys"
)

// testRaceRehash: a key made under secret a is used under b (its move to
// b is queued on the version it was read at), and the move is written
// while the owner revokes, rotates or renames the key. Whatever lands
// first, the move never undoes the other change: a revoked key stays
// revoked and no secret of it verifies; a rotated key's new secret
// verifies and its old one does not; a rename stays. The record's hash
// always verifies under the secret its SecretID names.
func testRaceRehash(t *testing.T, s keys.Store) {
	var (
		c   tally
		bad failures
	)
	mA, onlyB := ringManager(t, s, "a"), ringManager(t, s, "b")
	mB := ringManager(t, rehashWatch{s, &c}, "b", "a")
	n := trials(60, 21)
	for trial := range n {
		bad.add(trial, rehashUndid(t, s, mA, mB, onlyB, trial, &c))
	}
	bad.check(t, n, "moves to the newest secret that undid a change or broke a key", &c)
}

// rehashUndid runs one trial of testRaceRehash and says what went wrong,
// or "".
func rehashUndid(t *testing.T, s keys.Store, mA, mB, onlyB *keys.Manager, trial int, c *tally) string {
	ctx := t.Context()
	k, secret := createKey(t, mA, "alice", 0)
	ref := keys.Ref{Owner: "alice", ID: k.ID}
	require.True(t, works(t, mB, secret)) // queues the move
	op := []string{"revoke", "rotate", "rename"}[trial%3]
	current, name := secret, fmt.Sprintf("renamed %d", trial)
	together(2, func(i int) {
		if i == 0 {
			require.NoError(t, mB.Close()) // writes the move
			return
		}
		var err error
		switch op {
		case "revoke":
			_, err = mB.Revoke(ctx, keys.RevokeRequest{Ref: ref, Reason: "race"})
		case "rotate":
			_, current, err = mB.Rotate(ctx, keys.RotateRequest{Ref: ref})
		case "rename":
			_, err = mB.Update(ctx, keys.UpdateRequest{Ref: ref, Name: &name})
		}
		c.add(outcome(t, op, err))
	})
	stored := get(t, s, k.ID)
	switch {
	case op == "revoke" && stored.RevokedAt.IsZero():
		return "the revocation was undone"
	case op == "revoke" && (works(t, mB, secret) || works(t, onlyB, secret)):
		return "a revoked key verifies"
	case op == "revoke":
		return ""
	case op == "rotate" && current == secret:
		return "the rotation returned no new secret"
	case op == "rotate" && works(t, mB, secret):
		return "the replaced secret still verifies"
	case op == "rename" && stored.Name != name:
		return "the rename was lost: " + stored.Name
	case !works(t, mB, current):
		return "the key's secret no longer verifies"
	case (stored.SecretID == "b") != works(t, onlyB, current):
		return "the record's hash is not under the secret its SecretID names (" + stored.SecretID + ")"
	}
	return ""
}
