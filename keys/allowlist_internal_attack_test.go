package keys

import (
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"
)

// TestAttackCoversFamilyAgainstBruteForce checks the coverage test that
// refuses allow-lists allowing every address against brute force: random
// lists of IPv4 and IPv6 ranges no longer than /4 (so that 16 blocks
// decide), plus odd single addresses and overlaps, 20,000 lists.
func TestAttackCoversFamilyAgainstBruteForce(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for trial := range 20000 {
		var list []netip.Prefix
		for range r.IntN(8) + 1 {
			bits := r.IntN(4) + 1
			if r.IntN(4) == 0 {
				b := [4]byte{byte(r.IntN(256)), byte(r.IntN(256)), 0, 0}
				list = append(list, netip.PrefixFrom(netip.AddrFrom4(b), 16+r.IntN(17)).Masked())
				continue
			}
			if r.IntN(3) == 0 {
				var b [16]byte
				b[0] = byte(r.IntN(256))
				list = append(list, netip.PrefixFrom(netip.AddrFrom16(b), bits).Masked())
				continue
			}
			list = append(list, netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(r.IntN(256)), 0, 0, 0}), bits).Masked())
		}
		slices.SortFunc(list, comparePrefixes)
		list = slices.Compact(list)
		for _, fam := range []netip.Addr{netip.IPv4Unspecified(), netip.IPv6Unspecified()} {
			want := true
			for block := range 16 {
				var a netip.Addr
				if fam.Is4() {
					a = netip.AddrFrom4([4]byte{byte(block << 4), 0, 0, 0})
				} else {
					var b [16]byte
					b[0] = byte(block << 4)
					a = netip.AddrFrom16(b)
				}
				// A block is covered only by a range of at most /4 holding it
				// (the longer ones cover part of a block, never all of it).
				if !slices.ContainsFunc(list, func(p netip.Prefix) bool { return p.Bits() <= 4 && p.Contains(a) }) {
					want = false
				}
			}
			if got := coversFamily(list, fam); got != want {
				t.Fatalf("trial %d: coversFamily(%v, %v) = %v, want %v", trial, list, fam, got, want)
			}
		}
	}
}
