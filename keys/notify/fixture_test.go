package notify_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/audit"
	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/keys/memstore"
	"github.com/keycaphq/keycap/keys/notify"
	"github.com/keycaphq/keycap/policy"
)

const day = 24 * time.Hour

// clock is a settable keys.Config.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// inbox records delivered notices; fail, while set, refuses them.
type inbox struct {
	mu      sync.Mutex
	notices []notify.Notice
	fail    error
}

func (b *inbox) Notify(_ context.Context, n notify.Notice) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.fail != nil {
		return b.fail
	}
	b.notices = append(b.notices, n)
	return nil
}

// got returns the delivered notices as "type lead key-name", in order.
func (b *inbox) got() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]string, len(b.notices))
	for i, n := range b.notices {
		out[i] = fmt.Sprintf("%s %s %s", n.Type, n.Lead, n.Key.Name)
	}
	return out
}

type fixture struct {
	m      *keys.Manager
	events *events
	store  *memstore.Store
	clock  *clock
	inbox  *inbox
	sched  *notify.Scheduler
}

var testPolicy = policy.MustNew(policy.Config{
	AllowClientPermissions: true,
	Roles:                  map[string]policy.Permissions{"member": policy.MustParse("files:read", "files:write")},
	MaxLifetime:            365 * day,
})

func newFixture(t *testing.T, configure func(c *notify.Config)) *fixture {
	t.Helper()
	f := &fixture{store: memstore.New(), clock: &clock{t: time.Date(2031, 3, 1, 9, 0, 0, 0, time.UTC)}, inbox: &inbox{}}
	users := policy.SubjectsFunc(func(_ context.Context, id string) (policy.Subject, error) {
		return policy.Subject{ID: id, Roles: []string{"member"}}, nil
	})
	f.events = &events{}
	m, err := keys.NewManager(keys.Config{Store: f.store, Policy: testPolicy, Subjects: users, Secret: make([]byte, 32), Now: f.clock.Now,
		LastUsedInterval: -1, Auditor: f.events})
	require.NoError(t, err)
	f.m = m
	c := notify.Config{Manager: m, Store: f.store, Notifier: f.inbox, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if configure != nil {
		configure(&c)
	}
	f.sched, err = notify.New(c)
	require.NoError(t, err)
	return f
}

// create makes a key of owner named name living lifetime (0: never expires).
func (f *fixture) create(t *testing.T, owner, name string, lifetime time.Duration) (*keys.Key, string) {
	t.Helper()
	k, token, err := f.m.Create(context.Background(), keys.CreateRequest{Owner: owner, Name: name, Lifetime: lifetime, Permissions: policy.MustParse("files:read")})
	require.NoError(t, err)
	return k, token
}

// runEvery runs the scheduler every step until d has passed, moving the
// clock, and returns the time reached.
func (f *fixture) runEvery(t *testing.T, step, d time.Duration) time.Time {
	t.Helper()
	end := f.clock.Now().Add(d)
	for now := f.clock.Now(); !now.After(end); now = now.Add(step) {
		f.clock.set(now)
		_, err := f.sched.RunOnce(context.Background(), now)
		require.NoError(t, err)
	}
	return end
}

// events records what the Manager audits.
type events struct {
	mu   sync.Mutex
	list []audit.Event
}

func (e *events) Audit(_ context.Context, ev audit.Event) {
	e.mu.Lock()
	e.list = append(e.list, ev)
	e.mu.Unlock()
}

func (e *events) last(t *testing.T) audit.Event {
	t.Helper()
	e.mu.Lock()
	defer e.mu.Unlock()
	require.NotEmpty(t, e.list)
	return e.list[len(e.list)-1]
}
