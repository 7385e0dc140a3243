package promaudit_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/audit"
	"github.com/keycaphq/keycap/audit/promaudit"
	"github.com/keycaphq/keycap/internal/keyforge"
	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/policy"
)

// TestMetricsOverManager drives a real Manager through verifications of
// every kind a client can cause and through every kind of change, and
// reads what the registry exposes.
func TestMetricsOverManager(t *testing.T) {
	metrics, reg := newMetrics(t)
	mgr := newManager(t, metrics)
	ctx := context.Background()
	verify := func(raw string, want error) {
		t.Helper()
		_, err := mgr.Verify(ctx, raw, "192.0.2.1")
		if want == nil {
			require.NoError(t, err)
		} else {
			require.ErrorIs(t, err, want)
		}
	}

	k, raw := newKey(t, mgr, "alice")                  // created
	_, foreign := newKey(t, newManager(t, nil), "eve") // well formed, unknown here
	verify(raw, nil)
	verify(raw, nil)
	verify("kc_not-a-key", keys.ErrInvalid) // denial audited: the first anonymous one of the minute
	verify(foreign, keys.ErrInvalid)        // unknown: counted, its denial coalesced with the one before
	ref := keys.Ref{Owner: "alice", ID: k.ID}
	name, off, on := "renamed", true, false
	_, err := mgr.Update(ctx, keys.UpdateRequest{Ref: ref, Name: &name}) // updated
	require.NoError(t, err)
	_, err = mgr.Update(ctx, keys.UpdateRequest{Ref: ref, Disabled: &off}) // disabled
	require.NoError(t, err)
	verify(raw, keys.ErrInvalid)                                          // disabled: denial audited
	_, err = mgr.Update(ctx, keys.UpdateRequest{Ref: ref, Disabled: &on}) // enabled
	require.NoError(t, err)
	_, rotated, err := mgr.Rotate(ctx, keys.RotateRequest{Ref: ref}) // rotated, no grace
	require.NoError(t, err)
	verify(raw, keys.ErrInvalid)                                             // the old secret: wrong_secret, denial audited
	_, err = mgr.Revoke(ctx, keys.RevokeRequest{Ref: ref, Reason: "leaked"}) // revoked
	require.NoError(t, err)
	verify(rotated, keys.ErrInvalid) // revoked: denial audited
	_, _, err = mgr.Create(ctx, keys.CreateRequest{Owner: "alice", Name: "x", Permissions: policy.MustParse("billing:read")})
	require.Error(t, err) // refused: beyond alice's cap

	expected := `
# HELP keycap_verifications_total Key verifications, by outcome: accepted, or why the key was refused.
# TYPE keycap_verifications_total counter
keycap_verifications_total{outcome="accepted"} 2
keycap_verifications_total{outcome="disabled"} 1
keycap_verifications_total{outcome="error"} 0
keycap_verifications_total{outcome="expired"} 0
keycap_verifications_total{outcome="ip_not_allowed"} 0
keycap_verifications_total{outcome="malformed"} 1
keycap_verifications_total{outcome="owner_gone"} 0
keycap_verifications_total{outcome="parent_invalid"} 0
keycap_verifications_total{outcome="revoked"} 1
keycap_verifications_total{outcome="unavailable"} 0
keycap_verifications_total{outcome="unknown"} 1
keycap_verifications_total{outcome="wrong_secret"} 1
# HELP keycap_key_events_total Audited key events, by type. Denied verifications are audited at most once per key and reason per interval: count refusals with verifications_total.
# TYPE keycap_key_events_total counter
keycap_key_events_total{type="created"} 1
keycap_key_events_total{type="disabled"} 1
keycap_key_events_total{type="enabled"} 1
keycap_key_events_total{type="leaked"} 0
keycap_key_events_total{type="other"} 0
keycap_key_events_total{type="refused"} 1
keycap_key_events_total{type="revoked"} 1
keycap_key_events_total{type="rotated"} 1
keycap_key_events_total{type="updated"} 1
keycap_key_events_total{type="verification_denied"} 4
`
	// Every series is there from the start: the zeros are exposed too.
	// verification_denied is 4, not 5: the unknown id came within the
	// minute of the malformed key, and anonymous denials are coalesced.
	require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(expected),
		"keycap_verifications_total", "keycap_key_events_total"))
	assert.Equal(t, map[string]uint64{"accepted": 2, "refused": 5, "error": 0},
		sampleCounts(t, reg, "keycap_verification_duration_seconds"))
}

// TestMetricsNeverExposeKeysOrIDs: nothing a verification or an event
// carries about a key reaches the exposition, only the fixed labels.
func TestMetricsNeverExposeKeysOrIDs(t *testing.T) {
	metrics, reg := newMetrics(t)
	mgr := newManager(t, metrics)
	k, raw := newKey(t, mgr, "alice")
	_, err := mgr.Verify(context.Background(), raw, "192.0.2.1")
	require.NoError(t, err)
	_, err = mgr.Verify(context.Background(), keyforge.Typo(raw), "192.0.2.1")
	require.Error(t, err)

	text := scrape(t, reg)
	require.Contains(t, text, `keycap_verifications_total{outcome="accepted"} 1`)
	for _, secret := range []string{raw, k.ID, "alice", "192.0.2.1"} {
		assert.NotContains(t, text, secret)
	}
	families, err := reg.Gather()
	require.NoError(t, err)
	labels := map[string]bool{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = true
			}
		}
	}
	assert.Equal(t, map[string]bool{"outcome": true, "result": true, "type": true}, labels)
}

// TestMetricsUnknownLabels: an outcome or an event type this package does
// not know (from a later keycap, or a caller) adds no series.
func TestMetricsUnknownLabels(t *testing.T) {
	metrics, reg := newMetrics(t)
	before := testutil.CollectAndCount(metrics)
	metrics.Verification(context.Background(), audit.Verification{Outcome: "something_new", Duration: time.Millisecond})
	metrics.Verification(context.Background(), audit.Verification{Outcome: "unavailable", Duration: time.Second})
	metrics.Audit(context.Background(), audit.Event{Type: "archived"})
	assert.Equal(t, before, testutil.CollectAndCount(metrics), "no new series")
	require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP keycap_key_events_total Audited key events, by type. Denied verifications are audited at most once per key and reason per interval: count refusals with verifications_total.
# TYPE keycap_key_events_total counter
keycap_key_events_total{type="created"} 0
keycap_key_events_total{type="disabled"} 0
keycap_key_events_total{type="enabled"} 0
keycap_key_events_total{type="leaked"} 0
keycap_key_events_total{type="other"} 1
keycap_key_events_total{type="refused"} 0
keycap_key_events_total{type="revoked"} 0
keycap_key_events_total{type="rotated"} 0
keycap_key_events_total{type="updated"} 0
keycap_key_events_total{type="verification_denied"} 0
`), "keycap_key_events_total"))
	assert.Equal(t, map[string]uint64{"accepted": 0, "refused": 0, "error": 2},
		sampleCounts(t, reg, "keycap_verification_duration_seconds"))
}

// TestMetricsRegistration: a second registration with one registry is the
// registry's error, returned; a nil registerer registers nothing.
func TestMetricsRegistration(t *testing.T) {
	reg := prometheus.NewRegistry()
	_, err := promaudit.New(reg, promaudit.Options{})
	require.NoError(t, err)
	again, err := promaudit.New(reg, promaudit.Options{})
	assert.Nil(t, again)
	var dup prometheus.AlreadyRegisteredError
	require.ErrorAs(t, err, &dup)

	other, err := promaudit.New(reg, promaudit.Options{Namespace: "billing_keys"})
	require.NoError(t, err, "another namespace is another set of metrics")
	other.Verification(context.Background(), audit.Verification{Outcome: "accepted"})
	n, err := testutil.GatherAndCount(reg, "billing_keys_verifications_total", "keycap_verifications_total")
	require.NoError(t, err)
	assert.Equal(t, 24, n) // 12 outcomes in each namespace

	unregistered, err := promaudit.New(nil, promaudit.Options{})
	require.NoError(t, err)
	unregistered.Audit(context.Background(), audit.Event{Type: audit.Created})
	require.NoError(t, testutil.CollectAndCompare(unregistered, bytes.NewBufferString(`
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
keycap_key_events_total{type="verification_denied"} 0
`), "keycap_key_events_total"), "a Collector of its own")
}

// TestNewRefusesBadOptions: bad options fail in New, with an error, and
// register nothing.
func TestNewRefusesBadOptions(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts promaudit.Options
		want string
	}{
		{"namespace with a dash", promaudit.Options{Namespace: "key-cap"}, "Namespace"},
		{"namespace starting with a digit", promaudit.Options{Namespace: "1keycap"}, "Namespace"},
		{"empty buckets", promaudit.Options{Buckets: []float64{}}, "Buckets"},
		{"decreasing buckets", promaudit.Options{Buckets: []float64{0.1, 0.01}}, "Buckets"},
		{"repeated bucket", promaudit.Options{Buckets: []float64{0.1, 0.1}}, "Buckets"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg := prometheus.NewRegistry()
			m, err := promaudit.New(reg, tc.opts)
			require.Error(t, err)
			assert.Nil(t, m)
			assert.Contains(t, err.Error(), tc.want)
			families, err := reg.Gather()
			require.NoError(t, err)
			assert.Empty(t, families, "nothing registered")
		})
	}
}

// TestCustomBuckets: Options.Buckets replace the default bounds.
func TestCustomBuckets(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := promaudit.New(reg, promaudit.Options{Namespace: "api", Buckets: []float64{0.001, 0.01}})
	require.NoError(t, err)
	m.Verification(context.Background(), audit.Verification{Outcome: "accepted", Duration: 5 * time.Millisecond})
	require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP api_verification_duration_seconds Time taken to verify a key, by result: accepted, refused, or error (the store was unavailable).
# TYPE api_verification_duration_seconds histogram
api_verification_duration_seconds_bucket{result="accepted",le="0.001"} 0
api_verification_duration_seconds_bucket{result="accepted",le="0.01"} 1
api_verification_duration_seconds_bucket{result="accepted",le="+Inf"} 1
api_verification_duration_seconds_sum{result="accepted"} 0.005
api_verification_duration_seconds_count{result="accepted"} 1
api_verification_duration_seconds_bucket{result="error",le="0.001"} 0
api_verification_duration_seconds_bucket{result="error",le="0.01"} 0
api_verification_duration_seconds_bucket{result="error",le="+Inf"} 0
api_verification_duration_seconds_sum{result="error"} 0
api_verification_duration_seconds_count{result="error"} 0
api_verification_duration_seconds_bucket{result="refused",le="0.001"} 0
api_verification_duration_seconds_bucket{result="refused",le="0.01"} 0
api_verification_duration_seconds_bucket{result="refused",le="+Inf"} 0
api_verification_duration_seconds_sum{result="refused"} 0
api_verification_duration_seconds_count{result="refused"} 0
`), "api_verification_duration_seconds"))
}
