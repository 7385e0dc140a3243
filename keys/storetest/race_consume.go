package storetest

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/keys"
)

// consumeAll makes calls concurrent Consume calls, the i-th over
// chains[i%len(chains)], and returns the remaining counts of the admitted
// ones, sorted, and how many each chain had admitted.
func consumeAll(t *testing.T, s keys.Store, calls int, chains ...[]string) ([]int64, []int) {
	var (
		mu       sync.Mutex
		seen     []int64
		admitted = make([]int, len(chains))
	)
	together(calls, func(i int) {
		remaining, ok, err := s.Consume(t.Context(), chains[i%len(chains)], t0.Add(time.Second))
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			t.Errorf("Consume: %v", err)
		} else if ok {
			seen = append(seen, remaining)
			admitted[i%len(chains)]++
		}
	})
	slices.Sort(seen)
	return seen, admitted
}

// upTo returns 0 … n-1.
func upTo(n int) []int64 {
	out := make([]int64, n)
	for i := range out {
		out[i] = int64(i)
	}
	return out
}

// testConsumeConcurrent spends a quota of 50 with 150 concurrent calls:
// exactly 50 succeed, each seeing a different remaining count.
func testConsumeConcurrent(t *testing.T, s keys.Store) {
	const quota, calls = 50, 150
	k := create(t, s, withQuota(t, "u1", t0, quota))
	seen, _ := consumeAll(t, s, calls, spend(k))
	require.Equal(t, upTo(quota), seen, "exactly %d admitted, each with its own count", quota)
	t.Logf("%d of %d concurrent calls admitted by a quota of %d", len(seen), calls, quota)
	k.Remaining = ptr[int64](0)
	requireStored(t, s, k)
}

// testConsumeChainConcurrent: two keys created through one parent spend
// its quota of 40 together, 120 concurrent requests: exactly 40 admitted
// in all, and each child spent exactly what it was admitted.
func testConsumeChainConcurrent(t *testing.T, s keys.Store) {
	const quota, calls = 40, 120
	root := create(t, s, newKey(t, "u1", t0))
	p := childOf(t, root, t0.Add(time.Millisecond))
	p.Remaining = ptr[int64](quota)
	parent := create(t, s, p)
	var children []*keys.Key
	for i := range 2 {
		c := childOf(t, parent, t0.Add(time.Duration(2+i)*time.Millisecond))
		c.Remaining = ptr[int64](100)
		children = append(children, create(t, s, c))
	}
	seen, admitted := consumeAll(t, s, calls, spend(children[0], parent, root), spend(children[1], parent, root))
	require.Equal(t, upTo(quota), seen, "exactly %d admitted through the parent, each with its own count", quota)
	t.Logf("%d of %d concurrent calls through two children admitted by a parent's quota of %d (%v)", len(seen), calls, quota, admitted)
	parent.Remaining = ptr[int64](0)
	requireStored(t, s, parent)
	for i, c := range children {
		c.Remaining = ptr(100 - int64(admitted[i]))
		requireStored(t, s, c)
	}
}
