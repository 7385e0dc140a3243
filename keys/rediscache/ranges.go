package rediscache

import (
	"encoding/binary"
	"net/netip"
	"strings"
)

// The encoding of an allow-list ([keys.Key].AllowedIPs): its length plus
// one (0: nil), then each range as its address's length (4 or 16), the
// address and its length in bits.

// appendPrefixes writes each range as its address's length (4 or 16),
// its bytes and its length in bits.
func appendPrefixes(b []byte, ps []netip.Prefix) []byte {
	if ps == nil {
		return append(b, 0)
	}
	b = binary.AppendUvarint(b, uint64(len(ps))+1)
	for _, p := range ps {
		a := p.Addr()
		if a.Is4() {
			ip := a.As4()
			b = append(append(b, 4), ip[:]...)
		} else {
			ip := a.As16()
			b = append(append(b, 16), ip[:]...)
		}
		b = append(b, byte(p.Bits()))
	}
	return b
}

// prefixes reads what appendPrefixes wrote; a range that is not one (an
// address of another length, more bits than it has) is corrupt.
func (d *decoder) prefixes() []netip.Prefix {
	n := d.optional()
	if n < 0 || d.bad {
		return nil
	}
	ps := make([]netip.Prefix, n)
	for i := range ps {
		size := d.fixed(1)
		if d.bad || (size[0] != 4 && size[0] != 16) {
			d.bad = true
			return nil
		}
		var ip [16]byte
		copy(ip[:], d.fixed(int(size[0])))
		a := netip.AddrFrom16(ip)
		if size[0] == 4 {
			a = netip.AddrFrom4([4]byte(ip[:4]))
		}
		bits := d.fixed(1)
		if d.bad || int(bits[0]) > a.BitLen() {
			d.bad = true
			return nil
		}
		ps[i] = netip.PrefixFrom(a, int(bits[0]))
	}
	return ps
}

// fixed reads n bytes, or sets bad (and returns n zero bytes) when fewer
// are left.
func (d *decoder) fixed(n int) string {
	if d.bad || len(d.s) < n {
		d.bad = true
		return strings.Repeat("\x00", n)
	}
	return d.take(n)
}
