package sqlstore_test

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/audit"
	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/keys/notify"
	"github.com/keycaphq/keycap/keys/sqlstore"
	"github.com/keycaphq/keycap/policy"
)

// dueHook is a notify.Store whose Due runs after before the Scheduler
// claims what it found: a change landing between the query and the claim.
type dueHook struct {
	*sqlstore.Store
	after func(q notify.Query, found []*keys.Key)
}

func (h dueHook) Due(ctx context.Context, q notify.Query) ([]*keys.Key, error) {
	list, err := h.Store.Due(ctx, q)
	if err == nil && h.after != nil {
		h.after(q, list)
	}
	return list, err
}

// TestAttackNoticesTwoInstances: two app instances (two Managers, two
// database handles, two Schedulers) share one database on every dialect.
// Instance 1's expiry query finds 30 keys due for their 3-day warning,
// and an admin revokes them all before it claims any; then both
// Schedulers run at once, twice. Safe when no expiry warning goes out for
// a key revoked before its notice was claimed, and each revocation by the
// admin is told exactly once across both instances.
func TestAttackNoticesTwoInstances(t *testing.T) {
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			var a, b *sql.DB
			switch d.name {
			case "SQLiteMemory":
				a = d.open(t)
				b = a
			case "SQLiteFile":
				path := filepath.Join(t.TempDir(), "keycap.db")
				a, b = openSQLiteAt(t, path), openSQLiteAt(t, path)
			default:
				a, b = d.open(t), d.open(t)
			}
			s1 := newStore(t, a, d.dialect)
			s2, err := sqlstore.New(b, d.dialect, sqlstore.Options{TablePrefix: s1.TablePrefix()})
			require.NoError(t, err)
			now := time.Date(2031, 3, 1, 9, 0, 0, 0, time.UTC)
			var clockMu sync.Mutex
			clock := func() time.Time { clockMu.Lock(); defer clockMu.Unlock(); return now }
			manager := func(s keys.Store) *keys.Manager {
				m, err := keys.NewManager(keys.Config{Store: s,
					Policy: policy.MustNew(policy.Config{AllowClientPermissions: true, Roles: map[string]policy.Permissions{"member": policy.MustParse("files:read")}, MaxKeys: new(0)}),
					Subjects: policy.SubjectsFunc(func(_ context.Context, id string) (policy.Subject, error) {
						return policy.Subject{ID: id, Roles: []string{"member"}}, nil
					}),
					Secret: make([]byte, 32), Now: clock, LastUsedInterval: -1, Logger: slog.New(slog.DiscardHandler)})
				require.NoError(t, err)
				return m
			}
			m1, m2 := manager(s1), manager(s2)
			var mu sync.Mutex
			got := map[string]int{}
			inbox := notify.Func(func(_ context.Context, n notify.Notice) error {
				mu.Lock()
				got[fmt.Sprintf("%s %s %s", n.Type, n.Lead, n.Key.ID)]++
				mu.Unlock()
				return nil
			})
			var once sync.Once
			h := dueHook{Store: s1, after: func(q notify.Query, found []*keys.Key) {
				if q.Type != audit.Expiring || len(found) == 0 {
					return
				}
				once.Do(func() {
					for _, k := range found {
						_, err := m1.Revoke(context.Background(), keys.RevokeRequest{Ref: keys.Ref{Owner: k.OwnerID, ID: k.ID}, Actor: audit.User("admin")})
						require.NoError(t, err)
					}
				})
			}}
			leads := []time.Duration{3 * 24 * time.Hour}
			quiet := slog.New(slog.DiscardHandler)
			sched1, err := notify.New(notify.Config{Manager: m1, Store: h, Notifier: inbox, Expiring: leads, Logger: quiet})
			require.NoError(t, err)
			sched2, err := notify.New(notify.Config{Manager: m2, Store: s2, Notifier: inbox, Expiring: leads, Logger: quiet})
			require.NoError(t, err)
			const n = 30
			for range n {
				_, _, err := m1.Create(context.Background(), keys.CreateRequest{Owner: "alice", Name: "k", Lifetime: 5 * 24 * time.Hour, Permissions: policy.MustParse("files:read")})
				require.NoError(t, err)
			}
			clockMu.Lock()
			now = now.Add(2*24*time.Hour + time.Hour)
			clockMu.Unlock()
			_, err = sched1.RunOnce(context.Background(), clock())
			require.NoError(t, err)
			for range 2 {
				var wg sync.WaitGroup
				for _, s := range []*notify.Scheduler{sched1, sched2} {
					wg.Go(func() {
						_, err := s.RunOnce(context.Background(), clock())
						assert.NoError(t, err)
					})
				}
				wg.Wait()
			}
			expiring, revoked, twice := 0, 0, 0
			for id, c := range got {
				switch {
				case c > 1:
					twice++
				}
				if len(id) > 8 && id[:8] == "expiring" {
					expiring += c
				} else if len(id) > 7 && id[:7] == "revoked" {
					revoked += c
				}
			}
			t.Logf("%s: %d keys revoked between query and claim: %d expiry warnings, %d revocation notices, %d notices sent more than once",
				d.name, n, expiring, revoked, twice)
			// Was a bug, fixed (keys/notify/run.go): the Scheduler sent the
			// expiry warning of every key its query had found, revoked since.
			assert.Zero(t, expiring, "no expiry warning for a key revoked before its notice was claimed")
			assert.Equal(t, n, revoked, "each admin revocation told")
			assert.Zero(t, twice, "each notice once")
		})
	}
}
