package keys

// Attack tests of the bucketed table of audited denials (e8afd52), written
// by an attacker who did not write it: each TestAttack* broke a guarantee
// before its fix.

import (
	"context"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/policy"
)

// bucketOf returns the bucket d files (id, reason) in, as note does.
func bucketOf(d *denialTable, id, reason string) uint64 {
	return d.fingerprint(id, reason) % denialBuckets
}

// denialIDs returns fresh ids until pick accepts n of them.
func denialIDs(t *testing.T, n int, pick func(id string) bool) []string {
	t.Helper()
	var out []string
	for range 1 << 22 {
		id, err := newID(time.Now())
		require.NoError(t, err)
		if pick(id) {
			if out = append(out, id); len(out) == n {
				return out
			}
		}
	}
	t.Fatal("no ids found")
	return nil
}

// TestAttackIPRefusalsTakeTwoSlots: "any 8 pairs refused within an
// interval are each audited, whatever their hashes". A key refused for its
// address took two slots of the table: one for its audit, one for its log
// line ("logged: outside allowed_ips"). One such key and seven revoked
// keys, 8 refused (key, reason) pairs whose slots share a bucket, made 9
// entries: the last revoked key was counted, not audited (after a forged
// key had taken the interval's one anonymous audit).
func TestAttackIPRefusalsTakeTwoSlots(t *testing.T) {
	ctx := context.Background()
	events := &eventCounter{}
	m, _, now := deniedManager(t, events)
	store := m.store.(recordStore)
	d := &m.denials.seen
	ipKey := denialIDs(t, 1, func(id string) bool {
		return bucketOf(d, id, ErrIPNotAllowed.Error()) == bucketOf(d, id, "logged: outside allowed_ips")
	})[0]
	bucket := bucketOf(d, ipKey, ErrIPNotAllowed.Error())
	revoked := denialIDs(t, denialWays-1, func(id string) bool { return bucketOf(d, id, errRevoked.Error()) == bucket })
	token := func(id string, k *Key) string {
		tok, err := generate(defaultPrefix, id)
		require.NoError(t, err)
		h := m.hasher.Sum(tok.String())
		k.ID, k.OwnerID, k.Hash, k.Permissions, k.CreatedAt = id, "bob", h[:], policy.MustParse("files:read"), *now
		store.records[id] = k
		return tok.String()
	}
	_, err := m.Verify(ctx, forged(t, defaultPrefix, 1)[0], "") // the interval's anonymous audit
	require.Error(t, err)
	_, err = m.Verify(ctx, token(ipKey, &Key{AllowedIPs: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}}), "198.51.100.1")
	require.ErrorIs(t, err, ErrIPNotAllowed)
	for _, id := range revoked {
		_, err = m.Verify(ctx, token(id, &Key{RevokedAt: *now}), "")
		require.ErrorIs(t, err, errRevoked)
	}
	n, last := events.count()
	assert.Equal(t, 1+denialWays, n, "each of the %d refused (key, reason) pairs audited", denialWays)
	assert.Equal(t, revoked[len(revoked)-1], last.KeyID, "the last revoked key audited by id")
}

// TestAttackDenialReadBeforeTheLock: a refusal reads the clock before it
// takes the table's lock, so a concurrent refusal of the same key can
// record a later time first; the earlier reading was taken for a clock
// gone backwards, and the pair audited again within the interval (13
// extra audits in 1,000 trials of 16 goroutines under -race, 18 more of
// the forged keys' one per interval). A reading less than an interval
// before the recorded one is within the interval: so is an older
// reading of the anonymous counter. A clock set back by an interval or
// more forgets, as before.
func TestAttackDenialReadBeforeTheLock(t *testing.T) {
	at := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	var d denialTable
	require.Equal(t, seenNot, d.note("06we154rh3v7a04w", "revoked", at, time.Minute))
	assert.Equal(t, seenAlready, d.note("06we154rh3v7a04w", "revoked", at.Add(-time.Nanosecond), time.Minute), "read just before")
	assert.Equal(t, seenAlready, d.note("06we154rh3v7a04w", "revoked", at.Add(59*time.Second), time.Minute))
	assert.Equal(t, seenNot, d.note("06we154rh3v7a04w", "revoked", at.Add(-time.Hour), time.Minute), "a clock set back an hour")
	assert.Equal(t, seenAlready, d.note("06we154rh3v7a04w", "revoked", at.Add(-time.Hour+time.Second), time.Minute))

	var c denialCounter
	first, _ := c.note(at, time.Minute)
	require.True(t, first)
	first, _ = c.note(at.Add(-time.Nanosecond), time.Minute)
	assert.False(t, first, "read just before the first of the interval")
	first, n := c.note(at.Add(-time.Hour), time.Minute)
	assert.True(t, first, "a clock set back an hour")
	assert.Equal(t, int64(1), n)

	// The same, as it happens: goroutines refusing one revoked key, and
	// forged keys, on the real clock.
	ctx := context.Background()
	extra := 0
	for range 300 {
		revokedEvents, forgedEvents := &eventCounter{}, &eventCounter{}
		m, revoked, _ := deniedManager(t, revokedEvents)
		m2, _, _ := deniedManager(t, forgedEvents)
		m.now, m2.now = time.Now, time.Now
		keys := forged(t, defaultPrefix, 8*20)
		var wg sync.WaitGroup
		for g := range 8 {
			wg.Go(func() {
				for i := range 20 {
					_, _ = m.Verify(ctx, revoked, "")
					_, _ = m2.Verify(ctx, keys[g*20+i], "")
				}
			})
		}
		wg.Wait()
		for _, e := range []*eventCounter{revokedEvents, forgedEvents} {
			n, _ := e.count()
			extra += n - 1
		}
	}
	assert.Zero(t, extra, "audits beyond one per key and reason, and one anonymous, per interval")
}
