package middleware_test

import (
	"context"
	"crypto/rand"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/keys/memstore"
	"github.com/keycaphq/keycap/middleware"
	"github.com/keycaphq/keycap/policy"
)

// BenchmarkRecordGuard serves GET /projects/7 with a cached key limited to
// project 7 through an http.ServeMux: bare (no keycap), behind
// Authenticate → Require("projects:read"), and behind Authenticate →
// RequireRecord("projects:read", PathValue("id")), whose policy answers
// the owner's actions on the project from a map (the app's membership
// lookup). Each /overhead reports, in the same run, the bare handler's
// time, the guarded one's, and what the guard adds.
func BenchmarkRecordGuard(b *testing.B) {
	members := map[string][]string{"7": {"read", "write"}}
	pol := policy.MustNew(policy.Config{
		AllowClientPermissions: true,
		Max:                    policy.MustParse("projects:read", "projects:write"),
		Records: &policy.Records{Resources: []string{"projects"}, Actions: func(_ context.Context, _ policy.Subject, _, id string) ([]string, error) {
			return members[id], nil
		}},
	})
	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	m, err := keys.NewManager(keys.Config{Store: memstore.New(), Policy: pol, Secret: secret,
		Subjects: policy.SubjectsFunc(func(_ context.Context, id string) (policy.Subject, error) { return policy.Subject{ID: id}, nil }),
		Cache:    keys.CacheConfig{SingleInstance: true}})
	if err != nil {
		b.Fatal(err)
	}
	_, key, err := m.Create(context.Background(), keys.CreateRequest{Owner: "u1", Name: "bench",
		Permissions: policy.MustParse("projects:read"), Resources: policy.Resources{"projects": {"7"}}})
	if err != nil {
		b.Fatal(err)
	}
	kc, err := middleware.New(middleware.Options{Manager: m})
	if err != nil {
		b.Fatal(err)
	}
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	mux := func(h http.Handler) http.Handler {
		mux := http.NewServeMux()
		mux.Handle("GET /projects/{id}", h)
		return mux
	}
	bare := mux(ok)
	require := kc.Authenticate(mux(middleware.Require("projects:read")(ok)))
	record := kc.Authenticate(mux(middleware.RequireRecord("projects:read", middleware.PathValue("id"))(ok)))
	req := httptest.NewRequest(http.MethodGet, "/projects/7", nil)
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
	for _, c := range []struct {
		name string
		h    http.Handler
	}{{"bare", bare}, {"require", require}, {"record", record}} {
		b.Run(c.name, func(b *testing.B) {
			f := serve(c.h)
			b.ReportAllocs()
			for b.Loop() {
				f()
			}
		})
		if c.name != "bare" {
			b.Run(c.name+"/overhead", func(b *testing.B) { overhead(b, serve(bare), serve(c.h)) })
		}
	}
	b.Run("record-vs-require/overhead", func(b *testing.B) { overhead(b, serve(require), serve(record)) })
}
