package storetest

import (
	"errors"
	"fmt"
	"testing"

	"github.com/keycaphq/keycap/keys"
)

// testRaceAdminDisable: an admin disables the owner's key through a
// Manager while the owner renames it and tries to enable it. Once the
// disable returned (a client retries a 409), the key is disabled by the
// admin, does not verify, and the owner may not enable it.
func testRaceAdminDisable(t *testing.T, s keys.Store) {
	n := trials(60, 20)
	var (
		c      tally
		undone failures
	)
	m := newManager(t, watchedStore{s, &c}, 0)
	for trial := range n {
		undone.add(trial, disableUndone(t, m, s, trial, &c))
	}
	undone.check(t, n, "admin disables undone by the owner", &c)
}

// disableUndone runs one trial of testRaceAdminDisable and says how the
// disable was undone, or "".
func disableUndone(t *testing.T, m *keys.Manager, s keys.Store, trial int, c *tally) string {
	ctx := t.Context()
	k, secret := createKey(t, m, "alice", 0)
	ref := keys.Ref{Owner: "alice", ID: k.ID}
	owner := func(u keys.UpdateRequest) error { // the owner's session: no Actor
		u.Ref = ref
		_, err := m.Update(ctx, u)
		return err
	}
	rename := writer{"owner rename", func(j int) error { return owner(keys.UpdateRequest{Name: ptr(fmt.Sprint("name ", j))}) }}
	enable := writer{"owner enable", func(int) error { return owner(keys.UpdateRequest{Disabled: ptr(false)}) }}
	disable := func() {
		for range 20 {
			_, err := m.Update(ctx, keys.UpdateRequest{Ref: ref, Actor: admin, Disabled: ptr(true)})
			c.add(outcome(t, "admin disable", err, keys.ErrConflict))
			if !errors.Is(err, keys.ErrConflict) {
				return
			}
		}
	}
	race(t, c, trial%3, disable, []writer{rename, enable}, keys.ErrAdminChange, keys.ErrConflict)

	stored := get(t, s, k.ID)
	switch {
	case !stored.Disabled || stored.DisabledBy != admin:
		return fmt.Sprintf("stored at version %d: disabled %v by %q", stored.Version, stored.Disabled, stored.DisabledBy)
	case works(t, m, secret):
		return "the key verifies"
	}
	if err := owner(keys.UpdateRequest{Disabled: ptr(false)}); !errors.Is(err, keys.ErrAdminChange) {
		return fmt.Sprintf("the owner's enable afterwards answered %v", err)
	}
	return ""
}
