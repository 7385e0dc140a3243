package promaudit_test

import (
	"context"
	"testing"
	"time"

	"github.com/keycaphq/keycap/audit"
)

// noop is the bare baseline: an Observer that does nothing.
type noop struct{}

func (noop) Verification(context.Context, audit.Verification) {}

// BenchmarkVerification measures what Metrics adds to every verification
// (a counter and a histogram observation), against an observer that does
// nothing, on one goroutine and on all.
func BenchmarkVerification(b *testing.B) {
	metrics, _ := newMetrics(b)
	ctx := context.Background()
	seen := []audit.Verification{
		{Outcome: "accepted", KeyID: "06we154rh3v7a04w", OwnerID: "alice", Duration: 1500 * time.Nanosecond},
		{Outcome: "revoked", KeyID: "06we154rh3v7a04w", OwnerID: "alice", Duration: 2 * time.Microsecond},
		{Outcome: "malformed", Duration: 200 * time.Nanosecond},
		{Outcome: "unavailable", KeyID: "06we154rh3v7a04w", Duration: 3 * time.Millisecond},
	}
	for _, o := range []struct {
		name string
		obs  audit.Observer
	}{{"bare", noop{}}, {"metrics", metrics}} {
		b.Run(o.name, func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				o.obs.Verification(ctx, seen[i&3])
				i++
			}
		})
		b.Run(o.name+"/parallel", func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				i := 0
				for pb.Next() {
					o.obs.Verification(ctx, seen[i&3])
					i++
				}
			})
		})
	}
}
