package keys_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/policy"
)

// TestDelegatedQuota: a request made with a key created by a key spends
// the parent's quota too, so minting keys buys no requests. A parent with
// 2 requests left admits exactly 2 requests made through it and its child
// together, whatever quota the child was given. (Consume used to spend
// only the presented key's own quota: a child with none was unmetered.)
func TestDelegatedQuota(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		name  string
		child *keys.Quota
	}{
		{"a child with no quota", nil},
		{"a child with a larger quota", &keys.Quota{Remaining: 10}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			parent, parentToken, err := f.m.Create(ctx, keys.CreateRequest{Owner: "bob", Name: "metered", Quota: &keys.Quota{Remaining: 2}})
			require.NoError(t, err)
			child, childToken, err := f.m.Create(ctx, keys.CreateRequest{Owner: "bob", Name: "child", Quota: tt.child, Caller: f.verify(t, parentToken)})
			require.NoError(t, err)

			asChild, asParent := f.verify(t, childToken), f.verify(t, parentToken)
			var admitted, refused atomic.Int64
			var wg sync.WaitGroup
			for i := range 20 {
				v := asChild
				if i%2 == 1 {
					v = asParent
				}
				wg.Go(func() {
					_, ok, err := f.m.Consume(ctx, v)
					switch {
					case !assert.NoError(t, err):
					case ok:
						admitted.Add(1)
					default:
						refused.Add(1)
					}
				})
			}
			wg.Wait()
			assert.Equal(t, int64(2), admitted.Load(), "the parent's 2 requests, child and parent together")
			assert.Equal(t, int64(18), refused.Load())
			assert.Zero(t, *f.record(t, parent.ID).Remaining)
			if tt.child != nil {
				spent := tt.child.Remaining - *f.record(t, child.ID).Remaining
				assert.LessOrEqual(t, spent, int64(2), "a refused request spends nothing, all or nothing")
			} else {
				assert.Nil(t, f.record(t, child.ID).Remaining)
			}
		})
	}
}

// TestDelegatedQuotaRemaining: Consume reports the tightest quota left
// along the chain; a chain with no quota costs no Store call.
func TestDelegatedQuotaRemaining(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	_, parentToken, err := f.m.Create(ctx, keys.CreateRequest{Owner: "bob", Name: "metered", Quota: &keys.Quota{Remaining: 3}})
	require.NoError(t, err)
	_, childToken, err := f.m.Create(ctx, keys.CreateRequest{Owner: "bob", Name: "child", Quota: &keys.Quota{Remaining: 10}, Caller: f.verify(t, parentToken)})
	require.NoError(t, err)
	left, ok, err := f.m.Consume(ctx, f.verify(t, childToken))
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, int64(2), left, "the parent's, not the child's 9")

	_, freeToken := f.create(t, "bob")
	consumes := f.store.n("Consume")
	left, ok, err = f.m.Consume(ctx, f.verify(t, freeToken))
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, int64(-1), left)
	assert.Equal(t, consumes, f.store.n("Consume"), "no quota, no Store call")
}

// TestRefillIntervalWholeSeconds: a refill interval that is not a whole
// number of seconds would refill every nanosecond in memory and never in
// SQL (which keeps milliseconds): refused in the policy, at creation and
// (TestQuotaChangeRefusals) on update.
func TestRefillIntervalWholeSeconds(t *testing.T) {
	f := newFixture(t)
	c := f.config
	c.Quota = keys.Quota{Remaining: 10, RefillAmount: 10, RefillInterval: time.Nanosecond}
	_, err := keys.NewManager(c)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "whole number of seconds")

	_, _, err = f.m.Create(context.Background(), keys.CreateRequest{Owner: "bob", Name: "ms", Permissions: policy.Permissions{"invoices": {"read"}},
		Quota: &keys.Quota{Remaining: 5, RefillAmount: 5, RefillInterval: 999 * time.Millisecond}})
	var fe *keys.FieldError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "refill_interval_seconds", fe.Field)
	list, _, err := f.m.List(context.Background(), keys.ListRequest{Owner: "bob"})
	require.NoError(t, err)
	assert.Empty(t, list, "nothing created")
}
