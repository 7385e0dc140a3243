package keys_test

import (
	"context"
	"crypto/rand"
	"testing"
	"time"

	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/keys/memstore"
	"github.com/keycaphq/keycap/policy"
)

// benchManager returns a Manager over a memstore with one member user and
// n keys, and one of those keys.
func benchManager(b *testing.B, n int, cache keys.CacheConfig) (*keys.Manager, string) {
	b.Helper()
	member := policy.Permissions{"projects": {"read"}, "files": {"read", "write"}}
	pol := policy.MustNew(policy.Config{
		AllowClientPermissions: true,
		Max:                    policy.Permissions{"projects": {"read", "write", "delete"}, "files": {"read", "write", "delete"}},
		Roles:                  map[string]policy.Permissions{"member": member},
		MaxKeys:                new(0), // n keys for one user
	})
	subjects := policy.SubjectsFunc(func(_ context.Context, id string) (policy.Subject, error) {
		return policy.Subject{ID: id, Roles: []string{"member"}}, nil
	})
	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	store := &nonLocal{memstore.New()}
	m, err := keys.NewManager(keys.Config{Store: store, Policy: pol, Subjects: subjects, Secret: secret, Cache: cache})
	if err != nil {
		b.Fatal(err)
	}
	var key string
	for i := 0; i < n; i++ {
		_, k, err := m.Create(context.Background(), keys.CreateRequest{Owner: "u1", Name: "bench", Permissions: policy.Permissions{"files": {"read"}}})
		if err != nil {
			b.Fatal(err)
		}
		if i == n/2 || key == "" {
			key = k
		}
	}
	return m, key
}

// nonLocal hides memstore's Local method, so that the cache follows the
// CacheConfig given rather than turning itself on for a local store.
type nonLocal struct{ *memstore.Store }

func BenchmarkParse(b *testing.B) {
	t, _ := keys.GenerateForTest("kc", mustID(b))
	s := t.String()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := keys.ParseForTest(s); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseBadChecksum(b *testing.B) {
	t, _ := keys.GenerateForTest("kc", mustID(b))
	s := []byte(t.String())
	s[len(s)-1] ^= 1
	bad := string(s)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := keys.ParseForTest(bad); err == nil {
			b.Fatal("accepted")
		}
	}
}

func BenchmarkHash(b *testing.B) {
	h, _ := keys.NewHasherForTest(make([]byte, 32))
	t, _ := keys.GenerateForTest("kc", mustID(b))
	s := t.String()
	b.ReportAllocs()
	for b.Loop() {
		_ = h.Sum(s)
	}
}

func BenchmarkVerify(b *testing.B) {
	ctx := context.Background()
	for _, bc := range []struct {
		name  string
		cache keys.CacheConfig
	}{
		{"cached", keys.CacheConfig{SingleInstance: true}},
		{"store", keys.CacheConfig{Disabled: true}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			m, key := benchManager(b, 1000, bc.cache)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := m.Verify(ctx, key, ""); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("malformed", func(b *testing.B) {
		m, key := benchManager(b, 1, keys.CacheConfig{SingleInstance: true})
		last := "0"
		if key[len(key)-1] == '0' {
			last = "1" // a different checksum character, or the key itself would pass
		}
		bad := key[:len(key)-1] + last
		b.ReportAllocs()
		for b.Loop() {
			if _, err := m.Verify(ctx, bad, ""); err == nil {
				b.Fatal("accepted")
			}
		}
	})
}

func BenchmarkVerifyParallel(b *testing.B) {
	m, key := benchManager(b, 1000, keys.CacheConfig{SingleInstance: true})
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := m.Verify(context.Background(), key, ""); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func mustID(b *testing.B) string {
	id, err := keys.NewIDForTest(timeNow())
	if err != nil {
		b.Fatal(err)
	}
	return id
}

var timeNow = time.Now
