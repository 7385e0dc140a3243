package middleware_test

// Attacks on per-key IP allow-lists (issue 14) where they meet the
// interop endpoints (issue 15): forward auth through a real Caddy,
// introspection's client_ip, and the client address helpers.

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap"
	keycaptest "github.com/keycaphq/keycap/httptest_helpers"
	"github.com/keycaphq/keycap/internal/testenv"
	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/middleware"
	"github.com/keycaphq/keycap/policy"
)

// limitedKey creates a key of alice holding files:read, limited to ranges.
func limitedKey(t *testing.T, f *fixture, ranges ...string) string {
	t.Helper()
	var ps []netip.Prefix
	for _, r := range ranges {
		ps = append(ps, netip.MustParsePrefix(r))
	}
	_, token, err := f.srv.Manager.Create(context.Background(), keys.CreateRequest{Owner: "alice", Name: "limited",
		Permissions: policy.MustParse("files:read"), AllowedIPs: ps})
	require.NoError(t, err)
	return token
}

// TestAttackAllowListThroughCaddy: the README's Caddyfile in front, keycap
// set up as the README says for forward auth (ForwardedClientIP trusting
// the gateway's address). The client connects to Caddy from 127.0.0.2;
// Caddy reaches keycap from 127.0.0.1. The attacks: a client-sent
// X-Forwarded-For, Forwarded or X-Real-IP naming an allowed address; a
// key limited to the gateway's own address (which a default ClientIP
// would see on every forward-auth request). Safe when only the client's
// own address counts.
func TestAttackAllowListThroughCaddy(t *testing.T) {
	caddy, err := exec.LookPath("caddy")
	if err != nil {
		testenv.Unavailable(t, "caddy", err.Error())
	}
	probe, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Skip("no 127.0.0.2 on this machine: " + err.Error())
	}
	probe.Close()
	clientIP, err := middleware.ForwardedClientIP("X-Forwarded-For", "127.0.0.1")
	require.NoError(t, err)
	f := newFixture(t, keycaptest.WithMiddleware(func(o *middleware.Options) {
		o.ForwardAuth = middleware.ForwardAuth{Rules: map[string][]string{"GET /api/files": {"files:read"}}}
		o.ClientIP = clientIP
	}))
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "backend") }))
	t.Cleanup(backend.Close)
	gw := startCaddy(t, caddy, hostOf(t, f.srv.URL), hostOf(t, backend.URL))
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		DialContext: (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}}).DialContext,
	}}
	send := func(key string, header ...string) (int, string) {
		req, err := http.NewRequest(http.MethodGet, gw+"/api/files", nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+key)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		resp, err := client.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}

	own := limitedKey(t, f, "127.0.0.2/32")
	status, body := send(own)
	require.Equal(t, http.StatusOK, status, "a key limited to the client's own address passes: %s", body)

	office := limitedKey(t, f, "203.0.113.0/24")
	gateway := limitedKey(t, f, "127.0.0.1/32")
	for name, header := range map[string][]string{
		"X-Forwarded-For":            {"X-Forwarded-For", "203.0.113.7"},
		"X-Forwarded-For, two hops":  {"X-Forwarded-For", "203.0.113.7, 127.0.0.1"},
		"Forwarded":                  {"Forwarded", "for=203.0.113.7"},
		"X-Real-IP":                  {"X-Real-IP", "203.0.113.7"},
		"X-Forwarded-For, mapped v6": {"X-Forwarded-For", "::ffff:203.0.113.7"},
	} {
		status, body := send(office, header...)
		assert.Equal(t, http.StatusForbidden, status, "%s: a spoofed header lets an office key through: %s", name, body)
		assert.Contains(t, body, string(keycap.CodeIPNotAllowed), name)
	}
	status, body = send(gateway)
	assert.Equal(t, http.StatusForbidden, status, "a key limited to the gateway's address must not pass for every client: %s", body)
}

// TestAttackIntrospectClientIP: introspection's client_ip is the address
// the asking service saw the key presented from. Attacks: the address in
// IPv4-mapped IPv6 form (must match as IPv4), with a zone, with a port,
// twice, in the query string instead of the body, before the caller is
// authenticated (must not answer about the key). Safe when a limited key
// is active only for an address within its list, and odd forms are
// refused or inactive, never active.
func TestAttackIntrospectClientIP(t *testing.T) {
	secret := strings.Repeat("s", 32)
	f := newFixture(t, keycaptest.WithMiddleware(func(o *middleware.Options) {
		o.Introspection = middleware.Introspection{Secret: secret}
	}))
	token := limitedKey(t, f, "203.0.113.0/24")
	ask := func(auth string, form url.Values, query string) (int, string) {
		req, err := http.NewRequest(http.MethodPost, f.srv.URL+"/api-keys/introspect"+query, strings.NewReader(form.Encode()))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if auth != "" {
			req.Header.Set("Authorization", "Bearer "+auth)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	active := func(body string) bool { return strings.Contains(body, `"active":true`) }

	for ip, want := range map[string]bool{
		"203.0.113.7": true, "::ffff:203.0.113.7": true, "::ffff:cb00:7107": true,
		"198.51.100.7": false, "2001:db8::7": false, "::203.0.113.7": false, // IPv4-compatible is not IPv4-mapped
	} {
		status, body := ask(secret, url.Values{"token": {token}, "client_ip": {ip}}, "")
		require.Equal(t, http.StatusOK, status, ip)
		assert.Equal(t, want, active(body), "client_ip %s: %s", ip, body)
	}
	for name, form := range map[string]url.Values{
		"a zone":   {"token": {token}, "client_ip": {"203.0.113.7%eth0"}},
		"a port":   {"token": {token}, "client_ip": {"203.0.113.7:443"}},
		"brackets": {"token": {token}, "client_ip": {"[::ffff:203.0.113.7]"}},
		"twice":    {"token": {token}, "client_ip": {"198.51.100.7", "203.0.113.7"}},
		"a range":  {"token": {token}, "client_ip": {"203.0.113.0/24"}},
	} {
		status, body := ask(secret, form, "")
		assert.Equal(t, http.StatusBadRequest, status, "%s: %s", name, body)
		assert.False(t, active(body), name)
	}
	status, body := ask(secret, url.Values{"token": {token}}, "?client_ip=203.0.113.7")
	assert.Equal(t, http.StatusOK, status)
	assert.False(t, active(body), "client_ip in the query string is not read: %s", body)

	status, body = ask("", url.Values{"token": {token}, "client_ip": {"203.0.113.7"}}, "")
	assert.Equal(t, http.StatusUnauthorized, status, body)
	assert.False(t, active(body))
	status, body = ask(strings.Repeat("x", 32), url.Values{"token": {token}, "client_ip": {"203.0.113.7"}}, "")
	assert.Equal(t, http.StatusUnauthorized, status, body)
	assert.False(t, active(body))
}
