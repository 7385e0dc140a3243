package rediscache

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// rejectInterval is how often one id's refused cached record is logged.
const rejectInterval = time.Minute

// maxRejectIDs bounds the ids remembered between sweeps: records forged
// under many ids cost memory for at most this many, and beyond it are
// logged once per interval in all.
const maxRejectIDs = 4096

// rejectLog logs cached records that fail verification, once per id per
// [rejectInterval]. It never logs the record itself (it holds the key's
// hash). It is safe for concurrent use.
type rejectLog struct {
	logger *slog.Logger
	mu     sync.Mutex
	last   map[string]time.Time // id → when it was last logged
	swept  time.Time            // when last was last swept
}

func newRejectLog(l *slog.Logger) *rejectLog {
	return &rejectLog{logger: l, last: map[string]time.Time{}}
}

// note logs that the record cached for id under rkey was refused for
// reason, unless it was logged less than an interval ago.
func (r *rejectLog) note(ctx context.Context, id, rkey string, reason error, now time.Time) {
	if !r.first(id, now) {
		return
	}
	r.logger.WarnContext(ctx, "rediscache: ignoring a cached key record that does not verify; reading the store",
		slog.String("key_id", id), slog.String("redis_key", rkey), slog.String("reason", reason.Error()))
}

// first reports whether id is due to be logged at now, and if so counts
// it as logged. Past maxRejectIDs ids, "" stands for all new ones until
// the next sweep (at most one per interval).
func (r *rejectLog) first(id string, now time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, seen := r.last[id]; !seen && len(r.last) >= maxRejectIDs && now.Sub(r.swept) >= rejectInterval {
		r.swept = now
		for other, t := range r.last {
			if now.Sub(t) >= rejectInterval {
				delete(r.last, other)
			}
		}
	}
	if _, seen := r.last[id]; !seen && len(r.last) >= maxRejectIDs {
		id = ""
	}
	if t, seen := r.last[id]; seen && now.Sub(t) < rejectInterval {
		return false
	}
	r.last[id] = now
	return true
}
