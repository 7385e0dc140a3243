package middleware_test

// Attacks on forward auth through the README's Caddyfile and a real Caddy.

import (
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"github.com/gorilla/mux"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap"
	keycaptest "github.com/keycaphq/keycap/httptest_helpers"
	"github.com/keycaphq/keycap/internal/testenv"
	"github.com/keycaphq/keycap/middleware"
	"github.com/keycaphq/keycap/policy"
)

// recordingBackend remembers the route each request reached.
type recordingBackend struct {
	mu      sync.Mutex
	reached []string
	header  http.Header
}

func (b *recordingBackend) hit(route string, r *http.Request) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.reached = append(b.reached, route)
	b.header = r.Header.Clone()
}

func (b *recordingBackend) last() (string, http.Header) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.reached) == 0 {
		return "", nil
	}
	return b.reached[len(b.reached)-1], b.header
}

// gateway starts the README's Caddyfile in front of backend, with keycap's
// forward auth on rules; it returns the fixture and a function sending
// method path with key through the gateway.
func gateway(t *testing.T, rules map[string][]string, backend http.Handler) (*fixture, func(key, method, path string, header ...string) *keycaptest.Response) {
	t.Helper()
	caddy, err := exec.LookPath("caddy")
	if err != nil {
		testenv.Unavailable(t, "caddy", err.Error())
	}
	f := newFixture(t, keycaptest.WithMiddleware(func(o *middleware.Options) {
		o.ForwardAuth = middleware.ForwardAuth{Rules: rules}
	}))
	be := httptest.NewServer(backend)
	t.Cleanup(be.Close)
	gw := startCaddy(t, caddy, hostOf(t, f.srv.URL), hostOf(t, be.URL))
	return f, func(key, method, path string, header ...string) *keycaptest.Response {
		c := keycaptest.NewClient(t, gw).WithKey(key)
		for i := 0; i+1 < len(header); i += 2 {
			c = c.WithHeader(header[i], header[i+1])
		}
		req, err := http.NewRequest(method, gw+path, nil)
		require.NoError(t, err)
		return c.Do(t, req)
	}
}

// Was a bug, fixed: forward auth matches the forwarded URI like a ServeMux, for which
// an escaped slash (%2F) is part of a segment: GET /api/projects/7%2Fbilling
// is "GET /api/projects/{id}" with id "7/billing", and needs only
// projects:read. Caddy forwards the request as it came, and a backend that
// routes on the decoded path (gorilla/mux by default, Flask/Werkzeug and
// other WSGI apps, Rails...) serves GET /api/projects/7/billing, whose rule
// says billing:read. keycap refuses "..", "//" and other unclean paths in
// X-Forwarded-Uri, but not the encodings that make the gateway's route and
// the backend's differ. A key holding projects:read reads billing.
func TestAttackForwardAuthEncodedSlash(t *testing.T) {
	be := &recordingBackend{}
	r := mux.NewRouter() // gorilla/mux with its defaults: it matches r.URL.Path, decoded
	r.HandleFunc("/api/projects/{id}", func(w http.ResponseWriter, req *http.Request) { be.hit("project", req) }).Methods("GET")
	r.HandleFunc("/api/projects/{id}/billing", func(w http.ResponseWriter, req *http.Request) {
		be.hit("billing", req)
		_, _ = w.Write([]byte("invoices of project " + mux.Vars(req)["id"]))
	}).Methods("GET")
	f, through := gateway(t, map[string][]string{
		"GET /api/projects/{id}":         {"projects:read"},
		"GET /api/projects/{id}/billing": {"billing:read"},
	}, r)
	reader := f.mint(t, "alice", policy.Permissions{"projects": {"read"}}, 0)

	keycaptest.RequireCode(t, through(reader.Key, "GET", "/api/projects/7/billing"), keycap.CodeInsufficientPermissions)
	resp := through(reader.Key, "GET", "/api/projects/7%2Fbilling")
	route, _ := be.last()
	t.Logf("GET /api/projects/7%%2Fbilling with projects:read only: %d %q, backend route %q", resp.StatusCode, resp.Body, route)
	assert.NotEqual(t, "billing", route, "a key without billing:read reached the billing route")
}

// Was a bug, fixed: rules are matched case-sensitively on the forwarded method, like a
// ServeMux, and a pattern without a method matches any string. Caddy passes
// a lowercase method through ("delete"), and backends that upper-case the
// method before routing (Django's request.method, Werkzeug/Flask, ...) run
// DELETE. With rules of the documented form "/api/": read, "DELETE /api/":
// delete, a key holding only files:read deletes.
func TestAttackForwardAuthMethodCase(t *testing.T) {
	be := &recordingBackend{}
	backend := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		method := strings.ToUpper(r.Method) // as Django and Werkzeug read it
		be.hit(method+" "+r.URL.Path, r)
	})
	f, through := gateway(t, map[string][]string{
		"/api/":        {"files:read"},
		"DELETE /api/": {"files:delete"},
	}, backend)
	reader := f.mint(t, "alice", filesRead, 0)

	keycaptest.RequireCode(t, through(reader.Key, "DELETE", "/api/files/7"), keycap.CodeInsufficientPermissions)
	resp := through(reader.Key, "delete", "/api/files/7")
	route, _ := be.last()
	t.Logf("method \"delete\" with files:read only: %d, backend ran %q", resp.StatusCode, route)
	assert.NotEqual(t, "DELETE /api/files/7", route, "a key without files:delete reached DELETE")
}

// Held: through the README's Caddyfile, what a client sends in keycap's
// headers, or in X-Forwarded-*, never reaches the backend or changes the
// rule; path tricks Caddy passes on are refused by forward auth.
func TestAttackGatewaySpoofing(t *testing.T) {
	be := &recordingBackend{}
	backend := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { be.hit(r.Method+" "+r.URL.EscapedPath(), r) })
	f, through := gateway(t, gatewayRules, backend)
	alice := f.aliceKey.Key // files:read files:write

	resp := through(alice, "GET", "/api/files",
		"X-Keycap-Owner", "bob", "X-Keycap-Key-Id", f.bobKey.ID, "X-Keycap-Permissions", "files:delete",
		"X-Forwarded-Method", "GET", "X-Forwarded-Uri", "/api/status", "X-Original-Uri", "/api/status",
		"X-Http-Method-Override", "DELETE")
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", resp.Body)
	_, h := be.last()
	assert.Equal(t, []string{"alice"}, h.Values("X-Keycap-Owner"))
	assert.Equal(t, []string{f.aliceKey.ID}, h.Values("X-Keycap-Key-Id"))
	assert.Equal(t, []string{"files:read files:write"}, h.Values("X-Keycap-Permissions"))
	for name := range h {
		if strings.Contains(strings.ToLower(name), "keycap") {
			assert.Contains(t, []string{"X-Keycap-Owner", "X-Keycap-Key-Id", "X-Keycap-Permissions"}, name)
		}
	}

	for _, tt := range []struct{ method, path string }{
		{"DELETE", "/api/files/7"},
		{"DELETE", "/api/status/../files/7"},
		{"DELETE", "/api/status/%2e%2e/files/7"},
		{"DELETE", "/api//files/7"},
		{"DELETE", "/API/files/7"},
		{"DELETE", "/api/files/7/"},
		{"DELETE", "/api/files/7?x=/api/status"},
		{"DELETE", "/api/files/7;/api/status"},
		{"GET", "/api/status/../../admin"},
		{"POST", "/api/files"},
	} {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			before := len(be.reached)
			resp := through(alice, tt.method, tt.path, "X-Forwarded-Method", "GET", "X-Forwarded-Uri", "/api/status")
			// Refused by keycap, or (../../admin) matched by no Caddy route.
			assert.Equal(t, before, len(be.reached), "the backend was not reached: %d %s", resp.StatusCode, resp.Body)
		})
	}
}
