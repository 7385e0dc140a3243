package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/keycaphq/keycap/audit"

	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/policy"
)

// storeRevokeTrials is how many revocations testRaceRevokeStore races,
// besides the revokeTrials of testRaceRevoke; -short does not shrink it.
const storeRevokeTrials = 100

// testRaceRevokeStore is testRaceRevoke on the Store alone: every writer
// reads the record and writes a change at the version it read, while a
// revocation at no version lands. After it, the stored record is the one
// the revocation returned (quota and last use aside, which Consume and
// Touch may still write), and no change that succeeded was written over it.
func testRaceRevokeStore(t *testing.T, s keys.Store) {
	var (
		c      tally
		undone failures
	)
	for trial := range storeRevokeTrials {
		undone.add(trial, storeRevocationUndone(t, s, trial, &c))
	}
	undone.check(t, storeRevokeTrials, "revocations undone on the Store", &c)
}

// storeRevocationUndone runs one trial of testRaceRevokeStore and says
// how the revocation was undone, or "".
func storeRevocationUndone(t *testing.T, s keys.Store, trial int, c *tally) string {
	ctx := t.Context()
	k := create(t, s, withQuota(t, "alice", t0.Add(time.Duration(trial)*time.Millisecond), 1_000_000))
	var (
		mu      sync.Mutex
		applied []*keys.Key // what successful changes returned
	)
	change := func(decide func(cur *keys.Key, j int) keys.Change) func(j int) error {
		return func(j int) error {
			cur, err := s.Get(ctx, k.ID)
			if err != nil {
				return err
			}
			if !cur.RevokedAt.IsZero() {
				return keys.ErrAlreadyRevoked // as a Manager decides
			}
			ch := decide(cur, j)
			ch.Version, ch.At = cur.Version, t1
			got, err := s.Change(ctx, k.ID, ch)
			if errors.Is(err, keys.ErrAlreadyRevoked) {
				c.add("in flight, refused by the store: revoked")
			}
			if err == nil {
				mu.Lock()
				applied = append(applied, got)
				mu.Unlock()
			}
			return err
		}
	}
	writers := []writer{
		{"rename", change(func(_ *keys.Key, j int) keys.Change { return keys.Change{Name: ptr(fmt.Sprint("name ", j))} })},
		{"rotate", change(func(cur *keys.Key, _ int) keys.Change {
			return keys.Change{Secret: &keys.Secret{Hash: randomHash(), PreviousHash: cur.Hash, PreviousExpiresAt: t1.Add(time.Hour)}}
		})},
		{"set permissions", change(func(_ *keys.Key, j int) keys.Change {
			return keys.Change{Permissions: []policy.Permissions{readOnly, readWrite}[j%2]}
		})},
		{"disable/enable", change(func(_ *keys.Key, j int) keys.Change {
			return keys.Change{Disabled: ptr(j%2 == 0), By: audit.User("alice")}
		})},
		{"consume/touch", func(j int) error {
			if j%2 == 1 {
				return s.Touch(ctx, k.ID, t1.Add(time.Duration(j)*time.Millisecond), "192.0.2.1")
			}
			_, _, err := s.Consume(ctx, []string{k.ID}, t1)
			return err
		}},
	}
	var revoked *keys.Key
	revoke := func() {
		var err error
		revoked, err = s.Change(ctx, k.ID, keys.Change{At: t1, Revoke: true, RevokeReason: "race", By: admin})
		c.add(outcome(t, "revoke", err))
	}
	race(t, c, trial%3, revoke, writers, keys.ErrAlreadyRevoked, keys.ErrConflict)
	if revoked == nil {
		return "the revocation failed"
	}
	stored := get(t, s, k.ID)
	if stored.RevokedAt.IsZero() {
		return fmt.Sprintf("not revoked at version %d (revoked at %d)", stored.Version, revoked.Version)
	}
	usage := revoked.Clone() // Consume and Touch may write after a revocation
	usage.Remaining, usage.LastUsedAt, usage.LastUsedIP = stored.Remaining, stored.LastUsedAt, stored.LastUsedIP
	if !sameRecord(usage, stored) {
		return fmt.Sprintf("written after the revocation: version %d, revoked at %d", stored.Version, revoked.Version)
	}
	for _, a := range applied {
		if !a.RevokedAt.IsZero() || a.Version >= revoked.Version {
			return fmt.Sprintf("a change to version %d applied over the revocation at %d", a.Version, revoked.Version)
		}
	}
	return ""
}
