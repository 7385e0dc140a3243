package keys

import (
	"sync"
	"sync/atomic"
	"time"
)

// The coarse clock spares a cache hit the exact clock read (two vDSO
// calls, 40 to 200 ns on a virtual machine's clock). It is used only for
// a cached key whose every deadline (its expiry, the policy's maximum
// lifetime from its creation, the cache's MaxStale) is more than
// exactWithin ahead of it, and for last-used bookkeeping; a key nearer a
// deadline, a key with ancestors, a cache miss, a refusal's retry and a
// Manager with its own Config.Now read the exact clock.
//
// Why that never admits an expired key: the coarse time is a reading of
// the exact clock taken at most coarseTick ago, so it is never ahead of
// the exact time; the fast path admits a key only while its deadline is
// more than exactWithin after the coarse time. An expired key could pass
// only if the refresh fell more than exactWithin (a second, a thousand
// ticks) behind while verifications still ran. It does not: the refresh
// is a runtime timer, which the Go scheduler runs ahead of ready
// goroutines at every scheduling point, and a goroutine is preempted
// within about 10 ms.
const (
	coarseTick  = time.Millisecond
	exactWithin = time.Second
	// coarseIdle is how many ticks without a read stop the refresh: an
	// idle process does not wake a thousand times a second.
	coarseIdle = 1000
)

// coarseClock is the process's coarse clock. Safe for concurrent use.
type coarseClock struct {
	ns   atomic.Int64 // Unix nanoseconds at the last refresh; 0 while stopped
	read atomic.Bool  // read since the last refresh
	mu   sync.Mutex   // orders starts and stops
}

// coarse is shared by every Manager of the process.
var coarse coarseClock

// now returns the time of the last refresh in Unix nanoseconds, or the
// exact time when the refresh is stopped (and starts it).
func (c *coarseClock) now() int64 {
	if ns := c.ns.Load(); ns != 0 {
		if !c.read.Load() {
			c.read.Store(true)
		}
		return ns
	}
	return c.start()
}

func (c *coarseClock) start() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now().UnixNano()
	if c.ns.Load() == 0 {
		c.ns.Store(now)
		c.read.Store(true)
		go c.run()
	}
	return now
}

// run refreshes the clock every tick until it goes unread for coarseIdle
// ticks.
func (c *coarseClock) run() {
	t := time.NewTicker(coarseTick)
	defer t.Stop()
	idle := 0
	for range t.C {
		if c.read.Swap(false) {
			idle = 0
		} else if idle++; idle >= coarseIdle {
			c.mu.Lock()
			c.ns.Store(0) // the next read starts it again
			c.mu.Unlock()
			return
		}
		c.ns.Store(time.Now().UnixNano())
	}
}

// timeFor returns the time to check a cached key against whose nearest
// deadline is at deadline (Unix nanoseconds; 0 for none): the coarse
// clock's while that is more than exactWithin away, else the exact clock.
func (m *Manager) timeFor(deadline int64) time.Time {
	if m.coarse {
		ns := coarse.now()
		if deadline == 0 || deadline-ns > int64(exactWithin) {
			return time.Unix(0, ns)
		}
	}
	return m.now()
}
