package notify

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/keycaphq/keycap/keys"
)

// Config describes a [Scheduler]. Manager, Store and Notifier are
// required; zero values of the rest mean the documented defaults. [New]
// copies what it needs.
type Config struct {
	// Manager is the app's keys.Manager: the staleness policy disables
	// keys through it (so caches forget them and the change is audited),
	// and [Scheduler.Run] reads its clock (keys.Config.Now).
	Manager *keys.Manager
	// Store finds due notices and keeps their claims: the same database as
	// the Manager's keys (a *sqlstore.Store or *memstore.Store; behind
	// keys/rediscache, the database it caches).
	Store Store
	// Notifier delivers the notices.
	Notifier Notifier
	// Expiring are the leads of the expiry warnings: a key is told once
	// for each lead, the nearest that applies, so a key made to live 2
	// days gets only the 1-day warning. nil means 7, 3 and 1 days; an
	// empty, non-nil slice sends none. Each lead is positive.
	Expiring []time.Duration
	// StaleAfter, when positive, tells the owner once a key has not been
	// used for this long (counted from its creation if never used).
	// 0: no such notice.
	StaleAfter time.Duration
	// DisableAfter, when positive, disables keys neither used nor changed
	// for this long, as audit.System("staleness"); their owner may enable
	// them again (which counts as a change: another DisableAfter before
	// the next disable), and is told like of any disable by someone else.
	// 0: keys are never disabled for staleness.
	DisableAfter time.Duration
	// Lookback bounds how old the news a run tells may be: an expiry,
	// revocation or disable, or the start of a stale stretch, more than
	// Lookback ago is not told (a Scheduler started for the first time
	// does not flood owners with old news). 0 means 7 days.
	Lookback time.Duration
	// Retention is how long claims, and the sent notices [Store.Notices]
	// lists, are kept; at least Lookback plus the longest lead. 0 means 90
	// days.
	Retention time.Duration
	// Interval is the time between two passes of [Scheduler.Run]. 0 means
	// one minute.
	Interval time.Duration
	// Lease is how long a claim holds before another Scheduler may take
	// over a notice whose sender never said it was sent (it crashed).
	// Notify gets half of it. 0 means 5 minutes.
	Lease time.Duration
	// BatchSize is how many records one query reads. 0 means 100.
	BatchSize int
	// Logger receives what the Scheduler logs: failed runs and refused
	// notices, never a key. nil means slog.Default().
	Logger *slog.Logger
}

// Scheduler finds due notices, sends each once, and runs the staleness
// policy. Create it with [New]; it is safe for concurrent use, and any
// number of Schedulers may share a Store.
type Scheduler struct {
	c     Config
	leads []time.Duration // longest first

	mu    sync.Mutex
	swept time.Time // when this Scheduler last looked for unused keys without a lower bound
}

// day is 24 hours, the unit of the defaults.
const day = 24 * time.Hour

// New validates c and returns a Scheduler.
func New(c Config) (*Scheduler, error) {
	switch {
	case c.Manager == nil || c.Store == nil || c.Notifier == nil:
		return nil, errors.New("notify: Config.Manager, Store and Notifier are required")
	case c.StaleAfter < 0 || c.DisableAfter < 0 || c.Lookback < 0 || c.Retention < 0 || c.Interval < 0 || c.Lease < 0 || c.BatchSize < 0:
		return nil, errors.New("notify: durations and BatchSize in Config must not be negative")
	}
	leads := slices.Clone(c.Expiring)
	if c.Expiring == nil {
		leads = []time.Duration{7 * day, 3 * day, day}
	}
	slices.SortFunc(leads, func(a, b time.Duration) int { return cmp.Compare(b, a) })
	if len(leads) > 0 && leads[len(leads)-1] <= 0 || len(slices.Compact(slices.Clone(leads))) != len(leads) {
		return nil, errors.New("notify: Config.Expiring leads must be positive and distinct")
	}
	c.Lookback = cmp.Or(c.Lookback, 7*day)
	c.Retention = cmp.Or(c.Retention, 90*day)
	c.Interval = cmp.Or(c.Interval, time.Minute)
	c.Lease = cmp.Or(c.Lease, 5*time.Minute)
	c.BatchSize = cmp.Or(c.BatchSize, 100)
	c.Logger = cmp.Or(c.Logger, slog.Default())
	if longest := c.Lookback + slices.Max(append(slices.Clone(leads), 0)); c.Retention < longest {
		return nil, errors.New("notify: Config.Retention must be at least Lookback plus the longest Expiring lead (" + longest.String() + ")")
	}
	return &Scheduler{c: c, leads: leads}, nil
}

// Run runs [Scheduler.RunOnce] at once and then every Config.Interval, at
// the Manager's time, until ctx ends; it returns ctx's error. A failed run
// is logged and the next one tries again. Start it with go sched.Run(ctx).
func (s *Scheduler) Run(ctx context.Context) error {
	t := time.NewTicker(s.c.Interval)
	defer t.Stop()
	for {
		if r, err := s.RunOnce(ctx, s.c.Manager.Now()); err != nil && ctx.Err() == nil {
			s.c.Logger.ErrorContext(ctx, "notify: a run of the notice scheduler failed; the next one tries again",
				"err", err, "sent", r.Sent, "disabled", r.Disabled)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}
