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
//     interval;
//   - malformed keys and ids that match no record name nobody's key and can
//     be forged at will: the first of an interval is audited, the rest are
//     counted and the count reported with the first of the next interval.
//
// Both cost O(1) time and bounded memory whatever ids are sent.
func (m *Manager) auditDenied(ctx context.Context, raw string, k *Key, err error, ip string) {
	now := m.now()
	e := audit.Event{Type: audit.VerificationDenied, Time: now, Reason: err.Error(), IP: ip}
	if k != nil {
		e.KeyID, e.OwnerID, e.Before = k.ID, k.OwnerID, k.Permissions
	} else if errors.Is(err, errWrongSecret) {
		// A real id with a wrong secret; the id is not secret, the key never
		// leaves here. Any other denial without a record (an unknown id,
		// another app's prefix) names an id that may be forged at will.
		t, _ := parse(raw)
		e.KeyID = t.ID
	}
	if e.KeyID == "" {
		first, uncounted := m.denials.anonymous.note(now, m.denials.interval)
		if !first {
			return
		}
		if uncounted > 0 {
			e.Reason += "; " + strconv.FormatInt(uncounted, 10) + " more malformed or unknown keys were refused in the previous " + m.denials.interval.String() + ", not audited one by one"
		}
	} else if !m.denials.seen.first(e.KeyID, e.Reason, now, m.denials.interval) {
		return // already audited within the interval
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
// fixed table: a lookup is one hash and one slot, and memory is bounded.
// Two pairs that share a slot evict each other, which at worst audits a
// pair again within its interval.
type denialTable struct {
	once  sync.Once
	seed  maphash.Seed
	mu    sync.Mutex
	slots [4096]struct {
		fp uint64
		at int64
	}
}

// first reports whether (id, reason) was not audited within interval
// before now, and records it.
func (d *denialTable) first(id, reason string, now time.Time, interval time.Duration) bool {
	d.once.Do(func() { d.seed = maphash.MakeSeed() })
	var h maphash.Hash
	h.SetSeed(d.seed)
	h.WriteString(id)
	h.WriteByte(0)
	h.WriteString(reason)
	fp := h.Sum64()
	slot := &d.slots[fp%uint64(len(d.slots))]
	at := now.UnixNano()
	d.mu.Lock()
	defer d.mu.Unlock()
	if slot.fp == fp && at-slot.at < int64(interval) && at >= slot.at {
		return false
	}
	slot.fp, slot.at = fp, at
	return true
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
	if !c.everNoted || now.Sub(c.start) >= interval || now.Before(c.start) {
		uncounted, c.uncounted = c.uncounted, 0
		c.start, c.everNoted = now, true
		return true, uncounted
	}
	c.uncounted++
	return false, 0
}
