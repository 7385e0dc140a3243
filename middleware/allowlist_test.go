package middleware_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap"
	keycaptest "github.com/keycaphq/keycap/httptest_helpers"
	"github.com/keycaphq/keycap/middleware"
	"github.com/keycaphq/keycap/policy"
)

// fromHeader makes the test client choose its address: X-Test-Client-IP.
func fromHeader(o *middleware.Options) {
	o.ClientIP = func(r *http.Request) string { return r.Header.Get("X-Test-Client-IP") }
}

// TestAllowedIPsOverHTTP: allowed_ips on create, in the record, enforced
// with 403 IP_NOT_ALLOWED naming the address, changed and lifted by
// PATCH.
func TestAllowedIPsOverHTTP(t *testing.T) {
	t.Parallel()
	f := newFixture(t, keycaptest.WithMiddleware(fromHeader))
	resp := f.alice.DoJSON(t, http.MethodPost, "/api-keys", map[string]any{"name": "office",
		"permissions": map[string][]string{"files": {"read"}}, "allowed_ips": []string{"2001:db8::/32", "203.0.113.0/24", "198.51.100.7"}})
	keycaptest.RequireCode(t, resp, "")
	var created struct {
		keyBody
		AllowedIPs []string `json:"allowed_ips"`
	}
	resp.JSON(t, &created)
	assert.Equal(t, []string{"198.51.100.7/32", "203.0.113.0/24", "2001:db8::/32"}, created.AllowedIPs)
	from := func(ip string) *keycaptest.Response {
		return f.keyClient(t, created.Key).WithHeader("X-Test-Client-IP", ip).DoJSON(t, http.MethodGet, "/api/files", nil)
	}
	for _, ip := range []string{"203.0.113.9", "::ffff:203.0.113.9", "2001:db8:5::1", "198.51.100.7"} {
		keycaptest.RequireCode(t, from(ip), "")
	}
	for _, ip := range []string{"198.51.100.8", "2001:db9::1", ""} {
		resp := from(ip)
		keycaptest.RequireCode(t, resp, keycap.CodeIPNotAllowed)
		assert.Equal(t, ip, details[keycap.IPNotAllowedDetails](t, resp).ClientIP)
		assert.Empty(t, resp.Header.Get("WWW-Authenticate"), "a 403, not a 401: the key is valid")
		assert.NotContains(t, string(resp.Body), created.Key)
	}

	resp = f.alice.DoJSON(t, http.MethodPatch, "/api-keys/"+created.ID, map[string]any{"allowed_ips": []string{"198.51.100.0/24"}})
	keycaptest.RequireCode(t, resp, "")
	keycaptest.RequireCode(t, from("198.51.100.8"), "")
	keycaptest.RequireCode(t, from("203.0.113.9"), keycap.CodeIPNotAllowed)
	resp = f.alice.DoJSON(t, http.MethodPatch, "/api-keys/"+created.ID, map[string]any{"allowed_ips": []string{}})
	keycaptest.RequireCode(t, resp, "")
	assert.JSONEq(t, `[]`, jsonField(t, resp, "allowed_ips"), "[] lifts the list")
	keycaptest.RequireCode(t, from("192.0.2.1"), "")

	resp = f.alice.DoJSON(t, http.MethodGet, "/api-keys/"+f.aliceKey.ID, nil)
	assert.JSONEq(t, `[]`, jsonField(t, resp, "allowed_ips"), "a key with no list shows []")
}

// TestAllowedIPsBadInput: what is not a list of ranges is a 400 naming the
// field and what to write, and nothing is written.
func TestAllowedIPsBadInput(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for _, tt := range []struct {
		name  string
		value any
		code  keycap.Code
		says  string // what the reason tells the client to do
	}{
		{"null", nil, keycap.CodeInvalidBody, "array of IP ranges"},
		{"a string", "203.0.113.0/24", keycap.CodeInvalidBody, "array of IP ranges"},
		{"a number in the list", []any{"203.0.113.0/24", 7}, keycap.CodeInvalidBody, "array of IP ranges"},
		{"not a range", []string{"203.0.113.0/24", "office"}, keycap.CodeInvalidField, `range 1 ("office") is not an IP range: write one as`},
		{"a range too long", []string{"203.0.113.0/33"}, keycap.CodeInvalidField, "write one as"},
		{"a zone", []string{"fe80::1%eth0"}, keycap.CodeInvalidField, "write one as"},
		{"host bits set", []string{"203.0.113.7/24"}, keycap.CodeInvalidField, "write 203.0.113.0/24 for the range, or 203.0.113.7/32"},
		{"everything", []string{"0.0.0.0/0"}, keycap.CodeInvalidField, "leave allowed_ips out"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			writes := f.store.writes()
			resp := f.alice.DoJSON(t, http.MethodPost, "/api-keys", map[string]any{"name": "x", "permissions": map[string][]string{"files": {"read"}}, "allowed_ips": tt.value})
			keycaptest.RequireCode(t, resp, tt.code)
			assert.Contains(t, string(resp.Body), `"field":"allowed_ips"`)
			assert.Contains(t, resp.Error(t).Message, tt.says)
			resp = f.alice.DoJSON(t, http.MethodPatch, "/api-keys/"+f.aliceKey.ID, map[string]any{"allowed_ips": tt.value})
			keycaptest.RequireCode(t, resp, tt.code)
			assert.Contains(t, resp.Error(t).Message, tt.says)
			assert.Equal(t, writes, f.store.writes(), "nothing written")
		})
	}
}

// TestAllowListRequiredOverHTTP: where the policy requires an allow-list
// for a permission, creating or patching a key into holding it without
// one is 403 IP_ALLOW_LIST_REQUIRED naming the permissions, with nothing
// written; grantable says which permissions need a list.
func TestAllowListRequiredOverHTTP(t *testing.T) {
	t.Parallel()
	c := testPolicy()
	c.IPAllowListFor = []string{"keys:*"}
	f := newFixture(t, keycaptest.WithPolicy(c))
	var g struct {
		Required policy.Permissions `json:"allow_list_required"`
	}
	f.root.DoJSON(t, http.MethodGet, "/api-keys/grantable", nil).JSON(t, &g)
	assert.Equal(t, policy.MustParse("keys:admin"), g.Required)
	g.Required = nil
	f.alice.DoJSON(t, http.MethodGet, "/api-keys/grantable", nil).JSON(t, &g)
	assert.Equal(t, policy.Permissions{}, g.Required, "alice may grant nothing that needs a list")

	keyID := f.mint(t, "root", policy.MustParse("files:read"), 0).ID
	writes := f.store.writes()
	body := map[string]any{"name": "admin bot", "permissions": map[string][]string{"files": {"read"}, "keys": {"admin"}}}
	resp := f.root.DoJSON(t, http.MethodPost, "/api-keys", body)
	keycaptest.RequireCode(t, resp, keycap.CodeAllowListRequired)
	assert.Equal(t, policy.MustParse("keys:admin"), details[keycap.AllowListDetails](t, resp).Permissions)
	assert.Contains(t, resp.Error(t).Message, "set allowed_ips")
	resp = f.root.DoJSON(t, http.MethodPatch, "/api-keys/"+keyID, map[string]any{"permissions": map[string][]string{"keys": {"admin"}}})
	keycaptest.RequireCode(t, resp, keycap.CodeAllowListRequired)
	assert.Equal(t, writes, f.store.writes(), "nothing written")

	body["allowed_ips"] = []string{"10.0.0.0/8"}
	keycaptest.RequireCode(t, f.root.DoJSON(t, http.MethodPost, "/api-keys", body), "")
	resp = f.root.DoJSON(t, http.MethodPatch, "/api-keys/"+keyID, map[string]any{"permissions": map[string][]string{"keys": {"admin"}}, "allowed_ips": []string{"10.0.0.0/8"}})
	keycaptest.RequireCode(t, resp, "")
}

// TestSpoofedForwardedForIgnored: with ForwardedClientIP trusting a proxy
// the test client is not, an X-Forwarded-For naming an allowed address is
// ignored: the request is from the client's own address, refused; through
// a trusted proxy (the client's own address, trusted), the header counts.
func TestSpoofedForwardedForIgnored(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name    string
		trusted string
		want    keycap.Code
	}{
		{"untrusted client", "10.0.0.1", keycap.CodeIPNotAllowed},
		{"trusted proxy", "127.0.0.1", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			clientIP, err := middleware.ForwardedClientIP("X-Forwarded-For", tt.trusted)
			require.NoError(t, err)
			f := newFixture(t, keycaptest.WithMiddleware(func(o *middleware.Options) { o.ClientIP = clientIP }))
			resp := f.alice.DoJSON(t, http.MethodPost, "/api-keys", map[string]any{"name": "office",
				"permissions": map[string][]string{"files": {"read"}}, "allowed_ips": []string{"203.0.113.0/24"}})
			keycaptest.RequireCode(t, resp, "")
			var k keyBody
			resp.JSON(t, &k)
			resp = f.keyClient(t, k.Key).WithHeader("X-Forwarded-For", "203.0.113.9").DoJSON(t, http.MethodGet, "/api/files", nil)
			keycaptest.RequireCode(t, resp, tt.want)
			if tt.want != "" {
				assert.Equal(t, "127.0.0.1", details[keycap.IPNotAllowedDetails](t, resp).ClientIP)
			}
		})
	}
}

// jsonField returns the JSON of field name in resp's body.
func jsonField(t *testing.T, resp *keycaptest.Response, name string) string {
	t.Helper()
	var m map[string]json.RawMessage
	resp.JSON(t, &m)
	return string(m[name])
}
