package storetest

import (
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/keys"
)

// The quota and the lowering of testRaceQuotaLower.
const (
	lowerFrom = 60
	lowerTo   = 20
)

// testRaceQuotaLower: 6 clients spend a quota of 60 straight through the
// Store until it refuses, while one Change, decided on the record read
// before they started (Consume does not move Version, so it is not
// refused), lowers it to 20 once a varying number of requests were
// admitted. The lowering must be the lesser of what is left and 20 when
// it is written, never 20 over what was spent meanwhile: with a the
// requests admitted before the write and r the remaining it returns,
// r = min(60 - a, 20), and in all exactly a + r requests are admitted
// (never more than min(60, a + 20)), leaving 0.
func testRaceQuotaLower(t *testing.T, s keys.Store) {
	n := trials(30, 8)
	var (
		c     tally
		wrong failures
	)
	for trial := range n {
		wrong.add(trial, quotaLowerMissed(t, s, trial, &c))
	}
	wrong.check(t, n, fmt.Sprintf("lowerings of a quota of %d to %d undoing or ignoring concurrent requests", lowerFrom, lowerTo), &c)
}

// quotaLowerMissed runs one trial of testRaceQuotaLower and says what went
// wrong, or "".
func quotaLowerMissed(t *testing.T, s keys.Store, trial int, c *tally) string {
	ctx := t.Context()
	k := newKey(t, "alice", t0)
	k.Remaining = ptr[int64](lowerFrom)
	k = create(t, s, k)
	after := int64([]int{0, 10, 30, 45, 55}[trial%5]) // requests admitted before the lowering starts
	var (
		admitted atomic.Int64
		lowered  *keys.Key
	)
	const consumers = 6
	together(consumers+1, func(i int) {
		if i == consumers {
			for admitted.Load() < after {
				runtime.Gosched()
			}
			var err error
			lowered, err = s.Change(ctx, k.ID, keys.Change{Version: k.Version, At: t1, Remaining: ptr[int64](lowerTo)})
			c.add(outcome(t, "lower", err))
			return
		}
		spendUntilRefused(t, c, &admitted, func() (bool, error) {
			_, ok, err := s.Consume(ctx, []string{k.ID}, t1)
			return ok, err
		})
	})
	require.NotNil(t, lowered, "the lowering failed")
	if lowered.Remaining == nil {
		return "the lowering removed the quota"
	}
	total, r := admitted.Load(), *lowered.Remaining
	before := total - r // admitted before the lowering was written
	switch {
	case before < 0 || r != min(lowerFrom-before, lowerTo):
		return fmt.Sprintf("%d admitted in all; the lowering wrote %d, want min(%d - %d, %d)", total, r, lowerFrom, before, lowerTo)
	case r == lowerTo && before > 0:
		c.add("lowered between requests")
	case r == lowerTo:
		c.add("lowered before any request")
	default:
		c.add("lowered below 20 by requests before it")
	}
	if left := get(t, s, k.ID).Remaining; left == nil || *left != 0 {
		return fmt.Sprintf("the quota stored afterwards is %v", left)
	}
	return ""
}
