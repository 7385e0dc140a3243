package faultproxy_test

import (
	"bufio"
	"errors"
	"io"
	"net"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/internal/faultproxy"
)

// echo starts a line echo server and returns its address; it stops, with
// its goroutines, when t ends.
func echo(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		conns []net.Conn
	)
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Go(func() { _, _ = io.Copy(c, c) })
		}
	})
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln.Addr().String()
}

// roundTrip sends a line on c and reads it back within a second.
func roundTrip(c net.Conn, r *bufio.Reader, line string) (string, error) {
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := io.WriteString(c, line+"\n"); err != nil {
		return "", err
	}
	got, err := r.ReadString('\n')
	if err != nil {
		return "", err
	}
	return got[:len(got)-1], nil
}

func dial(t *testing.T, p *faultproxy.Proxy) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.DialTimeout("tcp", p.Addr(), time.Second)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c, bufio.NewReader(c)
}

// works requires that a new connection through p round-trips.
func works(t *testing.T, p *faultproxy.Proxy) {
	t.Helper()
	c, r := dial(t, p)
	got, err := roundTrip(c, r, "ping")
	require.NoError(t, err)
	require.Equal(t, "ping", got)
}

func TestForwards(t *testing.T) {
	p := faultproxy.Start(t, echo(t))
	c, r := dial(t, p)
	for _, line := range []string{"a", "bb", "ccc"} {
		got, err := roundTrip(c, r, line)
		require.NoError(t, err)
		assert.Equal(t, line, got)
	}
	assert.Equal(t, 1, p.Active())
	assert.Equal(t, faultproxy.Stats{Accepted: 1}, p.Stats())
}

func TestDropActive(t *testing.T) {
	p := faultproxy.Start(t, echo(t))
	c, r := dial(t, p)
	_, err := roundTrip(c, r, "before")
	require.NoError(t, err)

	assert.Equal(t, 1, p.DropActive())
	_, err = roundTrip(c, r, "after")
	require.Error(t, err, "the connection was cut")
	assert.False(t, isTimeout(err), "cut at once, not left hanging: %v", err)

	works(t, p) // new connections still go through
	assert.Equal(t, 1, p.Stats().Cut)
}

func TestBreakAndHeal(t *testing.T) {
	p := faultproxy.Start(t, echo(t))
	c, r := dial(t, p)
	_, err := roundTrip(c, r, "before")
	require.NoError(t, err)

	assert.Equal(t, 1, p.Break())
	_, err = roundTrip(c, r, "cut")
	require.Error(t, err)
	for range 3 { // accepted, then reset at once (the dial may see it)
		c, err := net.DialTimeout("tcp", p.Addr(), time.Second)
		if err == nil {
			_, err = roundTrip(c, bufio.NewReader(c), "refused")
			c.Close()
		}
		require.Error(t, err)
		assert.False(t, isTimeout(err), "refused at once: %v", err)
	}
	assert.Equal(t, 3, p.Stats().Refused)

	p.Heal()
	works(t, p)
}

func TestStall(t *testing.T) {
	p := faultproxy.Start(t, echo(t))
	c, r := dial(t, p)
	p.Stall()
	_ = c.SetDeadline(time.Now().Add(200 * time.Millisecond))
	_, err := io.WriteString(c, "held\n")
	require.NoError(t, err)
	_, err = r.ReadString('\n')
	require.True(t, isTimeout(err), "nothing flows while stalled: %v", err)

	p.Heal()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	got, err := r.ReadString('\n')
	require.NoError(t, err)
	assert.Equal(t, "held\n", got, "held traffic flows after Heal")
	works(t, p)
}

func TestTargetDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	target := ln.Addr().String()
	ln.Close() // nothing listens there now
	p := faultproxy.Start(t, target)
	c, r := dial(t, p)
	_, err = roundTrip(c, r, "x")
	require.Error(t, err, "the client sees the target's refusal as a closed connection")
}

// TestCloseLeavesNoGoroutines starts proxies with connections in every
// state and checks that their cleanup ends every goroutine they started.
func TestCloseLeavesNoGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	t.Run("proxies", func(t *testing.T) {
		target := echo(t)
		for i := range 3 {
			p := faultproxy.Start(t, target)
			for range 4 {
				c, r := dial(t, p)
				_, err := roundTrip(c, r, "x")
				require.NoError(t, err)
			}
			switch i {
			case 1:
				p.Stall()
				c, _ := dial(t, p)
				_, _ = io.WriteString(c, "held\n")
			case 2:
				p.Break()
			}
		}
	})
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	assert.LessOrEqual(t, runtime.NumGoroutine(), before, "goroutines left after the proxies closed")
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
