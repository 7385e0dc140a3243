package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/keys"
)

// testChangeQuotaRefillDue: a key at 0 whose refill of 100 is due, lowered
// to 50, admits 50 requests, not 100, until its next refill one interval
// after the lowering; a lowering with no refill due leaves the clock, and
// the refill comes when it was due.
func testChangeQuotaRefillDue(t *testing.T, s keys.Store) {
	refilling := func(owner string, last time.Time) *keys.Key {
		k := withQuota(t, owner, t0, 0)
		k.RefillAmount, k.RefillInterval, k.LastRefillAt = 100, time.Hour, last
		return create(t, s, k)
	}
	lower := func(k *keys.Key, to int64) *keys.Key {
		got, err := s.Change(t.Context(), k.ID, keys.Change{Version: k.Version, At: t1, Remaining: ptr(to)})
		require.NoError(t, err)
		return got
	}

	due := refilling("due", t1.Add(-2*time.Hour))
	got := lower(due, 50)
	require.Equal(t, int64(50), *got.Remaining, "the due refill applied, then lowered")
	require.Equal(t, t1, got.LastRefillAt, "the refill applied at the change's time")
	for i := range 50 {
		consume(t, s, []string{due.ID}, t1.Add(time.Minute), int64(49-i), true)
	}
	consume(t, s, []string{due.ID}, t1.Add(time.Hour-time.Millisecond), 0, false) // no refill over the lowering
	consume(t, s, []string{due.ID}, t1.Add(time.Hour), 99, true)                  // the next one, an interval later

	notDue := refilling("not-due", t1.Add(-30*time.Minute))
	got = lower(notDue, 50)
	require.Equal(t, int64(0), *got.Remaining, "nothing due: the lesser of 0 and 50")
	require.Equal(t, t1.Add(-30*time.Minute), got.LastRefillAt, "the refill clock kept")
	consume(t, s, []string{notDue.ID}, t1, 0, false)
	consume(t, s, []string{notDue.ID}, t1.Add(30*time.Minute), 99, true) // refilled when it was due
}
