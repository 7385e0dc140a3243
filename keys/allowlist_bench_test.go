package keys_test

import (
	"context"
	"net/netip"
	"testing"

	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/policy"
)

// BenchmarkVerifyAllowedIPs verifies a cached key with no allow-list and
// cached keys limited to four ranges, the client in the last one (IPv4,
// IPv6, and IPv4 seen as IPv4-mapped IPv6): the check costs a parse of
// the client address and a few comparisons, and no allocation.
func BenchmarkVerifyAllowedIPs(b *testing.B) {
	ranges := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.0.2.0/24"),
		netip.MustParsePrefix("2001:db8:1::/48"), netip.MustParsePrefix("203.0.113.0/24")}
	v6 := []netip.Prefix{ranges[0], ranges[1], ranges[3], netip.MustParsePrefix("2001:db8:1::/48")}
	for _, bc := range []struct {
		name   string
		ranges []netip.Prefix
		ip     string
	}{
		{"none", nil, "203.0.113.7"},
		{"ipv4", ranges, "203.0.113.7"},
		{"ipv6", v6, "2001:db8:1:2::7"},
		{"ipv4-mapped", ranges, "::ffff:203.0.113.7"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			m, _ := benchManager(b, 1, keys.CacheConfig{SingleInstance: true})
			_, key, err := m.Create(context.Background(), keys.CreateRequest{Owner: "u1", Name: "bench",
				Permissions: policy.Permissions{"files": {"read"}}, AllowedIPs: bc.ranges})
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := m.Verify(ctx, key, bc.ip); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestAllowListCheckAllocatesNothing: verifying a cached key limited to
// ranges allocates exactly what verifying one with no list does.
func TestAllowListCheckAllocatesNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector makes sync.Pool (the HMAC state) drop items at random: allocation counts are noise; run without -race")
	}
	f := newFixture(t, withCache)
	ctx := context.Background()
	_, open, err := f.m.Create(ctx, keys.CreateRequest{Owner: "alice", Name: "open"})
	if err != nil {
		t.Fatal(err)
	}
	_, limited, err := f.m.Create(ctx, keys.CreateRequest{Owner: "alice", Name: "limited",
		AllowedIPs: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24"), netip.MustParsePrefix("2001:db8::/32")}})
	if err != nil {
		t.Fatal(err)
	}
	measure := func(key, ip string) float64 {
		if _, err := f.m.Verify(ctx, key, ip); err != nil { // fills the cache
			t.Fatal(err)
		}
		return testing.AllocsPerRun(200, func() { _, _ = f.m.Verify(ctx, key, ip) })
	}
	base := measure(open, "2001:db8::7")
	for _, ip := range []string{"192.0.2.7", "2001:db8::7", "::ffff:192.0.2.7"} {
		if got := measure(limited, ip); got != base {
			t.Errorf("from %s: %v allocations, %v with no list", ip, got, base)
		}
	}
}
