// Package faultproxy is a TCP proxy for tests that puts network faults
// between a client and a real service (Postgres, MySQL, Redis): it cuts
// connections, refuses new ones and holds traffic on demand, so a test can
// take a database "down" and bring it back without stopping the service that
// other tests share.
package faultproxy

import (
	"net"
	"sync"
	"testing"
	"time"
)

// DialTimeout bounds how long the proxy waits for the target when a client
// connects.
const DialTimeout = 2 * time.Second

// Proxy forwards connections from [Proxy.Addr] to a target address. Its
// methods are safe for concurrent use. It is closed, with every connection
// and goroutine it started, when the test that started it ends.
type Proxy struct {
	target string
	ln     net.Listener

	mu      sync.Mutex
	broken  bool
	release chan struct{} // non-nil while stalled; closed by Heal
	links   map[*link]struct{}
	closed  bool
	stats   Stats
	wg      sync.WaitGroup
}

// Stats counts what a Proxy did since it started.
type Stats struct {
	Accepted int // connections forwarded (or held, while stalled)
	Refused  int // connections reset at once because the proxy was broken
	Cut      int // forwarded connections cut by Break, DropActive or Close
}

// Start starts a proxy on 127.0.0.1 (a free port) to target, such as
// "127.0.0.1:5432", and registers its Close with t.Cleanup. It fails t if
// it cannot listen. The target is dialed per client connection, so Start
// succeeds whether or not the target is up.
func Start(t testing.TB, target string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("faultproxy: listen: %v", err)
	}
	p := &Proxy{target: target, ln: ln, links: map[*link]struct{}{}}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.Close)
	return p
}

// Addr returns the address clients connect to, "127.0.0.1:port".
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Break cuts every connection (with a TCP reset) and resets new ones as
// soon as they are accepted, until [Proxy.Heal]: the service looks down.
// It returns how many connections it cut.
func (p *Proxy) Break() int {
	p.mu.Lock()
	p.broken = true
	p.unstall()
	p.mu.Unlock()
	return p.cutAll()
}

// DropActive cuts every current connection (with a TCP reset), mid-query
// if one is running, and keeps accepting new ones: a network blip. It
// returns how many connections it cut.
func (p *Proxy) DropActive() int { return p.cutAll() }

// Stall holds all traffic, both ways, until [Proxy.Heal]: connections stay
// open and new ones are accepted, but nothing reaches the other side, as
// with a service that hangs or a network that drops packets.
func (p *Proxy) Stall() {
	p.mu.Lock()
	if p.release == nil && !p.closed {
		p.release = make(chan struct{})
	}
	p.mu.Unlock()
}

// Heal ends Break and Stall: new connections are forwarded again and held
// traffic flows.
func (p *Proxy) Heal() {
	p.mu.Lock()
	p.broken = false
	p.unstall()
	p.mu.Unlock()
}

// Active returns the number of connections being forwarded.
func (p *Proxy) Active() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.links)
}

// Stats returns the proxy's counters.
func (p *Proxy) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stats
}

// Close stops the proxy: it closes the listener and every connection and
// waits for its goroutines to end. It is idempotent; [Start] registers it
// with t.Cleanup.
func (p *Proxy) Close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	p.unstall()
	p.mu.Unlock()
	_ = p.ln.Close()
	p.cutAll()
	p.wg.Wait()
}

// unstall releases held traffic. Called with mu held.
func (p *Proxy) unstall() {
	if p.release != nil {
		close(p.release)
		p.release = nil
	}
}

func (p *Proxy) cutAll() int {
	p.mu.Lock()
	links := make([]*link, 0, len(p.links))
	for l := range p.links {
		links = append(links, l)
	}
	p.mu.Unlock()
	n := 0
	for _, l := range links {
		if l.cut(true) {
			n++
		}
	}
	p.mu.Lock()
	p.stats.Cut += n
	p.mu.Unlock()
	return n
}
