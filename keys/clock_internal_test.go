package keys

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// TestCoarseClock: the coarse time is never ahead of the exact clock and
// at most a few ticks behind it while read; unread for coarseIdle ticks
// the refresh stops, and the next read starts it again.
func TestCoarseClock(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the refresh to stop")
	}
	ahead, behind := 0, time.Duration(0)
	for range 100_000 {
		c := coarse.now()
		exact := time.Now().UnixNano()
		if c > exact {
			ahead++
		}
		behind = max(behind, time.Duration(exact-c))
	}
	assert.Zero(t, ahead, "coarse readings ahead of the exact clock")
	t.Logf("at most %v behind over 100,000 reads", behind)
	deadline := time.Now().Add(10 * time.Second)
	for coarse.ns.Load() != 0 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	assert.Zero(t, coarse.ns.Load(), "the refresh still runs, unread")
	before := time.Now().UnixNano()
	assert.GreaterOrEqual(t, coarse.now(), before, "the first read after a stop is exact")
	assert.NotZero(t, coarse.ns.Load(), "a read starts the refresh again")
}
