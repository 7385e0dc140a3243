package keys

import (
	"maps"
	"math"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/keycaphq/keycap/policy"
)

// recordCache is a bounded in-process cache of key records by id, with
// CLOCK (second-chance) eviction: a hit takes a read lock and sets a bit, so
// concurrent hits do not contend on a list as in an LRU. Cached records are
// never mutated; a change replaces or drops the entry. Safe for concurrent
// use.
type recordCache struct {
	mu      sync.RWMutex
	entries map[string]*cacheEntry
	ring    []*cacheEntry // entries in insertion slots, for the clock hand
	hand    int
	size    int
	maxAge  time.Duration // 0: entries never age out
	drops   uint64        // counts drops, so a fill that raced one is discarded
	tags    tagger        // this process's SipHash key, for cacheEntry.passed
	// sets holds one map per distinct permission set of cached records,
	// by its String(): most keys carry one of a few sets, which cached
	// records then share instead of holding a map each. Bounded by
	// maxSharedSets; never mutated (cached records are read-only).
	sets map[string]policy.Permissions
}

// maxSharedSets bounds recordCache.sets: past it, records keep their own
// maps.
const maxSharedSets = 1024

type cacheEntry struct {
	rec      record // the key as verification reads it; never modified once cached
	loadedAt int64  // when rec was read from the Store, in Unix nanoseconds
	used     atomic.Bool
	slot     int32 // its slot in the ring; a cache holds fewer than 2^31 entries
	// memo is the last Verified the entry answered, for the owner cap it
	// was cut to (Verified.ownerCap) and the subject it names: the next
	// verification of the same key, with the same secret, under the very
	// same cap (the policy hands out one precomputed map per role) and an
	// equal subject answers the same *Verified, with no set arithmetic and
	// no allocation. The Verified holds the cap itself, so the map cannot
	// be freed and its address reused while the memo compares against it.
	// Only keys without ancestors are memoized: their Verified depends on
	// nothing but the record, the subject and the cap (the policy is
	// immutable).
	memo atomic.Pointer[Verified]
	// passedLo and passedHi are the tag of the key string that passed
	// every check of the full path against rec (form, HMAC against its
	// hash, not the previous one, kind), for the fast path: a presented
	// key with the same tag is that string (see [tagger]). Zero until one
	// has. Only one string can pass against a record (another would be an
	// HMAC-SHA256 collision), so every write stores the same two words,
	// and a read that sees one written and not the other holds a tag that
	// only that same string could match (and a forger would need about
	// 2^128 tries to match by chance).
	passedLo, passedHi atomic.Uint64
	// noted is when a use of the key was last noted for last-used
	// bookkeeping (Unix nanoseconds), so that a hit within the interval
	// skips the recorder.
	noted atomic.Int64
}

// passed returns the tag of the key string that passed against e's
// record; the zero tag (which matches nothing) until one has.
func (e *cacheEntry) passed() tag { return tag{e.passedLo.Load(), e.passedHi.Load()} }

// pass records t as the tag of the key string that passed against e's
// record.
func (e *cacheEntry) pass(t tag) {
	e.passedLo.Store(t.lo)
	e.passedHi.Store(t.hi)
}

// verified returns the memoized Verified for subject under ownerCap; nil
// when the memo is for another cap or subject.
func (e *cacheEntry) verified(subject policy.Subject, ownerCap policy.Permissions) *Verified {
	if v := e.memo.Load(); v != nil && sameMap(v.ownerCap, ownerCap) && sameSubject(v.Subject, subject) {
		return v
	}
	return nil
}

// sameSubject reports whether a and b are equal in every field. A field
// added to policy.Subject must be compared here: TestSameSubjectKnowsEveryField
// fails until it is.
func sameSubject(a, b policy.Subject) bool {
	return a.ID == b.ID && a.Disabled == b.Disabled && a.Organization == b.Organization &&
		slices.Equal(a.Roles, b.Roles) && maps.Equal(a.Attributes, b.Attributes)
}

// subjectFields is the number of fields of policy.Subject that sameSubject
// compares.
const subjectFields = 5

// cutTo returns stored cut to bound: stored itself when it is within bound.
func cutTo(stored, bound policy.Permissions) policy.Permissions {
	if policy.Subset(stored, bound) {
		return stored
	}
	return policy.Intersect(stored, bound)
}

func sameMap(a, b policy.Permissions) bool {
	return a != nil && b != nil && reflect.ValueOf(a).UnsafePointer() == reflect.ValueOf(b).UnsafePointer()
}

func newRecordCache(size int, maxAge time.Duration) *recordCache {
	size = min(size, math.MaxInt32) // cacheEntry.slot
	return &recordCache{entries: make(map[string]*cacheEntry, size), size: size, maxAge: maxAge, tags: newTagger(),
		sets: map[string]policy.Permissions{}}
}

func (c *recordCache) get(id string, now time.Time) *cacheEntry {
	if e := c.peek(id); e != nil && c.fresh(e, now) {
		return e
	}
	return nil
}

// peek returns the entry of id, fresh or not.
func (c *recordCache) peek(id string) *cacheEntry {
	c.mu.RLock()
	e := c.entries[id]
	c.mu.RUnlock()
	return e
}

// fresh reports whether e is within MaxStale at now, and marks it used
// if it is.
func (c *recordCache) fresh(e *cacheEntry, now time.Time) bool {
	if c.maxAge > 0 && now.UnixNano()-e.loadedAt >= int64(c.maxAge) {
		return false
	}
	if !e.used.Load() {
		e.used.Store(true)
	}
	return true
}

// generation returns a token to pass to put for a record read from the
// Store after this call.
func (c *recordCache) generation() uint64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.drops
}

// put caches e, whose record was read from the Store at e.loadedAt,
// unless a record was dropped since generation returned gen: the record
// may then predate that change (a revocation), and caching it would undo
// the drop. e is not yet visible to any other goroutine.
func (c *recordCache) put(e *cacheEntry, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.drops != gen {
		return
	}
	id := e.rec.id()
	e.rec.permissions = c.share(e.rec.permissions)
	if old := c.entries[id]; old != nil {
		e.slot = old.slot
	} else if len(c.ring) < c.size {
		e.slot = int32(len(c.ring))
		c.ring = append(c.ring, nil)
	} else {
		e.slot = c.evict()
	}
	c.ring[e.slot] = e
	c.entries[id] = e
}

// share returns the map of sets equal to p, remembering p when there is
// none and room. The record whose permissions it replaces is not yet
// visible to any other goroutine. Called with mu held.
func (c *recordCache) share(p policy.Permissions) policy.Permissions {
	if len(p) == 0 {
		return p
	}
	name := p.String()
	if q, ok := c.sets[name]; ok {
		return q
	}
	if len(c.sets) < maxSharedSets {
		c.sets[name] = p
	}
	return p
}

// evict frees a slot with the clock hand and returns it. Called with mu held.
func (c *recordCache) evict() int32 {
	for {
		slot := c.hand
		c.hand = (c.hand + 1) % len(c.ring)
		victim := c.ring[slot]
		if c.entries[victim.rec.id()] != victim {
			return int32(slot) // already dropped
		}
		if victim.used.Load() {
			victim.used.Store(false)
			continue
		}
		delete(c.entries, victim.rec.id())
		return int32(slot)
	}
}

func (c *recordCache) drop(id string) {
	c.mu.Lock()
	delete(c.entries, id)
	c.drops++
	c.mu.Unlock()
}

func (c *recordCache) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.entries)
}
