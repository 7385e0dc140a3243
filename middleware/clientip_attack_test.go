package middleware_test

import (
	"net/http"
	"net/netip"
	"testing"

	"github.com/keycaphq/keycap/middleware"
)

// FuzzAttackForwardedClientIP: whatever a client or a proxy writes in
// X-Forwarded-For or Forwarded, and whatever the peer: no panic; from an
// untrusted peer the header is never read (the answer is the peer); from
// a trusted one the answer is "" (unknown), the peer, or an address that
// is not a trusted proxy unless every hop was one; never a zone.
func FuzzAttackForwardedClientIP(f *testing.F) {
	for _, s := range []string{"203.0.113.9", "for=203.0.113.9", `for="[2001:db8::1]:443"`, "10.0.0.2, 203.0.113.9", "", ",", "[", `"`, "for=", "::ffff:10.0.0.1", "fe80::1%eth0", "1.2.3.4:5:6"} {
		f.Add(s, "10.0.0.1:80", true)
		f.Add(s, "198.51.100.7:5555", false)
	}
	xff, err := middleware.ForwardedClientIP("X-Forwarded-For", "10.0.0.0/8", "2001:db8:ff::/48")
	if err != nil {
		f.Fatal(err)
	}
	fwd, err := middleware.ForwardedClientIP("Forwarded", "10.0.0.0/8", "2001:db8:ff::/48")
	if err != nil {
		f.Fatal(err)
	}
	trusted := func(a netip.Addr) bool {
		return netip.MustParsePrefix("10.0.0.0/8").Contains(a) || netip.MustParsePrefix("2001:db8:ff::/48").Contains(a)
	}
	f.Fuzz(func(t *testing.T, header, remote string, useForwarded bool) {
		name, clientIP := "X-Forwarded-For", xff
		if useForwarded {
			name, clientIP = "Forwarded", fwd
		}
		if _, err := netip.ParseAddrPort(remote); err != nil {
			return // net/http always sets RemoteAddr to ip:port
		}
		r := &http.Request{RemoteAddr: remote, Header: http.Header{name: {header}}}
		got := clientIP(r)
		bare := &http.Request{RemoteAddr: remote, Header: http.Header{}}
		peer := clientIP(bare)
		peerAddr, perr := netip.ParseAddr(peer)
		if perr != nil || !trusted(peerAddr.Unmap()) || peerAddr.Zone() != "" {
			if got != peer {
				t.Fatalf("untrusted peer %q: the header %q was read: %q", remote, header, got)
			}
			return
		}
		if got == "" || got == peer {
			return
		}
		a, err := netip.ParseAddr(got)
		if err != nil || a.Zone() != "" {
			t.Fatalf("peer %q, header %q: %q is not an address", remote, header, got)
		}
	})
}
