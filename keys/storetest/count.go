package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/audit"
	"github.com/keycaphq/keycap/keys"
)

// testCountBySecret: CountBySecret counts exactly the records neither
// revoked nor expired at now (an expiry equal to now has passed), every
// owner's, disabled and delegated ones included, by SecretID as stored
// ("" apart from "1"), and leaves out ids with no live record.
func testCountBySecret(t *testing.T, s keys.Store) {
	now := t0.Add(48 * time.Hour)
	records := []struct {
		secretID string
		kind     func(k *keys.Key)
		live     bool
	}{
		{"1", nil, true},
		{"1", func(k *keys.Key) { k.OwnerID = "u2" }, true},
		{"1", func(k *keys.Key) { k.Disabled, k.DisabledBy = true, audit.User("admin") }, true},
		{"1", func(k *keys.Key) { k.ExpiresAt = now.Add(time.Millisecond) }, true},
		{"1", func(k *keys.Key) { k.ExpiresAt = now }, false},
		{"1", func(k *keys.Key) { k.RevokedAt = t0 }, false},
		{"", nil, true},
		{"2026-b", func(k *keys.Key) { k.Ancestors = []string{"00000000000000aa"} }, true},
		{"2026-b", nil, true},
		{"2026-b", func(k *keys.Key) { k.ExpiresAt = now.Add(-time.Hour) }, false},
		{"old", func(k *keys.Key) { k.RevokedAt, k.ExpiresAt = t0, now.Add(time.Hour) }, false},
	}
	want := map[string]int{}
	for i, r := range records {
		k := newKey(t, "u1", t0.Add(time.Duration(i)*time.Millisecond))
		k.SecretID = r.secretID
		if r.kind != nil {
			r.kind(k)
		}
		create(t, s, k)
		if r.live {
			want[r.secretID]++
		}
	}
	got, err := s.CountBySecret(t.Context(), now)
	require.NoError(t, err)
	require.Equal(t, map[string]int{"1": 4, "": 1, "2026-b": 2}, want, "the test's own arithmetic")
	require.Equal(t, want, got)

	got, err = s.CountBySecret(t.Context(), t0)
	require.NoError(t, err)
	require.Equal(t, map[string]int{"1": 5, "": 1, "2026-b": 3}, got, "counted at now: earlier, the expired were live")
}
