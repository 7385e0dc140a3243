package sqlstore_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/keys/sqlstore"
	"github.com/keycaphq/keycap/policy"
)

// BenchmarkVerifyScale verifies one key with 1,000 and 1,000,000 keys
// stored in SQLite, with the in-process cache off (a lookup per request),
// and reports the p50 and p99 of single verifications beside ns/op. Rows
// beyond the key under test are bulk-inserted with random hashes.
//
//	go test ./keys/sqlstore -run '^$' -bench VerifyScale -benchtime 20000x
func BenchmarkVerifyScale(b *testing.B) {
	for _, n := range []int{1_000, 1_000_000} {
		b.Run(fmt.Sprintf("keys=%d", n), func(b *testing.B) {
			db := openSQLiteFile(b)
			store, err := sqlstore.New(db, sqlstore.SQLite, sqlstore.Options{})
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			if err := store.Migrate(ctx); err != nil {
				b.Fatal(err)
			}
			// n-1 filler rows: random 16-hex-character ids (valid base32) and
			// random 32-byte hashes, spread over 1,000 owners.
			_, err = db.ExecContext(ctx, `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < ?)
				INSERT INTO keycap_keys (id, owner_id, name, prefix, hint, hash, permissions, created_at, updated_at,
				  created_by, parent_id, last_used_ip, revoked_by, revoked_reason, disabled, disabled_by, refill_amount, refill_interval_ms)
				SELECT lower(hex(randomblob(8))), 'owner' || (i % 1000), 'filler', 'kc', 'kc_…', randomblob(32),
				  '{"files":["read"]}', 0, 0, 'system:filler', '', '', '', '', 0, '', 0, 0 FROM n`, n-1)
			if err != nil {
				b.Fatal(err)
			}
			pol := policy.MustNew(policy.Config{AllowClientPermissions: true, Max: policy.MustParse("files:read")})
			subjects := policy.SubjectsFunc(func(_ context.Context, id string) (policy.Subject, error) {
				return policy.Subject{ID: id}, nil
			})
			m, err := keys.NewManager(keys.Config{Store: store, Policy: pol, Subjects: subjects,
				Secret: make([]byte, 32), Cache: keys.CacheConfig{Disabled: true}, LastUsedInterval: -1})
			if err != nil {
				b.Fatal(err)
			}
			_, key, err := m.Create(ctx, keys.CreateRequest{Owner: "u1", Name: "bench", Permissions: policy.MustParse("files:read")})
			if err != nil {
				b.Fatal(err)
			}
			for range 100 { // warm the page cache
				_, _ = m.Verify(ctx, key, "")
			}
			durations := make([]time.Duration, 0, b.N)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				start := time.Now()
				if _, err := m.Verify(ctx, key, ""); err != nil {
					b.Fatal(err)
				}
				durations = append(durations, time.Since(start))
			}
			b.StopTimer()
			slices.Sort(durations)
			b.ReportMetric(float64(durations[len(durations)/2].Nanoseconds()), "p50-ns")
			b.ReportMetric(float64(durations[len(durations)*99/100].Nanoseconds()), "p99-ns")
		})
	}
}
