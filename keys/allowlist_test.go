package keys_test

import (
	"context"
	"log/slog"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/audit"
	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/policy"
)

func prefixes(s ...string) []netip.Prefix {
	out := make([]netip.Prefix, len(s))
	for i, p := range s {
		out[i] = netip.MustParsePrefix(p)
	}
	return out
}

// TestAllowedIPsFromInsideOnly: a key limited to ranges works from inside
// them, IPv4 and IPv6, an IPv4 client seen as IPv4-mapped IPv6 included,
// and is refused with ErrIPNotAllowed from outside or from an unknown
// address; a key with no list works from anywhere.
func TestAllowedIPsFromInsideOnly(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	_, limited, err := f.m.Create(ctx, keys.CreateRequest{Owner: "alice", Name: "office",
		AllowedIPs: prefixes("203.0.113.0/24", "2001:db8:cafe::/48", "198.51.100.7/32")})
	require.NoError(t, err)
	_, open := f.create(t, "alice")
	tests := []struct {
		ip   string
		want bool
	}{
		{"203.0.113.1", true},
		{"203.0.113.255", true},
		{"::ffff:203.0.113.9", true}, // an IPv4 client on a dual-stack listener
		{"198.51.100.7", true},
		{"2001:db8:cafe:1::1", true},
		{"2001:db8:cafe::1%eth0", true}, // the zone is not part of the address
		{"203.0.114.1", false},
		{"198.51.100.8", false},
		{"::ffff:198.51.100.8", false},
		{"2001:db8:caff::1", false},
		{"::203.0.113.1", false}, // IPv4-compatible, not mapped: an IPv6 address
		{"", false},              // unknown: a limited key fails closed
		{"not an address", false},
		{"203.0.113.1:443", false}, // an address with a port is not what ClientIP returns
	}
	for _, tt := range tests {
		t.Run(tt.ip, func(t *testing.T) {
			_, err := f.m.Verify(ctx, limited, tt.ip)
			if tt.want {
				assert.NoError(t, err)
			} else {
				assert.ErrorIs(t, err, keys.ErrIPNotAllowed)
				assert.NotErrorIs(t, err, keys.ErrInvalid, "a matched secret outside its ranges is not an invalid key")
			}
			_, err = f.m.Verify(ctx, open, tt.ip)
			assert.NoError(t, err, "a key with no list works from anywhere")
		})
	}
}

// TestAllowedIPsNormalized: ranges are stored masked-checked, IPv4-mapped
// ranges as IPv4, sorted and without duplicates; bad ranges are refused
// with a FieldError on allowed_ips that says what to write, and nothing
// is stored.
func TestAllowedIPsNormalized(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	k, _, err := f.m.Create(ctx, keys.CreateRequest{Owner: "alice", Name: "n",
		AllowedIPs: prefixes("2001:db8::/32", "::ffff:192.0.2.0/120", "10.0.0.0/8", "192.0.2.0/24", "10.0.0.0/8")})
	require.NoError(t, err)
	want := prefixes("10.0.0.0/8", "192.0.2.0/24", "2001:db8::/32")
	assert.Equal(t, want, k.AllowedIPs)
	assert.Equal(t, want, f.record(t, k.ID).AllowedIPs)

	many := make([]netip.Prefix, 65)
	for i := range many {
		many[i] = netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 0, byte(i), 0}), 24)
	}
	for _, tt := range []struct {
		name   string
		ranges []netip.Prefix
		reason string
	}{
		{"host bits set", prefixes("203.0.113.7/24"), "write 203.0.113.0/24 for the range, or 203.0.113.7/32 for one address"},
		{"every IPv4 address", prefixes("0.0.0.0/0"), "allows every address"},
		{"every IPv6 address", prefixes("::/0"), "allows every address"},
		{"every IPv4 address, mapped", prefixes("::ffff:0.0.0.0/96"), "allows every address"},
		{"the zero range", []netip.Prefix{{}}, "is not an IP range"},
		{"too many", many, "at most 64 ranges"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			writes := f.store.writes()
			_, _, err := f.m.Create(ctx, keys.CreateRequest{Owner: "alice", Name: "bad", AllowedIPs: tt.ranges})
			fe, ok := errorAs[*keys.FieldError](err)
			require.True(t, ok, "%v", err)
			assert.Equal(t, "allowed_ips", fe.Field)
			assert.Contains(t, fe.Reason, tt.reason)
			assert.Equal(t, writes, f.store.writes(), "nothing written")
		})
	}
}

// allowListPolicy requires an allow-list of keys that may delete anything
// or write invoices.
var allowListPolicy = policy.MustNew(policy.Config{
	AllowClientPermissions: true,
	Roles:                  map[string]policy.Permissions{"admin": policy.MustParse("files:read", "files:write", "files:delete", "invoices:write")},
	IPAllowListFor:         []string{"*:delete", "invoices:write"},
})

// TestAllowListRequired: the policy refuses, at creation and on PATCH, a
// key that would hold a permission reserved for keys limited to IP ranges
// without a list, naming exactly those permissions; nothing is written and
// the refusal is audited. With a list the same key is created.
func TestAllowListRequired(t *testing.T) {
	f := newFixture(t, func(c *keys.Config) { c.Policy = allowListPolicy })
	ctx := context.Background()
	requireRefused := func(t *testing.T, err error, want ...string) {
		t.Helper()
		al, ok := errorAs[*policy.AllowListError](err)
		require.True(t, ok, "%v", err)
		assert.Equal(t, policy.MustParse(want...), al.Permissions)
		assert.Equal(t, "refused", string(f.audit.last(t).Type))
	}

	writes := f.store.writes()
	_, _, err := f.m.Create(ctx, keys.CreateRequest{Owner: "alice", Name: "x", Permissions: policy.MustParse("files:read", "files:delete", "invoices:write")})
	requireRefused(t, err, "files:delete", "invoices:write")
	assert.Equal(t, writes, f.store.writes(), "nothing written")

	limited, _, err := f.m.Create(ctx, keys.CreateRequest{Owner: "alice", Name: "x", Permissions: policy.MustParse("files:delete"), AllowedIPs: prefixes("192.0.2.0/24")})
	require.NoError(t, err)
	plain, _, err := f.m.Create(ctx, keys.CreateRequest{Owner: "alice", Name: "y", Permissions: policy.MustParse("files:read")})
	require.NoError(t, err)

	for name, u := range map[string]keys.UpdateRequest{
		"lifting the list of a key that may delete": {Ref: ref("alice", limited.ID), AllowedIPs: &[]netip.Prefix{}},
		"granting delete to a key with no list":     {Ref: ref("alice", plain.ID), Permissions: policy.MustParse("files:read", "files:delete")},
		"both, with a rename": {Ref: ref("alice", limited.ID), Name: ptr("z"), AllowedIPs: &[]netip.Prefix{},
			Permissions: policy.MustParse("files:delete", "files:write")},
	} {
		t.Run(name, func(t *testing.T) {
			writes := f.store.writes()
			_, err := f.m.Update(ctx, u)
			requireRefused(t, err, "files:delete")
			assert.Equal(t, writes, f.store.writes(), "nothing written")
		})
	}
	got, err := f.m.Update(ctx, keys.UpdateRequest{Ref: ref("alice", plain.ID), Permissions: policy.MustParse("files:delete"), AllowedIPs: &[]netip.Prefix{netip.MustParsePrefix("2001:db8::/32")}})
	require.NoError(t, err, "delete with a list, in one change")
	assert.Equal(t, prefixes("2001:db8::/32"), got.AllowedIPs)
	got, err = f.m.Update(ctx, keys.UpdateRequest{Ref: ref("alice", limited.ID), AllowedIPs: &[]netip.Prefix{netip.MustParsePrefix("2001:db8::/32")}})
	require.NoError(t, err, "another list")
	assert.Equal(t, prefixes("2001:db8::/32"), got.AllowedIPs)
}

// TestAllowListRequiredAtVerification: a key made before the policy
// reserved a permission for keys limited to IP ranges holds it no more
// (its other permissions still work), and holds it again once limited.
func TestAllowListRequiredAtVerification(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	k, token := f.create(t, "alice", "files:read", "files:delete")
	m := f.withPolicy(t, allowListPolicy)
	v, err := m.Verify(ctx, token, "192.0.2.1")
	require.NoError(t, err)
	assert.Equal(t, policy.MustParse("files:read"), v.Permissions)
	_, err = m.Update(ctx, keys.UpdateRequest{Ref: ref("alice", k.ID), AllowedIPs: &[]netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}})
	require.NoError(t, err)
	v, err = m.Verify(ctx, token, "192.0.2.1")
	require.NoError(t, err)
	assert.Equal(t, policy.MustParse("files:read", "files:delete"), v.Permissions)
}

// TestAllowedIPsDelegation: a key made by a key limited to ranges gets
// them when it names none, may narrow them but not widen them, and is
// refused outside its parent's ranges even when its own list (changed
// later by a person) would let it through.
func TestAllowedIPsDelegation(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	_, parentToken, err := f.m.Create(ctx, keys.CreateRequest{Owner: "alice", Name: "parent",
		Permissions: policy.MustParse("files:read"), AllowedIPs: prefixes("10.1.0.0/16")})
	require.NoError(t, err)
	parent, err := f.m.Verify(ctx, parentToken, "10.1.2.3")
	require.NoError(t, err)

	child, childToken, err := f.m.Create(ctx, keys.CreateRequest{Owner: "alice", Name: "child", Caller: parent})
	require.NoError(t, err)
	assert.Equal(t, prefixes("10.1.0.0/16"), child.AllowedIPs, "inherited")
	narrow, _, err := f.m.Create(ctx, keys.CreateRequest{Owner: "alice", Name: "narrow", Caller: parent, AllowedIPs: prefixes("10.1.7.0/24")})
	require.NoError(t, err)
	assert.Equal(t, prefixes("10.1.7.0/24"), narrow.AllowedIPs)
	writes := f.store.writes()
	for _, wide := range [][]netip.Prefix{prefixes("10.0.0.0/8"), prefixes("10.1.7.0/24", "192.0.2.0/24")} {
		_, _, err = f.m.Create(ctx, keys.CreateRequest{Owner: "alice", Name: "wide", Caller: parent, AllowedIPs: wide})
		_, ok := errorAs[*keys.DelegationError](err)
		assert.True(t, ok, "%v", err)
	}
	_, err = f.m.Update(ctx, keys.UpdateRequest{Ref: keys.Ref{Owner: "alice", ID: child.ID, Caller: parent}, AllowedIPs: &[]netip.Prefix{netip.MustParsePrefix("0.0.0.0/1")}})
	_, ok := errorAs[*keys.DelegationError](err)
	assert.True(t, ok, "a key may not widen what it made: %v", err)
	assert.Equal(t, writes, f.store.writes(), "nothing written")

	_, err = f.m.Update(ctx, keys.UpdateRequest{Ref: ref("alice", child.ID), AllowedIPs: &[]netip.Prefix{}})
	require.NoError(t, err, "the owner lifts the child's own list")
	_, err = f.m.Verify(ctx, childToken, "10.1.9.9")
	assert.NoError(t, err)
	_, err = f.m.Verify(ctx, childToken, "192.0.2.1")
	assert.ErrorIs(t, err, keys.ErrIPNotAllowed, "the parent's ranges still bind it")
}

// TestAllowedIPsAdmin: an admin stops keys but does not shape them: a
// change of another user's allow-list is refused.
func TestAllowedIPsAdmin(t *testing.T) {
	f := newFixture(t)
	k, _ := f.create(t, "alice")
	writes := f.store.writes()
	_, err := f.m.Update(context.Background(), keys.UpdateRequest{Ref: ref("alice", k.ID), Actor: audit.User("root"),
		AllowedIPs: &[]netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}})
	assert.ErrorIs(t, err, keys.ErrAdminChange)
	assert.Equal(t, writes, f.store.writes())
}

// TestIPRefusalLoggedByID: a key refused for its address is logged with
// its id, owner and the address, never the key, once per key per
// interval; the refusal is audited with the address.
func TestIPRefusalLoggedByID(t *testing.T) {
	var logs strings.Builder
	f := newFixture(t, func(c *keys.Config) { c.Logger = slog.New(slog.NewTextHandler(&logs, nil)) })
	k, token, err := f.m.Create(context.Background(), keys.CreateRequest{Owner: "alice", Name: "x", AllowedIPs: prefixes("192.0.2.0/24")})
	require.NoError(t, err)
	for range 5 {
		_, err = f.m.Verify(context.Background(), token, "198.51.100.1")
		require.ErrorIs(t, err, keys.ErrIPNotAllowed)
	}
	out := logs.String()
	assert.Equal(t, 1, strings.Count(out, "outside its allowed_ips"), out)
	assert.Contains(t, out, "key_id="+k.ID)
	assert.Contains(t, out, "client_ip=198.51.100.1")
	assert.NotContains(t, out, token)
	assert.NotContains(t, out, strings.Split(token, "_")[2])
	e := f.audit.last(t)
	assert.Equal(t, "verification_denied", string(e.Type))
	assert.Equal(t, "198.51.100.1", e.IP)
	assert.Equal(t, k.ID, e.KeyID)

	f.clock.Advance(2 * time.Minute)
	_, _ = f.m.Verify(context.Background(), token, "198.51.100.1")
	assert.Equal(t, 2, strings.Count(logs.String(), "outside its allowed_ips"), "again after the interval")
}
