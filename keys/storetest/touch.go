package storetest

import (
	"testing"
	"time"

	"github.com/keycaphq/keycap/audit"

	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/keys"
)

func testTouchForwardOnly(t *testing.T, s keys.Store) {
	k := create(t, s, newKey(t, "u1", t0))
	ctx := t.Context()
	t2 := t0.Add(time.Minute)

	require.NoError(t, s.Touch(ctx, k.ID, t2, "192.0.2.1"))
	k.LastUsedAt, k.LastUsedIP = t2, "192.0.2.1"
	requireStored(t, s, k) // and no Version, no UpdatedAt

	require.NoError(t, s.Touch(ctx, k.ID, t0.Add(time.Second), "192.0.2.2")) // earlier
	require.NoError(t, s.Touch(ctx, k.ID, t2, "192.0.2.3"))                  // the same time
	requireStored(t, s, k)

	t3 := t2.Add(time.Millisecond)
	require.NoError(t, s.Touch(ctx, k.ID, t3, "2001:db8::2"))
	k.LastUsedAt, k.LastUsedIP = t3, "2001:db8::2"
	requireStored(t, s, k)
}

// testUsageAndChangesKeepEachOther: Touch and Consume write only their
// fields and count no version, so a change decided before them still
// applies and keeps what they wrote; and they keep what a change wrote.
func testUsageAndChangesKeepEachOther(t *testing.T, s keys.Store) {
	ctx := t.Context()
	k := newKey(t, "u1", t0)
	k.Remaining = ptr[int64](10)
	k = create(t, s, k)
	decided := k.Version

	require.NoError(t, s.Touch(ctx, k.ID, t1, "192.0.2.1"))
	_, ok, err := s.Consume(ctx, []string{k.ID}, t1)
	require.NoError(t, err)
	require.True(t, ok)
	k.LastUsedAt, k.LastUsedIP, k.Remaining = t1, "192.0.2.1", ptr[int64](9)
	requireStored(t, s, k)

	at := t1.Add(time.Second)
	got, err := s.Change(ctx, k.ID, keys.Change{Version: decided, At: at, Name: ptr("renamed")})
	require.NoError(t, err, "Touch and Consume moved the version")
	k.Version, k.UpdatedAt, k.Name = decided+1, at, "renamed"
	requireSame(t, k, got, "the change kept the usage")

	later := at.Add(time.Second)
	require.NoError(t, s.Touch(ctx, k.ID, later, "192.0.2.2"))
	_, ok, err = s.Consume(ctx, []string{k.ID}, later)
	require.NoError(t, err)
	require.True(t, ok)
	k.LastUsedAt, k.LastUsedIP, k.Remaining = later, "192.0.2.2", ptr[int64](8)
	requireStored(t, s, k) // the usage kept the change

	got, err = s.Change(ctx, k.ID, keys.Change{At: later, Revoke: true, By: audit.User("u1")})
	require.NoError(t, err)
	k.Version, k.UpdatedAt, k.RevokedAt, k.RevokedBy, k.ChangedBy = k.Version+1, later, later, audit.User("u1"), audit.User("u1")
	requireSame(t, k, got, "the revocation kept the usage")
}
