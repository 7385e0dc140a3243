package notifytest

import (
	"crypto/rand"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/audit"
	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/keys/notify"
)

// expiredKey stores a key of owner that expired an hour before t0, and
// returns the claim of its Expired notice at t0.
func expiredKey(t *testing.T, s keys.Store, owner string) (*keys.Key, notify.Claim) {
	t.Helper()
	k := newKey(owner, t0.Add(-10*day))
	k.ExpiresAt = t0.Add(-time.Hour)
	k = create(t, s, k)
	return k, claimOf(t, queries()[3], k, t0)
}

func claim(t *testing.T, s notify.Store, c notify.Claim) bool {
	t.Helper()
	won, err := s.Claim(t.Context(), c)
	require.NoError(t, err)
	return won
}

func testClaimOnce(t *testing.T, a, b Store) {
	_, c := expiredKey(t, a, "u1")
	require.True(t, claim(t, a, c))
	again := c
	again.Token = rand.Text()
	assert.False(t, claim(t, b, again), "claimed: another claim loses")
	assert.False(t, claim(t, a, c), "claimed: the same token loses too")

	other := c
	other.Lead, other.Token = time.Hour, rand.Text()
	assert.True(t, claim(t, b, other), "another lead is another notice")
	other.Lead, other.Type, other.Token = 0, audit.Stale, rand.Text()
	assert.True(t, claim(t, b, other), "another type is another notice")
	other.Type, other.At, other.Token = c.Type, c.At.Add(time.Millisecond), rand.Text()
	assert.True(t, claim(t, b, other), "another moment is another notice")
}

func testClaimTakeOver(t *testing.T, a, b Store) {
	_, c := expiredKey(t, a, "u1")
	require.True(t, claim(t, a, c))
	late := c
	late.Token, late.Now, late.Lapsed = rand.Text(), c.Now.Add(time.Minute), c.Now.Add(-time.Millisecond)
	assert.False(t, claim(t, b, late), "a claim made after Lapsed holds")
	late.Lapsed = c.Now
	assert.True(t, claim(t, b, late), "an unsent claim made at Lapsed is taken over")
	require.NoError(t, a.Sent(t.Context(), c, c.Now), "the first claimant's Sent does nothing now")
	third := late
	third.Token, third.Now, third.Lapsed = rand.Text(), late.Now.Add(time.Hour), late.Now.Add(time.Minute)
	assert.True(t, claim(t, a, third), "still unsent: it lapses again")
	require.NoError(t, b.Sent(t.Context(), third, third.Now))
	fourth := third
	fourth.Token, fourth.Now, fourth.Lapsed = rand.Text(), third.Now.Add(day), third.Now.Add(day)
	assert.False(t, claim(t, b, fourth), "a sent notice is never claimed again")
}

func testSentAndReleaseByToken(t *testing.T, a, b Store) {
	k, c := expiredKey(t, a, "u1")
	q := queries()[3]
	require.True(t, claim(t, a, c))
	wrong := c
	wrong.Token = rand.Text()
	require.NoError(t, b.Release(t.Context(), wrong))
	require.NoError(t, b.Sent(t.Context(), wrong, t0))
	due, err := b.Due(t.Context(), q)
	require.NoError(t, err)
	assert.Empty(t, due, "another token neither released nor sent the claim")
	notices, err := b.Notices(t.Context(), k.OwnerID, 10)
	require.NoError(t, err)
	assert.Empty(t, notices, "not sent")

	require.NoError(t, b.Release(t.Context(), c))
	due, err = a.Due(t.Context(), q)
	require.NoError(t, err)
	assert.Equal(t, map[string]bool{k.ID: true}, ids(due), "released: due again")
	require.True(t, claim(t, b, wrong), "released: claimable again")
	require.NoError(t, a.Sent(t.Context(), wrong, t0))
	require.NoError(t, a.Release(t.Context(), wrong))
	notices, err = b.Notices(t.Context(), k.OwnerID, 10)
	require.NoError(t, err)
	assert.Len(t, notices, 1, "a sent notice is not released")
}

func testNotices(t *testing.T, a, b Store) {
	k1, c1 := expiredKey(t, a, "u1")
	k2, c2 := expiredKey(t, a, "u1")
	_, c3 := expiredKey(t, a, "u2")
	c2.Type, c2.Lead = audit.Expiring, day
	unused := c1
	unused.Type, unused.Token = notify.Unused, rand.Text()
	for i, c := range []notify.Claim{c1, c2, c3, unused} {
		require.True(t, claim(t, a, c))
		require.NoError(t, a.Sent(t.Context(), c, t0.Add(time.Duration(i)*time.Minute)))
	}
	_, unsent := expiredKey(t, a, "u1")
	require.True(t, claim(t, a, unsent))
	name := "renamed after the notice"
	_, err := a.Change(t.Context(), k1.ID, keys.Change{At: t0.Add(time.Hour), Name: &name})
	require.NoError(t, err)

	got, err := b.Notices(t.Context(), "u1", 10)
	require.NoError(t, err)
	require.Len(t, got, 2, "sent notices of u1; no Unused claim, no unsent claim, not u2's")
	assert.Equal(t, audit.Expiring, got[0].Type, "newest first")
	assert.Equal(t, day, got[0].Lead)
	assert.Equal(t, k2.ID, got[0].Key.ID)
	assert.True(t, got[0].At.Equal(c2.At) && got[0].Sent.Equal(t0.Add(time.Minute)), "at %v, sent %v", got[0].At, got[0].Sent)
	assert.Equal(t, audit.Expired, got[1].Type)
	assert.Equal(t, time.Duration(0), got[1].Lead)
	assert.Equal(t, name, got[1].Key.Name, "the key's current record")
	got, err = b.Notices(t.Context(), "u1", 1)
	require.NoError(t, err)
	assert.Len(t, got, 1, "limit")
}

func testPrune(t *testing.T, a, b Store) {
	_, old := expiredKey(t, a, "u1")
	_, recent := expiredKey(t, a, "u1")
	recent.Now = t0.Add(day)
	require.True(t, claim(t, a, old))
	require.True(t, claim(t, a, recent))
	require.NoError(t, a.Sent(t.Context(), old, t0))
	n, err := b.Prune(t.Context(), t0.Add(time.Hour))
	require.NoError(t, err)
	assert.Equal(t, int64(1), n)
	old.Token = rand.Text()
	assert.True(t, claim(t, a, old), "pruned: the notice may be claimed again")
	recent.Token = rand.Text()
	assert.False(t, claim(t, a, recent), "kept")
}

// testRaceClaims: 8 claimants on each of 40 notices, then on each of 40
// lapsed claims; exactly one wins each.
func testRaceClaims(t *testing.T, a, b Store) {
	const notices, claimants = 40, 8
	cs := make([]notify.Claim, notices)
	for i := range cs {
		_, cs[i] = expiredKey(t, a, "u1")
	}
	for round, lapse := range []bool{false, true} {
		wins := make([]atomic.Int32, notices)
		var wg sync.WaitGroup
		for g := range claimants {
			s := []Store{a, b}[g%2]
			wg.Go(func() {
				for i, c := range cs {
					c.Token = rand.Text()
					if lapse {
						c.Now, c.Lapsed = t0.Add(time.Hour), t0
					}
					won, err := s.Claim(t.Context(), c)
					if !assert.NoError(t, err) {
						return
					}
					if won {
						wins[i].Add(1)
					}
				}
			})
		}
		wg.Wait()
		exactlyOne := 0
		for i := range wins {
			if wins[i].Load() == 1 {
				exactlyOne++
			}
		}
		t.Logf("round %d (lapsed claims: %v): %d of %d notices claimed exactly once by %d claimants", round, lapse, exactlyOne, notices, claimants)
		assert.Equal(t, notices, exactlyOne)
	}
}
