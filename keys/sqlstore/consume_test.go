package sqlstore_test

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/keys"
)

// TestConsumeChain spends through a delegated key and its parent, on every
// dialect: each quota in the chain is spent, or none is; the least
// remaining is returned; -1 when no key has a quota; only the quota
// columns are written.
func TestConsumeChain(t *testing.T) {
	quota := func(n int64) func(*keys.Key) { return func(k *keys.Key) { k.Remaining = ptr(n) } }
	noQuota := func(k *keys.Key) {}
	refills := func(k *keys.Key) {
		k.Remaining, k.RefillAmount, k.RefillInterval, k.LastRefillAt = ptr(int64(0)), 10, time.Minute, t1.Add(-time.Hour)
	}
	tests := []struct {
		name                  string
		child, parent         func(*keys.Key)
		remaining             int64
		ok                    bool
		childLeft, parentLeft *int64 // nil: no quota
		refilled              bool   // the parent's LastRefillAt becomes now
	}{
		{"parent's quota only", noQuota, quota(5), 4, true, nil, ptr(int64(4)), false},
		{"child's quota only", quota(5), noQuota, 4, true, ptr(int64(4)), nil, false},
		{"both: the least is returned", quota(3), quota(5), 2, true, ptr(int64(2)), ptr(int64(4)), false},
		{"the last unit", quota(1), quota(1), 0, true, ptr(int64(0)), ptr(int64(0)), false},
		{"parent spent: child untouched", quota(3), quota(0), 0, false, ptr(int64(3)), ptr(int64(0)), false},
		{"child spent: parent untouched", quota(0), quota(5), 0, false, ptr(int64(0)), ptr(int64(5)), false},
		{"no quota at all", noQuota, noQuota, -1, true, nil, nil, false},
		{"the parent refills first", quota(3), refills, 2, true, ptr(int64(2)), ptr(int64(9)), true},
	}
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			s := newStore(t, d.open(t), d.dialect)
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					parent := fullKey(t, "u1")
					parent.Remaining, parent.RefillAmount, parent.RefillInterval, parent.LastRefillAt = nil, 0, 0, time.Time{}
					tt.parent(parent)
					child := fullKey(t, "u1")
					child.Remaining, child.RefillAmount, child.RefillInterval, child.LastRefillAt = nil, 0, 0, time.Time{}
					child.Ancestors = []string{parent.ID}
					tt.child(child)
					require.NoError(t, s.Create(ctx, parent, 0))
					require.NoError(t, s.Create(ctx, child, 0))

					remaining, ok, err := s.Consume(ctx, []string{child.ID, parent.ID}, t1)
					require.NoError(t, err)
					assert.Equal(t, tt.ok, ok)
					assert.Equal(t, tt.remaining, remaining)
					wantChild, wantParent := child.Clone(), parent.Clone()
					wantChild.Remaining, wantParent.Remaining = tt.childLeft, tt.parentLeft
					if tt.refilled {
						wantParent.LastRefillAt = t1
					}
					requireRecord(t, s, wantChild)
					requireRecord(t, s, wantParent)
				})
			}
			t.Run("unknown id", func(t *testing.T) {
				child := testKey(t, "u1")
				child.Remaining = ptr(int64(5))
				require.NoError(t, s.Create(ctx, child, 0))
				_, _, err := s.Consume(ctx, []string{child.ID, "0000000000000000"}, t1)
				require.ErrorIs(t, err, keys.ErrNotFound)
				requireRecord(t, s, child)
				_, _, err = s.Consume(ctx, []string{"0000000000000000"}, t1)
				require.ErrorIs(t, err, keys.ErrNotFound)
			})
			t.Run("no ids", func(t *testing.T) {
				remaining, ok, err := s.Consume(ctx, nil, t1)
				require.NoError(t, err)
				assert.True(t, ok)
				assert.Equal(t, int64(-1), remaining)
			})
		})
	}
}

// TestConsumeChainConcurrent: a parent with a quota of n and two children
// with quotas of their own; many goroutines spend through either child (a
// chain of two) or the parent alone (one statement) at once, on every
// dialect. Exactly n requests are admitted, and each child's quota is down
// by exactly the requests admitted through it: nothing is spent by a
// refused request.
func TestConsumeChainConcurrent(t *testing.T) {
	const n, childQuota, workers, attempts = 60, 1000, 9, 20
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			s := newStore(t, d.open(t), d.dialect)
			parent := testKey(t, "u1")
			parent.Remaining = ptr(int64(n))
			require.NoError(t, s.Create(ctx, parent, 0))
			var children [2]*keys.Key
			for i := range children {
				children[i] = testKey(t, "u1")
				children[i].Ancestors, children[i].Remaining = []string{parent.ID}, ptr(int64(childQuota))
				require.NoError(t, s.Create(ctx, children[i], 0))
			}
			var admitted [3]atomic.Int64 // through child 0, child 1, the parent alone
			var refused atomic.Int64
			var wg sync.WaitGroup
			start := make(chan struct{})
			for w := range workers {
				path := w % 3
				ids := []string{parent.ID}
				if path < 2 {
					ids = []string{children[path].ID, parent.ID}
				}
				wg.Go(func() {
					<-start
					for range attempts {
						_, ok, err := s.Consume(ctx, ids, t1)
						switch {
						case err != nil:
							t.Errorf("consume %v: %v", ids, err)
						case ok:
							admitted[path].Add(1)
						default:
							refused.Add(1)
						}
					}
				})
			}
			close(start)
			wg.Wait()
			total := admitted[0].Load() + admitted[1].Load() + admitted[2].Load()
			t.Logf("%d requests against a quota of %d: %d admitted (%d, %d through the children), %d refused",
				workers*attempts, n, total, admitted[0].Load(), admitted[1].Load(), refused.Load())
			require.Equal(t, int64(n), total)
			require.Equal(t, int64(workers*attempts-n), refused.Load())
			got, err := s.Get(ctx, parent.ID)
			require.NoError(t, err)
			assert.Equal(t, int64(0), *got.Remaining)
			for i, c := range children {
				got, err := s.Get(ctx, c.ID)
				require.NoError(t, err)
				assert.Equal(t, childQuota-admitted[i].Load(), *got.Remaining, "child %d: spent only when admitted", i)
			}
		})
	}
}
