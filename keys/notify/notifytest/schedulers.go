package notifytest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/audit"
	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/keys/notify"
	"github.com/keycaphq/keycap/policy"
)

// deliveries counts the notices a Notifier delivered, and fails the
// first delivery of each notice about a key whose name holds "flaky".
type deliveries struct {
	mu     sync.Mutex
	got    map[string]int // "key name/type/lead" → deliveries
	failed map[string]bool
}

func (d *deliveries) Notify(_ context.Context, n notify.Notice) error {
	id := fmt.Sprintf("%s/%s/%s", n.Key.Name, n.Type, n.Lead)
	d.mu.Lock()
	defer d.mu.Unlock()
	if strings.Contains(n.Key.Name, "flaky") && !d.failed[id] {
		d.failed[id] = true
		return errors.New("the mail server is down")
	}
	d.got[id]++
	return nil
}

// clock is a settable keys.Config.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// raceKeys stores the keys of one trial, named with the trial's tag, and
// returns the notices they should give over 10 days from t0.
func raceKeys(t *testing.T, s keys.Store, tag string) map[string]int {
	admin := audit.User("admin")
	want := map[string]int{}
	add := func(name string, f func(k *keys.Key), notices ...string) {
		k := newKey("owner-"+tag, t0.Add(-100*day))
		k.UpdatedAt, k.LastUsedAt = t0.Add(-30*day), t0.Add(-time.Hour) // recently used: neither stale nor unused
		k.Name = name + " " + tag
		f(k)
		create(t, s, k)
		for _, n := range notices {
			want[k.Name+"/"+n]++
		}
	}
	expiring := []string{"expiring/168h0m0s", "expiring/72h0m0s", "expiring/24h0m0s", "expired/0s"}
	for i := range 3 {
		add(fmt.Sprint("expiring ", i), func(k *keys.Key) { k.ExpiresAt = t0.Add(6 * day) }, expiring...)
	}
	add("flaky expiring", func(k *keys.Key) { k.ExpiresAt = t0.Add(6 * day) }, expiring...)
	add("revoked by its owner", func(k *keys.Key) {
		k.ExpiresAt, k.RevokedAt, k.RevokedBy = t0.Add(6*day), t0.Add(-time.Hour), audit.User(k.OwnerID)
	})
	add("revoked by an admin", func(k *keys.Key) { k.RevokedAt, k.RevokedBy = t0.Add(-time.Hour), admin }, "revoked/0s")
	add("flaky leaked", func(k *keys.Key) { k.RevokedAt, k.RevokedBy = t0.Add(day), audit.System("secret-scanning") }, "revoked/0s")
	add("disabled by an admin", func(k *keys.Key) {
		k.ExpiresAt, k.Disabled, k.DisabledBy, k.DisabledAt = t0.Add(5*day), true, admin, t0.Add(-time.Hour)
	}, "disabled/0s")
	add("stale", func(k *keys.Key) { k.LastUsedAt = t0.Add(-29 * day) }, "stale/0s")
	for i := range 2 {
		add(fmt.Sprint("unused ", i), func(k *keys.Key) { k.UpdatedAt, k.LastUsedAt = k.CreatedAt, time.Time{} }, "disabled/0s")
	}
	return want
}

// testRaceSchedulers: two Schedulers on two handles race over 10 days.
func testRaceSchedulers(t *testing.T, a, b Store) {
	trials := 3
	if testing.Short() {
		trials = 1
	}
	pol := policy.MustNew(policy.Config{Max: policy.MustParse("files:read")})
	subjects := policy.SubjectsFunc(func(_ context.Context, id string) (policy.Subject, error) { return policy.Subject{ID: id}, nil })
	for trial := range trials {
		c := &clock{t: t0}
		got := &deliveries{got: map[string]int{}, failed: map[string]bool{}}
		var scheds []*notify.Scheduler
		for _, s := range []Store{a, b} {
			m, err := keys.NewManager(keys.Config{Store: s, Policy: pol, Subjects: subjects, Secret: make([]byte, 32), Now: c.Now, LastUsedInterval: -1})
			require.NoError(t, err)
			sched, err := notify.New(notify.Config{Manager: m, Store: s, Notifier: got, StaleAfter: 30 * day, DisableAfter: 90 * day, BatchSize: 3,
				Logger: slog.New(slog.DiscardHandler)})
			require.NoError(t, err)
			scheds = append(scheds, sched)
		}
		want := raceKeys(t, a, fmt.Sprint("t", trial))
		disabled := 0
		for now := t0; !now.After(t0.Add(10 * day)); now = now.Add(6 * time.Hour) {
			c.set(now)
			reports := make([]notify.Report, len(scheds))
			var wg sync.WaitGroup
			for i, s := range scheds {
				wg.Go(func() {
					var err error
					reports[i], err = s.RunOnce(t.Context(), now)
					assert.NoError(t, err)
				})
			}
			wg.Wait()
			for _, r := range reports {
				disabled += r.Disabled
			}
		}
		once := 0
		for id, n := range got.got {
			if n == 1 && want[id] == 1 {
				once++
			}
		}
		t.Logf("trial %d: %d of %d expected notices delivered exactly once by 2 racing schedulers (%d first deliveries failed and were retried); %d unused keys disabled",
			trial, once, len(want), len(got.failed), disabled)
		assert.Equal(t, want, got.got, "each notice once, and nothing else")
		assert.Equal(t, 2, disabled, "each unused key disabled once")
		assert.NotEmpty(t, got.failed, "the flaky deliveries failed first")
	}
}
