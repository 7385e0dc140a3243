package rediscache

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/keycaphq/keycap/internal/testenv"
	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/keys/memstore"
)

// BenchmarkGetHit measures Get when the record is cached, beside the bare
// Redis round trip it makes (bare-mget), and the CPU cost of opening the
// sealed record (open) beside decoding the plain JSON cached before
// records were sealed (json).
func BenchmarkGetHit(b *testing.B) {
	rdb, prefix := testenv.Redis(b)
	ms := memstore.New()
	k := sampleKey()
	ctx := b.Context()
	if err := ms.Create(ctx, k, 0); err != nil {
		b.Fatal(err)
	}
	s, err := New(ms, rdb, Options{Prefix: prefix, Secret: make([]byte, 32)})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := s.Get(ctx, k.ID); err != nil { // fills the cache
		b.Fatal(err)
	}
	b.Run("bare-mget", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := rdb.MGet(ctx, s.recordKey(k.ID), s.versionKey(k.ID)).Err(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("get", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := s.Get(ctx, k.ID); err != nil {
				b.Fatal(err)
			}
		}
	})
	env := string(s.sealer.seal(s.recordKey(k.ID), k, time.Now().Add(time.Hour)))
	b.Run("open", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := s.sealer.open(s.recordKey(k.ID), env, time.Now()); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(len(env)), "bytes")
	})
	data, _ := json.Marshal(k)
	b.Run("json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var k keys.Key
			if err := json.Unmarshal(data, &k); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(len(data)), "bytes")
	})
}
