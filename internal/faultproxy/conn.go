package faultproxy

import (
	"context"
	"errors"
	"net"
	"sync"
	"time"
)

// link is one client connection and its connection to the target.
type link struct {
	client   net.Conn
	ctx      context.Context // done when the link is cut
	cancel   context.CancelFunc
	mu       sync.Mutex
	upstream net.Conn // nil until dialed
	once     sync.Once
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if errors.Is(err, net.ErrClosed) {
			return
		}
		if err != nil { // e.g. out of file descriptors: try again shortly
			time.Sleep(10 * time.Millisecond)
			continue
		}
		p.mu.Lock()
		switch {
		case p.closed:
			p.mu.Unlock()
			_ = c.Close()
			return
		case p.broken:
			p.stats.Refused++
			p.mu.Unlock()
			reset(c)
			continue
		}
		ctx, cancel := context.WithCancel(context.Background())
		l := &link{client: c, ctx: ctx, cancel: cancel}
		p.links[l] = struct{}{}
		p.stats.Accepted++
		p.wg.Add(1)
		p.mu.Unlock()
		go p.serve(l)
	}
}

// serve dials the target for l and copies both ways until either side
// ends or l is cut.
func (p *Proxy) serve(l *link) {
	defer p.wg.Done()
	defer func() {
		l.cut(false)
		p.mu.Lock()
		delete(p.links, l)
		p.mu.Unlock()
	}()
	if !p.flowing(l) {
		return
	}
	d := net.Dialer{Timeout: DialTimeout}
	up, err := d.DialContext(l.ctx, "tcp", p.target)
	if err != nil {
		return
	}
	if !l.setUpstream(up) {
		return
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		p.pipe(l, up, l.client)
		l.cut(false)
	}()
	p.pipe(l, l.client, up)
}

// pipe copies src to dst, holding each chunk while the proxy is stalled.
func (p *Proxy) pipe(l *link, dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if !p.flowing(l) {
				return
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// flowing waits while the proxy is stalled; it reports false if l was cut
// meanwhile.
func (p *Proxy) flowing(l *link) bool {
	for {
		p.mu.Lock()
		release := p.release
		p.mu.Unlock()
		if release == nil {
			return l.ctx.Err() == nil
		}
		select {
		case <-release:
		case <-l.ctx.Done():
			return false
		}
	}
}

// setUpstream records the connection to the target, or closes it and
// reports false if l was cut while dialing.
func (l *link) setUpstream(up net.Conn) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ctx.Err() != nil {
		_ = up.Close()
		return false
	}
	l.upstream = up
	return true
}

// cut closes both connections, with a reset when abrupt is set. It reports
// whether this call cut l (false: it was already cut).
func (l *link) cut(abrupt bool) bool {
	did := false
	l.once.Do(func() {
		did = true
		l.mu.Lock()
		l.cancel()
		up := l.upstream
		l.mu.Unlock()
		for _, c := range []net.Conn{l.client, up} {
			if c == nil {
				continue
			}
			if abrupt {
				reset(c)
			} else {
				_ = c.Close()
			}
		}
	})
	return did
}

// reset closes c with a TCP RST rather than a FIN, as a crashed peer or a
// dropped route looks to the other side.
func reset(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = c.Close()
}
