package sqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/audit"
	"github.com/keycaphq/keycap/internal/faultproxy"
	"github.com/keycaphq/keycap/internal/testenv"
	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/keys/sqlstore"
	"github.com/keycaphq/keycap/keys/sqlstore/litepool"
	"github.com/keycaphq/keycap/policy"
)

// Attacks on the batched lookups of batch.go: each test races many
// goroutines over many trials and counts the outcomes that break a
// guarantee.

// lookupVariant is one way a Store reads its lookups.
type lookupVariant struct {
	name string
	open func(t *testing.T) (*sqlstore.Store, *sql.DB) // the Store and the database it writes to
}

// lookupVariants are every reader a batch runs on: SQLite through the
// *sql.DB (a file, memory) and through litepool, Postgres through the
// *sql.DB and through a pgx pool (as the example does), MySQL.
var lookupVariants = []lookupVariant{
	{"SQLiteFile", onDB(openSQLiteFile, sqlstore.SQLite)},
	{"SQLiteMemory", onDB(openSQLiteMemory, sqlstore.SQLite)},
	{"Litepool", openLitepoolStore},
	{"Postgres", onDB(openPostgres, sqlstore.Postgres)},
	{"PostgresPgx", openPgxStore},
	{"MySQL", onDB(openMySQL, sqlstore.MySQL)},
}

// onDB opens a Store that reads through the *sql.DB open returns.
func onDB(open func(testing.TB) *sql.DB, d sqlstore.Dialect) func(t *testing.T) (*sqlstore.Store, *sql.DB) {
	return func(t *testing.T) (*sqlstore.Store, *sql.DB) {
		db := open(t)
		return newStore(t, db, d), db
	}
}

// openLitepoolStore is a Store on a SQLite file whose lookups go through
// a litepool.Pool.
func openLitepoolStore(t *testing.T) (*sqlstore.Store, *sql.DB) {
	path := filepath.Join(t.TempDir(), "keycap.db")
	db, err := sql.Open("sqlite", sqliteFileDSN(path))
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	require.NoError(t, newStoreWith(t, db, sqlstore.SQLite, sqlstore.Options{}).Migrate(t.Context()))
	pool, err := litepool.Open("file:"+path, 4)
	require.NoError(t, err)
	t.Cleanup(func() { pool.Close() })
	return newStoreWith(t, db, sqlstore.SQLite, sqlstore.Options{Lookup: pool}), db
}

// openPgxStore is a Store on Postgres whose lookups go through a pgx pool
// that is a sqlstore.RowsReader.
func openPgxStore(t *testing.T) (*sqlstore.Store, *sql.DB) {
	db := openPostgres(t)
	pool, err := pgxpool.New(context.Background(), postgresURL)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	prefix := randomName() + "_"
	s, err := sqlstore.New(db, sqlstore.Postgres, sqlstore.Options{TablePrefix: prefix, Lookup: pgxRows{pool}})
	require.NoError(t, err)
	require.NoError(t, s.Migrate(t.Context()))
	t.Cleanup(func() { dropTables(t, db, prefix) })
	return s, db
}

func newStoreWith(t *testing.T, db *sql.DB, d sqlstore.Dialect, opts sqlstore.Options) *sqlstore.Store {
	s, err := sqlstore.New(db, d, opts)
	require.NoError(t, err)
	return s
}

// pgxRows is a sqlstore.RowsReader on a pgx pool.
type pgxRows struct{ pool *pgxpool.Pool }

func (p pgxRows) QueryRow(ctx context.Context, query string, args ...any) sqlstore.Row {
	return p.pool.QueryRow(ctx, query, args...)
}

func (p pgxRows) QueryRows(ctx context.Context, query string, args []any, scan func(sqlstore.Row) error) error {
	rows, err := p.pool.Query(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// noise looks ids up from n goroutines until the returned stop is
// called, so that the Store's statements are in flight and lookups queue.
func noise(s *sqlstore.Store, ids []string, n int) (stop func()) {
	return testenv.UntilStopped(n, func(i int) { _, _ = s.Get(context.Background(), ids[i%len(ids)]) })
}

// createKeys stores n keys of owner and returns their ids.
func createKeys(t *testing.T, s *sqlstore.Store, owner string, n int) []string {
	var ids []string
	for range n {
		k := testKey(t, owner)
		require.NoError(t, s.Create(t.Context(), k, 0))
		ids = append(ids, k.ID)
	}
	return ids
}

// TestBatchAttackFreshness: a key is revoked (or disabled) while lookups
// of it and of other keys are in flight and queued; every lookup that
// starts after the change was answered reads the change, on every reader.
func TestBatchAttackFreshness(t *testing.T) {
	const trials, readers = 40, 16
	for _, v := range lookupVariants {
		t.Run(v.name, func(t *testing.T) {
			s, _ := v.open(t)
			others := createKeys(t, s, "bob", 8)
			var stale, failed, reads int64
			for trial := range trials {
				k := testKey(t, "alice")
				require.NoError(t, s.Create(t.Context(), k, 0))
				stop := noise(s, append(others, k.ID, k.ID), 6)
				time.Sleep(time.Millisecond)
				revoke := trial%2 == 0
				change := keys.Change{At: time.Now(), By: audit.User("alice"), Revoke: revoke}
				if !revoke {
					change.Disabled = new(true)
				}
				_, err := s.Change(t.Context(), k.ID, change)
				require.NoError(t, err)
				var wg sync.WaitGroup
				var st, fl atomic.Int64
				for range readers {
					wg.Go(func() {
						got, err := s.Get(context.Background(), k.ID)
						switch {
						case err != nil:
							fl.Add(1)
						case revoke && got.RevokedAt.IsZero(), !revoke && !got.Disabled:
							st.Add(1)
						}
					})
				}
				wg.Wait()
				stop()
				stale, failed, reads = stale+st.Load(), failed+fl.Load(), reads+readers
			}
			t.Logf("%s: %d of %d lookups begun after a revocation or disable was answered read the record before it; %d failed",
				v.name, stale, reads, failed)
			assert.Zero(t, stale, "stale reads")
			assert.Zero(t, failed, "failed lookups")
		})
	}
}

// TestBatchAttackCancelledCaller: a lookup whose context is already done
// while the Store's statements are busy returns an error or a key, never
// (nil, nil), which every caller dereferences (keys.Manager.Verify
// panics on it).
func TestBatchAttackCancelledCaller(t *testing.T) {
	for _, v := range lookupVariants {
		t.Run(v.name, func(t *testing.T) {
			s, _ := v.open(t)
			ids := createKeys(t, s, "alice", 4)
			stop := noise(s, ids, 4)
			defer stop()
			cancelled, cancel := context.WithCancel(context.Background())
			cancel()
			var nilNil, calls, errs atomic.Int64
			deadline := time.Now().Add(1500 * time.Millisecond)
			var wg sync.WaitGroup
			for g := range 16 {
				wg.Go(func() {
					for i := g; time.Now().Before(deadline); i++ {
						got, err := s.Get(cancelled, ids[i%len(ids)])
						calls.Add(1)
						switch {
						case err != nil:
							errs.Add(1)
						case got == nil:
							nilNil.Add(1)
						}
					}
				})
			}
			wg.Wait()
			t.Logf("%s: %d of %d lookups with a done context returned (nil, nil); %d an error", v.name, nilNil.Load(), calls.Load(), errs.Load())
			assert.Zero(t, nilNil.Load(), "lookups answered (nil, nil)")
		})
	}
}

// TestBatchAttackSharedRecords: many callers look the same keys up at
// once and each scribbles on what it got; no caller sees another's
// scribbles (run with -race: no memory is shared either).
func TestBatchAttackSharedRecords(t *testing.T) {
	for _, v := range lookupVariants[:3] {
		t.Run(v.name, func(t *testing.T) {
			s, _ := v.open(t)
			ids := createKeys(t, s, "alice", 3)
			var seen, wrong, lookups atomic.Int64
			for range 50 {
				var wg sync.WaitGroup
				for g := range 24 {
					wg.Go(func() {
						id := ids[g%len(ids)]
						got, err := s.Get(context.Background(), id)
						if !assert.NoError(t, err) {
							return
						}
						lookups.Add(1)
						if got.ID != id {
							wrong.Add(1)
						}
						if got.Name != "k" || len(got.Permissions["invoices"]) != 1 || got.Hash[0] == 0 {
							seen.Add(1)
						}
						got.Name = "scribbled"
						got.Permissions["invoices"] = append(got.Permissions["invoices"], "delete")
						got.Permissions["x"] = []string{"y"}
						got.Hash[0] = 0
					})
				}
				wg.Wait()
			}
			t.Logf("%s: %d of %d lookups saw another caller's writes, %d got another key", v.name, seen.Load(), lookups.Load(), wrong.Load())
			assert.Zero(t, seen.Load())
			assert.Zero(t, wrong.Load())
		})
	}
}

// TestBatchAttackUnreadableRow: a row the Store cannot scan (SQLite keeps
// any type in any column: here a version that is not a number) fails the
// lookups of its own key only, not those of the keys read in the same
// statement.
func TestBatchAttackUnreadableRow(t *testing.T) {
	for _, v := range lookupVariants[:3] {
		t.Run(v.name, func(t *testing.T) {
			s, db := v.open(t)
			good := createKeys(t, s, "alice", 6)
			bad := createKeys(t, s, "mallory", 1)[0]
			_, err := db.Exec("UPDATE "+s.TablePrefix()+"keys SET version = 'not a number' WHERE id = ?", bad)
			require.NoError(t, err)
			_, err = s.Get(t.Context(), bad)
			require.Error(t, err, "the row does not scan")
			var innocent, goodLookups, badOK atomic.Int64
			for range 40 {
				var wg sync.WaitGroup
				for g := range 16 {
					wg.Go(func() {
						if g%4 == 0 {
							if _, err := s.Get(context.Background(), bad); err == nil {
								badOK.Add(1)
							}
							return
						}
						goodLookups.Add(1)
						if _, err := s.Get(context.Background(), good[g%len(good)]); err != nil {
							innocent.Add(1)
						}
					})
				}
				wg.Wait()
			}
			t.Logf("%s: %d of %d lookups of readable keys failed with an unreadable row's", v.name, innocent.Load(), goodLookups.Load())
			assert.Zero(t, innocent.Load(), "lookups failed by another key's row")
			assert.Zero(t, badOK.Load(), "the unreadable row answered")
		})
	}
}

// attackManager is a Manager on s with no cache: every verification
// looks its key up in s.
func attackManager(t *testing.T, s *sqlstore.Store) *keys.Manager {
	m, err := keys.NewManager(keys.Config{Store: s, Secret: make([]byte, 32), Cache: keys.CacheConfig{Disabled: true}, LastUsedInterval: -1,
		Policy: policy.MustNew(policy.Config{AllowClientPermissions: true, Max: policy.MustParse("files:read")}),
		Subjects: policy.SubjectsFunc(func(_ context.Context, id string) (policy.Subject, error) {
			return policy.Subject{ID: id}, nil
		})})
	require.NoError(t, err)
	t.Cleanup(func() { _ = m.Close() })
	return m
}

// createRaw creates n keys of alice through m and returns them.
func createRaw(t *testing.T, m *keys.Manager, n int) (ids, raws []string) {
	for range n {
		k, raw, err := m.Create(t.Context(), keys.CreateRequest{Owner: "alice", Name: "k", Permissions: policy.MustParse("files:read")})
		require.NoError(t, err)
		ids, raws = append(ids, k.ID), append(raws, raw)
	}
	return ids, raws
}

// verifyNoise verifies raws from n goroutines until stop is called.
func verifyNoise(m *keys.Manager, raws []string, n int) (stop func()) {
	return testenv.UntilStopped(n, func(i int) { _, _ = m.Verify(context.Background(), raws[i%len(raws)], "") })
}

// TestBatchAttackVerifyAfterRevoke: through keys.Manager.Verify (no
// cache), a key revoked through the Manager is refused by every
// verification that begins after the revocation was answered, while other
// verifications keep the Store's statements busy.
func TestBatchAttackVerifyAfterRevoke(t *testing.T) {
	const trials, readers = 30, 16
	for _, v := range lookupVariants {
		t.Run(v.name, func(t *testing.T) {
			s, _ := v.open(t)
			m := attackManager(t, s)
			_, others := createRaw(t, m, 6)
			var accepted, failed int64
			for range trials {
				ids, raws := createRaw(t, m, 1)
				stop := verifyNoise(m, append(others, raws[0], raws[0]), 6)
				time.Sleep(time.Millisecond)
				_, err := m.Revoke(t.Context(), keys.RevokeRequest{Ref: keys.Ref{Owner: "alice", ID: ids[0]}})
				require.NoError(t, err)
				var wg sync.WaitGroup
				var ac, fl atomic.Int64
				for range readers {
					wg.Go(func() {
						_, err := m.Verify(context.Background(), raws[0], "")
						switch {
						case err == nil:
							ac.Add(1)
						case !errors.Is(err, keys.ErrInvalid):
							fl.Add(1)
						}
					})
				}
				wg.Wait()
				stop()
				accepted, failed = accepted+ac.Load(), failed+fl.Load()
			}
			t.Logf("%s: %d of %d verifications begun after the revocation was answered accepted the key; %d failed otherwise",
				v.name, accepted, trials*readers, failed)
			assert.Zero(t, accepted, "revoked keys accepted")
			assert.Zero(t, failed)
		})
	}
}

// TestBatchAttackCancelledVerify: a verification whose request is already
// gone (its context done) while the Store is busy fails; it does not
// panic.
func TestBatchAttackCancelledVerify(t *testing.T) {
	for _, v := range []lookupVariant{lookupVariants[0], lookupVariants[3]} {
		t.Run(v.name, func(t *testing.T) {
			s, _ := v.open(t)
			m := attackManager(t, s)
			_, raws := createRaw(t, m, 4)
			stop := verifyNoise(m, raws, 4)
			defer stop()
			cancelled, cancel := context.WithCancel(context.Background())
			cancel()
			var panics, calls atomic.Int64
			deadline := time.Now().Add(1500 * time.Millisecond)
			var wg sync.WaitGroup
			for g := range 16 {
				wg.Go(func() {
					for i := g; time.Now().Before(deadline); i++ {
						func() {
							defer func() {
								if p := recover(); p != nil {
									panics.Add(1)
								}
							}()
							calls.Add(1)
							_, _ = m.Verify(cancelled, raws[i%len(raws)], "")
						}()
					}
				})
			}
			wg.Wait()
			t.Logf("%s: %d of %d verifications with a done context panicked", v.name, panics.Load(), calls.Load())
			assert.Zero(t, panics.Load(), "verifications panicked")
		})
	}
}

// stalledDatabase is a Store whose database is reached through a fault
// proxy, with a key in it: the store, the proxy and the key's id.
type stalledDatabase struct {
	name string
	open func(t *testing.T) (*sqlstore.Store, *faultproxy.Proxy, string)
}

var stalledDatabases = []stalledDatabase{
	{"Postgres", func(t *testing.T) (*sqlstore.Store, *faultproxy.Proxy, string) {
		u, err := url.Parse(postgresURL)
		require.NoError(t, err)
		testenv.Dial(t, "Postgres", u.Host)
		p := faultproxy.Start(t, u.Host)
		u.Host = p.Addr()
		return proxiedStore(t, p, openService(t, "Postgres", "pgx", u.String()), sqlstore.Postgres)
	}},
	{"MySQL", func(t *testing.T) (*sqlstore.Store, *faultproxy.Proxy, string) {
		cfg, err := mysql.ParseDSN(mysqlDSN)
		require.NoError(t, err)
		testenv.Dial(t, "MySQL", cfg.Addr)
		p := faultproxy.Start(t, cfg.Addr)
		cfg.Addr = p.Addr()
		return proxiedStore(t, p, openService(t, "MySQL", "mysql", cfg.FormatDSN()), sqlstore.MySQL)
	}},
}

func proxiedStore(t *testing.T, p *faultproxy.Proxy, db *sql.DB, d sqlstore.Dialect) (*sqlstore.Store, *faultproxy.Proxy, string) {
	s := newStore(t, db, d)
	t.Cleanup(p.Heal) // first: the tables are dropped through the proxy
	k := testKey(t, "alice")
	require.NoError(t, s.Create(t.Context(), k, 0))
	return s, p, k.ID
}

// TestBatchAttackDeadline: while the database hangs, a lookup ends at its
// own context's deadline (ErrStoreUnavailable), whichever other lookups
// share its statement and however long they are willing to wait.
func TestBatchAttackDeadline(t *testing.T) {
	const trials, arrivals, patient, short = 20, 8, 1500 * time.Millisecond, 100 * time.Millisecond
	for _, d := range stalledDatabases {
		t.Run(d.name, func(t *testing.T) {
			s, p, id := d.open(t)
			late, wrong := 0, 0
			var worst time.Duration
			for range trials {
				_, err := s.Get(t.Context(), id)
				require.NoError(t, err)
				p.Stall()
				var wg sync.WaitGroup
				wait := func() {
					ctx, cancel := context.WithTimeout(context.Background(), patient)
					defer cancel()
					_, _ = s.Get(ctx, id)
				}
				wg.Go(wait) // a statement in flight
				time.Sleep(20 * time.Millisecond)
				// Lookups arrive together, half with a short deadline, half
				// patient: some share statements.
				took := make(chan time.Duration, arrivals/2)
				errs := make(chan error, arrivals/2)
				gate := make(chan struct{})
				for i := range arrivals {
					if i%2 == 1 {
						wg.Go(func() { <-gate; wait() })
						continue
					}
					wg.Go(func() {
						<-gate
						ctx, cancel := context.WithTimeout(context.Background(), short)
						defer cancel()
						start := time.Now()
						_, err := s.Get(ctx, id)
						took <- time.Since(start)
						errs <- err
					})
				}
				close(gate)
				for range arrivals / 2 {
					d, err := <-took, <-errs
					worst = max(worst, d)
					if d > short+400*time.Millisecond {
						late++
					}
					if !errors.Is(err, keys.ErrStoreUnavailable) {
						wrong++
					}
				}
				p.Heal()
				wg.Wait()
			}
			t.Logf("%s hangs: %d of %d lookups with a %v deadline returned more than 400 ms after it (the slowest after %v); %d not ErrStoreUnavailable",
				d.name, late, trials*arrivals/2, short, worst.Round(time.Millisecond), wrong)
			assert.Zero(t, late, "lookups held past their deadline")
			assert.Zero(t, wrong)
		})
	}
}

// TestBatchAttackCancellingCallers: callers that give up at random
// moments (clients that disconnect) share statements with callers that
// wait; no waiting caller fails.
func TestBatchAttackCancellingCallers(t *testing.T) {
	for _, v := range lookupVariants {
		t.Run(v.name, func(t *testing.T) {
			s, _ := v.open(t)
			ids := createKeys(t, s, "alice", 8)
			deadline := time.Now().Add(time.Second)
			var innocent, failed, quitters atomic.Int64
			var wg sync.WaitGroup
			for g := range 12 {
				wg.Go(func() {
					for i := g; time.Now().Before(deadline); i++ {
						id := ids[i%len(ids)]
						if g%2 == 0 {
							ctx, cancel := context.WithTimeout(context.Background(), time.Duration(i%200)*time.Microsecond)
							_, _ = s.Get(ctx, id)
							cancel()
							quitters.Add(1)
							continue
						}
						innocent.Add(1)
						if got, err := s.Get(context.Background(), id); err != nil || got.ID != id {
							failed.Add(1)
						}
					}
				})
			}
			wg.Wait()
			t.Logf("%s: %d of %d lookups that waited failed, beside %d that gave up", v.name, failed.Load(), innocent.Load(), quitters.Load())
			assert.Zero(t, failed.Load())
		})
	}
}

// TestBatchAttackLookalikeIDs: lookups of ids that differ from a stored
// one only in case, trailing spaces or a NUL, or that are not UTF-8, read
// in the same statements as the real id, answer ErrNotFound or an error
// of their own; the real id's lookups get their key, none another's,
// and none fail because of them.
func TestBatchAttackLookalikeIDs(t *testing.T) {
	for _, v := range lookupVariants {
		t.Run(v.name, func(t *testing.T) {
			s, _ := v.open(t)
			id := createKeys(t, s, "alice", 1)[0]
			lookalikes := []string{strings.ToUpper(id), id + " ", id + "  ", " " + id, id + "\t", id[:15], id + "\x00", "\xff" + id[1:]}
			var answered, realFailed, lookups atomic.Int64
			for range 40 {
				var wg sync.WaitGroup
				for g := range 2 * len(lookalikes) {
					wg.Go(func() {
						if g%2 == 0 {
							lookups.Add(1)
							if got, err := s.Get(context.Background(), id); err != nil || got.ID != id {
								realFailed.Add(1)
							}
							return
						}
						if got, err := s.Get(context.Background(), lookalikes[g/2]); err == nil {
							answered.Add(1)
							t.Errorf("%q answered with %q", lookalikes[g/2], got.ID)
						}
					})
				}
				wg.Wait()
			}
			t.Logf("%s: %d lookalike lookups answered with a key; %d of %d lookups of the real id failed", v.name, answered.Load(), realFailed.Load(), lookups.Load())
			assert.Zero(t, answered.Load())
			assert.Zero(t, realFailed.Load())
		})
	}
}
