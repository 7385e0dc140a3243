package middleware_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/middleware"
)

// TestForwardedClientIP: the client address is read from the header only
// through trusted proxies, right to left, stopping at the first address
// that is not a trusted proxy; a header from anybody else is ignored, and
// an unreadable hop makes the client unknown, never a proxy.
func TestForwardedClientIP(t *testing.T) {
	xff, err := middleware.ForwardedClientIP("x-forwarded-for", "10.0.0.0/8", "192.0.2.10", "2001:db8:ff::/48")
	require.NoError(t, err)
	fwd, err := middleware.ForwardedClientIP("Forwarded", "10.0.0.0/8", "2001:db8:ff::/48")
	require.NoError(t, err)
	const x, f = "X-Forwarded-For", "Forwarded"
	tests := []struct {
		name     string
		clientIP func(*http.Request) string
		peer     string
		header   string
		values   []string // one per line
		want     string
	}{
		{"a client, straight", xff, "198.51.100.7:5555", x, nil, "198.51.100.7"},
		{"a spoofed header from an untrusted client is ignored", xff, "198.51.100.7:5555", x, []string{"203.0.113.9"}, "198.51.100.7"},
		{"a spoofed header from an untrusted IPv6 client", xff, "[2001:db8:1::7]:5555", x, []string{"10.0.0.1, 203.0.113.9"}, "2001:db8:1::7"},
		{"one trusted proxy", xff, "10.0.0.1:80", x, []string{"203.0.113.9"}, "203.0.113.9"},
		{"a chain of trusted proxies", xff, "10.0.0.1:80", x, []string{"203.0.113.9, 192.0.2.10, 10.2.3.4"}, "203.0.113.9"},
		{"what the client wrote before the first untrusted hop is never read", xff, "10.0.0.1:80", x,
			[]string{"10.9.9.9, 1.2.3.4, 203.0.113.9, 10.2.3.4"}, "203.0.113.9"},
		{"the header on several lines", xff, "10.0.0.1:80", x, []string{"1.2.3.4, 203.0.113.9", "10.2.3.4"}, "203.0.113.9"},
		{"addresses with ports and spaces", xff, "10.0.0.1:80", x, []string{" 203.0.113.9:4711 ,10.2.3.4:80"}, "203.0.113.9"},
		{"an IPv6 client through an IPv6 proxy", xff, "[2001:db8:ff::1]:443", x, []string{"[2001:db8:1::7]:4711"}, "2001:db8:1::7"},
		{"an IPv4-mapped trusted peer", xff, "[::ffff:10.0.0.1]:80", x, []string{"203.0.113.9"}, "203.0.113.9"},
		{"a trusted peer and no header: the peer is the client", xff, "10.0.0.1:80", x, nil, "10.0.0.1"},
		{"only trusted hops: the first is the client", xff, "10.0.0.1:80", x, []string{"10.7.7.7, 10.2.3.4"}, "10.7.7.7"},
		{"garbage in the chain: unknown", xff, "10.0.0.1:80", x, []string{"203.0.113.9, garbage, 10.2.3.4"}, ""},
		{"an empty hop: unknown", xff, "10.0.0.1:80", x, []string{"203.0.113.9,,10.2.3.4"}, ""},
		{"brackets with garbage after: unknown", xff, "10.0.0.1:80", x, []string{"[2001:db8::1]x"}, ""},
		{"a zone: unknown", xff, "10.0.0.1:80", x, []string{"fe80::1%eth0"}, ""},
		{"garbage before the client is never read", xff, "10.0.0.1:80", x, []string{"garbage, 203.0.113.9"}, "203.0.113.9"},

		{"Forwarded: one proxy", fwd, "10.0.0.1:80", f, []string{"for=203.0.113.9;proto=https;by=10.0.0.1"}, "203.0.113.9"},
		{"Forwarded: quoted IPv6 with a port", fwd, "10.0.0.1:80", f, []string{`for="[2001:db8:cafe::17]:4711"`}, "2001:db8:cafe::17"},
		{"Forwarded: a chain, case-insensitive names", fwd, "10.0.0.1:80", f, []string{"for=203.0.113.9, For=10.1.1.1;proto=http"}, "203.0.113.9"},
		{"Forwarded: an obfuscated node is unknown", fwd, "10.0.0.1:80", f, []string{"for=_hidden, for=10.1.1.1"}, ""},
		{"Forwarded: unknown is unknown", fwd, "10.0.0.1:80", f, []string{"for=unknown"}, ""},
		{"Forwarded: an element with no for", fwd, "10.0.0.1:80", f, []string{"proto=https"}, ""},
		{"Forwarded: spoofed from an untrusted client", fwd, "198.51.100.7:5555", f, []string{"for=203.0.113.9"}, "198.51.100.7"},
		{"Forwarded ignores X-Forwarded-For", fwd, "10.0.0.1:80", f, nil, "10.0.0.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.RemoteAddr = tt.peer
			for _, v := range tt.values {
				r.Header.Add(tt.header, v)
			}
			assert.Equal(t, tt.want, tt.clientIP(r))
		})
	}
}

func TestForwardedClientIPRefusesBadConfiguration(t *testing.T) {
	for name, call := range map[string]func() error{
		"another header": func() error { _, err := middleware.ForwardedClientIP("X-Real-IP", "10.0.0.1"); return err },
		"no proxy":       func() error { _, err := middleware.ForwardedClientIP("X-Forwarded-For"); return err },
		"not an address": func() error { _, err := middleware.ForwardedClientIP("X-Forwarded-For", "proxy.internal"); return err },
		"a zone":         func() error { _, err := middleware.ForwardedClientIP("Forwarded", "fe80::1%eth0"); return err },
	} {
		assert.Error(t, call(), name)
	}
}

// TestForwardedClientIPAllocatesNothing: reading a one-line header from a
// trusted proxy allocates nothing (the answer is a part of the header).
func TestForwardedClientIPAllocatesNothing(t *testing.T) {
	clientIP, err := middleware.ForwardedClientIP("X-Forwarded-For", "10.0.0.0/8")
	require.NoError(t, err)
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.RemoteAddr = "10.0.0.1:80"
	r.Header.Set("X-Forwarded-For", "203.0.113.9, 10.2.3.4")
	assert.Zero(t, testing.AllocsPerRun(100, func() {
		if clientIP(r) != "203.0.113.9" {
			t.Fatal("wrong client")
		}
	}))
}
