package rediscache

import (
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestRejectLogOncePerIDPerInterval(t *testing.T) {
	r, now := newRejectLog(nil), time.Now()
	assert.True(t, r.first("a", now))
	assert.False(t, r.first("a", now.Add(rejectInterval-time.Millisecond)))
	assert.True(t, r.first("b", now), "another id is logged")
	assert.True(t, r.first("a", now.Add(rejectInterval)))
}

// Records forged under ever new ids cost memory for maxRejectIDs of them;
// beyond, new ids are logged once per interval in all.
func TestRejectLogBounded(t *testing.T) {
	r, now := newRejectLog(nil), time.Now()
	logged := 0
	for i := range 3 * maxRejectIDs {
		if r.first(strconv.Itoa(i), now) {
			logged++
		}
	}
	assert.Equal(t, maxRejectIDs+1, logged)
	assert.LessOrEqual(t, len(r.last), maxRejectIDs+1)
	later := now.Add(rejectInterval)
	assert.True(t, r.first("new", later), "a sweep frees room once the interval has passed")
	assert.LessOrEqual(t, len(r.last), maxRejectIDs+1)
}
