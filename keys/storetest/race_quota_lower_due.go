package storetest

import (
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/keys"
)

// The key of testRaceQuotaLowerRefillDue: 5 left, a refill to 100 every
// hour, due at the boundary the race runs at; the lowering is to 20.
const (
	dueLeft   = 5
	dueRefill = 100
	dueTo     = 20
)

// testRaceQuotaLowerRefillDue: 6 clients spend a key's quota at the
// instant its refill falls due (its first write there refills it), while
// one Change at that instant lowers it to 20 once a varying number of
// requests were admitted. Whichever comes first crosses the boundary: the
// refill is applied once, by the first write, and the lowering never
// leaves it to the next request. So the lowering returns LastRefillAt at
// the boundary and r = min(100 - a, 20) for the a requests admitted before
// it was written; a + r requests are admitted in all, leaving 0. A store
// that lowered the 5 stored without applying the refill due would let the
// next request refill to 100 over the lowering.
func testRaceQuotaLowerRefillDue(t *testing.T, s keys.Store) {
	n := trials(30, 8)
	var (
		c     tally
		wrong failures
	)
	for trial := range n {
		wrong.add(trial, quotaLowerDueMissed(t, s, trial, &c))
	}
	wrong.check(t, n, fmt.Sprintf("lowerings to %d of a quota whose refill to %d is due undoing, ignoring or skipping it", dueTo, dueRefill), &c)
}

// quotaLowerDueMissed runs one trial of testRaceQuotaLowerRefillDue and
// says what went wrong, or "".
func quotaLowerDueMissed(t *testing.T, s keys.Store, trial int, c *tally) string {
	ctx := t.Context()
	boundary := t1.Add(time.Duration(trial) * time.Second)
	k := withQuota(t, "alice", t0, dueLeft)
	k.RefillAmount, k.RefillInterval, k.LastRefillAt = dueRefill, time.Hour, boundary.Add(-time.Hour)
	k = create(t, s, k)
	after := int64([]int{0, 0, 1, 40, 85}[trial%5]) // requests admitted before the lowering starts
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
			lowered, err = s.Change(ctx, k.ID, keys.Change{Version: k.Version, At: boundary, Remaining: ptr[int64](dueTo)})
			c.add(outcome(t, "lower", err))
			return
		}
		spendUntilRefused(t, c, &admitted, func() (bool, error) {
			_, ok, err := s.Consume(ctx, []string{k.ID}, boundary)
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
	case !lowered.LastRefillAt.Equal(boundary):
		return fmt.Sprintf("the lowering left the refill due (last refill %v, boundary %v): %d admitted in all", lowered.LastRefillAt, boundary, total)
	case before < 0 || r != min(dueRefill-before, dueTo):
		return fmt.Sprintf("%d admitted in all; the lowering wrote %d, want min(%d - %d, %d)", total, r, dueRefill, before, dueTo)
	case before == 0:
		c.add("lowered first: refilled and lowered in one write")
	case r == dueTo:
		c.add("lowered after the refill, between requests")
	default:
		c.add("lowered below 20 by requests before it")
	}
	if got := get(t, s, k.ID); got.Remaining == nil || *got.Remaining != 0 || !got.LastRefillAt.Equal(boundary) {
		return fmt.Sprintf("stored afterwards: remaining %v, last refill %v", got.Remaining, got.LastRefillAt)
	}
	return ""
}
