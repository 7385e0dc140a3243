package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/keycaphq/keycap/audit"
	"github.com/keycaphq/keycap/policy"

	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/keys"
)

// tc is when the keys of the key-limit tests are created: a live key
// expiring just after tc is long expired by the wall clock, so a Store
// that counts at time.Now instead of k.CreatedAt fails.
var tc = t0.Add(24 * time.Hour)

// existing kinds of records an owner may already hold.
var limitKinds = map[string]func(k *keys.Key){
	"live":             func(*keys.Key) {},
	"revoked":          func(k *keys.Key) { k.RevokedAt = tc.Add(-time.Hour) },
	"expired":          func(k *keys.Key) { k.ExpiresAt = tc.Add(-time.Millisecond) },
	"expiring at tc":   func(k *keys.Key) { k.ExpiresAt = tc }, // expired at tc: not live
	"expiring after":   func(k *keys.Key) { k.ExpiresAt = tc.Add(time.Millisecond) },
	"disabled":         func(k *keys.Key) { k.Disabled, k.DisabledBy = true, audit.User("admin") },
	"delegated":        func(k *keys.Key) { k.Ancestors = []string{"00000000000000aa"} },
	"another owner's":  func(k *keys.Key) { k.OwnerID = "u2" },
	"revoked, expired": func(k *keys.Key) { k.RevokedAt, k.ExpiresAt = tc.Add(-time.Hour), tc.Add(-time.Minute) },
}

func testCreateKeyLimit(t *testing.T, s keys.Store) {
	tests := []struct {
		name     string
		existing []string // kinds, from limitKinds
		maxLive  int
		wantOK   bool
	}{
		{"under the limit", []string{"live", "live"}, 3, true},
		{"at the limit", []string{"live", "live", "live"}, 3, false},
		{"no limit", []string{"live", "live", "live"}, 0, true},
		{"a limit of 1, no key", nil, 1, true},
		{"a limit of 1, one key", []string{"live"}, 1, false},
		{"revoked keys do not count", []string{"live", "live", "revoked", "revoked", "revoked, expired"}, 3, true},
		{"keys expired at creation do not count", []string{"live", "live", "expired", "expiring at tc"}, 3, true},
		{"a key expiring after creation counts", []string{"live", "live", "expiring after"}, 3, false},
		{"disabled keys count", []string{"live", "live", "disabled"}, 3, false},
		{"delegated keys count", []string{"live", "live", "delegated"}, 3, false},
		{"other owners' keys do not count", []string{"live", "live", "another owner's", "another owner's"}, 3, true},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			owner := fmt.Sprintf("owner-%d", i)
			var before []*keys.Key
			for j, kind := range tt.existing {
				k := newKey(t, owner, tc.Add(-time.Duration(j+1)*time.Hour))
				limitKinds[kind](k)
				before = append(before, create(t, s, k))
			}
			k := newKey(t, owner, tc)
			err := s.Create(t.Context(), k, tt.maxLive)
			if tt.wantOK {
				require.NoError(t, err)
				requireStored(t, s, withVersion1(k))
				return
			}
			var limit *policy.KeyLimitError
			require.True(t, errors.As(err, &limit), "want *policy.KeyLimitError, got %T: %v", err, err)
			require.Equal(t, tt.maxLive, limit.Limit)
			_, err = s.Get(t.Context(), k.ID)
			require.ErrorIs(t, err, keys.ErrNotFound, "a refused key was stored")
			hashIsFree(t, s, k.Hash)
			for _, b := range before {
				requireStored(t, s, b)
			}
		})
	}
}

func withVersion1(k *keys.Key) *keys.Key {
	c := k.Clone()
	c.Version = 1
	return c
}
