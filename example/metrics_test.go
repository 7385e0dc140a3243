package main

import (
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/keycaphq/keycap"
	"github.com/keycaphq/keycap/audit/promaudit"
	keycaptest "github.com/keycaphq/keycap/httptest_helpers"
	"github.com/keycaphq/keycap/policy"
)

// TestMetricsProcess runs the built example with KEYCAP_METRICS_ADDR: a
// verified request and a refused one show in the counters at GET /metrics
// on that address, and the app's own port serves no metrics. Started
// again without the variable, it opens no metrics listener.
func TestMetricsProcess(t *testing.T) {
	bin := buildExample(t)
	dir := t.TempDir()
	port, metricsPort := freePort(t), freePort(t)
	require.NotEqual(t, port, metricsPort)
	base, metricsURL := "http://127.0.0.1:"+port, "http://127.0.0.1:"+metricsPort+"/metrics"

	p := startExample(t, bin, dir, port, "KEYCAP_METRICS_ADDR=127.0.0.1:"+metricsPort)
	alice := mustLogIn(t, base, "alice")
	created := alice.CreateKey(t, "/api-keys", "metrics", policy.Permissions{"files": {"read"}})
	resp := alice.KeyOnly(t, created.Key).DoJSON(t, http.MethodGet, "/api/files", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", resp.Body)
	resp = keycaptest.NewClient(t, base).WithKey("kc_not-a-key").DoJSON(t, http.MethodGet, "/api/files", nil)
	keycaptest.RequireCode(t, resp, keycap.CodeKeyInvalid)

	require.NoError(t, testutil.ScrapeAndCompare(metricsURL, strings.NewReader(`
# HELP keycap_verifications_total Key verifications, by outcome: accepted, or why the key was refused.
# TYPE keycap_verifications_total counter
keycap_verifications_total{outcome="accepted"} 1
keycap_verifications_total{outcome="disabled"} 0
keycap_verifications_total{outcome="error"} 0
keycap_verifications_total{outcome="expired"} 0
keycap_verifications_total{outcome="ip_not_allowed"} 0
keycap_verifications_total{outcome="malformed"} 1
keycap_verifications_total{outcome="owner_gone"} 0
keycap_verifications_total{outcome="parent_invalid"} 0
keycap_verifications_total{outcome="revoked"} 0
keycap_verifications_total{outcome="unavailable"} 0
keycap_verifications_total{outcome="unknown"} 0
keycap_verifications_total{outcome="wrong_secret"} 0
# HELP keycap_key_events_total Audited key events, by type. Denied verifications are audited at most once per key and reason per interval: count refusals with verifications_total.
# TYPE keycap_key_events_total counter
keycap_key_events_total{type="created"} 1
keycap_key_events_total{type="disabled"} 0
keycap_key_events_total{type="enabled"} 0
keycap_key_events_total{type="leaked"} 0
keycap_key_events_total{type="other"} 0
keycap_key_events_total{type="refused"} 0
keycap_key_events_total{type="revoked"} 0
keycap_key_events_total{type="rotated"} 0
keycap_key_events_total{type="updated"} 0
keycap_key_events_total{type="verification_denied"} 1
`), "keycap_verifications_total", "keycap_key_events_total"))
	code, body := get(t, metricsURL)
	require.Equal(t, http.StatusOK, code)
	assert.Contains(t, body, `keycap_verification_duration_seconds_count{result="accepted"} 1`)
	assert.Contains(t, body, `keycap_verification_duration_seconds_count{result="refused"} 1`)
	assert.Contains(t, body, "go_goroutines ", "the Go runtime's metrics too")
	for _, secret := range []string{created.Key, created.ID, "alice"} {
		assert.NotContains(t, body, secret, "no key, no id, no owner in the metrics")
	}
	code, body = get(t, base+"/metrics")
	assert.Equal(t, http.StatusNotFound, code, "never on the app's own port")
	assert.NotContains(t, body, "keycap_verifications_total")
	p.stop(t)
	assert.Contains(t, p.stderr(), "serving metrics")

	again := startExample(t, bin, dir, port)
	_, err := http.Get(metricsURL)
	assert.Error(t, err, "without KEYCAP_METRICS_ADDR, no metrics listener")
	again.stop(t)
	assert.NotContains(t, again.stderr(), "metrics")
}

// TestMetricsRegistrationErrorFailsApp: keycap's metrics registered twice
// in one registry make newApp fail with the registry's error, no panic.
func TestMetricsRegistrationErrorFailsApp(t *testing.T) {
	reg := prometheus.NewRegistry()
	_, err := promaudit.New(reg, promaudit.Options{})
	require.NoError(t, err)
	_, err = newApp(config{DBPath: filepath.Join(t.TempDir(), "keycap.db"), BcryptCost: bcrypt.MinCost, Metrics: reg,
		Logger: slog.New(slog.NewTextHandler(t.Output(), nil))})
	var dup prometheus.AlreadyRegisteredError
	require.ErrorAs(t, err, &dup)
}

// get returns the status and body of GET url.
func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(body)
}
