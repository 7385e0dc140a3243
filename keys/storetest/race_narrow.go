package storetest

import (
	"errors"
	"fmt"
	"testing"

	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/policy"
)

// testRaceNarrowRotate: the owner narrows a key's permissions through a
// Manager while the key is rotated; in every other trial both decide on
// the same version. Once both returned (a client retries a 409), the
// stored permissions are the narrowed ones and so are the rotated
// secret's.
func testRaceNarrowRotate(t *testing.T, s keys.Store) {
	n := trials(60, 20)
	var (
		c    tally
		lost failures
	)
	g := &gatedStore{Store: watchedStore{s, &c}}
	m := newManager(t, g, 0)
	for trial := range n {
		lost.add(trial, narrowingLost(t, m, g, trial, &c))
	}
	lost.check(t, n, "narrowings lost to a concurrent rotation", &c)
}

// narrowingLost runs one trial of testRaceNarrowRotate and says how the
// narrowing was lost, or "".
func narrowingLost(t *testing.T, m *keys.Manager, g *gatedStore, trial int, c *tally) string {
	ctx := t.Context()
	k, _ := createKey(t, m, "alice", 0)
	ref := keys.Ref{Owner: "alice", ID: k.ID}
	if trial%2 == 0 {
		g.hold(2)
	}
	var rotated string
	together(2, func(i int) {
		for range 10 {
			var err error
			if i == 0 {
				_, err = m.Update(ctx, keys.UpdateRequest{Ref: ref, Permissions: readOnly})
				c.add(outcome(t, "narrow", err, keys.ErrConflict))
			} else {
				_, rotated, err = m.Rotate(ctx, keys.RotateRequest{Ref: ref})
				c.add(outcome(t, "rotate", err, keys.ErrConflict))
			}
			if !errors.Is(err, keys.ErrConflict) {
				return
			}
		}
	})

	stored := get(t, g.Store, k.ID)
	if !samePermissions(stored.Permissions, readOnly) || stored.Generation != 1 {
		return fmt.Sprintf("stored %v at generation %d", stored.Permissions, stored.Generation)
	}
	v, err := m.Verify(ctx, rotated, "")
	switch {
	case err != nil:
		return fmt.Sprintf("the rotated secret does not verify: %v", err)
	case !samePermissions(v.Permissions, readOnly):
		return fmt.Sprintf("the rotated secret verifies with %v", v.Permissions)
	}
	return ""
}

func samePermissions(a, b policy.Permissions) bool {
	return policy.Subset(a, b) && policy.Subset(b, a)
}
