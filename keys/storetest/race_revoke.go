package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/keycaphq/keycap/audit"

	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/policy"
)

// revokeTrials is how many revocations each store must hold: -short
// does not shrink it, and a trial is cheap enough for every SQL dialect.
const revokeTrials = 200

// testRaceRevoke: an owner revokes a key through a Manager while the key
// is renamed, rotated, narrowed and widened, disabled and enabled, spent
// and touched. Once Revoke returned, the record is revoked and neither
// the original secret nor any secret a rotation returned verifies.
func testRaceRevoke(t *testing.T, s keys.Store) {
	var (
		c      tally
		undone failures
	)
	m := newManager(t, watchedStore{s, &c}, 0)
	for trial := range revokeTrials {
		undone.add(trial, revocationUndone(t, m, s, trial, &c))
	}
	undone.check(t, revokeTrials, "revocations undone through a Manager", &c)
}

// revocationUndone runs one trial of testRaceRevoke and says how the
// revocation was undone, or "".
func revocationUndone(t *testing.T, m *keys.Manager, s keys.Store, trial int, c *tally) string {
	ctx := t.Context()
	k, secret := createKey(t, m, "alice", 1_000_000)
	v, err := m.Verify(ctx, secret, "")
	require.NoError(t, err)
	ref := keys.Ref{Owner: "alice", ID: k.ID}
	var mu sync.Mutex
	secrets := []string{secret}
	update := func(u keys.UpdateRequest) error {
		u.Ref = ref
		_, err := m.Update(ctx, u)
		return err
	}
	writers := []writer{
		{"rename", func(j int) error { return update(keys.UpdateRequest{Name: ptr(fmt.Sprintf("name %d", j))}) }},
		{"rotate", func(int) error {
			_, sec, err := m.Rotate(ctx, keys.RotateRequest{Ref: ref, Grace: time.Hour})
			if err == nil {
				mu.Lock()
				secrets = append(secrets, sec)
				mu.Unlock()
			}
			return err
		}},
		{"set permissions", func(j int) error {
			return update(keys.UpdateRequest{Permissions: []policy.Permissions{readOnly, readWrite}[j%2]})
		}},
		{"disable/enable", func(j int) error { return update(keys.UpdateRequest{Disabled: ptr(j%2 == 0)}) }},
		{"consume/touch", func(j int) error {
			if j%2 == 1 {
				return s.Touch(ctx, k.ID, time.Now(), "192.0.2.1")
			}
			_, _, err := m.Consume(ctx, v)
			return err
		}},
	}
	revoke := func() {
		_, err := m.Revoke(ctx, keys.RevokeRequest{Ref: ref, Reason: "race"})
		c.add(outcome(t, "revoke", err))
	}
	race(t, c, trial%3, revoke, writers, keys.ErrAlreadyRevoked, keys.ErrConflict)

	stored := get(t, s, k.ID)
	if stored.RevokedAt.IsZero() || stored.RevokedReason != "race" || stored.RevokedBy != audit.User("alice") {
		return fmt.Sprintf("stored at version %d: revoked at %v by %q for %q", stored.Version, stored.RevokedAt, stored.RevokedBy, stored.RevokedReason)
	}
	for i, sec := range secrets {
		if works(t, m, sec) {
			return fmt.Sprintf("secret %d of %d verifies", i, len(secrets))
		}
	}
	return ""
}
