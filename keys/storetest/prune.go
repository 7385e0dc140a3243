package storetest

import (
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/audit"
	"github.com/keycaphq/keycap/keys"
)

// testPrune: PruneKeys deletes exactly the records revoked before its
// first time or expired before its second, lowest ids first, at most
// limit at a time, and frees their hashes; live records (no expiry, a
// later one, disabled) and records dead since the cut-off are kept; zero
// times delete nothing.
func testPrune(t *testing.T, s keys.Store) {
	ctx := t.Context()
	cut := t0.Add(24 * time.Hour)
	kinds := []struct {
		name string
		set  func(k *keys.Key)
		dead bool
	}{
		{"live", nil, false},
		{"live, expiring later", func(k *keys.Key) { k.ExpiresAt = cut.Add(time.Hour) }, false},
		{"disabled", func(k *keys.Key) { k.Disabled, k.DisabledBy = true, audit.User("admin") }, false},
		{"revoked before", func(k *keys.Key) { k.RevokedAt = cut.Add(-time.Millisecond) }, true},
		{"revoked at the cut", func(k *keys.Key) { k.RevokedAt = cut }, false},
		{"revoked before, expiring later", func(k *keys.Key) { k.RevokedAt, k.ExpiresAt = t0, cut.Add(time.Hour) }, true},
		{"expired before", func(k *keys.Key) { k.ExpiresAt = cut.Add(-time.Hour) }, true},
		{"expired at the cut", func(k *keys.Key) { k.ExpiresAt = cut }, false},
		{"another owner's, expired", func(k *keys.Key) { k.OwnerID, k.ExpiresAt = "bob", t0 }, true},
	}
	var want, keep []string
	hashes := map[string][]byte{}
	for i, kind := range kinds {
		k := newKey(t, "alice", t0.Add(time.Duration(i)*time.Millisecond))
		if kind.set != nil {
			kind.set(k)
		}
		create(t, s, k)
		hashes[k.ID] = k.Hash
		if kind.dead {
			want = append(want, k.ID)
		} else {
			keep = append(keep, k.ID)
		}
	}

	none, err := s.PruneKeys(ctx, time.Time{}, time.Time{}, 100)
	require.NoError(t, err)
	assert.Empty(t, none, "zero times prune nothing")

	var got []string
	for batch := 0; ; batch++ {
		require.Less(t, batch, 10, "pruning must end")
		dead, err := s.PruneKeys(ctx, cut, cut, 2)
		require.NoError(t, err)
		require.LessOrEqual(t, len(dead), 2, "at most limit")
		for _, k := range dead {
			got = append(got, k.ID)
			assert.NotEmpty(t, k.OwnerID)
		}
		if len(dead) < 2 {
			break
		}
	}
	assert.Equal(t, want, got, "exactly the dead, lowest ids first")
	for _, id := range want {
		_, err := s.Get(ctx, id)
		assert.ErrorIs(t, err, keys.ErrNotFound, id)
		k := newKey(t, "alice", t0.Add(time.Hour))
		k.Hash = hashes[id]
		assert.NoError(t, s.Create(ctx, k, 0), "the pruned record's hash is free")
	}
	for _, id := range keep {
		get(t, s, id)
	}
}

// testRacePrune: a prune of expired records racing a change that extends
// a record's expiry never deletes a record the change made live: each
// trial ends with the change refused as not found (pruned first) or with
// the record stored with its new expiry (changed first).
func testRacePrune(t *testing.T, s keys.Store) {
	n := trials(60, 20)
	var (
		c      tally
		undone failures
	)
	cut := t0.Add(24 * time.Hour)
	for trial := range n {
		k := newKey(t, "alice", t0.Add(time.Duration(trial)*time.Millisecond))
		k.ExpiresAt = cut.Add(-time.Hour)
		create(t, s, k)
		later := cut.Add(30 * 24 * time.Hour)
		var wg sync.WaitGroup
		var changeErr, pruneErr error
		var pruned []*keys.Key
		wg.Add(2)
		go func() {
			defer wg.Done()
			_, changeErr = s.Change(t.Context(), k.ID, keys.Change{Version: 1, At: cut, ExpiresAt: &later})
		}()
		go func() {
			defer wg.Done()
			pruned, pruneErr = s.PruneKeys(t.Context(), time.Time{}, cut, 10)
		}()
		wg.Wait()
		require.NoError(t, pruneErr)
		stored, getErr := s.Get(t.Context(), k.ID)
		switch {
		case changeErr == nil && getErr == nil && stored.ExpiresAt.Equal(later) && len(pruned) == 0:
			c.add("changed first")
		case errors.Is(changeErr, keys.ErrNotFound) && errors.Is(getErr, keys.ErrNotFound) && len(pruned) == 1:
			c.add("pruned first")
		default:
			undone.add(trial, "change "+errString(changeErr)+", get "+errString(getErr)+", pruned "+itoa(len(pruned)))
		}
	}
	undone.check(t, n, "prunes deleting a record made live, or answering wrongly", &c)
}

func errString(err error) string {
	if err == nil {
		return "ok"
	}
	return err.Error()
}

func itoa(n int) string { return strconv.Itoa(n) }
