package sqlstore_test

import (
	"crypto/rand"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keycaphq/keycap/audit"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/keys"
)

// TestChangeKeepsConcurrentWrites renames a key over and over, each rename
// decided on a fresh read, while other goroutines spend its quota and
// record its use, on every dialect: no spend and no use is undone, and no
// rename is lost.
func TestChangeKeepsConcurrentWrites(t *testing.T) {
	const quota, renames, spenders, spends, touches = 1000, 30, 4, 25, 40
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			s := newStore(t, d.open(t), d.dialect)
			k := testKey(t, "u1")
			k.Remaining = ptr(int64(quota))
			require.NoError(t, s.Create(ctx, k, 0))

			var wg sync.WaitGroup
			var admitted, failures atomic.Int64
			wg.Go(func() {
				for i := range renames {
					cur, err := s.Get(ctx, k.ID)
					if err == nil {
						_, err = s.Change(ctx, k.ID, keys.Change{Version: cur.Version, At: t1, Name: ptr(fmt.Sprint("name-", i))})
					}
					if err != nil {
						failures.Add(1)
						t.Errorf("rename %d: %v", i, err)
					}
				}
			})
			for range spenders {
				wg.Go(func() {
					for range spends {
						_, ok, err := s.Consume(ctx, []string{k.ID}, t1)
						if err != nil {
							failures.Add(1)
							t.Errorf("consume: %v", err)
						}
						if ok {
							admitted.Add(1)
						}
					}
				})
			}
			for g := range 2 {
				wg.Go(func() {
					for i := g; i < touches; i += 2 {
						if err := s.Touch(ctx, k.ID, t1.Add(time.Duration(i+1)*time.Millisecond), fmt.Sprint("ip-", i)); err != nil {
							failures.Add(1)
							t.Errorf("touch: %v", err)
						}
					}
				})
			}
			wg.Wait()
			require.Zero(t, failures.Load())

			got, err := s.Get(ctx, k.ID)
			require.NoError(t, err)
			require.Equal(t, int64(spenders*spends), admitted.Load())
			undone := *got.Remaining - (quota - admitted.Load())
			t.Logf("%d renames, %d spends, %d uses at once: %d spends undone", renames, admitted.Load(), touches, undone)
			assert.Zero(t, undone, "spends undone")
			assert.Equal(t, t1.Add(touches*time.Millisecond), got.LastUsedAt, "the latest use stays")
			assert.Equal(t, fmt.Sprint("ip-", touches-1), got.LastUsedIP)
			assert.Equal(t, fmt.Sprint("name-", renames-1), got.Name)
			assert.Equal(t, int64(1+renames), got.Version, "every rename counted once")
		})
	}
}

// TestOneOfStaleChangesWins: many changes decided on the same version run
// at once, on every dialect; exactly one is written, the others are
// ErrConflict and write nothing.
func TestOneOfStaleChangesWins(t *testing.T) {
	const writers, trials = 10, 5
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			s := newStore(t, d.open(t), d.dialect)
			for trial := range trials {
				k := testKey(t, "u1")
				require.NoError(t, s.Create(ctx, k, 0))
				var won, conflicts atomic.Int64
				var winner atomic.Value
				var wg sync.WaitGroup
				start := make(chan struct{})
				for w := range writers {
					wg.Go(func() {
						<-start
						name := fmt.Sprint("writer-", w)
						_, err := s.Change(ctx, k.ID, keys.Change{Version: 1, At: t1, Name: &name})
						switch {
						case err == nil:
							won.Add(1)
							winner.Store(name)
						case errors.Is(err, keys.ErrConflict):
							conflicts.Add(1)
						default:
							t.Errorf("writer %d: %v", w, err)
						}
					})
				}
				close(start)
				wg.Wait()
				require.Equal(t, int64(1), won.Load(), "trial %d", trial)
				require.Equal(t, int64(writers-1), conflicts.Load(), "trial %d", trial)
				got, err := s.Get(ctx, k.ID)
				require.NoError(t, err)
				assert.Equal(t, winner.Load(), got.Name)
				assert.Equal(t, int64(2), got.Version)
			}
		})
	}
}

// TestRevocationIsTerminal races a revocation against a rename-and-enable
// and a rotation decided before it, many times, on every dialect: however
// they interleave, the key ends revoked by the revoker; 0 revocations are
// undone.
func TestRevocationIsTerminal(t *testing.T) {
	const trials = 25
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			s := newStore(t, d.open(t), d.dialect)
			revoker := audit.User("admin")
			undone, outcomes := 0, map[string]int{}
			var mu sync.Mutex
			count := func(what string, err error) {
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					outcomes[what+" written"]++
				case errors.Is(err, keys.ErrAlreadyRevoked):
					outcomes[what+" refused: revoked"]++
				case errors.Is(err, keys.ErrConflict):
					outcomes[what+" refused: conflict"]++
				default:
					t.Errorf("%s: %v", what, err)
				}
			}
			for range trials {
				k := testKey(t, "u1")
				k.Disabled, k.DisabledBy = true, audit.User("u1")
				require.NoError(t, s.Create(ctx, k, 0))
				var wg sync.WaitGroup
				start := make(chan struct{})
				wg.Go(func() {
					<-start
					_, err := s.Change(ctx, k.ID, keys.Change{At: t1, Revoke: true, RevokeReason: "leaked", By: revoker})
					count("revocation", err)
				})
				wg.Go(func() {
					<-start
					_, err := s.Change(ctx, k.ID, keys.Change{Version: 1, At: t1, Name: ptr("renamed"), Disabled: ptr(false)})
					count("rename and enable", err)
				})
				wg.Go(func() {
					<-start
					_, err := s.Change(ctx, k.ID, keys.Change{Version: 1, At: t1, Secret: &keys.Secret{Hash: []byte(rand.Text() + "012345")}})
					count("rotation", err)
				})
				close(start)
				wg.Wait()
				got, err := s.Get(ctx, k.ID)
				require.NoError(t, err)
				if got.RevokedAt.IsZero() || got.RevokedBy != revoker || got.RevokedReason != "leaked" {
					undone++
				}
			}
			t.Logf("%d trials: %v", trials, outcomes)
			assert.Zero(t, undone, "revocations undone")
			assert.Equal(t, trials, outcomes["revocation written"])
		})
	}
}
