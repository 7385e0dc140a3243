package promaudit_test

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/audit"
	"github.com/keycaphq/keycap/audit/promaudit"
	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/keys/memstore"
	"github.com/keycaphq/keycap/policy"
)

var (
	testSecret = []byte("0123456789abcdef0123456789abcdef")
	testNow    = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	testPolicy = policy.MustNew(policy.Config{
		AllowClientPermissions: true,
		Roles:                  map[string]policy.Permissions{"editor": policy.MustParse("files:read", "files:write")},
		MaxLifetime:            90 * 24 * time.Hour,
	})
	testUsers = policy.SubjectsFunc(func(_ context.Context, id string) (policy.Subject, error) {
		return policy.Subject{ID: id, Roles: []string{"editor"}}, nil
	})
)

// newManager returns a Manager over a fresh memstore at a fixed time,
// observed and audited by o (nil: neither).
func newManager(t testing.TB, o *promaudit.Metrics) *keys.Manager {
	t.Helper()
	c := keys.Config{Store: memstore.New(), Policy: testPolicy, Subjects: testUsers, Secret: testSecret,
		Now: func() time.Time { return testNow }}
	if o != nil {
		c.Observer, c.Auditor = o, audit.Tee(audit.NewMemory(0), o)
	}
	m, err := keys.NewManager(c)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, m.Close()) })
	return m
}

// newKey creates a files:read key for owner through m.
func newKey(t testing.TB, m *keys.Manager, owner string) (*keys.Key, string) {
	t.Helper()
	k, raw, err := m.Create(context.Background(), keys.CreateRequest{Owner: owner, Name: "test", Permissions: policy.MustParse("files:read")})
	require.NoError(t, err)
	return k, raw
}

// newMetrics returns Metrics registered with a fresh registry.
func newMetrics(t testing.TB) (*promaudit.Metrics, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	m, err := promaudit.New(reg, promaudit.Options{})
	require.NoError(t, err)
	return m, reg
}

// sampleCounts returns the number of observations of the histogram name
// in reg, by its result label.
func sampleCounts(t *testing.T, reg prometheus.Gatherer, name string) map[string]uint64 {
	t.Helper()
	families, err := reg.Gather()
	require.NoError(t, err)
	counts := map[string]uint64{}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "result" {
					counts[l.GetValue()] = m.GetHistogram().GetSampleCount()
				}
			}
		}
	}
	return counts
}

// scrape returns what Prometheus reads from reg, in the text format.
func scrape(t *testing.T, reg prometheus.Gatherer) string {
	t.Helper()
	rec := httptest.NewRecorder()
	promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	require.Equal(t, 200, rec.Code)
	return rec.Body.String()
}
