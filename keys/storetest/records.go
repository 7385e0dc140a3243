package storetest

import (
	"encoding/json"
	"net/netip"
	"testing"
	"time"

	"github.com/keycaphq/keycap/audit"
	"github.com/keycaphq/keycap/internal/keyforge"

	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/policy"
)

// fullKey returns a record with every field set, revoked and disabled
// (Create stores what it is given; Change is what refuses revoked records).
func fullKey(t *testing.T) *keys.Key {
	k := newKey(t, "user-ü 1", t0)
	k.Name = "CI deploy – prod ✓ \"quoted\" 'single'"
	k.Permissions = policy.Permissions{"invoices": {"read", "write"}, "users.admin": {"read"}}
	k.SecretID = "2026-11.b_1"
	k.AllowedIPs = []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24"), netip.MustParsePrefix("2001:db8::/32"),
		netip.MustParsePrefix("::ffff:198.51.100.0/120"), netip.MustParsePrefix("2001:db8::1/128")}
	k.Resources = policy.Resources{"invoices": {"2026-001", "acme:7", "ü-not-checked-by-a-store"}, "users.admin": {}}
	k.Version = 1
	k.UpdatedAt = t0.Add(time.Second)
	k.ExpiresAt = t0.Add(90 * 24 * time.Hour)
	k.CreatedBy = audit.Key("0123456789abcdef")
	k.Ancestors = []string{"00000000000000aa", "0123456789abcdef"}
	k.ParentGeneration = 3
	k.Generation = 2
	k.PreviousHash = randomHash()
	k.PreviousExpiresAt = t0.Add(time.Hour)
	k.LastUsedAt = t0.Add(2 * time.Second)
	k.LastUsedIP = "2001:db8::1"
	k.RevokedAt = t0.Add(3 * time.Second)
	k.RevokedBy = audit.Actor{Kind: audit.KindOperator, ID: "ops:ü cli"} // a colon in the id
	k.RevokedReason = "leaked in a build log"
	k.Disabled = true
	k.DisabledBy = audit.User("admin-1")
	k.DisabledAt = t0.Add(5 * time.Second)
	k.Remaining = ptr[int64](42)
	k.RefillAmount = 100
	k.RefillInterval = time.Hour
	k.LastRefillAt = t0.Add(4 * time.Second)
	k.ChangedBy = audit.User("member ü:1")
	k.Kind = "test"
	k.Description = "runs the nightly backup ü 👩‍💻\nowned by ops"
	k.Metadata = json.RawMessage(`{"customer":"cus_ü\u0000","env":"staging","n":1.50,"tags":["a",{"b":null}]}`)
	return k
}

func testRoundTripFull(t *testing.T, s keys.Store) {
	requireStored(t, s, create(t, s, fullKey(t)))
	system := newKey(t, "u1", t0.Add(time.Millisecond))
	system.CreatedBy = audit.Actor{Kind: audit.KindSystem, ID: "scanner"}
	system.DisabledBy = audit.Actor{Kind: audit.KindSystem, ID: ""} // a kind with no id
	requireStored(t, s, create(t, s, system))
}

func testRoundTripMinimal(t *testing.T, s keys.Store) {
	id := keyforge.ID(t0)
	k := create(t, s, &keys.Key{ID: id, OwnerID: "u1", Hash: randomHash(), Permissions: policy.Permissions{"a": {"read"}}})
	requireStored(t, s, k) // zero times and actors, no Ancestors, nil Remaining and PreviousHash
}

// testRoundTripNilAndEmpty: a zero quota is not "no quota"; empty
// permissions are not nil ones; empty Ancestors may come back nil.
func testRoundTripNilAndEmpty(t *testing.T, s keys.Store) {
	zero := newKey(t, "u1", t0)
	zero.Remaining = ptr[int64](0) // a spent quota, not "no quota"
	requireStored(t, s, create(t, s, zero))

	empty := newKey(t, "u1", t0.Add(time.Millisecond))
	empty.Permissions = policy.Permissions{}
	empty.Ancestors = []string{}
	create(t, s, empty)
	got := get(t, s, empty.ID)
	require.NotNil(t, got.Permissions, "empty permissions came back nil")
	require.Empty(t, got.Permissions)
	require.Empty(t, got.Ancestors)
	require.Empty(t, got.Ancestors)

	none := newKey(t, "u1", t0.Add(2*time.Millisecond))
	none.Permissions = nil
	create(t, s, none)
	got = get(t, s, none.ID)
	require.Nil(t, got.Permissions, "nil permissions came back non-nil")
	require.Nil(t, got.Remaining)
	require.Nil(t, got.PreviousHash)
	require.Empty(t, got.Ancestors)
	require.Nil(t, got.AllowedIPs, "no allow-list came back as one")
	require.Nil(t, got.Resources, "no restriction to records came back as one")
	require.Empty(t, got.SecretID)
}

func testRecordsAreCopies(t *testing.T, s keys.Store) {
	k := fullKey(t)
	want := k.Clone()
	create(t, s, k)
	k.Name, k.Hash[0], k.Permissions["invoices"][0], *k.Remaining, k.Ancestors[0] = "changed", k.Hash[0]^1, "delete", 7, "x"
	k.AllowedIPs[0] = netip.MustParsePrefix("0.0.0.0/1")
	k.Resources["invoices"][0] = "changed"
	requireStored(t, s, want) // the store kept no reference to what it was given

	got := get(t, s, want.ID)
	got.Name, got.Hash[0], got.Permissions["invoices"][0], *got.Remaining, got.Ancestors[0] = "changed", got.Hash[0]^1, "delete", 7, "x"
	got.AllowedIPs[0] = netip.MustParsePrefix("0.0.0.0/1")
	got.Resources["invoices"][0] = "changed"
	requireStored(t, s, want) // nor to what it handed out

	list, err := s.List(t.Context(), want.OwnerID, keys.Page{})
	require.NoError(t, err)
	require.Len(t, list, 1)
	list[0].Permissions["invoices"][0], list[0].Ancestors[1] = "delete", "y"
	requireStored(t, s, want) // nor to what it listed
}

func testCreateStoresVersion1(t *testing.T, s keys.Store) {
	for _, given := range []int64{0, 1, 9} {
		k := newKey(t, "u1", t0.Add(time.Duration(given)*time.Millisecond))
		k.Version = given
		require.NoError(t, s.Create(t.Context(), k, 0))
		require.Equal(t, int64(1), get(t, s, k.ID).Version, "given Version %d", given)
	}
}

func testCreateConflicts(t *testing.T, s keys.Store) {
	first := create(t, s, newKey(t, "u1", t0))
	tests := []struct {
		name  string
		clash func(k *keys.Key)
	}{
		{"same id", func(k *keys.Key) { k.ID = first.ID }},
		{"same hash", func(k *keys.Key) { k.Hash = append([]byte(nil), first.Hash...) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dup := newKey(t, "u2", t0.Add(time.Millisecond))
			tt.clash(dup)
			for _, maxLive := range []int{0, 5} {
				refused(t, s, keys.ErrConflict, func() error { return s.Create(t.Context(), dup, maxLive) }, first)
			}
			list, err := s.List(t.Context(), "u2", keys.Page{})
			require.NoError(t, err)
			require.Empty(t, list, "the conflicting record was stored")
		})
	}
}
