package storetest

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/keys"
)

// quotaStore returns s as a QuotaStore, or skips t.
func quotaStore(t *testing.T, s keys.Store) keys.QuotaStore {
	t.Helper()
	qs, ok := s.(keys.QuotaStore)
	if !ok {
		t.Skipf("%T does not implement keys.QuotaStore", s)
	}
	return qs
}

// consume calls Consume and checks its answer.
func consume(t *testing.T, qs keys.QuotaStore, id string, now time.Time, wantRemaining int64, wantOK bool) {
	t.Helper()
	remaining, ok, err := qs.Consume(t.Context(), id, now)
	require.NoError(t, err)
	require.Equal(t, wantOK, ok, "ok")
	require.Equal(t, wantRemaining, remaining, "remaining")
}

func testConsumeWithoutQuota(t *testing.T, s keys.Store) {
	qs := quotaStore(t, s)
	k := create(t, s, newKey(t, "u1", t0))
	consume(t, qs, k.ID, t0.Add(time.Second), -1, true)
	requireStored(t, s, k) // nothing written
}

func testConsumeCountsDown(t *testing.T, s keys.Store) {
	qs := quotaStore(t, s)
	k := newKey(t, "u1", t0)
	k.Remaining = ptr(3)
	create(t, s, k)
	now := t0.Add(time.Second)
	consume(t, qs, k.ID, now, 2, true)
	consume(t, qs, k.ID, now, 1, true)
	consume(t, qs, k.ID, now, 0, true)
	consume(t, qs, k.ID, now, 0, false)
	consume(t, qs, k.ID, now, 0, false)
	k.Remaining = ptr(0)
	requireStored(t, s, k) // and nothing else changed

	spent := newKey(t, "u1", t0.Add(time.Millisecond))
	spent.Remaining = ptr(0)
	create(t, s, spent)
	consume(t, qs, spent.ID, now, 0, false)
}

func testConsumeRefill(t *testing.T, s keys.Store) {
	qs := quotaStore(t, s)
	now := t0.Add(24 * time.Hour)
	k := newKey(t, "u1", t0)
	k.Remaining, k.RefillAmount, k.RefillInterval = ptr(0), 5, time.Hour
	k.LastRefillAt = now.Add(-time.Hour + time.Millisecond)
	create(t, s, k)

	consume(t, qs, k.ID, now, 0, false) // one millisecond early
	requireStored(t, s, k)

	k.LastRefillAt = now.Add(-time.Hour) // due exactly now
	require.NoError(t, s.Update(t.Context(), k))
	consume(t, qs, k.ID, now, 4, true)
	k.Remaining, k.LastRefillAt = ptr(4), now
	requireStored(t, s, k)

	later := now.Add(59 * time.Minute)
	consume(t, qs, k.ID, later, 3, true) // not due again yet
	k.Remaining = ptr(3)
	requireStored(t, s, k)

	consume(t, qs, k.ID, now.Add(3*time.Hour), 4, true) // unused units do not carry over
	k.Remaining, k.LastRefillAt = ptr(4), now.Add(3*time.Hour)
	requireStored(t, s, k)
}

func testConsumeRefillFromCreation(t *testing.T, s keys.Store) {
	qs := quotaStore(t, s)
	k := newKey(t, "u1", t0)
	k.Remaining, k.RefillAmount, k.RefillInterval = ptr(0), 10, time.Minute
	create(t, s, k)
	consume(t, qs, k.ID, t0.Add(time.Minute-time.Millisecond), 0, false)
	consume(t, qs, k.ID, t0.Add(time.Minute), 9, true)
	k.Remaining, k.LastRefillAt = ptr(9), t0.Add(time.Minute)
	requireStored(t, s, k)
}

func testConsumeNotFound(t *testing.T, s keys.Store) {
	qs := quotaStore(t, s)
	_, _, err := qs.Consume(t.Context(), "0000000000000000", t0)
	require.ErrorIs(t, err, keys.ErrNotFound)
}

// testConsumeConcurrent spends a quota of 100 with 300 concurrent calls:
// exactly 100 succeed, each seeing a different remaining count.
func testConsumeConcurrent(t *testing.T, s keys.Store) {
	const quota, callers = 100, 300
	qs := quotaStore(t, s)
	k := newKey(t, "u1", t0)
	k.Remaining = ptr(quota)
	create(t, s, k)

	var (
		mu   sync.Mutex
		seen []int64
		errs []error
		wg   sync.WaitGroup
	)
	start := make(chan struct{})
	for range callers {
		wg.Go(func() {
			<-start
			remaining, ok, err := qs.Consume(t.Context(), k.ID, t0.Add(time.Second))
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
			} else if ok {
				seen = append(seen, remaining)
			}
		})
	}
	close(start)
	wg.Wait()
	require.Empty(t, errs)
	slices.Sort(seen)
	want := make([]int64, quota)
	for i := range want {
		want[i] = int64(i)
	}
	require.Equal(t, want, seen, "exactly %d admitted, each with its own count", quota)
	k.Remaining = ptr(0)
	requireStored(t, s, k)
}
