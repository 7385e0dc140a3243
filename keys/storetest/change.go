package storetest

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/keycaphq/keycap/audit"

	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/policy"
)

// liveKey returns a record with every field set that a live key may hold,
// a previous rotation included, so that a Change that writes more than it
// was asked to shows.
func liveKey(t *testing.T, owner string, at time.Time) *keys.Key {
	k := fullKey(t)
	fresh := newKey(t, owner, at)
	k.ID, k.OwnerID, k.Hint, k.Hash, k.CreatedAt = fresh.ID, owner, fresh.Hint, fresh.Hash, at
	k.RevokedAt, k.RevokedBy, k.RevokedReason = time.Time{}, audit.Actor{}, ""
	k.Disabled, k.DisabledBy, k.DisabledAt = false, audit.Actor{}, time.Time{}
	return k
}

// t1 is when the changes of these tests are made.
var t1 = t0.Add(time.Minute)

func testChangeEachField(t *testing.T, s keys.Store) {
	admin, operator := audit.User("admin-2"), audit.Actor{Kind: audit.KindOperator, ID: "ops"}
	h1, h2, h3, h4, old, prevExpiry := randomHash(), randomHash(), randomHash(), randomHash(), randomHash(), t1.Add(time.Hour)
	tests := []struct {
		name   string
		setup  func(k *keys.Key) // before the record is created
		change keys.Change       // Version and At are set by the test
		want   func(k *keys.Key) // the fields the change writes, besides Version and UpdatedAt
	}{
		{"name", nil, keys.Change{Name: ptr("renamed ✓")}, func(k *keys.Key) { k.Name = "renamed ✓" }},
		{"permissions", nil, keys.Change{Permissions: policy.Permissions{"files": {"read"}}},
			func(k *keys.Key) { k.Permissions = policy.Permissions{"files": {"read"}} }},
		{"expiry", nil, keys.Change{ExpiresAt: ptr(t1.Add(time.Hour))}, func(k *keys.Key) { k.ExpiresAt = t1.Add(time.Hour) }},
		{"expiry cleared: a zero time is never", nil, keys.Change{ExpiresAt: &time.Time{}}, func(k *keys.Key) { k.ExpiresAt = time.Time{} }},
		{"disable", nil, keys.Change{Disabled: ptr(true), By: admin},
			func(k *keys.Key) { k.Disabled, k.DisabledBy, k.DisabledAt, k.ChangedBy = true, admin, t1, admin }},
		{"disable again, by another actor", func(k *keys.Key) { k.Disabled, k.DisabledBy, k.DisabledAt = true, audit.User(k.OwnerID), t0 },
			keys.Change{Disabled: ptr(true), By: operator}, func(k *keys.Key) { k.DisabledBy, k.DisabledAt, k.ChangedBy = operator, t1, operator }},
		{"enable clears DisabledBy and DisabledAt", func(k *keys.Key) { k.Disabled, k.DisabledBy, k.DisabledAt = true, admin, t0 },
			keys.Change{Disabled: ptr(false), By: admin}, func(k *keys.Key) {
				k.Disabled, k.DisabledBy, k.DisabledAt, k.ChangedBy = false, audit.Actor{}, time.Time{}, admin
			}},
		{"rotate with a grace period", nil,
			keys.Change{Secret: &keys.Secret{Hash: h1, Hint: "kc_…new1", PreviousHash: old, PreviousExpiresAt: prevExpiry, SecretID: "2026-11.b_1"}},
			func(k *keys.Key) {
				k.Hash, k.Hint, k.Generation = h1, "kc_…new1", k.Generation+1
				k.PreviousHash, k.PreviousExpiresAt = old, prevExpiry
			}},
		{"rotate without grace clears the previous secret", nil,
			keys.Change{Secret: &keys.Secret{Hash: h2, Hint: "kc_…new2", PreviousExpiresAt: prevExpiry, SecretID: "3"}},
			func(k *keys.Key) {
				k.Hash, k.Hint, k.Generation, k.SecretID = h2, "kc_…new2", k.Generation+1, "3"
				k.PreviousHash, k.PreviousExpiresAt = nil, time.Time{}
			}},
		{"end a grace period: only the previous secret stops", func(k *keys.Key) { k.PreviousHash, k.PreviousExpiresAt = old, prevExpiry },
			keys.Change{EndGrace: true}, func(k *keys.Key) { k.PreviousHash, k.PreviousExpiresAt = nil, time.Time{} }},
		{"rehash under another server secret keeps the generation", nil,
			keys.Change{Secret: &keys.Secret{Hash: h4, Hint: "kc_…same", SecretID: "4", Rehash: true}},
			func(k *keys.Key) {
				k.Hash, k.Hint, k.SecretID = h4, "kc_…same", "4"
				k.PreviousHash, k.PreviousExpiresAt = nil, time.Time{}
			}},
		{"allowed IPs", nil, keys.Change{AllowedIPs: &[]netip.Prefix{netip.MustParsePrefix("203.0.113.0/24"), netip.MustParsePrefix("2001:db8:1::/48")}},
			func(k *keys.Key) {
				k.AllowedIPs = []netip.Prefix{netip.MustParsePrefix("203.0.113.0/24"), netip.MustParsePrefix("2001:db8:1::/48")}
			}},
		{"allowed IPs lifted: an empty list is anywhere", nil, keys.Change{AllowedIPs: &[]netip.Prefix{}},
			func(k *keys.Key) { k.AllowedIPs = nil }},
		{"changed by", nil, keys.Change{Name: ptr("by"), By: admin}, func(k *keys.Key) { k.Name, k.ChangedBy = "by", admin }},
		{"no actor keeps the last one", func(k *keys.Key) { k.ChangedBy = admin }, keys.Change{Name: ptr("re")},
			func(k *keys.Key) { k.Name = "re" }},
		{"description", nil, keys.Change{Description: ptr("what it is for\nand who runs it: ü 👩‍💻")},
			func(k *keys.Key) { k.Description = "what it is for\nand who runs it: ü 👩‍💻" }},
		{"description removed", func(k *keys.Key) { k.Description = "old" }, keys.Change{Description: ptr("")},
			func(k *keys.Key) { k.Description = "" }},
		{"metadata", nil, keys.Change{Metadata: ptr(json.RawMessage(`{"env":"prod","ü":[1,{"x":true}]}`))},
			func(k *keys.Key) { k.Metadata = json.RawMessage(`{"env":"prod","ü":[1,{"x":true}]}`) }},
		{"metadata removed: empty is none", func(k *keys.Key) { k.Metadata = json.RawMessage(`{"a":1}`) }, keys.Change{Metadata: ptr(json.RawMessage{})},
			func(k *keys.Key) { k.Metadata = nil }},
		{"resources", nil, keys.Change{Resources: &policy.Resources{"invoices": {"1", "42"}}},
			func(k *keys.Key) { k.Resources = policy.Resources{"invoices": {"1", "42"}} }},
		{"resources replaced whole", func(k *keys.Key) { k.Resources = policy.Resources{"invoices": {"1"}, "users": {"u7"}} },
			keys.Change{Resources: &policy.Resources{"users": {"u8"}}},
			func(k *keys.Key) { k.Resources = policy.Resources{"users": {"u8"}} }},
		{"resources lifted: an empty restriction is none", func(k *keys.Key) { k.Resources = policy.Resources{"invoices": {"1"}} },
			keys.Change{Resources: &policy.Resources{}}, func(k *keys.Key) { k.Resources = nil }},
		{"revoke", nil, keys.Change{Revoke: true, RevokeReason: "leaked", By: operator},
			func(k *keys.Key) {
				k.RevokedAt, k.RevokedBy, k.RevokedReason, k.ChangedBy = t1, operator, "leaked", operator
			}},
		{"rotate and cut permissions", nil,
			keys.Change{Secret: &keys.Secret{Hash: h3, Hint: "kc_…new3", SecretID: "2026-11.b_1"}, Permissions: policy.Permissions{"invoices": {"read"}}},
			func(k *keys.Key) {
				k.Hash, k.Hint, k.Generation = h3, "kc_…new3", k.Generation+1
				k.PreviousHash, k.PreviousExpiresAt = nil, time.Time{}
				k.Permissions = policy.Permissions{"invoices": {"read"}}
			}},
		// liveKey has 42 left, a refill of 100 every hour, last at t0+4s.
		{"quota lowered", nil, keys.Change{Remaining: ptr[int64](10)}, func(k *keys.Key) { k.Remaining = ptr[int64](10) }},
		{"quota lowered to 0", nil, keys.Change{Remaining: ptr[int64](0)}, func(k *keys.Key) { k.Remaining = ptr[int64](0) }},
		{"a lowering above what is stored keeps what is stored", nil, keys.Change{Remaining: ptr[int64](50)}, func(*keys.Key) {}},
		{"a lowering of a key without a quota sets it", func(k *keys.Key) {
			k.Remaining, k.RefillAmount, k.RefillInterval, k.LastRefillAt = nil, 0, 0, time.Time{}
		},
			keys.Change{Remaining: ptr[int64](7)}, func(k *keys.Key) { k.Remaining = ptr[int64](7) }},
		{"quota set exactly: raised", nil, keys.Change{Remaining: ptr[int64](500), RemainingExact: true}, func(k *keys.Key) { k.Remaining = ptr[int64](500) }},
		{"quota set exactly on a key without one", func(k *keys.Key) { k.Remaining = nil }, keys.Change{Remaining: ptr[int64](3), RemainingExact: true},
			func(k *keys.Key) { k.Remaining = ptr[int64](3) }},
		{"quota removed", nil, keys.Change{RemoveQuota: true, Remaining: ptr[int64](1), Refill: &keys.Quota{RefillAmount: 1, RefillInterval: time.Hour}},
			func(k *keys.Key) {
				k.Remaining, k.RefillAmount, k.RefillInterval, k.LastRefillAt = nil, 0, 0, time.Time{}
			}},
		// MySQL assigns left to right with the values already assigned: a
		// store that set refill_amount before comparing it would keep the clock.
		{"a changed refill restarts the refill clock", nil, keys.Change{Refill: &keys.Quota{RefillAmount: 200, RefillInterval: 2 * time.Hour}},
			func(k *keys.Key) { k.RefillAmount, k.RefillInterval, k.LastRefillAt = 200, 2*time.Hour, t1 }},
		{"a changed refill interval alone restarts it", nil, keys.Change{Refill: &keys.Quota{RefillAmount: 100, RefillInterval: 90 * time.Minute}},
			func(k *keys.Key) { k.RefillInterval, k.LastRefillAt = 90*time.Minute, t1 }},
		{"an unchanged refill keeps the refill clock", nil, keys.Change{Refill: &keys.Quota{RefillAmount: 100, RefillInterval: time.Hour, Remaining: 9}},
			func(*keys.Key) {}},
		{"refills stopped", nil, keys.Change{Refill: &keys.Quota{}}, func(k *keys.Key) { k.RefillAmount, k.RefillInterval, k.LastRefillAt = 0, 0, t1 }},
		{"quota lowered and refill changed at once", nil,
			keys.Change{Remaining: ptr[int64](5), Refill: &keys.Quota{RefillAmount: 50, RefillInterval: time.Hour}, Name: ptr("both")},
			func(k *keys.Key) { k.Remaining, k.RefillAmount, k.LastRefillAt, k.Name = ptr[int64](5), 50, t1, "both" }},
		// A new Remaining first applies a refill due at At (as Consume would):
		// due at LastRefillAt + RefillInterval, not a millisecond before.
		{"a lowering with a refill due applies it first", func(k *keys.Key) { k.Remaining, k.LastRefillAt = ptr[int64](0), t1.Add(-time.Hour) },
			keys.Change{Remaining: ptr[int64](50)}, func(k *keys.Key) { k.Remaining, k.LastRefillAt = ptr[int64](50), t1 }},
		{"a lowering above a due refill leaves the refill", func(k *keys.Key) { k.Remaining, k.LastRefillAt = ptr[int64](0), t1.Add(-3*time.Hour) },
			keys.Change{Remaining: ptr[int64](150)}, func(k *keys.Key) { k.Remaining, k.LastRefillAt = ptr[int64](100), t1 }},
		{"a lowering a millisecond before the refill is due", func(k *keys.Key) { k.Remaining, k.LastRefillAt = ptr[int64](0), t1.Add(-time.Hour+time.Millisecond) },
			keys.Change{Remaining: ptr[int64](50)}, func(*keys.Key) {}},
		{"a refill due from creation", func(k *keys.Key) {
			k.Remaining, k.LastRefillAt, k.CreatedAt = ptr[int64](3), time.Time{}, t1.Add(-2*time.Hour)
		},
			keys.Change{Remaining: ptr[int64](50)}, func(k *keys.Key) { k.Remaining, k.LastRefillAt = ptr[int64](50), t1 }},
		{"an exact set with a refill due restarts the refill clock", func(k *keys.Key) { k.Remaining, k.LastRefillAt = ptr[int64](0), t1.Add(-2*time.Hour) },
			keys.Change{Remaining: ptr[int64](30), RemainingExact: true}, func(k *keys.Key) { k.Remaining, k.LastRefillAt = ptr[int64](30), t1 }},
		// The due refill is the stored one (100 every hour), not the new one:
		// on MySQL, which assigns left to right, remaining must be computed
		// before the refill columns are assigned.
		{"a lowering and a new refill with the old refill due", func(k *keys.Key) { k.Remaining, k.LastRefillAt = ptr[int64](0), t1.Add(-2*time.Hour) },
			keys.Change{Remaining: ptr[int64](150), Refill: &keys.Quota{RefillAmount: 60, RefillInterval: 3 * time.Hour}},
			func(k *keys.Key) {
				k.Remaining, k.RefillAmount, k.RefillInterval, k.LastRefillAt = ptr[int64](100), 60, 3*time.Hour, t1
			}},
		{"a removal with a refill due", func(k *keys.Key) { k.LastRefillAt = t1.Add(-2 * time.Hour) },
			keys.Change{RemoveQuota: true, Remaining: ptr[int64](1)},
			func(k *keys.Key) {
				k.Remaining, k.RefillAmount, k.RefillInterval, k.LastRefillAt = nil, 0, 0, time.Time{}
			}},
		{"name, permissions and disable at once", nil,
			keys.Change{Name: ptr("both"), Permissions: policy.Permissions{}, Disabled: ptr(true), By: admin},
			func(k *keys.Key) {
				k.Name, k.Permissions, k.Disabled, k.DisabledBy, k.DisabledAt = "both", policy.Permissions{}, true, admin, t1
				k.ChangedBy = admin
			}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := liveKey(t, fmt.Sprintf("owner-%d", i), t0)
			if tt.setup != nil {
				tt.setup(k)
			}
			k = create(t, s, k)
			c := tt.change
			c.Version, c.At = k.Version, t1
			got, err := s.Change(t.Context(), k.ID, c)
			require.NoError(t, err)

			want := k.Clone()
			tt.want(want)
			want.Version, want.UpdatedAt = k.Version+1, t1
			requireSame(t, want, got, "the record returned")
			requireStored(t, s, want)
		})
	}
}

// testChangeVersions: every change counts, and each names the version it
// was decided on.
func testChangeVersions(t *testing.T, s keys.Store) {
	k := create(t, s, newKey(t, "u1", t0))
	for v := int64(1); v <= 5; v++ {
		at := t1.Add(time.Duration(v) * time.Second)
		name := fmt.Sprintf("name %d", v)
		got, err := s.Change(t.Context(), k.ID, keys.Change{Version: v, At: at, Name: &name})
		require.NoError(t, err)
		k.Version, k.UpdatedAt, k.Name = v+1, at, name
		requireSame(t, k, got)
		requireStored(t, s, k)
	}
}
