package middleware_test

import (
	"context"
	"crypto/rand"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"

	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/keys/memstore"
	"github.com/keycaphq/keycap/middleware"
	"github.com/keycaphq/keycap/policy"
	"github.com/keycaphq/keycap/session"
)

// benchChain returns the bare handler, the full chain (scs.LoadAndSave →
// Authenticate → Require → handler) over a cached key, the recommended
// wiring that skips session loading for keyed requests (Authenticate →
// SkipForKeys(LoadAndSave) → Require → handler), and the key.
func benchChain(b *testing.B) (bare, plain, chain, skipping http.Handler, key string) {
	b.Helper()
	member := policy.Permissions{"projects": {"read"}, "files": {"read", "write"}}
	pol := policy.MustNew(policy.Config{
		AllowClientPermissions: true,
		Max:                    policy.Permissions{"files": {"read", "write", "delete"}, "projects": {"read", "write", "delete"}},
		Roles:                  map[string]policy.Permissions{"member": member},
	})
	roles := []string{"member"}
	subjects := policy.SubjectsFunc(func(_ context.Context, id string) (policy.Subject, error) {
		return policy.Subject{ID: id, Roles: roles}, nil
	})
	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	m, err := keys.NewManager(keys.Config{Store: memstore.New(), Policy: pol, Subjects: subjects, Secret: secret, Cache: keys.CacheConfig{SingleInstance: true}})
	if err != nil {
		b.Fatal(err)
	}
	_, key, err = m.Create(context.Background(), keys.CreateRequest{Owner: "u1", Name: "bench", Permissions: policy.Permissions{"files": {"read"}}})
	if err != nil {
		b.Fatal(err)
	}
	sm := scs.New()
	sessions := session.SCS(sm, "userID")
	kc, err := middleware.New(middleware.Options{Manager: m, Sessions: sessions})
	if err != nil {
		b.Fatal(err)
	}
	bare = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	chain = sm.LoadAndSave(kc.Authenticate(middleware.Require("files:read")(bare)))
	skipping = kc.Authenticate(kc.SkipForKeys(sessions)(middleware.Require("files:read")(bare)))
	plain = kc.Authenticate(middleware.Require("files:read")(bare))
	return bare, plain, chain, skipping, key
}

// BenchmarkChain serves the same request through a bare handler and
// through the full chain, in the same run, and reports both and their
// difference: keycap-ns/op - bare-ns/op is what keycap and scs add.
func BenchmarkChain(b *testing.B) {
	bare, plain, chain, skipping, key := benchChain(b)
	req := httptest.NewRequest(http.MethodGet, "/api/files", nil)
	req.Header.Set("Authorization", "Bearer "+key)
	serve := func(h http.Handler) func() {
		return func() {
			w := discard{h: http.Header{}}
			h.ServeHTTP(&w, req)
			if w.status != http.StatusNoContent {
				b.Fatalf("status %d", w.status)
			}
		}
	}
	b.Run("bare", func(b *testing.B) {
		f := serve(bare)
		b.ReportAllocs()
		for b.Loop() {
			f()
		}
	})
	for _, c := range []struct {
		name string
		h    http.Handler
	}{{"keycap", plain}, {"skipforkeys", skipping}, {"scs+keycap", chain}, {"floor", floor(bare)}} {
		b.Run(c.name, func(b *testing.B) {
			f := serve(c.h)
			b.ReportAllocs()
			for b.Loop() {
				f()
			}
		})
		b.Run(c.name+"/overhead", func(b *testing.B) { overhead(b, serve(bare), serve(c.h)) })
	}
}

// floor is the least any middleware that hands a value to the handlers
// behind it costs with net/http: one context value and the request copy
// r.WithContext makes (the handler must not see a mutated request). What
// keycap adds beyond it is its own work: BenchmarkChain/floor/overhead
// beside BenchmarkChain/keycap/overhead.
func floor(next http.Handler) http.Handler {
	type key struct{}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), key{}, r)))
	})
}

// overhead times fb and fc in alternating blocks of the same run and
// reports both, and what fc adds in time and allocations: in wall time,
// and in the process's CPU time (CLOCK_PROCESS_CPUTIME_ID: the GC's
// workers included, the time other processes of a shared machine take
// from this one excluded).
func overhead(b *testing.B, fb, fc func()) {
	{
		var tb, tc, cb, cc time.Duration
		for b.Loop() {
			cpu0, start := processCPU(), time.Now()
			for range 100 {
				fb()
			}
			cpu1, mid := processCPU(), time.Now()
			for range 100 {
				fc()
			}
			cpu2, end := processCPU(), time.Now()
			tb, tc = tb+mid.Sub(start), tc+end.Sub(mid)
			cb, cc = cb+cpu1-cpu0, cc+cpu2-cpu1
		}
		n := float64(b.N) * 100
		b.ReportMetric(float64(tb.Nanoseconds())/n, "bare-ns/req")
		b.ReportMetric(float64(tc.Nanoseconds())/n, "keycap-ns/req")
		b.ReportMetric(float64((tc-tb).Nanoseconds())/n, "added-ns/req")
		b.ReportMetric(float64((cc-cb).Nanoseconds())/n, "added-cpu-ns/req")
		b.ReportMetric(testing.AllocsPerRun(1000, fc)-testing.AllocsPerRun(1000, fb), "added-allocs/req")
	}
}

// discard is a ResponseWriter that keeps only the status.
type discard struct {
	h      http.Header
	status int
}

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(p []byte) (int, error) { return len(p), nil }
func (d *discard) WriteHeader(status int)      { d.status = status }
