package keys_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/audit"
	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/policy"
)

// Prune deletes the keys revoked or expired before its times, audited
// with the operator as actor, and never a live key; a time in the future
// is refused with nothing deleted.
func TestPrune(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	mk := func(name string, lifetime time.Duration) *keys.Key {
		k, _, err := f.m.Create(ctx, keys.CreateRequest{Owner: "alice", Name: name, Permissions: policy.MustParse("files:read"), Lifetime: lifetime})
		require.NoError(t, err)
		return k
	}
	live := mk("live", 60*day)
	revoked := mk("revoked", 60*day)
	_, err := f.m.Revoke(ctx, keys.RevokeRequest{Ref: keys.Ref{Owner: "alice", ID: revoked.ID}, Reason: "gone"})
	require.NoError(t, err)
	expired := mk("expired", day)
	f.clock.Advance(10 * day)
	recent := mk("revoked recently", 60*day)
	_, err = f.m.Revoke(ctx, keys.RevokeRequest{Ref: keys.Ref{Owner: "alice", ID: recent.ID}})
	require.NoError(t, err)

	now := f.clock.Now()
	_, err = f.m.Prune(ctx, now.Add(time.Second), time.Time{}, audit.Operator("ops"), nil)
	var fe *keys.FieldError
	require.ErrorAs(t, err, &fe, "a time in the future is refused")
	_, err = f.m.Prune(ctx, time.Time{}, time.Time{}, audit.Operator("ops"), nil)
	require.Error(t, err, "no rule at all is refused")

	events := f.audit.len()
	var progress []int
	n, err := f.m.Prune(ctx, now.Add(-5*day), now.Add(-5*day), audit.Operator("ops"), func(d int) { progress = append(progress, d) })
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	assert.Equal(t, []int{2}, progress)
	for _, id := range []string{revoked.ID, expired.ID} {
		_, err := f.mem.Get(ctx, id)
		assert.ErrorIs(t, err, keys.ErrNotFound)
	}
	for _, id := range []string{live.ID, recent.ID} {
		_, err := f.mem.Get(ctx, id)
		assert.NoError(t, err, "kept")
	}
	pruned := f.audit.all()[events:]
	require.Len(t, pruned, 2)
	for _, e := range pruned {
		assert.Equal(t, audit.Pruned, e.Type)
		assert.Equal(t, audit.Operator("ops"), e.Actor)
		assert.Equal(t, "alice", e.OwnerID)
	}
}
