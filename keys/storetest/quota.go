package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/keys"
)

// consume calls Consume over ids and checks its answer.
func consume(t *testing.T, s keys.Store, ids []string, now time.Time, wantRemaining int64, wantOK bool) {
	t.Helper()
	remaining, ok, err := s.Consume(t.Context(), ids, now)
	require.NoError(t, err)
	require.Equal(t, wantOK, ok, "ok")
	require.Equal(t, wantRemaining, remaining, "remaining")
}

// withQuota returns a record of owner created at at with a quota of n.
func withQuota(t *testing.T, owner string, at time.Time, n int64) *keys.Key {
	k := newKey(t, owner, at)
	k.Remaining = ptr(n)
	return k
}

func testConsumeWithoutQuota(t *testing.T, s keys.Store) {
	k := create(t, s, newKey(t, "u1", t0))
	consume(t, s, []string{k.ID}, t0.Add(time.Second), -1, true)
	requireStored(t, s, k) // nothing written
}

func testConsumeCountsDown(t *testing.T, s keys.Store) {
	k := create(t, s, withQuota(t, "u1", t0, 3))
	id, now := []string{k.ID}, t0.Add(time.Second)
	consume(t, s, id, now, 2, true)
	consume(t, s, id, now, 1, true)
	consume(t, s, id, now, 0, true)
	consume(t, s, id, now, 0, false)
	consume(t, s, id, now, 0, false)
	k.Remaining = ptr[int64](0)
	requireStored(t, s, k) // and nothing else changed

	spent := create(t, s, withQuota(t, "u1", t0.Add(time.Millisecond), 0))
	consume(t, s, []string{spent.ID}, now, 0, false)
	requireStored(t, s, spent)
}

func testConsumeRefill(t *testing.T, s keys.Store) {
	now := t0.Add(24 * time.Hour)
	refilling := func(lastRefill time.Time) *keys.Key {
		k := withQuota(t, "u1", t0, 0)
		k.RefillAmount, k.RefillInterval, k.LastRefillAt = 5, time.Hour, lastRefill
		return create(t, s, k)
	}
	early := refilling(now.Add(-time.Hour + time.Millisecond))
	consume(t, s, []string{early.ID}, now, 0, false) // one millisecond early
	requireStored(t, s, early)

	k := refilling(now.Add(-time.Hour)) // due exactly now
	consume(t, s, []string{k.ID}, now, 4, true)
	k.Remaining, k.LastRefillAt = ptr[int64](4), now
	requireStored(t, s, k)

	consume(t, s, []string{k.ID}, now.Add(59*time.Minute), 3, true) // not due again yet
	k.Remaining = ptr[int64](3)
	requireStored(t, s, k)

	consume(t, s, []string{k.ID}, now.Add(3*time.Hour), 4, true) // unused units do not carry over
	k.Remaining, k.LastRefillAt = ptr[int64](4), now.Add(3*time.Hour)
	requireStored(t, s, k)
}

func testConsumeRefillFromCreation(t *testing.T, s keys.Store) {
	k := withQuota(t, "u1", t0, 0)
	k.RefillAmount, k.RefillInterval = 10, time.Minute
	create(t, s, k)
	consume(t, s, []string{k.ID}, t0.Add(time.Minute-time.Millisecond), 0, false)
	requireStored(t, s, k)
	consume(t, s, []string{k.ID}, t0.Add(time.Minute), 9, true)
	k.Remaining, k.LastRefillAt = ptr[int64](9), t0.Add(time.Minute)
	requireStored(t, s, k)
}

// testConsumeNoRefillWithoutBoth: a refill needs both an amount and an
// interval; a due refill of a quota without one is no refill.
func testConsumeNoRefillWithoutBoth(t *testing.T, s keys.Store) {
	for _, q := range []struct {
		amount   int64
		interval time.Duration
	}{{5, 0}, {0, time.Minute}} {
		k := withQuota(t, "u1", t0, 0)
		k.RefillAmount, k.RefillInterval = q.amount, q.interval
		create(t, s, k)
		consume(t, s, []string{k.ID}, t0.Add(time.Hour), 0, false)
		requireStored(t, s, k)
	}
}
