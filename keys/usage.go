package keys

import (
	"context"
	"errors"
	"sync"
	"time"
)

// usageRecorder coalesces last-used writes: a verification only notes the
// time in memory (no write, no lock in the common case); a timer writes at
// most one Touch per key per interval.
type usageRecorder struct {
	store    Store
	interval time.Duration

	noted   sync.Map // id → time.Time of the last time queued for a write
	mu      sync.Mutex
	pending map[string]touch
	timer   *time.Timer
}

type touch struct {
	at time.Time
	ip string
}

func newUsageRecorder(s Store, interval time.Duration) *usageRecorder {
	return &usageRecorder{store: s, interval: interval, pending: map[string]touch{}}
}

// note records a use of id at now; it queues a write if none was queued for
// id within the interval.
func (u *usageRecorder) note(id string, now time.Time, ip string) {
	if last, ok := u.noted.Load(id); ok && now.Sub(last.(time.Time)) < u.interval {
		return
	}
	u.noted.Store(id, now)
	u.mu.Lock()
	u.pending[id] = touch{now, ip}
	if u.timer == nil {
		u.timer = time.AfterFunc(u.interval, func() { _ = u.flush(context.Background()) })
	}
	u.mu.Unlock()
}

// flush writes every pending touch.
func (u *usageRecorder) flush(ctx context.Context) error {
	u.mu.Lock()
	batch := u.pending
	u.pending = map[string]touch{}
	if u.timer != nil {
		u.timer.Stop()
		u.timer = nil
	}
	u.mu.Unlock()
	cutoff := time.Now().Add(-u.interval)
	u.noted.Range(func(id, last any) bool { // keep the map bounded by recent use
		if last.(time.Time).Before(cutoff) {
			u.noted.Delete(id)
		}
		return true
	})
	var errs []error
	for id, t := range batch {
		if err := u.store.Touch(ctx, id, t.at, t.ip); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
