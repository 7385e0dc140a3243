package storetest

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/keys"
)

// The quota of testRaceQuotaOwnerLower, and what its owner lowers it to.
const (
	ownerFrom = 60
	ownerTo   = 20
)

// testRaceQuotaOwnerLower: where the policy sets no quota, the owner
// lowers a key's quota of 60 to 20 (or, in every other trial, renames it
// and sends back the 60 it read, as a client echoing the record does)
// while 6 clients spend it through a Manager until it refuses. The
// owner's Update reads the record, then a varying number of requests are
// admitted before it writes (Consume does not move Version, so the write
// is not refused). A value at or below what the owner read must not give
// back what was spent meanwhile: with a the requests admitted before the
// write and r the remaining it returns, r = min(60 - a, 20) for the
// lowering and 60 - a for the echo, and exactly a + r are admitted in all,
// never more than 60.
func testRaceQuotaOwnerLower(t *testing.T, s keys.Store) {
	p := &pausedStore{Store: s}
	m := newManager(t, p, 0)
	n := trials(20, 5)
	var (
		c     tally
		wrong failures
	)
	for trial := range n {
		wrong.add(trial, quotaOwnerLowerMissed(t, m, p, trial, &c))
	}
	wrong.check(t, n, fmt.Sprintf("owner's changes of a quota of %d to at most what they read giving back requests spent meanwhile", ownerFrom), &c)
}

// quotaOwnerLowerMissed runs one trial of testRaceQuotaOwnerLower and says
// what went wrong, or "".
func quotaOwnerLowerMissed(t *testing.T, m *keys.Manager, p *pausedStore, trial int, c *tally) string {
	ctx := t.Context()
	k, secret := createKey(t, m, "alice", ownerFrom)
	v, err := m.Verify(ctx, secret, "")
	require.NoError(t, err)
	spent := int64([]int{0, 10, 30, 45, 55}[trial%5]) // admitted between the owner's read and write
	u := keys.UpdateRequest{Ref: keys.Ref{Owner: "alice", ID: k.ID}, Remaining: ptr[int64](ownerTo)}
	want := func(before int64) int64 { return min(ownerFrom-before, ownerTo) }
	if trial%2 == 1 {
		u.Name, u.Remaining = ptr("renamed"), ptr[int64](ownerFrom)
		want = func(before int64) int64 { return ownerFrom - before }
	}

	var (
		admitted atomic.Int64
		changed  *keys.Key
	)
	read := make(chan struct{})
	p.pause(k.ID, func() {
		close(read)
		for admitted.Load() < spent {
			runtime.Gosched()
		}
	})
	const consumers = 6
	together(consumers+1, func(i int) {
		if i == consumers {
			changed, err = m.Update(ctx, u)
			c.add(outcome(t, "owner's change", err))
			return
		}
		<-read
		spendUntilRefused(t, c, &admitted, func() (bool, error) {
			_, ok, err := m.Consume(ctx, v)
			return ok, err
		})
	})
	require.NotNil(t, changed, "the owner's change failed")
	if changed.Remaining == nil {
		return "the change removed the quota"
	}
	total, r := admitted.Load(), *changed.Remaining
	before := total - r // admitted before the change was written
	switch {
	case before < spent || r != want(before):
		return fmt.Sprintf("%d admitted in all, %d before the change; it wrote %d, want %d", total, before, r, want(before))
	case before == 0:
		c.add("written before any request")
	default:
		c.add("written after requests")
	}
	if left := get(t, p.Store, k.ID).Remaining; left == nil || *left != 0 {
		return fmt.Sprintf("the quota stored afterwards is %v", left)
	}
	return ""
}

// pausedStore runs a hook once, after the next read (Get) of one record
// returns from the Store and before the reader sees it: what a concurrent
// request does in the hook lands between a decision's read and its write.
type pausedStore struct {
	keys.Store
	mu   sync.Mutex
	id   string
	hook func()
}

// pause arms hook for the next Get of id.
func (p *pausedStore) pause(id string, hook func()) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.id, p.hook = id, hook
}

func (p *pausedStore) Get(ctx context.Context, id string) (*keys.Key, error) {
	k, err := p.Store.Get(ctx, id)
	p.mu.Lock()
	hook := p.hook
	if id != p.id {
		hook = nil
	}
	if hook != nil {
		p.hook = nil
	}
	p.mu.Unlock()
	if hook != nil {
		done := make(chan struct{})
		go func() { hook(); close(done) }()
		select {
		case <-done:
		case <-ctx.Done():
		case <-time.After(10 * time.Second): // the requests never came: the counts will say so
		}
	}
	return k, err
}
