package keys

import (
	"context"
	"log/slog"
	"net/netip"
	"slices"
	"strconv"

	"github.com/keycaphq/keycap/policy"
)

// maxAllowedIPs bounds the ranges of one key's allow-list.
const maxAllowedIPs = 64

// normalizeAllowedIPs checks an allow-list as a request gives it and
// returns it as a record keeps it: IPv4-mapped IPv6 ranges as IPv4, sorted,
// without duplicates; nil for an empty list (no restriction). A range must
// be masked (no bits set past its length), so that "203.0.113.7/24" is
// refused rather than read as one address or as a /24 the client may not
// have meant.
func normalizeAllowedIPs(in []netip.Prefix) ([]netip.Prefix, error) {
	if len(in) == 0 {
		return nil, nil
	}
	if len(in) > maxAllowedIPs {
		return nil, allowListField("at most " + strconv.Itoa(maxAllowedIPs) + " ranges; merge them into wider ones")
	}
	out := make([]netip.Prefix, 0, len(in))
	for i, p := range in {
		at := "range " + strconv.Itoa(i) + " "
		switch {
		case !p.IsValid():
			return nil, allowListField(at + "is not an IP range: write one as 203.0.113.0/24 or 2001:db8::/32")
		case p != p.Masked():
			return nil, allowListField(at + "(" + p.String() + ") has bits set past its length: write " +
				p.Masked().String() + " for the range, or " + netip.PrefixFrom(p.Addr(), p.Addr().BitLen()).String() + " for one address")
		}
		if p.Addr().Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96) // an IPv4 range, as IPv4 clients are matched
		}
		if p.Bits() == 0 {
			return nil, allowListField(at + "(" + p.String() + ") allows every address: leave allowed_ips out instead")
		}
		out = append(out, p)
	}
	slices.SortFunc(out, comparePrefixes)
	out = slices.Compact(out)
	// Was a bug, fixed: only "0.0.0.0/0" and "::/0" were refused as allowing
	// every address, so ranges whose union is every address ("0.0.0.0/1"
	// and "128.0.0.0/1") met a policy's required allow-list and let the key
	// work from anywhere.
	for _, family := range []netip.Addr{netip.IPv4Unspecified(), netip.IPv6Unspecified()} {
		if coversFamily(out, family) {
			return nil, allowListField("these ranges together allow every " + map[bool]string{true: "IPv4", false: "IPv6"}[family.Is4()] +
				" address: list only the networks the key is used from, or leave allowed_ips out")
		}
	}
	return out, nil
}

// coversFamily reports whether the sorted ranges, taken together, hold
// every address of the family whose first address is first.
func coversFamily(sorted []netip.Prefix, first netip.Addr) bool {
	next := first // the first address not yet known to be covered
	for _, p := range sorted {
		if p.Addr().BitLen() != first.BitLen() {
			continue
		}
		if next.Less(p.Addr()) {
			return false // a gap before p
		}
		last := lastAddr(p)
		if !last.Next().IsValid() {
			return true // p reaches the family's last address
		}
		if !last.Less(next) {
			next = last.Next()
		}
	}
	return false
}

// lastAddr is the last address of a masked range.
func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Addr().As16()
	off := 0
	if p.Addr().Is4() {
		off = 12
	}
	for i := p.Bits(); i < p.Addr().BitLen(); i++ {
		b[off+i/8] |= 0x80 >> (i % 8)
	}
	a := netip.AddrFrom16(b)
	if p.Addr().Is4() {
		a = a.Unmap()
	}
	return a
}

func comparePrefixes(a, b netip.Prefix) int {
	if c := a.Addr().Compare(b.Addr()); c != 0 {
		return c
	}
	return a.Bits() - b.Bits()
}

func allowListField(reason string) *FieldError {
	return &FieldError{Field: "allowed_ips", Reason: reason}
}

// allows reports whether a request from clientIP may use a key limited to
// ranges: always for an empty list, else only for a parsable address
// within one of them. An IPv4-mapped IPv6 address is matched as the IPv4
// address it is; a zone is ignored. It does not allocate.
func allows(ranges []netip.Prefix, clientIP string) bool {
	if len(ranges) == 0 {
		return true
	}
	addr, err := netip.ParseAddr(clientIP)
	if err != nil {
		return false // unknown or unreadable: a limited key fails closed
	}
	addr = addr.WithZone("").Unmap()
	for _, p := range ranges {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// withinRanges reports whether every range of inner lies within a range
// of outer: a key created by a key limited to outer may be limited to
// inner.
func withinRanges(inner, outer []netip.Prefix) bool {
	for _, p := range inner {
		if !slices.ContainsFunc(outer, func(o netip.Prefix) bool { return o.Bits() <= p.Bits() && o.Contains(p.Addr()) }) {
			return false
		}
	}
	return true
}

// checkAllowList refuses a key that would hold permissions the policy
// reserves for keys limited to IP ranges ([policy.Config].IPAllowListFor)
// without such a list.
func (m *Manager) checkAllowList(perms policy.Permissions, ranges []netip.Prefix) error {
	if len(ranges) > 0 {
		return nil
	}
	if need := m.policy.NeedsAllowList(perms); !need.IsEmpty() {
		return &policy.AllowListError{Permissions: need}
	}
	return nil
}

// allowListFor returns the allow-list of a key created with ranges by
// caller: ranges, which must lie within the calling key's own list, or
// with none given, the calling key's list, so that a key made by a key
// limited to an office network is limited to it too.
func allowListFor(ranges []netip.Prefix, caller *Verified) ([]netip.Prefix, error) {
	if caller == nil || len(caller.rec.allowedIPs) == 0 {
		return ranges, nil
	}
	if len(ranges) == 0 {
		return slices.Clone(caller.rec.allowedIPs), nil
	}
	if !withinRanges(ranges, caller.rec.allowedIPs) {
		return nil, &DelegationError{Reason: "a key created by a key must be limited to addresses within that key's allowed_ips"}
	}
	return ranges, nil
}

// logIPRefusal logs a key refused for its client address, by id (never
// the key). auditDenied calls it when it records the refusal in the table
// of recent denials, so once per key per interval, and the line and the
// audit event take one slot of that table.
func (m *Manager) logIPRefusal(ctx context.Context, k *record, clientIP string) {
	m.logger.LogAttrs(ctx, slog.LevelWarn, "keycap: API key refused: the client address is outside its allowed_ips",
		slog.String("key_id", k.id()), slog.String("owner", k.ownerID), slog.String("client_ip", clientIP))
}

// allowListOf returns the allow-list of a key given ranges through caller
// for perms: normalized, within the caller's (or the caller's, when none
// is given), and present where the policy requires one.
func (m *Manager) allowListOf(ranges []netip.Prefix, caller *Verified, perms policy.Permissions) ([]netip.Prefix, error) {
	ips, err := normalizeAllowedIPs(ranges)
	if err != nil {
		return nil, err
	}
	if ips, err = allowListFor(ips, caller); err != nil {
		return nil, err
	}
	return ips, m.checkAllowList(perms, ips)
}

// changingAllowList returns the allow-list change u makes to k, which it
// leaves with perms: nil when the list stays as it is. When u changes the
// list or the permissions, the policy's requirement is checked on the key
// as it would be.
func (m *Manager) changingAllowList(k *Key, u UpdateRequest, perms policy.Permissions) (*[]netip.Prefix, error) {
	switch {
	case u.AllowedIPs == nil && u.Permissions == nil:
		return nil, nil
	case u.AllowedIPs == nil:
		return nil, m.checkAllowList(perms, k.AllowedIPs)
	}
	ips, err := m.allowListOf(*u.AllowedIPs, u.Caller, perms)
	if err != nil || slices.Equal(ips, k.AllowedIPs) {
		return nil, err
	}
	return &ips, nil
}
