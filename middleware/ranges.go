package middleware

import (
	"encoding/json"
	"errors"
	"net/netip"
	"strconv"
	"strings"
)

// rangesField accepts allowed_ips: an array of strings, each an IP range
// ("203.0.113.0/24", "2001:db8::/32") or one address ("203.0.113.7", a
// range of one). keys.Manager checks what the ranges may be.
func rangesField(dst **[]netip.Prefix) fieldDecoder {
	return func(raw json.RawMessage) error {
		const want = `allowed_ips must be an array of IP ranges as strings, e.g. ["203.0.113.0/24", "2001:db8::/32"]`
		var items []json.RawMessage
		if len(raw) == 0 || raw[0] != '[' || json.Unmarshal(raw, &items) != nil {
			return invalidBody(want, "allowed_ips")
		}
		out := make([]netip.Prefix, len(items))
		for i, item := range items {
			var s string
			if len(item) == 0 || item[0] != '"' || json.Unmarshal(item, &s) != nil {
				return invalidBody(want, "allowed_ips")
			}
			p, err := parseRange(s)
			if err != nil {
				return fieldError("allowed_ips", "range "+strconv.Itoa(i)+" ("+strconv.Quote(s)+") is not an IP range: write one as 203.0.113.0/24, 2001:db8::/32 or a single address")
			}
			out[i] = p
		}
		*dst = &out
		return nil
	}
}

// parseRange reads a range, or one address as the range of just it. Zones
// ("fe80::1%eth0") are refused: a range matches addresses, not interfaces.
func parseRange(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		return netip.ParsePrefix(s)
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Prefix{}, errors.New("not an address")
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// rangesJSON is an allow-list as answers show it: its ranges as strings,
// [] for none (the key works from anywhere).
func rangesJSON(ranges []netip.Prefix) []string {
	out := make([]string, len(ranges))
	for i, p := range ranges {
		out[i] = p.String()
	}
	return out
}
