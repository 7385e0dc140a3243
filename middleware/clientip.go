package middleware

import (
	"errors"
	"net/http"
	"net/netip"
	"strings"

	"github.com/keycaphq/keycap"
)

// ForwardedClientIP returns a function for [Options].ClientIP for an app
// behind proxies of its own (load balancers, reverse proxies, a CDN): it
// reads the client address they report in header, "X-Forwarded-For" or
// "Forwarded" (RFC 7239, its for= parameters), trusting only the proxies
// listed, as addresses ("192.0.2.10") or ranges ("10.0.0.0/8").
//
// A request whose peer (r.RemoteAddr) is not a trusted proxy came
// straight from its client: the header is ignored, since a client can send
// any. From a trusted proxy, the header's addresses are read from the
// last (added by the nearest proxy) to the first, skipping trusted
// proxies: the first address that is not one is the client. The addresses
// before it were written by the client or by proxies nobody vouches for,
// and are never read. When the header is missing the peer itself is the
// client; when the walk meets something that is not an address (an
// obfuscated Forwarded node, "unknown", garbage) the client is unknown
// (""), and a key limited to IP ranges is refused: a proxy's address is
// never taken for the client's.
//
// It refuses an unknown header name, an empty list and a proxy that is
// not an address or range. The function it returns is safe for concurrent
// use and allocates only to join a header sent on several lines.
func ForwardedClientIP(header string, proxies ...string) (func(r *http.Request) string, error) {
	f := forwarded{header: http.CanonicalHeaderKey(header)}
	if f.header != "X-Forwarded-For" && f.header != "Forwarded" {
		return nil, errors.New(`middleware: ForwardedClientIP: header must be "X-Forwarded-For" or "Forwarded"`)
	}
	if len(proxies) == 0 {
		return nil, errors.New("middleware: ForwardedClientIP: list the proxies to trust; with none, use the default ClientIP (the peer's address)")
	}
	for _, p := range proxies {
		prefix, err := netip.ParsePrefix(p)
		if err != nil {
			addr, aerr := netip.ParseAddr(p)
			if aerr != nil || addr.Zone() != "" {
				return nil, errors.New("middleware: ForwardedClientIP: proxy " + p + " is not an address or a range such as 10.0.0.0/8")
			}
			prefix = netip.PrefixFrom(addr.Unmap(), addr.Unmap().BitLen())
		}
		f.trusted = append(f.trusted, prefix.Masked())
	}
	return f.clientIP, nil
}

// forwarded reads the client address from header through trusted proxies.
type forwarded struct {
	header  string         // "X-Forwarded-For" or "Forwarded"
	trusted []netip.Prefix // the proxies
}

func (f forwarded) isTrusted(a netip.Addr) bool {
	for _, p := range f.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// clientIP is what ForwardedClientIP returns.
func (f forwarded) clientIP(r *http.Request) string {
	client := remoteHost(r)
	peer, _, ok := addrOf(client)
	if !ok || !f.isTrusted(peer) {
		return client
	}
	values := r.Header[f.header]
	if len(values) == 0 {
		return client
	}
	list := strings.Join(values, ",")
	for list != "" {
		var hop string
		if i := strings.LastIndexByte(list, ','); i >= 0 {
			list, hop = list[:i], list[i+1:]
		} else {
			list, hop = "", list
		}
		if f.header == "Forwarded" {
			hop = forwardedFor(hop)
		}
		addr, text, ok := addrOf(hop)
		switch {
		case !ok:
			return "" // the chain is unreadable here: the client is unknown
		case !f.isTrusted(addr):
			return text
		}
		client = text
	}
	return client // every hop is a trusted proxy: the first is the client
}

// addrOf reads an address as proxies write it: "192.0.2.1", "2001:db8::1",
// with a port ("192.0.2.1:443", "[2001:db8::1]:443") or in brackets,
// quoted, surrounded by spaces. It returns the address (IPv4-mapped IPv6
// unmapped) and its text within s; zones are refused.
func addrOf(s string) (netip.Addr, string, bool) {
	s = strings.Trim(strings.TrimSpace(s), `"`)
	if rest, ok := strings.CutPrefix(s, "["); ok { // "[2001:db8::1]" or "[2001:db8::1]:443"
		var port string
		if s, port, ok = strings.Cut(rest, "]"); !ok || (port != "" && port[0] != ':') {
			return netip.Addr{}, "", false
		}
	} else if strings.Count(s, ":") == 1 { // "192.0.2.1:443"; IPv6 has more colons, IPv4 none
		s, _, _ = strings.Cut(s, ":")
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Addr{}, "", false
	}
	return a.Unmap(), s, true
}

// forwardedFor returns the for= value of one element of a Forwarded
// header ("for=192.0.2.60;proto=http;by=203.0.113.43"), or "" when it has
// none.
func forwardedFor(element string) string {
	for _, pair := range strings.Split(element, ";") {
		name, value, ok := strings.Cut(strings.TrimSpace(pair), "=")
		if ok && strings.EqualFold(name, "for") {
			return value
		}
	}
	return ""
}

// ipNotAllowed is the answer to a key used from outside its allowed IPs.
func ipNotAllowed(ip string, err error) *keycap.Error {
	message := "this API key may not be used from " + ip + ": its owner limited it to other IP ranges"
	if ip == "" {
		message = "this API key is limited to IP ranges, and the address of this request is unknown"
	}
	return &keycap.Error{Code: keycap.CodeIPNotAllowed, Message: message, Err: err, Details: &keycap.IPNotAllowedDetails{ClientIP: ip}}
}
