package middleware_test

import (
	"context"
	"crypto/rand"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/keycaphq/keycap/audit"
	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/keys/memstore"
	"github.com/keycaphq/keycap/middleware"
	"github.com/keycaphq/keycap/policy"
)

// BenchmarkRefusal serves refused keys through Authenticate and Require,
// with an auditor, beside a bare handler in the same run (see overhead):
// a malformed key (its checksum broken), a forged one (well formed, an id
// that names no record), a wrong secret for a real id, and a revoked
// key. A refusal must cost no more than an admitted request: it is what a
// client sending bad keys in a loop makes the app pay.
func BenchmarkRefusal(b *testing.B) {
	pol := policy.MustNew(policy.Config{
		AllowClientPermissions: true,
		Max:                    policy.Permissions{"files": {"read", "write"}},
		Roles:                  map[string]policy.Permissions{"member": {"files": {"read", "write"}}},
	})
	subjects := policy.SubjectsFunc(func(_ context.Context, id string) (policy.Subject, error) {
		return policy.Subject{ID: id, Roles: []string{"member"}}, nil
	})
	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	var audited int
	m, err := keys.NewManager(keys.Config{Store: memstore.New(), Policy: pol, Subjects: subjects, Secret: secret,
		Cache:   keys.CacheConfig{SingleInstance: true},
		Auditor: audit.Func(func(context.Context, audit.Event) { audited++ })})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	create := func(name string) (*keys.Key, string) {
		k, raw, err := m.Create(ctx, keys.CreateRequest{Owner: "u1", Name: name, Permissions: policy.Permissions{"files": {"read"}}})
		if err != nil {
			b.Fatal(err)
		}
		return k, raw
	}
	_, valid := create("valid")
	k, revoked := create("revoked")
	if _, err := m.Revoke(ctx, keys.RevokeRequest{Ref: keys.Ref{Owner: "u1", ID: k.ID}}); err != nil {
		b.Fatal(err)
	}
	kc, err := middleware.New(middleware.Options{Manager: m})
	if err != nil {
		b.Fatal(err)
	}
	bare := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	guarded := kc.Authenticate(middleware.Require("files:read")(bare))
	flip := func(s string) string { // the last character changed: the checksum no longer matches
		last := s[len(s)-1]
		return s[:len(s)-1] + map[bool]string{true: "B", false: "A"}[last == 'A']
	}
	// A forged key: the valid one with another id, its checksum made
	// right by Parse's own rules is not possible from outside, so take
	// a key of another Manager (another secret, same prefix): its id names
	// no record here.
	other, err := keys.NewManager(keys.Config{Store: memstore.New(), Policy: pol, Subjects: subjects, Secret: []byte(strings.Repeat("x", 32))})
	if err != nil {
		b.Fatal(err)
	}
	_, forged, err := other.Create(ctx, keys.CreateRequest{Owner: "u1", Name: "forged", Permissions: policy.Permissions{"files": {"read"}}})
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name, key string
		status    int
	}{
		{"malformed", flip(valid), http.StatusUnauthorized},
		{"forged", forged, http.StatusUnauthorized},
		{"revoked", revoked, http.StatusUnauthorized},
		{"admitted", valid, http.StatusNoContent},
	} {
		req := httptest.NewRequest(http.MethodGet, "/api/files", nil)
		req.Header.Set("Authorization", "Bearer "+c.key)
		serve := func(h http.Handler, want int) func() {
			return func() {
				w := discard{h: http.Header{}}
				h.ServeHTTP(&w, req)
				if w.status != want {
					b.Fatalf("%s: status %d, want %d", c.name, w.status, want)
				}
			}
		}
		b.Run(c.name+"/overhead", func(b *testing.B) { overhead(b, serve(bare, http.StatusNoContent), serve(guarded, c.status)) })
	}
	b.ReportMetric(float64(audited), "audited")
}
