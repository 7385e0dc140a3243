package promaudit_test

import (
	"context"
	"fmt"
	"log"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/keycaphq/keycap/audit"
	"github.com/keycaphq/keycap/audit/promaudit"
	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/keys/memstore"
	"github.com/keycaphq/keycap/policy"
)

// Example wires Metrics into a Manager as its Observer and one of its
// Auditors, verifies a good key and a bad one, and reads the counters as
// Prometheus scrapes them.
func Example() {
	reg := prometheus.NewRegistry() // in an app: prometheus.DefaultRegisterer
	m, err := promaudit.New(reg, promaudit.Options{})
	if err != nil {
		log.Fatal(err)
	}
	mgr, err := keys.NewManager(keys.Config{
		Store: memstore.New(),
		Policy: policy.MustNew(policy.Config{
			AllowClientPermissions: true,
			Roles:                  map[string]policy.Permissions{"member": policy.MustParse("invoices:read")},
			MaxLifetime:            90 * 24 * time.Hour,
		}),
		Subjects: policy.SubjectsFunc(func(_ context.Context, id string) (policy.Subject, error) {
			return policy.Subject{ID: id, Roles: []string{"member"}}, nil
		}),
		Secret:   []byte("an example secret of 32 bytes..."), // from a secret store in an app
		Observer: m,
		Auditor:  audit.Tee(audit.Slog(nil), m), // the app's auditor, and the metrics
	})
	if err != nil {
		log.Fatal(err)
	}
	defer mgr.Close()

	ctx := context.Background()
	_, key, err := mgr.Create(ctx, keys.CreateRequest{Owner: "ada", Name: "dashboard", Permissions: policy.MustParse("invoices:read")})
	if err != nil {
		log.Fatal(err)
	}
	_, _ = mgr.Verify(ctx, key, "192.0.2.1")
	_, _ = mgr.Verify(ctx, "kc_guess", "192.0.2.1")

	// In an app: serve promhttp.HandlerFor(reg, ...) on an address of its own.
	scrape := httptest.NewRecorder()
	promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).ServeHTTP(scrape, httptest.NewRequest("GET", "/metrics", nil))
	for line := range strings.Lines(scrape.Body.String()) {
		if strings.Contains(line, "_total{") && !strings.HasSuffix(line, " 0\n") { // the counters not at zero
			fmt.Print(line)
		}
	}
	// Output:
	// keycap_key_events_total{type="created"} 1
	// keycap_key_events_total{type="verification_denied"} 1
	// keycap_verifications_total{outcome="accepted"} 1
	// keycap_verifications_total{outcome="malformed"} 1
}
