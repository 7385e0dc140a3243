package storetest

import (
	"errors"
	"fmt"
	"maps"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/keycaphq/keycap/keys"
)

// trials returns n, or short under go test -short: -short shrinks a race
// test, it never skips one.
func trials(n, short int) int {
	if testing.Short() {
		return short
	}
	return n
}

// together runs f(0) … f(n-1) in n goroutines released at the same
// moment, and waits for all of them.
func together(n int, f func(i int)) {
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			f(i)
		})
	}
	close(start)
	wg.Wait()
}

// tally counts the outcomes of a race test by name. It is safe for
// concurrent use.
type tally struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *tally) add(outcome string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == nil {
		c.n = map[string]int{}
	}
	c.n[outcome]++
}

// String lists the outcomes by name: "rename conflict=3 rename ok=12".
func (c *tally) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(c.n)) {
		fmt.Fprintf(&b, " %s=%d", k, c.n[k])
	}
	return strings.TrimSpace(b.String())
}

// errQuotaSpent stands for Manager.Consume's ok == false in a tally.
var errQuotaSpent = errors.New("quota spent")

// spendUntilRefused calls consume until it refuses or fails, tallying each
// outcome in c and counting each admitted request in admitted: one
// consumer of a quota race.
func spendUntilRefused(t *testing.T, c *tally, admitted *atomic.Int64, consume func() (ok bool, err error)) {
	for {
		ok, err := consume()
		if err == nil && !ok {
			err = errQuotaSpent
		}
		c.add(outcome(t, "consume", err, errQuotaSpent))
		if err != nil {
			return
		}
		admitted.Add(1)
		runtime.Gosched()
	}
}

// errNames are the refusals the race tests expect, by name.
var errNames = map[error]string{
	keys.ErrAlreadyRevoked: "refused: revoked",
	keys.ErrConflict:       "conflict",
	keys.ErrAdminChange:    "refused: disabled by admin",
	errQuotaSpent:          "refused: quota",
}

// outcome names the result of op for a tally: "op ok", or "op " and
// the name of the expected refusal err is. Any other error fails t.
func outcome(t *testing.T, op string, err error, expected ...error) string {
	if err == nil {
		return op + " ok"
	}
	for _, e := range expected {
		if errors.Is(err, e) {
			return op + " " + errNames[e]
		}
	}
	t.Errorf("%s: unexpected error: %v", op, err)
	return op + " failed"
}

// closed reports whether ch is closed.
func closed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// writer is one kind of operation that loops through a race test.
type writer struct {
	name string
	op   func(j int) error // the j-th call
}

// race runs each writer in a loop in its own goroutine, and stop in one
// more once the writers have started after calls in all (vary it between
// trials so that stop lands early and late). Each writer makes one more
// call after stop returned, or ends at a refusal that shows stop landed
// (the key is revoked, or disabled by an admin), or after maxCalls. Outcomes are added to c; errors
// other than expected fail t.
func race(t *testing.T, c *tally, after int, stop func(), writers []writer, expected ...error) {
	done := make(chan struct{})
	var started atomic.Int64
	together(len(writers)+1, func(i int) {
		if i == len(writers) {
			for started.Load() < int64(after) {
				runtime.Gosched()
			}
			stop()
			close(done)
			return
		}
		w := writers[i]
		for j := range maxCalls {
			last := closed(done)
			started.Add(1)
			err := w.op(j)
			c.add(outcome(t, w.name, err, expected...))
			if last || errors.Is(err, keys.ErrAlreadyRevoked) || errors.Is(err, keys.ErrAdminChange) {
				return // stopped, or saw what stop did: later calls decide on it
			}
			runtime.Gosched() // let stop run while the writers are busy
		}
	})
}

// maxCalls bounds the calls of one writer in one trial, so that a trial
// stays cheap on a store that makes stop wait (SQLite's busy handler
// sleeps) while reads keep succeeding. The race tests start stop once
// the writers have started at most 2 calls in all, so it lands among them.
const maxCalls = 3

// failures counts failed trials and keeps the first few reasons for the log.
type failures struct {
	n       int
	reasons []string
}

// add counts a failed trial when reason is not "".
func (f *failures) add(trial int, reason string) {
	if reason == "" {
		return
	}
	f.n++
	if len(f.reasons) < 3 {
		f.reasons = append(f.reasons, fmt.Sprintf("trial %d: %s", trial, reason))
	}
}

// check logs "n of trials what (outcomes)" and fails t unless n is 0.
func (f *failures) check(t *testing.T, trials int, what string, c *tally) {
	t.Helper()
	t.Logf("%d of %d %s (%s)", f.n, trials, what, c)
	for _, r := range f.reasons {
		t.Log(r)
	}
	if f.n != 0 {
		t.Errorf("%d of %d %s", f.n, trials, what)
	}
}
