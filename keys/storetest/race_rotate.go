package storetest

import (
	"bytes"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/keycaphq/keycap/keys"
)

// rotators is how many rotations of one key run at once.
const rotators = 4

// testRaceRotate: rounds of 4 rotations of one key through a Manager, all
// deciding on the same version. Each round exactly one succeeds and the
// others answer ErrConflict; the winner's secret verifies and the one it
// replaced (no grace) no longer does.
func testRaceRotate(t *testing.T, s keys.Store) {
	g := &gatedStore{Store: s}
	m := newManager(t, g, 0)
	k, secret := createKey(t, m, "alice", 0)
	ref := keys.Ref{Owner: "alice", ID: k.ID}
	n := trials(60, 20)
	var (
		c   tally
		bad failures
	)
	for round := range n {
		g.hold(rotators)
		var (
			mu  sync.Mutex
			won []string
		)
		together(rotators, func(int) {
			_, sec, err := m.Rotate(t.Context(), keys.RotateRequest{Ref: ref})
			c.add(outcome(t, "rotate", err, keys.ErrConflict))
			if err == nil {
				mu.Lock()
				won = append(won, sec)
				mu.Unlock()
			}
		})
		switch {
		case len(won) != 1:
			bad.add(round, fmt.Sprintf("%d of %d rotations succeeded", len(won), rotators))
		case !works(t, m, won[0]):
			bad.add(round, "the winner's secret does not verify")
		case works(t, m, secret):
			bad.add(round, "the replaced secret still verifies")
		}
		if len(won) > 0 {
			secret = won[len(won)-1]
		}
	}
	bad.check(t, n, fmt.Sprintf("rounds of %d rotations from one version without exactly one working secret", rotators), &c)
}

// testRaceRotateUnaligned: 4 goroutines rotate one key 5 times each
// through a Manager, at no particular moment. Every success counted a
// generation of its own, and only the last one's secret verifies.
func testRaceRotateUnaligned(t *testing.T, s keys.Store) {
	m := newManager(t, s, 0)
	n := trials(10, 3)
	var (
		c    tally
		lost failures
	)
	for trial := range n {
		lost.add(trial, rotationsLost(t, m, s, &c))
	}
	lost.check(t, n, "keys whose concurrent rotations did not each count one generation", &c)
}

// rotationsLost runs one trial of testRaceRotateUnaligned and says what
// went wrong, or "".
func rotationsLost(t *testing.T, m *keys.Manager, s keys.Store, c *tally) string {
	k, _ := createKey(t, m, "alice", 0)
	type success struct {
		generation int64
		secret     string
	}
	var (
		mu  sync.Mutex
		won []success
	)
	together(rotators, func(int) {
		for range 5 {
			after, sec, err := m.Rotate(t.Context(), keys.RotateRequest{Ref: keys.Ref{Owner: "alice", ID: k.ID}})
			c.add(outcome(t, "rotate", err, keys.ErrConflict))
			if err == nil {
				mu.Lock()
				won = append(won, success{after.Generation, sec})
				mu.Unlock()
			}
		}
	})
	slices.SortFunc(won, func(a, b success) int { return int(a.generation - b.generation) })
	stored := get(t, s, k.ID)
	if int(stored.Generation) != len(won) {
		return fmt.Sprintf("%d rotations succeeded, the key is at generation %d", len(won), stored.Generation)
	}
	for i, w := range won {
		if w.generation != int64(i+1) {
			return fmt.Sprintf("two rotations returned generation %d", w.generation)
		}
		if last := i == len(won)-1; works(t, m, w.secret) != last {
			return fmt.Sprintf("the secret of generation %d of %d verifies: %v", w.generation, len(won), !last)
		}
	}
	return ""
}

// testRaceRotateStore: rounds of 4 rotations on the Store, all at the
// version read before the round: exactly one is written, its hash is the
// stored one, and the losers' hashes stay free.
func testRaceRotateStore(t *testing.T, s keys.Store) {
	k := create(t, s, newKey(t, "alice", t0))
	n := trials(60, 20)
	var (
		c   tally
		bad failures
	)
	for round := range n {
		cur := get(t, s, k.ID)
		hashes := make([][]byte, rotators)
		for i := range hashes {
			hashes[i] = randomHash()
		}
		won := make([]bool, rotators)
		together(rotators, func(i int) {
			_, err := s.Change(t.Context(), k.ID, keys.Change{Version: cur.Version, At: t1, Secret: &keys.Secret{Hash: hashes[i]}})
			c.add(outcome(t, "rotate", err, keys.ErrConflict))
			won[i] = err == nil
		})
		stored := get(t, s, k.ID)
		winner := slices.Index(won, true)
		switch {
		case countTrue(won) != 1:
			bad.add(round, fmt.Sprintf("%d of %d rotations written", countTrue(won), rotators))
		case !bytes.Equal(stored.Hash, hashes[winner]) || stored.Generation != cur.Generation+1:
			bad.add(round, "the stored hash or generation is not the winner's")
		}
		if round < 5 {
			for i, h := range hashes {
				if i != winner {
					hashIsFree(t, s, h)
				}
			}
		}
	}
	bad.check(t, n, fmt.Sprintf("rounds of %d rotations on the Store without exactly one written", rotators), &c)
}

func countTrue(b []bool) int {
	n := 0
	for _, v := range b {
		if v {
			n++
		}
	}
	return n
}
