package main

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/keys"
)

// prune takes "now" from the database's clock: with the operator's clock
// a year ahead, `prune -expired-older-than 1h` deleted a key that expired
// 30 minutes ago (and, before that fix, with a 1m age, keys the app still
// counted live); with it a year behind, it pruned nothing. An age below
// the 1h floor is refused and nothing is deleted.
func TestAttackPruneClockSkew(t *testing.T) {
	for name, open := range backends(t) {
		t.Run(name, func(t *testing.T) {
			w := open(t)
			ctx := context.Background()
			wallNow := time.Now().UTC().Truncate(time.Millisecond)
			*w.clock = wallNow.Add(-90 * time.Minute)
			recent, _ := w.create(t, "alice", "expired 30 minutes ago", time.Hour)
			*w.clock = wallNow.Add(-3 * time.Hour)
			old, _ := w.create(t, "alice", "expired 2 hours ago", time.Hour)
			*w.clock = wallNow.Add(-5 * time.Minute)
			revoked, _ := w.create(t, "alice", "revoked 5 minutes ago", 0)
			_, err := w.app.Revoke(ctx, keys.RevokeRequest{Ref: keys.Ref{Owner: "alice", ID: revoked.ID}, Reason: "test"})
			require.NoError(t, err)
			*w.clock = wallNow

			for _, small := range []string{"1m", "59m", "3599s"} {
				_, errOut, code := w.cliAt(t, wallNow.Add(365*24*time.Hour), "prune", "-expired-older-than", small)
				assert.Equal(t, exitUsage, code, small)
				assert.Contains(t, errOut, "-expired-older-than must be at least 1h", small)
			}
			w.get(t, recent.ID)
			w.get(t, old.ID)

			ahead := wallNow.Add(365 * 24 * time.Hour)
			out, errOut, code := w.cliAt(t, ahead, "-json", "prune", "-expired-older-than", "1h")
			require.Equal(t, exitOK, code, errOut)
			assert.JSONEq(t, `{"pruned": 1}`, out, "only the key that expired 2 hours ago by the database's clock")
			w.get(t, recent.ID)
			_, err = w.store.Get(ctx, old.ID)
			assert.ErrorIs(t, err, keys.ErrNotFound)

			behind := wallNow.Add(-365 * 24 * time.Hour)
			out, errOut, code = w.cliAt(t, behind, "-json", "prune", "-revoked-older-than", "1m")
			require.Equal(t, exitOK, code, errOut)
			assert.JSONEq(t, `{"pruned": 1}`, out, "revoked keys have no floor: revocation is terminal whatever the clocks")
			_, err = w.store.Get(ctx, revoked.ID)
			assert.ErrorIs(t, err, keys.ErrNotFound)
			w.get(t, recent.ID)

			// keys list says which keys are live by the database's clock too.
			out, _, code = w.cliAt(t, behind, "-json", "keys", "list", "-owner", "alice")
			require.Equal(t, exitOK, code)
			assert.JSONEq(t, `[]`, out, "the key that expired 30 minutes ago is not live, whatever the CLI's clock")
		})
	}
}
