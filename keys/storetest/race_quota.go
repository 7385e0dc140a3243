package storetest

import (
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/keys"
)

// raceQuota is the quota spent in each trial of testRaceQuota.
const raceQuota = 50

// testRaceQuota: 6 clients spend a key's quota of 50 through a Manager
// until it refuses, while the owner renames the key; in every other trial
// they use a key created through it (delegation), which spends the
// parent's quota too. Exactly 50 requests are admitted, each told its own
// remaining count, and the renames do not give the quota back.
func testRaceQuota(t *testing.T, s keys.Store) {
	m := newManager(t, s, 0)
	n := trials(4, 2)
	var (
		c     tally
		wrong failures
	)
	for trial := range n {
		wrong.add(trial, quotaMissed(t, m, s, trial, &c))
	}
	wrong.check(t, n, fmt.Sprintf("quotas of %d not admitting exactly %d requests under concurrent use and renames", raceQuota, raceQuota), &c)
}

// quotaMissed runs one trial of testRaceQuota and says what went wrong,
// or "".
func quotaMissed(t *testing.T, m *keys.Manager, s keys.Store, trial int, c *tally) string {
	ctx := t.Context()
	k, secret := createKey(t, m, "alice", raceQuota)
	v, err := m.Verify(ctx, secret, "")
	require.NoError(t, err)
	var child *keys.Key
	if trial%2 == 1 {
		var childSecret string
		child, childSecret, err = m.Create(ctx, keys.CreateRequest{Owner: "alice", Name: "child", Caller: v, Quota: &keys.Quota{Remaining: 1000}})
		require.NoError(t, err)
		v, err = m.Verify(ctx, childSecret, "")
		require.NoError(t, err)
	}

	const consumers = 6
	var (
		mu       sync.Mutex
		admitted []int64
		left     atomic.Int64
	)
	left.Store(consumers)
	together(consumers+2, func(i int) {
		if i >= consumers { // the owner renames the key that holds the quota
			for j := 0; left.Load() > 0; j++ {
				_, err := m.Update(ctx, keys.UpdateRequest{Ref: keys.Ref{Owner: "alice", ID: k.ID}, Name: ptr(fmt.Sprint("name ", j))})
				c.add(outcome(t, "rename", err, keys.ErrConflict))
				runtime.Gosched()
			}
			return
		}
		defer left.Add(-1)
		for {
			remaining, ok, err := m.Consume(ctx, v)
			if err == nil && !ok {
				err = errQuotaSpent
			}
			c.add(outcome(t, "consume", err, errQuotaSpent))
			if err != nil {
				return
			}
			mu.Lock()
			admitted = append(admitted, remaining)
			mu.Unlock()
			runtime.Gosched()
		}
	})

	slices.Sort(admitted)
	if !slices.Equal(admitted, upTo(raceQuota)) {
		return fmt.Sprintf("%d admitted, told %v", len(admitted), admitted)
	}
	if r := get(t, s, k.ID).Remaining; r == nil || *r != 0 {
		return fmt.Sprintf("the quota stored afterwards is %v", r)
	}
	if child != nil {
		if r := get(t, s, child.ID).Remaining; r == nil || *r != 1000-raceQuota {
			return fmt.Sprintf("the child's quota stored afterwards is %v", r)
		}
	}
	return ""
}
