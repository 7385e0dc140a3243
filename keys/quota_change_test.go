package keys_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/audit"
	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/policy"
)

// capQuota is the policy's quota of TestQuotaChangeRefusals: a cap.
var capQuota = keys.Quota{Remaining: 100, RefillAmount: 100, RefillInterval: time.Hour}

// TestQuotaChangeRefusals: where the policy sets a quota, a key's may only
// go down; a calling key may never raise or remove its own; an admin may
// not touch it. Each refusal names its field and writes nothing.
func TestQuotaChangeRefusals(t *testing.T) {
	ctx := context.Background()
	withCap := func(c *keys.Config) { c.Quota = capQuota }
	type setup struct {
		f    *fixture
		k    *keys.Key
		self *keys.Verified // the key itself, verified
	}
	tests := []struct {
		name   string
		cap    bool
		quota  *keys.Quota // of the key, at creation
		update func(s setup) keys.UpdateRequest
		field  string
		reason string
		err    error // instead of a field error
	}{
		{"a raise under the policy's quota", true, &keys.Quota{Remaining: 40, RefillAmount: 50, RefillInterval: 2 * time.Hour},
			func(s setup) keys.UpdateRequest {
				return keys.UpdateRequest{Ref: ref("bob", s.k.ID), Remaining: ptr[int64](41)}
			},
			"remaining", "a quota can only be lowered: this key has 40 left; it refills to 50 every 7200 seconds", nil},
		{"a removal under the policy's quota", true, nil,
			func(s setup) keys.UpdateRequest {
				return keys.UpdateRequest{Ref: ref("bob", s.k.ID), RemoveQuota: true}
			},
			"remaining", "this app's keys have a quota: it can be lowered, not removed; this key has 100 left; it refills to 100 every 3600 seconds", nil},
		{"a refill beyond the policy's amount", true, nil,
			func(s setup) keys.UpdateRequest {
				return keys.UpdateRequest{Ref: ref("bob", s.k.ID), Refill: &keys.Quota{RefillAmount: 101, RefillInterval: time.Hour}}
			}, "refill_amount", "at most 100 requests per refill", nil},
		{"a refill more often than the policy's", true, nil,
			func(s setup) keys.UpdateRequest {
				return keys.UpdateRequest{Ref: ref("bob", s.k.ID), Refill: &keys.Quota{RefillAmount: 10, RefillInterval: time.Minute}}
			}, "refill_interval_seconds", "at least 3600 seconds", nil},
		{"a refill interval that is not whole seconds", false, &keys.Quota{Remaining: 5},
			func(s setup) keys.UpdateRequest {
				return keys.UpdateRequest{Ref: ref("bob", s.k.ID), Refill: &keys.Quota{RefillAmount: 10, RefillInterval: 1500 * time.Millisecond}}
			}, "refill_interval_seconds", "a whole number of seconds, at least 1", nil},
		{"a key raising its own quota", false, &keys.Quota{Remaining: 5},
			func(s setup) keys.UpdateRequest {
				return keys.UpdateRequest{Ref: keys.Ref{Owner: "bob", ID: s.k.ID, Caller: s.self}, Remaining: ptr[int64](6)}
			}, "remaining", "a key cannot raise its own quota: this key has 5 left; its owner can raise it", nil},
		{"a key removing its own quota", false, &keys.Quota{Remaining: 5},
			func(s setup) keys.UpdateRequest {
				return keys.UpdateRequest{Ref: keys.Ref{Owner: "bob", ID: s.k.ID, Caller: s.self}, RemoveQuota: true}
			}, "remaining", "a key cannot remove its own quota (this key has 5 left); its owner can", nil},
		{"a key adding a refill to its own quota", false, &keys.Quota{Remaining: 5},
			func(s setup) keys.UpdateRequest {
				return keys.UpdateRequest{Ref: keys.Ref{Owner: "bob", ID: s.k.ID, Caller: s.self}, Refill: &keys.Quota{RefillAmount: 5, RefillInterval: time.Hour}}
			}, "refill_amount", "a key cannot add a refill to its own quota; its owner can", nil},
		{"a key refilling itself more often", false, &keys.Quota{Remaining: 5, RefillAmount: 5, RefillInterval: time.Hour},
			func(s setup) keys.UpdateRequest {
				return keys.UpdateRequest{Ref: keys.Ref{Owner: "bob", ID: s.k.ID, Caller: s.self}, Refill: &keys.Quota{RefillAmount: 5, RefillInterval: time.Minute}}
			}, "refill_interval_seconds", "at least 3600 seconds", nil},
		{"a refill on a key without a quota", false, nil,
			func(s setup) keys.UpdateRequest {
				return keys.UpdateRequest{Ref: ref("bob", s.k.ID), Refill: &keys.Quota{RefillAmount: 5, RefillInterval: time.Hour}}
			}, "remaining", "a refill needs a quota: set remaining too", nil},
		{"a negative remaining", false, nil,
			func(s setup) keys.UpdateRequest {
				return keys.UpdateRequest{Ref: ref("bob", s.k.ID), Remaining: ptr[int64](-1)}
			},
			"remaining", "at least 0 requests", nil},
		{"half a refill", false, &keys.Quota{Remaining: 5},
			func(s setup) keys.UpdateRequest {
				return keys.UpdateRequest{Ref: ref("bob", s.k.ID), Refill: &keys.Quota{RefillAmount: 5}}
			}, "refill_amount", "a refill needs both a positive refill_amount and refill_interval_seconds (both 0: no refill)", nil},
		{"remove and set at once", false, &keys.Quota{Remaining: 5},
			func(s setup) keys.UpdateRequest {
				return keys.UpdateRequest{Ref: ref("bob", s.k.ID), Remaining: ptr[int64](1), RemoveQuota: true}
			}, "remaining", "remove the quota or set it, not both", nil},
		{"an admin lowering another user's quota", false, &keys.Quota{Remaining: 5},
			func(s setup) keys.UpdateRequest {
				return keys.UpdateRequest{Ref: ref("bob", s.k.ID), Actor: audit.User("admin-1"), Remaining: ptr[int64](1)}
			}, "", "", keys.ErrAdminChange},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var f *fixture
			if tt.cap {
				f = newFixture(t, withCap)
			} else {
				f = newFixture(t)
			}
			k, token, err := f.m.Create(ctx, keys.CreateRequest{Owner: "bob", Name: "metered", Quota: tt.quota,
				Permissions: policy.MustParse("files:read")})
			require.NoError(t, err)
			s := setup{f: f, k: k, self: f.verify(t, token)}
			before, writes, events := f.record(t, k.ID), f.store.writes(), f.audit.len()

			_, err = f.m.Update(ctx, tt.update(s))
			if tt.err != nil {
				require.ErrorIs(t, err, tt.err)
			} else {
				var fe *keys.FieldError
				require.True(t, errors.As(err, &fe), "want a FieldError, got %v", err)
				assert.Equal(t, tt.field, fe.Field)
				assert.Equal(t, tt.reason, fe.Reason)
			}
			assert.Equal(t, writes, f.store.writes(), "nothing written")
			assert.Equal(t, before, f.record(t, k.ID), "the record is unchanged")
			assert.LessOrEqual(t, f.audit.len(), events+1, "at most the refusal audited")
			if f.audit.len() > events {
				assert.Equal(t, audit.Refused, f.audit.last(t).Type)
			}
		})
	}
}

// TestQuotaChangeAllowed: what each side may do, the record as written
// and the event that says so.
func TestQuotaChangeAllowed(t *testing.T) {
	ctx := context.Background()
	t.Run("under the policy's quota: lowered, refill within it", func(t *testing.T) {
		f := newFixture(t, func(c *keys.Config) { c.Quota = capQuota })
		k, _, err := f.m.Create(ctx, keys.CreateRequest{Owner: "bob", Name: "metered"})
		require.NoError(t, err)
		f.clock.Advance(time.Minute)
		got, err := f.m.Update(ctx, keys.UpdateRequest{Ref: ref("bob", k.ID), Remaining: ptr[int64](30),
			Refill: &keys.Quota{RefillAmount: 30, RefillInterval: 2 * time.Hour}})
		require.NoError(t, err)
		assert.Equal(t, int64(30), *got.Remaining)
		assert.Equal(t, int64(30), got.RefillAmount)
		assert.Equal(t, 2*time.Hour, got.RefillInterval)
		assert.Equal(t, got.UpdatedAt, got.LastRefillAt, "a changed refill restarts the clock at the change")
		assert.Equal(t, f.clock.Now().Truncate(time.Millisecond), got.LastRefillAt)
		e := f.audit.last(t)
		assert.Equal(t, audit.Updated, e.Type)
		assert.Equal(t, &audit.Quota{Remaining: 100, RefillAmount: 100, RefillInterval: time.Hour}, e.BeforeQuota)
		assert.Equal(t, &audit.Quota{Remaining: 30, RefillAmount: 30, RefillInterval: 2 * time.Hour}, e.AfterQuota)

		same, err := f.m.Update(ctx, keys.UpdateRequest{Ref: ref("bob", k.ID), Remaining: ptr[int64](30)})
		require.NoError(t, err)
		assert.Equal(t, got.Version, same.Version, "lowering to what is left changes nothing")

		stopped, err := f.m.Update(ctx, keys.UpdateRequest{Ref: ref("bob", k.ID), Refill: &keys.Quota{}})
		require.NoError(t, err)
		assert.Zero(t, stopped.RefillAmount, "stopping refills is a lowering too")
	})
	t.Run("without a policy quota: the owner raises, sets and removes", func(t *testing.T) {
		f := newFixture(t)
		k, _, err := f.m.Create(ctx, keys.CreateRequest{Owner: "bob", Name: "metered", Quota: &keys.Quota{Remaining: 5}})
		require.NoError(t, err)
		got, err := f.m.Update(ctx, keys.UpdateRequest{Ref: ref("bob", k.ID), Remaining: ptr[int64](500)})
		require.NoError(t, err)
		assert.Equal(t, int64(500), *got.Remaining)
		e := f.audit.last(t)
		assert.Equal(t, &audit.Quota{Remaining: 5}, e.BeforeQuota)
		assert.Equal(t, &audit.Quota{Remaining: 500}, e.AfterQuota)

		removed, err := f.m.Update(ctx, keys.UpdateRequest{Ref: ref("bob", k.ID), RemoveQuota: true})
		require.NoError(t, err)
		assert.Nil(t, removed.Remaining)
		e = f.audit.last(t)
		assert.Equal(t, &audit.Quota{Remaining: 500}, e.BeforeQuota)
		assert.Nil(t, e.AfterQuota, "no quota after")

		set, err := f.m.Update(ctx, keys.UpdateRequest{Ref: ref("bob", k.ID), Remaining: ptr[int64](9),
			Refill: &keys.Quota{RefillAmount: 9, RefillInterval: time.Minute}})
		require.NoError(t, err)
		assert.Equal(t, int64(9), *set.Remaining)
		assert.Equal(t, int64(9), set.RefillAmount)

		renamed, err := f.m.Update(ctx, keys.UpdateRequest{Ref: ref("bob", k.ID), Name: ptr("renamed")})
		require.NoError(t, err)
		e = f.audit.last(t)
		assert.Nil(t, e.BeforeQuota, "a rename leaves the quota out of the event")
		assert.Nil(t, e.AfterQuota)
		assert.Equal(t, int64(9), *renamed.Remaining)
	})
	t.Run("a key lowers its own quota and raises its child's", func(t *testing.T) {
		f := newFixture(t)
		parent, token, err := f.m.Create(ctx, keys.CreateRequest{Owner: "bob", Name: "parent", Quota: &keys.Quota{Remaining: 10},
			Permissions: policy.MustParse("files:read")})
		require.NoError(t, err)
		self := f.verify(t, token)
		lowered, err := f.m.Update(ctx, keys.UpdateRequest{Ref: keys.Ref{Owner: "bob", ID: parent.ID, Caller: self}, Remaining: ptr[int64](4)})
		require.NoError(t, err)
		assert.Equal(t, int64(4), *lowered.Remaining)

		child, childToken, err := f.m.Create(ctx, keys.CreateRequest{Owner: "bob", Name: "child", Caller: self, Quota: &keys.Quota{Remaining: 1}})
		require.NoError(t, err)
		raised, err := f.m.Update(ctx, keys.UpdateRequest{Ref: keys.Ref{Owner: "bob", ID: child.ID, Caller: self}, Remaining: ptr[int64](50)})
		require.NoError(t, err)
		assert.Equal(t, int64(50), *raised.Remaining)

		// The child's requests still spend the parent's 4: the raise buys none.
		asChild := f.verify(t, childToken)
		admitted := 0
		for range 10 {
			_, ok, err := f.m.Consume(ctx, asChild)
			require.NoError(t, err)
			if ok {
				admitted++
			}
		}
		assert.Equal(t, 4, admitted, "the parent's quota bounds its child's requests")
	})
}

// TestQuotaChangeRefillDue: under the policy's quota (100 every hour), a
// key that spent its quota and whose refill is due has 100 as far as a
// change is concerned: it may be lowered to 50 (not refused as a raise
// over 0), and then admits 50 requests, not the 100 a refill at its next
// request would have given; 101 is a raise over those 100.
func TestQuotaChangeRefillDue(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, func(c *keys.Config) { c.Quota = capQuota })
	k, token, err := f.m.Create(ctx, keys.CreateRequest{Owner: "bob", Name: "metered", Permissions: policy.MustParse("files:read")})
	require.NoError(t, err)
	v := f.verify(t, token)
	admit := func() (n int) {
		for range 120 {
			_, ok, err := f.m.Consume(ctx, v)
			require.NoError(t, err)
			if ok {
				n++
			}
		}
		return n
	}
	require.Equal(t, 100, admit())
	f.clock.Advance(time.Hour) // the refill is due

	_, err = f.m.Update(ctx, keys.UpdateRequest{Ref: ref("bob", k.ID), Remaining: ptr[int64](101)})
	var fe *keys.FieldError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "a quota can only be lowered: this key has 100 left; it refills to 100 every 3600 seconds", fe.Reason)
	assert.Equal(t, int64(0), *f.record(t, k.ID).Remaining, "nothing written")

	got, err := f.m.Update(ctx, keys.UpdateRequest{Ref: ref("bob", k.ID), Remaining: ptr[int64](50)})
	require.NoError(t, err)
	assert.Equal(t, int64(50), *got.Remaining)
	assert.Equal(t, f.clock.Now().Truncate(time.Millisecond), got.LastRefillAt.Truncate(time.Millisecond), "the due refill applied by the lowering")
	assert.Equal(t, 50, admit(), "at most 50 until the next refill")
	f.clock.Advance(time.Hour)
	assert.Equal(t, 100, admit(), "then the refill, an interval after the lowering")
}

// TestQuotaChangeEchoWithRefillDue: the count a spent key shows (0), sent
// back while its refill is due, changes nothing: the refill still comes
// at its next request. Without a cap the owner may set it, and a raise
// above the refill due is an exact set with the refill applied.
func TestQuotaChangeEchoWithRefillDue(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	k, token, err := f.m.Create(ctx, keys.CreateRequest{Owner: "bob", Name: "metered", Permissions: policy.MustParse("files:read"),
		Quota: &keys.Quota{Remaining: 2, RefillAmount: 10, RefillInterval: time.Hour}})
	require.NoError(t, err)
	v := f.verify(t, token)
	for range 2 {
		_, ok, err := f.m.Consume(ctx, v)
		require.NoError(t, err)
		require.True(t, ok)
	}
	f.clock.Advance(time.Hour)
	echoed, err := f.m.Update(ctx, keys.UpdateRequest{Ref: ref("bob", k.ID), Remaining: ptr[int64](0), Name: ptr("renamed")})
	require.NoError(t, err)
	assert.Equal(t, int64(0), *echoed.Remaining, "as stored")
	assert.Equal(t, k.LastRefillAt, echoed.LastRefillAt, "the refill clock kept")
	left, ok, err := f.m.Consume(ctx, v)
	require.NoError(t, err)
	assert.True(t, ok)
	assert.Equal(t, int64(9), left, "the due refill came at the next request")

	// A millisecond more: Consume stamped the refill at the clock's
	// nanosecond, a change is stamped at its millisecond.
	f.clock.Advance(time.Hour + time.Millisecond)
	raised, err := f.m.Update(ctx, keys.UpdateRequest{Ref: ref("bob", k.ID), Remaining: ptr[int64](25)})
	require.NoError(t, err)
	assert.Equal(t, int64(25), *raised.Remaining)
	left, _, err = f.m.Consume(ctx, v)
	require.NoError(t, err)
	assert.Equal(t, int64(24), left, "no refill to 10 over the raise")
}
