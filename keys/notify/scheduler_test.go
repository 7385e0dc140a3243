package notify_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/audit"
	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/keys/notify"
)

// TestExpiryNotices: run every hour for a month, a 30-day key is told 7,
// 3 and 1 days before it expires and when it has, once each; a 2-day key
// only the nearest lead; a key its owner revoked nothing at all.
func TestExpiryNotices(t *testing.T) {
	f := newFixture(t, nil)
	month, _ := f.create(t, "alice", "month", 30*day)
	f.create(t, "alice", "two days", 2*day)
	revoked, _ := f.create(t, "alice", "revoked", 5*day)
	_, err := f.m.Revoke(context.Background(), keys.RevokeRequest{Ref: keys.Ref{Owner: "alice", ID: revoked.ID}})
	require.NoError(t, err)

	f.runEvery(t, time.Hour, 32*day)
	assert.Equal(t, []string{
		"expiring 24h0m0s two days", "expired 0s two days",
		"expiring 168h0m0s month", "expiring 72h0m0s month", "expiring 24h0m0s month", "expired 0s month",
	}, f.inbox.got())
	for _, n := range f.inbox.notices {
		if n.Key.ID == month.ID {
			assert.True(t, n.At.Equal(month.ExpiresAt), "a notice is about the expiry")
		}
	}
}

// TestExpiryExtended: a key whose expiry is moved is told again about
// the new one.
func TestExpiryExtended(t *testing.T) {
	f := newFixture(t, nil)
	k, _ := f.create(t, "alice", "ci", 10*day)
	f.runEvery(t, time.Hour, 8*day) // the 7- and 3-day warnings
	lifetime := 30 * day
	_, err := f.m.Update(context.Background(), keys.UpdateRequest{Ref: keys.Ref{Owner: "alice", ID: k.ID}, Lifetime: &lifetime})
	require.NoError(t, err)
	f.runEvery(t, time.Hour, 31*day)
	assert.Equal(t, []string{
		"expiring 168h0m0s ci", "expiring 72h0m0s ci", // the first expiry
		"expiring 168h0m0s ci", "expiring 72h0m0s ci", "expiring 24h0m0s ci", "expired 0s ci",
	}, f.inbox.got())
}

// TestOthersActions: a revocation or disable by an admin, an operator or
// a secret scanner is told once; by the owner or the owner's keys never.
func TestOthersActions(t *testing.T) {
	f := newFixture(t, func(c *notify.Config) { c.Expiring = []time.Duration{} })
	ctx := context.Background()
	ref := func(k *keys.Key) keys.Ref { return keys.Ref{Owner: k.OwnerID, ID: k.ID} }
	byAdmin, _ := f.create(t, "alice", "revoked by admin", 0)
	byOwner, _ := f.create(t, "alice", "revoked by owner", 0)
	disabled, _ := f.create(t, "alice", "disabled by admin", 0)
	ownDisabled, _ := f.create(t, "alice", "disabled by owner", 0)
	_, leaked := f.create(t, "alice", "leaked", 0)
	off := true
	for _, err := range []error{
		func() error {
			_, err := f.m.Revoke(ctx, keys.RevokeRequest{Ref: ref(byAdmin), Actor: audit.User("admin")})
			return err
		}(),
		func() error { _, err := f.m.Revoke(ctx, keys.RevokeRequest{Ref: ref(byOwner)}); return err }(),
		func() error {
			_, err := f.m.Update(ctx, keys.UpdateRequest{Ref: ref(disabled), Actor: audit.Operator("ops"), Disabled: &off})
			return err
		}(),
		func() error {
			_, err := f.m.Update(ctx, keys.UpdateRequest{Ref: ref(ownDisabled), Disabled: &off})
			return err
		}(),
		func() error {
			_, err := f.m.Revoke(ctx, keys.RevokeRequest{Presented: leaked, Actor: audit.System("secret-scanning"), Source: "https://example.com/x"})
			return err
		}(),
	} {
		require.NoError(t, err)
	}
	f.runEvery(t, time.Minute, time.Hour)
	assert.ElementsMatch(t, []string{"revoked 0s revoked by admin", "revoked 0s leaked", "disabled 0s disabled by admin"}, f.inbox.got())
	for _, n := range f.inbox.notices {
		if n.Key.Name == "leaked" {
			assert.Contains(t, n.Key.RevokedReason, "https://example.com/x", "the notice says where the key was found")
		}
	}
}

// TestNotifierFailure: a notice the Notifier refuses is offered again at
// the next run, and delivered once.
func TestNotifierFailure(t *testing.T) {
	f := newFixture(t, nil)
	f.create(t, "alice", "ci", 5*day)
	f.clock.set(f.clock.Now().Add(2*day + time.Hour)) // within 3 days of the expiry
	f.inbox.fail = errors.New("smtp: connection refused")
	r, err := f.sched.RunOnce(context.Background(), f.clock.Now())
	require.NoError(t, err)
	assert.Equal(t, notify.Report{Failed: 1}, r)
	f.inbox.fail = nil
	for range 3 {
		_, err = f.sched.RunOnce(context.Background(), f.clock.Now())
		require.NoError(t, err)
	}
	assert.Equal(t, []string{"expiring 72h0m0s ci"}, f.inbox.got())
}

// TestLookback: news older than Lookback is not told.
func TestLookback(t *testing.T) {
	f := newFixture(t, func(c *notify.Config) { c.Lookback = 2 * day })
	f.create(t, "alice", "old news", day)
	f.create(t, "alice", "fresh news", 4*day)
	f.clock.set(f.clock.Now().Add(4*day + time.Hour)) // the scheduler was not running
	_, err := f.sched.RunOnce(context.Background(), f.clock.Now())
	require.NoError(t, err)
	assert.Equal(t, []string{"expired 0s fresh news"}, f.inbox.got(), "expired 3 days ago: more than the 2-day lookback")
}

// TestStaleness: a key unused for DisableAfter is disabled by the system,
// once, audited and told; its owner may enable it again, which gives it
// another DisableAfter (caught by the sweep a Scheduler makes once per
// Lookback); a used key is left alone; StaleAfter warns first.
func TestStaleness(t *testing.T) {
	f := newFixture(t, func(c *notify.Config) { c.Expiring, c.StaleAfter, c.DisableAfter = []time.Duration{}, 30*day, 60*day })
	ctx := context.Background()
	idle, _ := f.create(t, "alice", "idle", 0)
	used, _ := f.create(t, "alice", "used", 0)
	live := func(d time.Duration) *keys.Key { // runs every 12 hours for d, using "used"
		t.Helper()
		for end := f.clock.Now().Add(d); f.clock.Now().Before(end); f.clock.set(f.clock.Now().Add(12 * time.Hour)) {
			require.NoError(t, f.store.Touch(ctx, used.ID, f.clock.Now(), "192.0.2.1"))
			_, err := f.sched.RunOnce(ctx, f.clock.Now())
			require.NoError(t, err)
		}
		rec, err := f.m.Get(ctx, keys.Ref{Owner: "alice", ID: idle.ID})
		require.NoError(t, err)
		return rec
	}
	rec := live(59 * day)
	require.False(t, rec.Disabled)
	rec = live(2 * day)
	require.True(t, rec.Disabled)
	assert.Equal(t, audit.System("staleness"), rec.DisabledBy)
	assert.Equal(t, []string{"stale 0s idle", "disabled 0s idle"}, f.inbox.got())
	e := f.events.last(t)
	assert.Equal(t, audit.Disabled, e.Type, "audited as a disable")
	assert.Equal(t, audit.System("staleness"), e.Actor)

	on := false
	_, err := f.m.Update(ctx, keys.UpdateRequest{Ref: keys.Ref{Owner: "alice", ID: idle.ID}, Disabled: &on})
	require.NoError(t, err, "the owner may enable a key the staleness policy disabled")
	rec = live(59 * day)
	assert.False(t, rec.Disabled, "enabled again: another 60 days")
	rec = live(8 * day)
	assert.True(t, rec.Disabled, "then disabled again")
	assert.Equal(t, []string{"stale 0s idle", "disabled 0s idle", "disabled 0s idle"}, f.inbox.got())
	u, err := f.m.Get(ctx, keys.Ref{Owner: "alice", ID: used.ID})
	require.NoError(t, err)
	assert.False(t, u.Disabled, "a key in use is never disabled")
}
