package notify_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/keys/memstore"
	"github.com/keycaphq/keycap/keys/notify"
)

// TestNewRefuses: a bad Config fails in New, saying what to change.
func TestNewRefuses(t *testing.T) {
	f := newFixture(t, nil)
	good := notify.Config{Manager: f.m, Store: f.store, Notifier: f.inbox}
	tests := map[string]struct {
		change func(c *notify.Config)
		says   string
	}{
		"no Manager":          {func(c *notify.Config) { c.Manager = nil }, "required"},
		"no Store":            {func(c *notify.Config) { c.Store = nil }, "required"},
		"no Notifier":         {func(c *notify.Config) { c.Notifier = nil }, "required"},
		"a negative duration": {func(c *notify.Config) { c.DisableAfter = -time.Hour }, "negative"},
		"a negative batch":    {func(c *notify.Config) { c.BatchSize = -1 }, "negative"},
		"a zero lead":         {func(c *notify.Config) { c.Expiring = []time.Duration{day, 0} }, "positive and distinct"},
		"a lead twice":        {func(c *notify.Config) { c.Expiring = []time.Duration{day, 2 * day, day} }, "positive and distinct"},
		"a short retention":   {func(c *notify.Config) { c.Retention = 10 * day }, "Lookback plus the longest"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			c := good
			tt.change(&c)
			_, err := notify.New(c)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.says)
		})
	}
	_, err := notify.New(good)
	require.NoError(t, err)
}

// TestRunUntilDone: Run runs at once, then every Interval, and returns
// when its context ends.
func TestRunUntilDone(t *testing.T) {
	f := newFixture(t, func(c *notify.Config) { c.Interval = 10 * time.Millisecond })
	f.create(t, "alice", "ci", day)
	f.clock.set(f.clock.Now().Add(2 * day))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.sched.Run(ctx) }()
	require.Eventually(t, func() bool { return len(f.inbox.got()) == 1 }, 5*time.Second, 5*time.Millisecond)
	time.Sleep(50 * time.Millisecond) // a few more runs: nothing more to send
	cancel()
	select {
	case err := <-done:
		require.ErrorIs(t, err, context.Canceled)
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
	assert.Equal(t, []string{"expired 0s ci"}, f.inbox.got())
}

// confused is a Store that records claims under another moment than it
// finds notices by, so that what it claimed stays due.
type confused struct{ *memstore.Store }

func (c confused) Claim(ctx context.Context, cl notify.Claim) (bool, error) {
	cl.At = cl.At.Add(time.Millisecond)
	return c.Store.Claim(ctx, cl)
}

// TestPassEnds: a run ends even when a Store keeps finding what it was
// told about: each record is looked at once per run.
func TestPassEnds(t *testing.T) {
	f := newFixture(t, nil)
	sched, err := notify.New(notify.Config{Manager: f.m, Store: confused{f.store}, Notifier: f.inbox, BatchSize: 1})
	require.NoError(t, err)
	f.create(t, "alice", "ci", day)
	f.clock.set(f.clock.Now().Add(2 * day))
	done := make(chan notify.Report, 1)
	go func() {
		r, err := sched.RunOnce(context.Background(), f.clock.Now())
		assert.NoError(t, err)
		done <- r
	}()
	select {
	case r := <-done:
		assert.Equal(t, 1, r.Sent)
	case <-time.After(5 * time.Second):
		t.Fatal("the run did not end")
	}
}
