package middleware_test

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap"
	keycaptest "github.com/keycaphq/keycap/httptest_helpers"
	"github.com/keycaphq/keycap/internal/testenv"
	"github.com/keycaphq/keycap/middleware"
	"github.com/keycaphq/keycap/ratelimit"
)

// backend is the service behind the gateway: it counts the requests that
// reach it and remembers the keycap headers of the last one.
type backend struct {
	hits atomic.Int64
	mu   sync.Mutex
	seen http.Header
}

func (b *backend) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b.hits.Add(1)
	b.mu.Lock()
	b.seen = http.Header{}
	for _, name := range []string{"X-Keycap-Owner", "X-Keycap-Key-Id", "X-Keycap-Permissions"} {
		if v, ok := r.Header[name]; ok {
			b.seen[name] = v
		}
	}
	b.mu.Unlock()
	_, _ = w.Write([]byte("backend: " + r.Method + " " + r.URL.Path))
}

func (b *backend) lastSeen() http.Header {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.seen
}

// TestGatewayCaddy runs the Caddyfile of the README's "Beyond one Go app"
// section with a real Caddy in front of a backend, keycap answering its
// forward_auth subrequests, and sends keyed requests through it.
func TestGatewayCaddy(t *testing.T) {
	caddy, err := exec.LookPath("caddy")
	if err != nil {
		testenv.Unavailable(t, "caddy (the gateway of the forward-auth test: apt-get install caddy)", err.Error())
	}
	f := newFixture(t, keycaptest.WithMiddleware(func(o *middleware.Options) {
		o.ForwardAuth = middleware.ForwardAuth{Rules: gatewayRules}
		o.RateLimit = middleware.RateLimit{PerKey: ratelimit.Limit{Requests: 5, Window: time.Hour}}
	}))
	be := &backend{}
	backendSrv := httptest.NewServer(be)
	t.Cleanup(backendSrv.Close)
	gateway := startCaddy(t, caddy, hostOf(t, f.srv.URL), hostOf(t, backendSrv.URL))
	through := func(key, method, path string, header ...string) *keycaptest.Response {
		c := keycaptest.NewClient(t, gateway).WithKey(key)
		for i := 0; i+1 < len(header); i += 2 {
			c = c.WithHeader(header[i], header[i+1])
		}
		return c.DoJSON(t, method, path, nil)
	}

	// Allowed: the backend sees who calls, never what the client claimed.
	resp := through(f.aliceKey.Key, "GET", "/api/files/7", "X-Keycap-Owner", "bob", "X-Keycap-Permissions", "files:delete")
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", resp.Body)
	assert.Equal(t, "backend: GET /api/files/7", string(resp.Body))
	assert.Equal(t, http.Header{"X-Keycap-Owner": {"alice"}, "X-Keycap-Key-Id": {f.aliceKey.ID}, "X-Keycap-Permissions": {"files:read files:write"}}, be.lastSeen())
	hits := be.hits.Load()

	refusals := []struct {
		name, key, method, path string
		header                  []string
		code                    keycap.Code
	}{
		{"missing permission", f.aliceKey.Key, "DELETE", "/api/files/7", nil, keycap.CodeInsufficientPermissions},
		{"spoofed URI", f.aliceKey.Key, "DELETE", "/api/files/7", []string{"X-Forwarded-Uri", "/api/status", "X-Forwarded-Method", "GET"}, keycap.CodeInsufficientPermissions},
		{"no key", "", "GET", "/api/files", []string{"X-Keycap-Owner", "alice"}, keycap.CodeUnauthenticated},
		{"bad key", f.aliceKey.Key + "x", "GET", "/api/files", nil, keycap.CodeKeyInvalid},
		{"no rule", f.bobKey.Key, "POST", "/api/files", nil, keycap.CodeForbidden},
	}
	for _, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) {
			resp := through(tt.key, tt.method, tt.path, tt.header...)
			keycaptest.RequireCode(t, resp, tt.code)
			if tt.code.Status() == http.StatusUnauthorized {
				assert.Contains(t, resp.Header.Get("WWW-Authenticate"), `Bearer realm="api"`)
			}
			if tt.code == keycap.CodeInsufficientPermissions {
				assert.Equal(t, `Bearer realm="api", error="insufficient_scope", scope="files:delete"`, resp.Header.Get("WWW-Authenticate"))
			}
		})
	}
	assert.Equal(t, hits, be.hits.Load(), "no refused request reached the backend")

	// Rate limited: alice's key has spent 3 of its 5 (the allowed request, two refusals after verification).
	var limited *keycaptest.Response
	for range 6 {
		if limited = through(f.aliceKey.Key, "GET", "/api/status"); limited.StatusCode == http.StatusTooManyRequests {
			break
		}
	}
	keycaptest.RequireCode(t, limited, keycap.CodeRateLimited)
	assert.NotEmpty(t, limited.Header.Get("Retry-After"))
	assert.Equal(t, `"key";q=5;w=3600`, limited.Header.Get("RateLimit-Policy"))

	// Revoked by its holder: refused at its next request.
	require.Equal(t, http.StatusOK, through(f.bobKey.Key, "GET", "/api/files").StatusCode)
	require.Equal(t, http.StatusOK, f.anon.PostForm(t, "/api-keys/revoke", url.Values{"token": {f.bobKey.Key}}).StatusCode)
	hits = be.hits.Load()
	keycaptest.RequireCode(t, through(f.bobKey.Key, "GET", "/api/files"), keycap.CodeKeyInvalid)
	assert.Equal(t, hits, be.hits.Load())
}

// startCaddy runs the README's Caddyfile with the app at app and the
// backend at backendAddr, and returns the gateway's base URL.
func startCaddy(t *testing.T, caddy, app, backendAddr string) string {
	t.Helper()
	config := readmeBlock(t, "caddyfile")
	gateway := freeAddr(t)
	for old, repl := range map[string]string{"127.0.0.1:8000": gateway, "127.0.0.1:8080": app, "127.0.0.1:9000": backendAddr} {
		require.Contains(t, config, old, "the README's Caddyfile")
		config = strings.ReplaceAll(config, old, repl)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "Caddyfile")
	require.NoError(t, os.WriteFile(file, []byte(config), 0o600))
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, caddy, "run", "--config", file, "--adapter", "caddyfile")
	cmd.Env = append(os.Environ(), "HOME="+dir, "XDG_CONFIG_HOME="+dir, "XDG_DATA_HOME="+dir)
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("caddy's log:\n%s", logs.String())
		}
	})
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", gateway, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return "http://" + gateway
		}
		if time.Now().After(deadline) || cmd.ProcessState != nil {
			t.Fatalf("caddy did not listen on %s: %v\n%s", gateway, err, logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// readmeBlock returns the first ```lang block of the README's "Beyond one
// Go app" section.
func readmeBlock(t *testing.T, lang string) string {
	t.Helper()
	readme, err := os.ReadFile("../README.md")
	require.NoError(t, err)
	_, section, ok := strings.Cut(string(readme), "\n## Beyond one Go app\n")
	require.True(t, ok, "the README has a Beyond one Go app section")
	_, block, ok := strings.Cut(section, "\n```"+lang+"\n")
	require.True(t, ok, "the section has a ```%s block", lang)
	block, _, ok = strings.Cut(block, "\n```\n")
	require.True(t, ok)
	return block + "\n"
}

// freeAddr returns a loopback address no one listens on now.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}

func hostOf(t *testing.T, rawURL string) string {
	t.Helper()
	u, err := url.Parse(rawURL)
	require.NoError(t, err)
	return u.Host
}
