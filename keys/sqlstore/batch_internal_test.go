package sqlstore

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/keys"
)

// TestTakeAnswersDroppedCalls: a queued lookup whose context is done when
// a statement drops it has an error when its done channel closes. Its
// caller may see that channel closed before its context's Done, and
// returns what the call holds: never (nil, nil).
func TestTakeAnswersDroppedCalls(t *testing.T) {
	b := &batcher{s: &Store{dialect: SQLite}, max: 32}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	c := &lookupCall{ctx: ctx, id: "aaaaaaaaaaaaaaaa", done: make(chan struct{})}
	b.queue = []*lookupCall{c}
	b.mu.Lock()
	batch := b.takeLocked(nil)
	b.mu.Unlock()
	assert.Empty(t, batch)
	<-c.done
	assert.Nil(t, c.key)
	require.Error(t, c.err, "a dropped call is answered with an error")
	assert.ErrorIs(t, c.err, keys.ErrStoreUnavailable)
	assert.ErrorIs(t, c.err, context.Canceled)
}

// TestTakeIsLinear: a statement takes N queued lookups of 32 keys in time
// linear in N, whatever their order. Lookups queued in runs (all of one
// key, then all of the next: a burst per key, as an attacker who holds
// many connections sends them) took each a walk of the batch so far:
// 40,000 of them held the Store's lock for seconds.
func TestTakeIsLinear(t *testing.T) {
	const n = 40_000
	b := &batcher{max: 32}
	for i := range n {
		b.queue = append(b.queue, &lookupCall{ctx: context.Background(), id: fmt.Sprintf("%016d", i*32/n), done: make(chan struct{})})
	}
	start := time.Now()
	b.mu.Lock()
	batch := b.takeLocked(nil)
	b.mu.Unlock()
	took := time.Since(start)
	t.Logf("%d queued lookups of 32 keys taken in %v", n, took)
	assert.Len(t, batch, n)
	assert.Less(t, took, 250*time.Millisecond, "a take holds the lock every lookup needs")
}

// blockingReader's statements wait for their context to end.
type blockingReader struct{ entered chan struct{} }

func (r blockingReader) QueryRow(context.Context, string, ...any) Row { panic("not used") }

func (r blockingReader) QueryRows(ctx context.Context, _ string, _ []any, _ func(Row) error) error {
	r.entered <- struct{}{}
	<-ctx.Done()
	return ctx.Err()
}

// TestLeaderReturnsAtItsDeadline: a lookup that starts a statement for
// itself and queued lookups returns when its context ends, though the
// statement goes on for the others (a hung database: before, it waited
// for every other caller to give up).
func TestLeaderReturnsAtItsDeadline(t *testing.T) {
	r := blockingReader{entered: make(chan struct{}, 2)}
	b := newBatcher(&Store{dialect: SQLite}, r, 32)
	patient, stop := context.WithCancel(context.Background())
	defer stop()
	queued := &lookupCall{ctx: patient, id: "bbbbbbbbbbbbbbbb", done: make(chan struct{})}
	b.queue = []*lookupCall{queued}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	answer := make(chan error, 1)
	go func() {
		_, err := b.get(ctx, "aaaaaaaaaaaaaaaa")
		answer <- err
	}()
	<-r.entered
	select {
	case err := <-answer:
		assert.ErrorIs(t, err, keys.ErrStoreUnavailable)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
	case <-time.After(2 * time.Second):
		stop()
		<-answer
		t.Fatal("the leader waited for the queued lookup's context, past its own deadline")
	}
	select {
	case <-queued.done:
		t.Fatal("the statement ended with the leader's context")
	case <-time.After(20 * time.Millisecond):
	}
	stop()
	<-queued.done
	assert.ErrorIs(t, queued.err, keys.ErrStoreUnavailable)
}
