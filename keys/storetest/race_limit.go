package storetest

import (
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/policy"
)

// Concurrent creations against a key limit of raceLimit.
const raceLimit, creators = 10, 40

// created makes creators concurrent calls of create and counts the
// successes; a refusal must be a *policy.KeyLimitError of raceLimit.
func created(t *testing.T, c *tally, create func(i int) error) int {
	var n atomic.Int64
	together(creators, func(i int) {
		err := create(i)
		var limit *policy.KeyLimitError
		switch {
		case err == nil:
			n.Add(1)
			c.add("create ok")
		case errors.As(err, &limit) && limit.Limit == raceLimit:
			c.add("create refused: key limit")
		default:
			t.Errorf("create: unexpected error: %v", err)
		}
	})
	return int(n.Load())
}

// testRaceKeyLimit: 40 concurrent creations through a Manager whose
// policy allows 10 live keys: exactly 10 are created.
func testRaceKeyLimit(t *testing.T, s keys.Store) {
	m := newManager(t, s, raceLimit)
	n := trials(5, 2)
	var (
		c     tally
		wrong failures
	)
	for trial := range n {
		owner := fmt.Sprint("limited-", trial)
		got := created(t, &c, func(int) error {
			_, _, err := m.Create(t.Context(), keys.CreateRequest{Owner: owner, Name: "k", Permissions: readOnly})
			return err
		})
		list, err := s.List(t.Context(), owner, keys.Page{Limit: 100})
		require.NoError(t, err)
		if got != raceLimit || len(list) != raceLimit {
			wrong.add(trial, fmt.Sprintf("%d created, %d stored", got, len(list)))
		}
	}
	wrong.check(t, n, fmt.Sprintf("key limits of %d not exact under %d concurrent creations through a Manager", raceLimit, creators), &c)
}

// testRaceKeyLimitStore: 40 concurrent Creates with maxLive 10 for an
// owner who already holds a disabled key (it counts), revoked and expired
// ones (they do not), next to another owner's keys: exactly 9 are stored.
func testRaceKeyLimitStore(t *testing.T, s keys.Store) {
	n := trials(5, 2)
	var (
		c     tally
		wrong failures
	)
	for trial := range n {
		owner := fmt.Sprint("limited-", trial)
		for j, kind := range []string{"disabled", "revoked", "revoked", "expired", "expiring at tc"} {
			k := newKey(t, owner, tc.Add(-time.Duration(j+1)*time.Hour))
			limitKinds[kind](k)
			create(t, s, k)
		}
		for range 3 {
			create(t, s, newKey(t, "someone else", tc))
		}
		fresh := make([]*keys.Key, creators)
		for i := range fresh {
			fresh[i] = newKey(t, owner, tc.Add(time.Duration(i)*time.Millisecond))
		}
		got := created(t, &c, func(i int) error { return s.Create(t.Context(), fresh[i], raceLimit) })
		list, err := s.List(t.Context(), owner, keys.Page{Limit: 100})
		require.NoError(t, err)
		if got != raceLimit-1 || len(list) != raceLimit-1+5 {
			wrong.add(trial, fmt.Sprintf("%d created, %d stored with the 5 older keys", got, len(list)))
		}
	}
	wrong.check(t, n, fmt.Sprintf("key limits of %d not exact under %d concurrent Creates", raceLimit, creators), &c)
}
