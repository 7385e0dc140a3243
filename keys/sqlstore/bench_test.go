package sqlstore_test

import (
	"context"
	"database/sql"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/keys/sqlstore"
	"github.com/keycaphq/keycap/policy"
)

// BenchmarkVerifyScale verifies random keys under 64 goroutines against
// SQLite stores of 1,000 and 100,000 keys (KEYCAP_SCALE_KEYS=1000000 for
// a million; "1M" in the metric names stands for the large store), with the in-process cache
// off (a lookup per request), in alternating rounds of the same run, and
// reports the p50 and p99 of single operations for each and the ratio of
// the p99s. Each of 64 goroutines per round verifies one of 64 real keys at random and reads
// one of 4,096 stored ids sampled at random from the whole table (the real
// keys' ids are time-ordered, so they sit together in the index; the
// sampled reads spread over all of it). Rows beyond the real keys are
// bulk-inserted with random ids and hashes.
//
//	KEYCAP_SCALE_KEYS=1000000 go test ./keys/sqlstore -run '^$' -bench VerifyScale -benchtime 300x
func BenchmarkVerifyScale(b *testing.B) {
	large := 100_000 // fills in seconds, for CI's run at -benchtime 1x
	if n, err := strconv.Atoi(os.Getenv("KEYCAP_SCALE_KEYS")); err == nil && n > 1_000 {
		large = n // 1000000 for the figure: about two minutes to fill here
	}
	stores := [2]*scaled{scaleStore(b, 1_000), scaleStore(b, large)}
	const goroutines = 64 // half on each store, at once
	var took [2][]time.Duration
	var mu sync.Mutex
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() { // b.Loop runs the function once: the stores are filled once
		var wg sync.WaitGroup
		for g := range goroutines {
			wg.Go(func() {
				s := stores[g%2]
				start := time.Now()
				if _, err := s.m.Verify(ctx, s.keys[rand.IntN(len(s.keys))], ""); err != nil {
					b.Error(err)
					return
				}
				if _, err := s.store.Get(ctx, s.ids[rand.IntN(len(s.ids))]); err != nil {
					b.Error(err)
					return
				}
				d := time.Since(start)
				mu.Lock()
				took[g%2] = append(took[g%2], d)
				mu.Unlock()
			})
		}
		wg.Wait()
	}
	b.StopTimer()
	p99 := [2]float64{}
	for i, name := range []string{"1k", "1M"} {
		d := took[i]
		if len(d) == 0 {
			continue
		}
		slices.Sort(d)
		b.ReportMetric(float64(d[len(d)/2].Nanoseconds()), name+"-p50-ns")
		p99[i] = float64(d[len(d)*99/100].Nanoseconds())
		b.ReportMetric(p99[i], name+"-p99-ns")
	}
	if p99[0] > 0 && p99[1] > 0 {
		b.ReportMetric(p99[1]/p99[0], "p99-1M/1k")
	}
}

// scaled is a SQLite store of n keys: 64 real ones and n-64 fillers.
type scaled struct {
	store *sqlstore.Store
	m     *keys.Manager
	keys  []string // the real keys
	ids   []string // ids sampled from the whole table
}

func scaleStore(b *testing.B, n int) *scaled {
	b.Helper()
	db := openSQLiteFile(b)
	store, err := sqlstore.New(db, sqlstore.SQLite, sqlstore.Options{})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	if err := store.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	const realKeys = 64
	// Filler rows: random 16-hex-character ids (valid base32) and random
	// 32-byte hashes, spread over 1,000 owners.
	// One connection with a page cache that holds the indexes being
	// filled: random inserts into a 2 MB cache spend minutes on I/O.
	conn, err := db.Conn(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `PRAGMA cache_size = -524288`); err != nil {
		b.Fatal(err)
	}
	_, err = conn.ExecContext(ctx, `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < ?)
		INSERT INTO keycap_keys (id, owner_id, name, prefix, hint, hash, permissions, created_at, updated_at,
		  created_by, parent_id, last_used_ip, revoked_by, revoked_reason, disabled, disabled_by, refill_amount, refill_interval_ms)
		SELECT lower(hex(randomblob(8))), 'owner' || (i % 1000), 'filler', 'kc', 'kc_…', randomblob(32),
		  '{"files":["read"]}', 0, 0, 'system:filler', '', '', '', '', 0, '', 0, 0 FROM n`, n-realKeys)
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
	s := &scaled{store: store, m: m}
	for i := range realKeys {
		_, key, err := m.Create(ctx, keys.CreateRequest{Owner: "u" + string(rune('a'+i%26)), Name: "bench", Permissions: policy.MustParse("files:read")})
		if err != nil {
			b.Fatal(err)
		}
		s.keys = append(s.keys, key)
	}
	if s.ids, err = sampleIDs(ctx, conn, 4096); err != nil {
		b.Fatal(err)
	}
	for _, k := range s.keys { // warm the page cache
		_, _ = m.Verify(ctx, k, "")
	}
	return s
}

// sampleIDs returns about n ids of keycap_keys picked at random.
func sampleIDs(ctx context.Context, db *sql.Conn, n int) ([]string, error) {
	rows, err := db.QueryContext(ctx, `SELECT id FROM keycap_keys WHERE abs(random()) % (SELECT count(*) FROM keycap_keys) < ? LIMIT ?`, n, n)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}
