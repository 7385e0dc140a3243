package keys

import (
	"context"
	"errors"
	"hash/maphash"
	"strconv"
	"sync"
	"time"

	"github.com/keycaphq/keycap/audit"
)

// auditDenied audits a refused verification, without letting a client
// that sends refused keys in a loop turn each request into an audit write:
//   - a key that names a record (revoked, disabled, expired, owner gone, or
//     a wrong secret for a real id) is audited once per key and reason per
//     interval, for up to 4,096 keys refused within an interval (any 8 of
//     them always); beyond that, as when a client cycles through thousands
//     of real ids, the rest are counted like forged ones;
//   - malformed keys and ids that match no record name nobody's key and can
//     be forged at will: the first of an interval is audited, the rest are
//     counted and the count reported with the first of the next interval.
//
// A key refused for its client address is also logged, when its refusal
// is recorded, under the same slot (with or without an Auditor): the log
// line takes no slot of its own, so any 8 refused pairs are still audited.
//
// Both cost O(1) time and bounded memory whatever ids are sent.
func (m *Manager) auditDenied(ctx context.Context, raw string, k *record, err error, ip string) {
	now := m.now()
	e := audit.Event{Type: audit.VerificationDenied, Time: now, Reason: err.Error(), IP: ip}
	if k != nil {
		e.KeyID, e.OwnerID, e.Before = k.id(), k.ownerID, k.permissions
	} else if errors.Is(err, errWrongSecret) {
		// A real id with a wrong secret; the id is not secret, the key never
		// leaves here. Any other denial without a record (an unknown id,
		// another app's prefix) names an id that may be forged at will.
		t, _ := parse(raw)
		e.KeyID = t.ID
	}
	if e.KeyID != "" {
		switch m.denials.seen.note(e.KeyID, e.Reason, now, m.denials.interval) {
		case seenAlready:
			return // already audited within the interval
		case seenNot:
			if k != nil && errors.Is(err, ErrIPNotAllowed) {
				m.logIPRefusal(ctx, k, ip)
			}
			m.audit(ctx, e)
			return
		}
		// seenFull: too many keys refused at once to remember; counted.
	}
	if m.auditor == nil {
		return // called for the log line alone
	}
	first, uncounted := m.denials.anonymous.note(now, m.denials.interval)
	if !first {
		return
	}
	if uncounted > 0 {
		e.Reason += "; " + strconv.FormatInt(uncounted, 10) + " more refused keys were counted in the previous " + m.denials.interval.String() + ", not audited one by one"
	}
	m.audit(ctx, e)
}

// denials remembers what was audited lately. Safe for concurrent use.
type denials struct {
	interval  time.Duration // 0: audit every denial
	seen      denialTable
	anonymous denialCounter
}

// denialTable remembers which (key, reason) pairs were audited when, in a
// fixed table: a lookup is one hash and one bucket of denialWays slots, and
// memory is bounded. Any denialWays pairs are always remembered, whatever
// their hashes; beyond that, a pair whose bucket is full of other pairs
// within their interval is not recorded (seenFull): the caller counts it
// instead of auditing it, so that many distinct pairs cannot evict each
// other into an audit write per request.
type denialTable struct {
	once    sync.Once
	seed    maphash.Seed
	mu      sync.Mutex
	buckets [denialBuckets][denialWays]struct {
		fp uint64
		at int64
	}
}

// The table's shape: 4,096 slots in buckets of 8. A direct-mapped table
// (buckets of one) loses a pair to a collision with any other: among only
// three refused keys, 3 in 4,096 times, and then a real key's denial went
// unaudited.
const (
	denialWays    = 8
	denialBuckets = 4096 / denialWays
)

// What a denialTable knows of a pair.
const (
	seenNot     = iota // not within the interval: recorded now, audit it
	seenAlready        // audited within the interval
	seenFull           // its bucket holds other pairs within their interval
)

// fingerprint is the pair's hash under the table's seed: its bucket is
// fingerprint % denialBuckets.
func (d *denialTable) fingerprint(id, reason string) uint64 {
	d.once.Do(func() { d.seed = maphash.MakeSeed() })
	var h maphash.Hash
	h.SetSeed(d.seed)
	h.WriteString(id)
	h.WriteByte(0)
	h.WriteString(reason)
	return h.Sum64()
}

// note reports what the table knew of (id, reason) at now, and records it
// when its bucket has room.
func (d *denialTable) note(id, reason string, now time.Time, interval time.Duration) int {
	fp := d.fingerprint(id, reason)
	bucket := &d.buckets[fp%denialBuckets]
	at := now.UnixNano()
	d.mu.Lock()
	defer d.mu.Unlock()
	free := -1
	for i := range bucket {
		slot := &bucket[i]
		// A reading up to an interval before the recorded one is within
		// its interval too: refusals read the clock before the lock, so a
		// concurrent one may record a later time first. A clock set back
		// by an interval or more forgets.
		since := at - slot.at
		fresh := slot.at != 0 && since < int64(interval) && -since < int64(interval)
		switch {
		case fresh && slot.fp == fp:
			return seenAlready
		case !fresh && (free < 0 || slot.fp == fp):
			free = i // prefer the pair's own stale slot, so it is never in two
		}
	}
	if free < 0 {
		return seenFull
	}
	bucket[free].fp, bucket[free].at = fp, at
	return seenNot
}

// denialCounter lets the first event of each interval through and counts
// the rest.
type denialCounter struct {
	mu        sync.Mutex
	start     time.Time
	uncounted int64
	everNoted bool
}

// note reports whether the event at now is the first of an interval, and
// if so how many were counted, not audited, in the interval before.
func (c *denialCounter) note(now time.Time, interval time.Duration) (first bool, uncounted int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	// As in denialTable.note, a reading less than an interval before the
	// start is within the interval.
	if since := now.Sub(c.start); !c.everNoted || since >= interval || since <= -interval {
		uncounted, c.uncounted = c.uncounted, 0
		c.start, c.everNoted = now, true
		return true, uncounted
	}
	c.uncounted++
	return false, 0
}
