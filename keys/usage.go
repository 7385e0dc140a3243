package keys

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// usageRecorder coalesces last-used writes: a verification only notes the
// time in memory (no write, no lock in the common case); a timer writes at
// most one Touch per key per interval.
type usageRecorder struct {
	store    Store
	interval time.Duration
	now      func() time.Time // the Manager's clock: uses are noted with it
	logger   *slog.Logger     // failed timed flushes are logged here

	notedMu sync.RWMutex
	noted   map[string]*atomic.Int64 // id → Unix nanoseconds of the last use queued for a write
	mu      sync.Mutex
	pending map[string]touch
	timer   *time.Timer
}

type touch struct {
	at time.Time
	ip string
}

func newUsageRecorder(s Store, interval time.Duration, now func() time.Time, logger *slog.Logger) *usageRecorder {
	return &usageRecorder{store: s, interval: interval, now: now, logger: logger, noted: map[string]*atomic.Int64{}, pending: map[string]touch{}}
}

// note records a use of id at now; it queues a write if none was queued for
// id within the interval.
func (u *usageRecorder) note(id string, now time.Time, ip string) {
	ns := now.UnixNano()
	u.notedMu.RLock()
	last := u.noted[id]
	u.notedMu.RUnlock()
	if last == nil {
		u.notedMu.Lock()
		if last = u.noted[id]; last == nil {
			last = new(atomic.Int64)
			u.noted[id] = last
		}
		u.notedMu.Unlock()
	}
	prev := last.Load()
	if prev != 0 && ns-prev < int64(u.interval) || !last.CompareAndSwap(prev, ns) {
		return // noted within the interval, or another request just did
	}
	u.mu.Lock()
	u.pending[id] = touch{now, ip}
	if u.timer == nil {
		u.timer = time.AfterFunc(u.interval, func() {
			if err := u.flush(context.Background()); err != nil {
				// Off the request path, nobody else will hear of it; the
				// next use of the key queues its time again.
				u.logger.Warn("keycap: last-used bookkeeping could not be written", "err", err)
			}
		})
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
	cutoff := u.now().Add(-u.interval).UnixNano()
	u.notedMu.Lock() // keep the map bounded by recent use
	for id, last := range u.noted {
		if last.Load() < cutoff {
			delete(u.noted, id)
		}
	}
	u.notedMu.Unlock()
	var errs []error
	for id, t := range batch {
		if err := u.store.Touch(ctx, id, t.at, t.ip); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
