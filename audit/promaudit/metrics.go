package promaudit

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/keycaphq/keycap/audit"
)

// DefaultBuckets are the upper bounds, in seconds, of the verification
// duration histogram: from 250 ns (a malformed key, refused before any
// lookup) through microseconds (a cached key: one HMAC) and milliseconds
// (a store lookup over the network) to one second (a store timing out).
var DefaultBuckets = []float64{
	250e-9, 500e-9,
	1e-6, 2.5e-6, 5e-6, 10e-6, 25e-6, 50e-6, 100e-6, 250e-6, 500e-6,
	1e-3, 2.5e-3, 5e-3, 10e-3, 100e-3,
	1,
}

// Options configures [New]. The zero value means the documented defaults.
type Options struct {
	// Namespace prefixes every metric name: "" means "keycap". It must be
	// a valid Prometheus name: letters, digits and underscores, not
	// starting with a digit.
	Namespace string
	// Buckets are the upper bounds, in seconds and strictly increasing, of
	// the verification duration histogram; nil means [DefaultBuckets].
	Buckets []float64
}

// Metrics counts verifications and key events. It implements
// [audit.Observer], [audit.Auditor] and [prometheus.Collector]. Create it
// with [New]; it is safe for concurrent use, and Verification and Audit
// do not allocate.
type Metrics struct {
	verifications *prometheus.CounterVec
	durations     *prometheus.HistogramVec
	events        *prometheus.CounterVec
	// Read-only after New: the children of every known label, resolved
	// once so that the request path only looks them up.
	outcomes     map[string]*series
	otherOutcome *series
	types        map[audit.Type]prometheus.Counter
	otherType    prometheus.Counter
}

// series is what one verification outcome updates.
type series struct {
	count prometheus.Counter
	took  prometheus.Observer
}

var validName = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

// New returns Metrics registered with reg. A nil reg registers nothing:
// register the returned Metrics (a [prometheus.Collector]) yourself.
// Registering twice with one registry returns the registry's error (a
// [prometheus.AlreadyRegisteredError]); New never panics on a bad
// configuration.
func New(reg prometheus.Registerer, opts Options) (*Metrics, error) {
	ns := opts.Namespace
	ns = cmp.Or(ns, "keycap")
	if !validName.MatchString(ns) {
		return nil, fmt.Errorf("promaudit: Options.Namespace %q is not a valid metric name", ns)
	}
	buckets := opts.Buckets
	if buckets == nil {
		buckets = DefaultBuckets
	}
	if !increasing(buckets) {
		return nil, errors.New("promaudit: Options.Buckets must be strictly increasing")
	}
	m := newMetrics(ns, slices.Clone(buckets))
	if reg != nil {
		if err := reg.Register(m); err != nil {
			return nil, fmt.Errorf("promaudit: registering the metrics: %w", err)
		}
	}
	return m, nil
}

// increasing reports whether b is not empty and strictly increasing
// (which also rules out NaN).
func increasing(b []float64) bool {
	for i := 1; i < len(b); i++ {
		if !(b[i-1] < b[i]) {
			return false
		}
	}
	return len(b) > 0 && b[0] == b[0]
}

func newMetrics(ns string, buckets []float64) *Metrics {
	m := &Metrics{
		verifications: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Name: "verifications_total",
			Help: "Key verifications, by outcome: accepted, or why the key was refused.",
		}, []string{"outcome"}),
		durations: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: ns, Name: "verification_duration_seconds",
			Help:    "Time taken to verify a key, by result: accepted, refused, or error (the store was unavailable).",
			Buckets: buckets,
		}, []string{"result"}),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Name: "key_events_total",
			Help: "Audited key events, by type. Denied verifications are audited at most once per key and reason per interval: count refusals with verifications_total.",
		}, []string{"type"}),
		outcomes: make(map[string]*series, len(outcomes)),
		types:    make(map[audit.Type]prometheus.Counter, len(types)),
	}
	for _, o := range outcomes {
		m.outcomes[o.label] = &series{
			count: m.verifications.WithLabelValues(o.label),
			took:  m.durations.WithLabelValues(o.result),
		}
	}
	m.otherOutcome = m.outcomes[otherOutcome]
	for _, t := range types {
		m.types[t] = m.events.WithLabelValues(string(t))
	}
	m.otherType = m.events.WithLabelValues(otherType)
	return m
}

// Verification implements [audit.Observer]: it counts v by its outcome and
// observes its duration. An outcome this package does not know (from a
// later keycap) is counted as "error".
func (m *Metrics) Verification(_ context.Context, v audit.Verification) {
	s, ok := m.outcomes[v.Outcome]
	if !ok {
		s = m.otherOutcome
	}
	s.count.Inc()
	s.took.Observe(v.Duration.Seconds())
}

// Audit implements [audit.Auditor]: it counts e by its type. A type this
// package does not know is counted as "other".
func (m *Metrics) Audit(_ context.Context, e audit.Event) {
	c, ok := m.types[e.Type]
	if !ok {
		c = m.otherType
	}
	c.Inc()
}

// Describe implements [prometheus.Collector].
func (m *Metrics) Describe(ch chan<- *prometheus.Desc) {
	m.verifications.Describe(ch)
	m.durations.Describe(ch)
	m.events.Describe(ch)
}

// Collect implements [prometheus.Collector].
func (m *Metrics) Collect(ch chan<- prometheus.Metric) {
	m.verifications.Collect(ch)
	m.durations.Collect(ch)
	m.events.Collect(ch)
}
