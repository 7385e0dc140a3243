package litepool_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/keys/sqlstore"
	"github.com/keycaphq/keycap/keys/sqlstore/litepool"
	"github.com/keycaphq/keycap/policy"
)

// BenchmarkLookup runs Store.Get of 1,000 keys from 64 goroutines through
// database/sql (modernc) and through litepool, on the same file, with
// concurrent lookups read together (the default) and one statement per
// lookup (MaxBatch 1), and
// reports the process's CPU time per lookup (user + system), which the
// other load of a shared machine does not inflate as it does wall time.
func BenchmarkLookup(b *testing.B) {
	path := filepath.Join(b.TempDir(), "keycap.db")
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(8)
	db.SetMaxIdleConns(8)
	plain, err := sqlstore.New(db, sqlstore.SQLite, sqlstore.Options{})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	if err := plain.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	ids := fill(b, plain, 1000)
	pool, err := litepool.Open("file:"+path, 8)
	if err != nil {
		b.Fatal(err)
	}
	defer pool.Close()
	pooled, err := sqlstore.New(db, sqlstore.SQLite, sqlstore.Options{Lookup: pool})
	if err != nil {
		b.Fatal(err)
	}
	plainOne, err := sqlstore.New(db, sqlstore.SQLite, sqlstore.Options{MaxBatch: 1})
	if err != nil {
		b.Fatal(err)
	}
	pooledOne, err := sqlstore.New(db, sqlstore.SQLite, sqlstore.Options{Lookup: pool, MaxBatch: 1})
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name string
		s    *sqlstore.Store
	}{
		{"database-sql-modernc", plain}, {"litepool-zombiezen", pooled}, // concurrent lookups read together
		{"database-sql-modernc-unbatched", plainOne}, {"litepool-zombiezen-unbatched", pooledOne}, // a statement each
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetParallelism(32) // 64 goroutines on 2 CPUs
			before := cpu()
			b.RunParallel(func(pb *testing.PB) {
				i := 0
				for pb.Next() {
					i++
					if _, err := c.s.Get(ctx, ids[i%len(ids)]); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64((cpu()-before).Microseconds())/float64(b.N), "cpu-µs/lookup")
		})
	}
}

// fill creates n keys through a Manager on s and returns their ids.
func fill(b *testing.B, s keys.Store, n int) []string {
	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	m, err := keys.NewManager(keys.Config{Store: s, Secret: secret,
		Policy:   policy.MustNew(policy.Config{AllowClientPermissions: true, Max: policy.MustParse("files:read"), MaxKeys: new(0)}),
		Subjects: policy.SubjectsFunc(func(_ context.Context, id string) (policy.Subject, error) { return policy.Subject{ID: id}, nil })})
	if err != nil {
		b.Fatal(err)
	}
	ids := make([]string, n)
	for i := range ids {
		k, _, err := m.Create(context.Background(), keys.CreateRequest{Owner: "u", Name: "k", Permissions: policy.MustParse("files:read")})
		if err != nil {
			b.Fatal(err)
		}
		ids[i] = k.ID
	}
	return ids
}

func cpu() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
