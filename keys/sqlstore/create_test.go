package sqlstore_test

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keycaphq/keycap/audit"
	"github.com/keycaphq/keycap/policy"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/keys/sqlstore"
)

// TestCreateKeyLimit: what counts against an owner's key limit, on every
// dialect. Live keys count (disabled ones too); revoked keys, keys expired
// at the new key's creation and other owners' keys do not. A refusal is a
// *policy.KeyLimitError naming the limit and stores nothing.
func TestCreateKeyLimit(t *testing.T) {
	tests := []struct {
		name     string
		existing []func(k *keys.Key) // the owner's keys before; nil entries are plain
		maxLive  int
		refused  bool
	}{
		{"no limit", []func(*keys.Key){nil, nil, nil}, 0, false},
		{"below the limit", []func(*keys.Key){nil, nil}, 3, false},
		{"at the limit", []func(*keys.Key){nil, nil, nil}, 3, true},
		{"disabled keys count", []func(*keys.Key){nil, nil, disabled}, 3, true},
		{"keys expiring later count", []func(*keys.Key){nil, nil, expiresAt(time.Millisecond)}, 3, true},
		{"revoked keys do not count", []func(*keys.Key){nil, nil, revoked}, 3, false},
		{"expired keys do not count", []func(*keys.Key){nil, nil, expiresAt(-time.Hour)}, 3, false},
		{"a key expiring at creation does not count", []func(*keys.Key){nil, nil, expiresAt(0)}, 3, false},
		{"other owners' keys do not count", []func(*keys.Key){nil, nil, otherOwner}, 3, false},
		{"a limit of one", []func(*keys.Key){nil}, 1, true},
	}
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			s := newStore(t, d.open(t), d.dialect)
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					owner := randomName()
					for _, mutate := range tt.existing {
						k := testKey(t, owner)
						k.CreatedAt = t1.Add(-24 * time.Hour)
						if mutate != nil {
							mutate(k)
						}
						require.NoError(t, s.Create(ctx, k, 0))
					}
					before := listAll(t, s, owner)
					k := testKey(t, owner)
					k.CreatedAt = t1
					err := s.Create(ctx, k, tt.maxLive)
					if !tt.refused {
						require.NoError(t, err)
						requireRecord(t, s, k)
						return
					}
					var limit *policy.KeyLimitError
					require.ErrorAs(t, err, &limit)
					assert.Equal(t, tt.maxLive, limit.Limit)
					_, err = s.Get(ctx, k.ID)
					assert.ErrorIs(t, err, keys.ErrNotFound, "nothing stored")
					assert.Equal(t, before, listAll(t, s, owner), "nothing stored")
				})
			}
			t.Run("conflict under the limit", func(t *testing.T) {
				first := testKey(t, "u1")
				require.NoError(t, s.Create(ctx, first, 5))
				dup := testKey(t, "u1")
				dup.Hash = first.Hash
				require.ErrorIs(t, s.Create(ctx, dup, 5), keys.ErrConflict)
				_, err := s.Get(ctx, dup.ID)
				assert.ErrorIs(t, err, keys.ErrNotFound, "nothing stored")
			})
		})
	}
}

func disabled(k *keys.Key) { k.Disabled, k.DisabledBy = true, audit.User("admin") }
func revoked(k *keys.Key)  { k.RevokedAt, k.RevokedBy = t1.Add(-time.Hour), audit.User(k.OwnerID) }
func otherOwner(k *keys.Key) {
	k.OwnerID = "someone-else"
}

// expiresAt makes a key expire d after t1.
func expiresAt(d time.Duration) func(*keys.Key) {
	return func(k *keys.Key) { k.ExpiresAt = t1.Add(d) }
}

func listAll(t *testing.T, s keys.Store, owner string) []*keys.Key {
	t.Helper()
	list, err := s.List(t.Context(), owner, keys.Page{Limit: 200})
	require.NoError(t, err)
	return list
}

// TestCreateKeyLimitConcurrent: 50 creations for one owner at once with a
// limit of 10, in several rounds, on every dialect and, for Postgres and
// MySQL, through two database handles (two processes): exactly 10 succeed
// in each round, the rest are refused with a *policy.KeyLimitError.
func TestCreateKeyLimitConcurrent(t *testing.T) {
	const creators, maxLive, rounds = 50, 10, 3
	type variant struct {
		name    string
		dialect sqlstore.Dialect
		stores  func(t *testing.T) []*sqlstore.Store
	}
	var variants []variant
	for _, d := range dialects {
		variants = append(variants, variant{d.name, d.dialect, func(t *testing.T) []*sqlstore.Store {
			return []*sqlstore.Store{newStore(t, d.open(t), d.dialect)}
		}})
		if d.dialect != sqlstore.SQLite {
			variants = append(variants, variant{d.name + "TwoProcesses", d.dialect, func(t *testing.T) []*sqlstore.Store {
				first := newStore(t, d.open(t), d.dialect)
				second, err := sqlstore.New(d.open(t), d.dialect, sqlstore.Options{TablePrefix: first.TablePrefix()})
				require.NoError(t, err)
				return []*sqlstore.Store{first, second}
			}})
		}
	}
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			stores := v.stores(t)
			for round := range rounds {
				owner := randomName()
				var created, refused atomic.Int64
				var wg sync.WaitGroup
				start := make(chan struct{})
				for i := range creators {
					s := stores[i%len(stores)]
					wg.Go(func() {
						k := testKey(t, owner)
						<-start
						err := s.Create(ctx, k, maxLive)
						var limit *policy.KeyLimitError
						switch {
						case err == nil:
							created.Add(1)
						case errors.As(err, &limit):
							refused.Add(1)
						default:
							t.Errorf("create: %v", err)
						}
					})
				}
				close(start)
				wg.Wait()
				t.Logf("round %d: %d of %d created with a limit of %d, %d refused", round, created.Load(), creators, maxLive, refused.Load())
				require.Equal(t, int64(maxLive), created.Load())
				require.Equal(t, int64(creators-maxLive), refused.Load())
				require.Len(t, listAll(t, stores[0], owner), maxLive)
			}
		})
	}
}
