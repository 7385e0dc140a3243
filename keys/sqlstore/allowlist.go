package sqlstore

import (
	"fmt"
	"net/netip"
	"strings"
)

// maxAllowedIPsText is the room of the allowed_ips column (MySQL:
// VARCHAR(3072)): 64 ranges of the longest form, "ffff:...:ffff/128" (43
// bytes), and their separators fit.
const maxAllowedIPsText = 3072

// allowedIPsText is an allow-list as stored: its ranges in canonical form,
// separated by spaces; "" for none.
func allowedIPsText(ranges []netip.Prefix) string {
	var b strings.Builder
	for i, p := range ranges {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(p.String())
	}
	return b.String()
}

// parseAllowedIPs reads what allowedIPsText wrote; nil for "".
func parseAllowedIPs(text string) ([]netip.Prefix, error) {
	fields := strings.Fields(text)
	if len(fields) == 0 {
		return nil, nil
	}
	out := make([]netip.Prefix, len(fields))
	for i, f := range fields {
		p, err := netip.ParsePrefix(f)
		if err != nil {
			return nil, err
		}
		out[i] = p
	}
	return out, nil
}

// checkAllowedIPs refuses an allow-list the column cannot hold faithfully.
func checkAllowedIPs(ranges []netip.Prefix) error {
	for _, p := range ranges {
		if !p.IsValid() {
			return fmt.Errorf("sqlstore: the key's allowed_ips hold an invalid range %v", p)
		}
	}
	if n := len(allowedIPsText(ranges)); n > maxAllowedIPsText {
		return fmt.Errorf("sqlstore: the key's allowed_ips take %d bytes, more than %d", n, maxAllowedIPsText)
	}
	return nil
}
