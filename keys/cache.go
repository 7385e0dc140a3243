package keys

import (
	"reflect"
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
	ring    []string // ids in insertion slots, for the clock hand
	hand    int
	size    int
	maxAge  time.Duration // 0: entries never age out
	drops   uint64        // counts drops, so a fill that raced one is discarded
}

type cacheEntry struct {
	key      *Key
	loadedAt time.Time
	used     atomic.Bool
	slot     int
	memo     atomic.Pointer[capMemo] // the last cap this key was cut to
}

// capMemo remembers a key's effective permissions under one cap, so that
// the next verification under the very same cap (the policy hands out one
// precomputed map per role) skips the set arithmetic. It holds the cap
// itself, so the map cannot be freed and its address reused while the
// memo compares against it.
type capMemo struct {
	ownerCap, effective policy.Permissions
}

// effective returns k's permissions cut to ownerCap, from the memo when
// ownerCap is the same map as last time.
func (e *cacheEntry) effective(ownerCap policy.Permissions) policy.Permissions {
	if m := e.memo.Load(); m != nil && sameMap(m.ownerCap, ownerCap) {
		return m.effective
	}
	eff := cutTo(e.key.Permissions, ownerCap)
	e.memo.Store(&capMemo{ownerCap: ownerCap, effective: eff})
	return eff
}

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
	return &recordCache{entries: make(map[string]*cacheEntry, size), size: size, maxAge: maxAge}
}

func (c *recordCache) get(id string, now time.Time) *cacheEntry {
	c.mu.RLock()
	e := c.entries[id]
	c.mu.RUnlock()
	if e == nil {
		return nil
	}
	if c.maxAge > 0 && now.Sub(e.loadedAt) >= c.maxAge {
		return nil
	}
	if !e.used.Load() {
		e.used.Store(true)
	}
	return e
}

// generation returns a token to pass to put for a record read from the
// Store after this call.
func (c *recordCache) generation() uint64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.drops
}

// put caches k, read from the Store at now, unless a record was dropped
// since generation returned gen: k may then predate that change (a
// revocation), and caching it would undo the drop.
func (c *recordCache) put(k *Key, now time.Time, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.drops != gen {
		return
	}
	if old := c.entries[k.ID]; old != nil {
		e := &cacheEntry{key: k, loadedAt: now, slot: old.slot}
		c.entries[k.ID] = e
		return
	}
	e := &cacheEntry{key: k, loadedAt: now}
	if len(c.ring) < c.size {
		e.slot = len(c.ring)
		c.ring = append(c.ring, k.ID)
	} else {
		e.slot = c.evict()
		c.ring[e.slot] = k.ID
	}
	c.entries[k.ID] = e
}

// evict frees a slot with the clock hand and returns it. Called with mu held.
func (c *recordCache) evict() int {
	for {
		slot := c.hand
		c.hand = (c.hand + 1) % len(c.ring)
		victim := c.entries[c.ring[slot]]
		if victim == nil || victim.slot != slot {
			return slot // already dropped
		}
		if victim.used.Load() {
			victim.used.Store(false)
			continue
		}
		delete(c.entries, c.ring[slot])
		return slot
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
