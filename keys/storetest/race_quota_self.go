package storetest

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/keys"
)

// testRaceQuotaSelfVsOwner: where the policy sets no quota, a key
// without one sets its own to a million (a key may restrict itself)
// while its owner gives it a quota of 10; in every other trial both
// decide on the same version, so one of them is decided again on fresh
// state. Whatever lands first, the key ends with 10: the key's set,
// decided again after the owner's quota landed, is a raise of its own
// quota and refused, and the owner's, decided again after the key's,
// lowers it to 10.
func testRaceQuotaSelfVsOwner(t *testing.T, s keys.Store) {
	n := trials(40, 10)
	var (
		c     tally
		wrong failures
	)
	g := &gatedStore{Store: watchedStore{s, &c}}
	m := newManager(t, g, 0)
	for trial := range n {
		wrong.add(trial, quotaSelfVsOwnerMissed(t, m, g, trial, &c))
	}
	wrong.check(t, n, "keys raising their own quota over their owner's", &c)
}

// quotaSelfVsOwnerMissed runs one trial of testRaceQuotaSelfVsOwner and
// says what went wrong, or "".
func quotaSelfVsOwnerMissed(t *testing.T, m *keys.Manager, g *gatedStore, trial int, c *tally) string {
	ctx := t.Context()
	k, secret := createKey(t, m, "alice", 0)
	v, err := m.Verify(ctx, secret, "")
	require.NoError(t, err)
	if trial%2 == 0 {
		g.hold(2)
	}
	together(2, func(i int) {
		u := keys.UpdateRequest{Ref: keys.Ref{Owner: "alice", ID: k.ID}, Remaining: ptr[int64](10)}
		op := "owner's quota"
		if i == 1 {
			u.Caller, u.Remaining, op = v, ptr[int64](1_000_000), "key's own quota"
		}
		for range 10 {
			_, err := m.Update(ctx, u)
			var field *keys.FieldError
			if errors.As(err, &field) && i == 1 {
				c.add(op + " refused: a raise")
				return
			}
			c.add(outcome(t, op, err, keys.ErrConflict))
			if !errors.Is(err, keys.ErrConflict) {
				return
			}
		}
	})
	if r := get(t, g.Store, k.ID).Remaining; r == nil || *r != 10 {
		return fmt.Sprintf("the quota stored afterwards is %v, want 10", r)
	}
	return ""
}
