package storetest

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/keys"
)

// testAllowedIPs: through a Manager over the store, a key limited to IP
// ranges works from inside them only (IPv4, IPv6, and an IPv4 client seen
// as IPv4-mapped IPv6), as stored and read back; lifting the list frees it.
func testAllowedIPs(t *testing.T, s keys.Store) {
	ctx := t.Context()
	m := newManager(t, s, 0)
	ranges := []netip.Prefix{netip.MustParsePrefix("2001:db8:7::/48"), netip.MustParsePrefix("::ffff:203.0.113.0/120")}
	k, secret, err := m.Create(ctx, keys.CreateRequest{Owner: "alice", Name: "office", Permissions: readOnly, AllowedIPs: ranges})
	require.NoError(t, err)
	want := []netip.Prefix{netip.MustParsePrefix("203.0.113.0/24"), netip.MustParsePrefix("2001:db8:7::/48")}
	require.Equal(t, want, k.AllowedIPs, "normalized: the mapped range as IPv4, sorted")
	require.Equal(t, want, get(t, s, k.ID).AllowedIPs)
	for ip, ok := range map[string]bool{
		"203.0.113.9": true, "::ffff:203.0.113.200": true, "2001:db8:7:1::5": true,
		"203.0.114.1": false, "2001:db8:8::1": false, "::ffff:198.51.100.1": false, "": false, "not an ip": false,
	} {
		_, err := m.Verify(ctx, secret, ip)
		if ok {
			assert.NoError(t, err, "from %q", ip)
		} else {
			assert.ErrorIs(t, err, keys.ErrIPNotAllowed, "from %q", ip)
		}
	}
	lifted, err := m.Update(ctx, keys.UpdateRequest{Ref: keys.Ref{Owner: "alice", ID: k.ID}, AllowedIPs: &[]netip.Prefix{}})
	require.NoError(t, err)
	assert.Nil(t, lifted.AllowedIPs)
	assert.Nil(t, get(t, s, k.ID).AllowedIPs)
	_, err = m.Verify(ctx, secret, "198.51.100.1")
	assert.NoError(t, err, "from anywhere again")
}
