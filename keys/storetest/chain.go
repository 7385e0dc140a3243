package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/keys"
)

// chain stores a person's key root without a quota, a key parent created
// through it and a key child created through parent, with the quotas
// given (nil: none), and returns them.
func chain(t *testing.T, s keys.Store, parentQuota, childQuota *int64) (root, parent, child *keys.Key) {
	root = create(t, s, newKey(t, "u1", t0))
	p := childOf(t, root, t0.Add(time.Millisecond))
	p.Remaining = parentQuota
	parent = create(t, s, p)
	c := childOf(t, parent, t0.Add(2*time.Millisecond))
	c.Remaining = childQuota
	child = create(t, s, c)
	return root, parent, child
}

// spend returns the ids a request with k spends from, as a Manager names
// them: k first, then its ancestors from the nearest.
func spend(keys ...*keys.Key) []string { return ids(keys) }

func testConsumeChain(t *testing.T, s keys.Store) {
	root, parent, child := chain(t, s, ptr[int64](2), ptr[int64](5))
	ids, now := spend(child, parent, root), t0.Add(time.Second)
	consume(t, s, ids, now, 1, true) // the least left: parent's
	consume(t, s, ids, now, 0, true)
	consume(t, s, ids, now, 0, false) // parent spent: nothing written
	consume(t, s, ids, now, 0, false)
	child.Remaining, parent.Remaining = ptr[int64](3), ptr[int64](0)
	requireStored(t, s, child)
	requireStored(t, s, parent)
	requireStored(t, s, root)

	consume(t, s, spend(child), now, 2, true) // the child alone still has some
}

func testConsumeChainLeastRemaining(t *testing.T, s keys.Store) {
	root, parent, child := chain(t, s, ptr[int64](10), ptr[int64](1))
	ids, now := spend(child, parent, root), t0.Add(time.Second)
	consume(t, s, ids, now, 0, true) // the child's last
	consume(t, s, ids, now, 0, false)
	child.Remaining, parent.Remaining = ptr[int64](0), ptr[int64](9)
	requireStored(t, s, child)
	requireStored(t, s, parent)
}

func testConsumeChainSkipsKeysWithoutQuota(t *testing.T, s keys.Store) {
	root, parent, child := chain(t, s, ptr[int64](3), nil)
	consume(t, s, spend(child, parent, root), t0.Add(time.Second), 2, true)
	parent.Remaining = ptr[int64](2)
	requireStored(t, s, parent)
	requireStored(t, s, child)
	requireStored(t, s, root)

	root, parent, child = chain(t, s, nil, nil)
	consume(t, s, spend(child, parent, root), t0.Add(time.Second), -1, true)
	requireStored(t, s, child) // nothing written
	requireStored(t, s, parent)
}

// testConsumeChainRefillsPerKey: each key's refill is its own, and a
// refused request refills nothing.
func testConsumeChainRefillsPerKey(t *testing.T, s keys.Store) {
	parent := create(t, s, withQuota(t, "u1", t0, 1))
	c := childOf(t, parent, t0.Add(time.Millisecond))
	c.Remaining, c.RefillAmount, c.RefillInterval = ptr[int64](0), 5, time.Hour
	child := create(t, s, c)
	due := child.CreatedAt.Add(time.Hour)

	consume(t, s, spend(child, parent), due, 0, true) // child refilled to 5, then 4; parent 1 → 0
	child.Remaining, child.LastRefillAt = ptr[int64](4), due
	parent.Remaining = ptr[int64](0)
	requireStored(t, s, child)
	requireStored(t, s, parent) // no refill: LastRefillAt untouched

	again := due.Add(time.Hour) // the child's refill is due again, the parent is spent
	consume(t, s, spend(child, parent), again, 0, false)
	requireStored(t, s, child) // not refilled by a refused request
	requireStored(t, s, parent)
}

func testConsumeChainNotFound(t *testing.T, s keys.Store) {
	_, parent, child := chain(t, s, ptr[int64](3), ptr[int64](3))
	for _, ids := range [][]string{
		{child.ID, "0000000000000000"},
		{"0000000000000000", child.ID, parent.ID},
		{child.ID, parent.ID, ""},
	} {
		_, _, err := s.Consume(t.Context(), ids, t0.Add(time.Second))
		require.ErrorIs(t, err, keys.ErrNotFound, "%q", ids)
		requireStored(t, s, child)
		requireStored(t, s, parent)
	}
}
