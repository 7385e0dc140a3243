package rediscache_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/audit"
	"github.com/keycaphq/keycap/internal/testenv"
	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/keys/memstore"
	"github.com/keycaphq/keycap/keys/notify"
	"github.com/keycaphq/keycap/policy"
)

// TestLeakAndStalenessThroughTheCache: two instances share a database
// behind Redis. A key reported as leaked to one, or disabled for
// staleness by one's notices scheduler, is refused by the other at its
// next request, though it had cached the record.
func TestLeakAndStalenessThroughTheCache(t *testing.T) {
	_, prefix := testenv.Redis(t)
	db, secret := memstore.New(), newSecret()
	var mu sync.Mutex
	now := t0
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	managers := make([]*keys.Manager, 2)
	for i := range managers {
		m, err := keys.NewManager(keys.Config{
			Store:    newCache(t, hidden{db}, prefix, secret, nil),
			Policy:   policy.MustNew(policy.Config{Default: policy.MustParse("files:read")}),
			Subjects: policy.SubjectsFunc(func(_ context.Context, id string) (policy.Subject, error) { return policy.Subject{ID: id}, nil }),
			Secret:   secret, Now: clock, LastUsedInterval: -1,
		})
		require.NoError(t, err)
		managers[i] = m
	}
	a, b := managers[0], managers[1]
	ctx := t.Context()
	_, leaked, err := a.Create(ctx, keys.CreateRequest{Owner: "alice", Name: "leaked"})
	require.NoError(t, err)
	idle, unused, err := a.Create(ctx, keys.CreateRequest{Owner: "alice", Name: "idle"})
	require.NoError(t, err)
	for _, k := range []string{leaked, unused} {
		_, err := b.Verify(ctx, k, "") // B caches both records in Redis
		require.NoError(t, err)
	}

	_, err = a.Revoke(ctx, keys.RevokeRequest{Presented: leaked, Actor: audit.System("secret-scanning"), Source: "https://example.com/leak"})
	require.NoError(t, err)
	_, err = b.Verify(ctx, leaked, "")
	assert.ErrorIs(t, err, keys.ErrInvalid, "a leak reported to A is refused by B at once")

	sched, err := notify.New(notify.Config{Manager: a, Store: db, Notifier: notify.Func(func(context.Context, notify.Notice) error { return nil }),
		DisableAfter: 90 * 24 * time.Hour})
	require.NoError(t, err)
	mu.Lock()
	now = now.Add(91 * 24 * time.Hour)
	mu.Unlock()
	r, err := sched.RunOnce(ctx, clock())
	require.NoError(t, err)
	assert.Equal(t, 1, r.Disabled)
	_, err = b.Verify(ctx, unused, "")
	assert.ErrorIs(t, err, keys.ErrInvalid, "disabled for staleness through A: refused by B at once")
	rec, err := db.Get(ctx, idle.ID)
	require.NoError(t, err)
	assert.Equal(t, audit.System("staleness"), rec.DisabledBy)
}
