package faults_test

import (
	"context"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap"
	keycaptest "github.com/keycaphq/keycap/httptest_helpers"
	"github.com/keycaphq/keycap/keys/sqlstore"
)

// TestDatabaseDown breaks the connection to the database: every request
// that needs the store answers 503 STORE_UNAVAILABLE at once, with the cause
// logged and kept out of the body; no key is accepted, revoked ones
// included; nothing is written; and when the database is back the same
// server answers again, without a restart.
func TestDatabaseDown(t *testing.T) {
	eachSQL(t, func(t *testing.T, b backend) {
		f := newFixture(t, b)
		alice := f.srv.LogIn(t, "alice")
		good := alice.CreateKey(t, "/api-keys", "good", filesRead)
		revoked := alice.CreateKey(t, "/api-keys", "revoked", filesRead)
		keycaptest.RequireCode(t, alice.DoJSON(t, http.MethodDelete, "/api-keys/"+revoked.ID, nil), "")
		keycaptest.RequireCode(t, useKey(t, f.srv, good.Key), "")
		keycaptest.RequireCode(t, useKey(t, f.srv, revoked.Key), keycap.CodeKeyInvalid)
		before := f.rows(t)

		f.proxy.Break()
		mark := logs.mark()
		unavailable := []struct {
			name string
			do   func() *keycaptest.Response
		}{
			{"create", request(t, alice, http.MethodPost, "/api-keys", createBody("new"))},
			{"list", request(t, alice, http.MethodGet, "/api-keys", nil)},
			{"get", request(t, alice, http.MethodGet, "/api-keys/"+good.ID, nil)},
			{"revoke", request(t, alice, http.MethodDelete, "/api-keys/"+good.ID, nil)},
			{"rotate", request(t, alice, http.MethodPost, "/api-keys/"+good.ID+"/rotate", nil)},
			{"valid key", func() *keycaptest.Response { return useKey(t, f.srv, good.Key) }},
			{"revoked key", func() *keycaptest.Response { return useKey(t, f.srv, revoked.Key) }},
			{"unknown key", func() *keycaptest.Response { return useKey(t, f.srv, unknownKey(t)) }},
		}
		for _, u := range unavailable {
			resp := timed(t, u.do)
			require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, "%s: %s", u.name, resp.Body)
			requireUnavailable(t, resp)
		}
		// What needs no store still works: a malformed key is refused by
		// its checksum, and session users reach the app's routes.
		keycaptest.RequireCode(t, useKey(t, f.srv, "kc_not-a-key"), keycap.CodeKeyInvalid)
		keycaptest.RequireCode(t, alice.DoJSON(t, http.MethodGet, "/api/files", nil), "")
		causes := requireLogged(t, mark, len(unavailable))
		t.Logf("%s down: logged cause, e.g. %q", b.name, causes[0])
		require.Positive(t, f.proxy.Stats().Refused, "the requests reached the broken proxy")

		healed := time.Now()
		f.proxy.Heal()
		took, failed := recoverWith(t, healed, http.StatusCreated, func() *keycaptest.Response {
			return alice.DoJSON(t, http.MethodPost, "/api-keys", createBody("after"))
		})
		t.Logf("%s: first 201 %v after Heal (%d requests failed first)", b.name, took, failed)
		assert.Zero(t, failed, "the pool reconnects on the first request after the database is back")
		keycaptest.RequireCode(t, alice.DoJSON(t, http.MethodGet, "/api-keys", nil), "")
		keycaptest.RequireCode(t, useKey(t, f.srv, good.Key), "") // its revoke answered 503: nothing was revoked
		keycaptest.RequireCode(t, useKey(t, f.srv, revoked.Key), keycap.CodeKeyInvalid)
		assert.Len(t, f.rows(t), len(before)+1, "nothing was written while the database was down")
	})
}

// TestConnectionsCutBetweenRequests cuts the idle pooled connections (a
// database restart or a network blip between requests). MySQL's driver
// checks a pooled connection before use, so database/sql retries on a new
// one and no request fails; pgx checks only connections idle for over a
// second, so a request may meet a dead one and answer 503, never anything
// else, and at most one request per cut connection fails.
func TestConnectionsCutBetweenRequests(t *testing.T) {
	eachSQL(t, func(t *testing.T, b backend) {
		f := newFixture(t, b)
		alice := f.srv.LogIn(t, "alice")
		k := alice.CreateKey(t, "/api-keys", "k", filesRead)
		keycaptest.RequireCode(t, useKey(t, f.srv, k.Key), "")
		cut := f.proxy.DropActive()
		require.Positive(t, cut, "pooled connections were cut")
		cutAt := time.Now()
		took, failed := recoverWith(t, cutAt, http.StatusOK, func() *keycaptest.Response {
			resp := useKey(t, f.srv, k.Key)
			if resp.StatusCode != http.StatusOK {
				requireUnavailable(t, resp)
			}
			return resp
		})
		t.Logf("%s: %d pooled connections cut; first 200 after %v (%d requests answered 503 first)", b.name, cut, took, failed)
		if b.dialect == sqlstore.MySQL {
			assert.Zero(t, failed)
		}
		assert.LessOrEqual(t, failed, cut)
		keycaptest.RequireCode(t, alice.DoJSON(t, http.MethodPost, "/api-keys", createBody("after")), "")
		keycaptest.RequireCode(t, alice.DoJSON(t, http.MethodGet, "/api-keys", nil), "")
	})
}

// TestConnectionsCutMidCreate cuts every connection again and again while
// keys are being created: each answer is 201 or 503, and afterwards every
// stored row has its 32-byte hash and its permissions, and every key that
// was answered 201 is stored and works.
func TestConnectionsCutMidCreate(t *testing.T) {
	eachSQL(t, func(t *testing.T, b backend) {
		f := newFixture(t, b)
		alice := f.srv.LogIn(t, "alice")
		var (
			mu       sync.Mutex
			answers  []*keycaptest.Response
			errs     []error
			statuses = map[int]int{}
			stop     atomic.Bool
			wg       sync.WaitGroup
		)
		for range 4 {
			wg.Go(func() { // no t.FailNow here: answers are checked below
				for i := 0; i < 150 && !stop.Load(); i++ {
					resp, err := send(alice, http.MethodPost, "/api-keys", createBody("burst"))
					mu.Lock()
					if err != nil {
						errs = append(errs, err)
					} else {
						answers = append(answers, resp)
						statuses[resp.StatusCode]++
					}
					mu.Unlock()
				}
			})
		}
		// Cuts come every 5 to 30 ms; when a round of cuts lets no create
		// through (a loaded machine connects slowly), the gaps grow, so
		// that both outcomes happen whatever the machine's speed.
		deadline, gap, lastCreated := time.Now().Add(10*time.Second), 25, 0
		for time.Now().Before(deadline) {
			time.Sleep(time.Duration(5+rand.IntN(gap)) * time.Millisecond)
			f.proxy.DropActive()
			mu.Lock()
			enough := statuses[http.StatusServiceUnavailable] >= 15 && statuses[http.StatusCreated] >= 15
			if statuses[http.StatusCreated] == lastCreated {
				gap = min(2*gap, 400)
			}
			lastCreated = statuses[http.StatusCreated]
			mu.Unlock()
			if enough {
				break
			}
		}
		stop.Store(true)
		wg.Wait()
		t.Logf("%s: %d connections cut; answers %v", b.name, f.proxy.Stats().Cut, statuses)
		require.Empty(t, errs)
		require.Positive(t, statuses[http.StatusServiceUnavailable], "the cuts hit requests in flight")
		require.Positive(t, statuses[http.StatusCreated])
		created := map[string]string{} // id → key
		for _, resp := range answers {
			switch resp.StatusCode {
			case http.StatusCreated:
				var k keycaptest.CreatedKey
				resp.JSON(t, &k)
				created[k.ID] = k.Key
			case http.StatusServiceUnavailable:
				requireUnavailable(t, resp)
			default:
				t.Fatalf("create answered %d %s; want 201 or 503", resp.StatusCode, resp.Body)
			}
		}

		rows := f.rows(t)
		requireWhole(t, rows)
		stored := map[string]bool{}
		for _, r := range rows {
			stored[r.ID] = true
		}
		for id, key := range created {
			require.True(t, stored[id], "key %s was answered 201 but is not stored", id)
			// The pool may still hold connections the proxy cut: a request
			// that meets one answers 503 (fail closed) and drops it. The
			// key works as soon as a live connection serves it, and is
			// never refused as invalid meanwhile.
			resp := useKey(t, f.srv, key)
			for range 8 {
				if resp.StatusCode != http.StatusServiceUnavailable {
					break
				}
				resp = useKey(t, f.srv, key)
			}
			keycaptest.RequireCode(t, resp, "")
		}
		t.Logf("%s: %d rows stored for %d answers 201 (a cut after the commit answers 503 for a whole, unusable key)",
			b.name, len(rows), len(created))
	})
}

// TestDatabaseHangs holds all traffic to the database: with a deadline on
// the request (as an app sets one), the request ends at the deadline with
// 503, not a hang and not a 500, and the server recovers when traffic flows.
func TestDatabaseHangs(t *testing.T) {
	eachSQL(t, func(t *testing.T, b backend) {
		f := newFixture(t, b)
		deadline := 500 * time.Millisecond
		server := httptest.NewServer(withDeadline(deadline, f.srv.Sessions.LoadAndSave(f.srv.Keycap.Authenticate(f.srv.Mux))))
		t.Cleanup(server.Close)
		t.Cleanup(f.proxy.Heal) // before server.Close, which waits for requests
		alice := keycaptest.NewClient(t, server.URL).AddCookie(t, keycaptest.SessionCookie(t, f.srv.Sessions, keycaptest.SessionKey, "alice"))
		k := alice.CreateKey(t, "/api-keys", "k", filesRead)

		f.proxy.Stall()
		mark := logs.mark()
		for _, do := range []func() *keycaptest.Response{
			request(t, alice, http.MethodPost, "/api-keys", createBody("held")),
			request(t, alice, http.MethodGet, "/api-keys", nil),
			request(t, alice.KeyOnly(t, k.Key), http.MethodGet, "/api/files", nil),
		} {
			start := time.Now()
			requireUnavailable(t, do())
			require.Less(t, time.Since(start), deadline+2*time.Second, "the request ends at its deadline")
		}
		causes := requireLogged(t, mark, 3)
		t.Logf("%s hangs: logged cause, e.g. %q", b.name, causes[0])

		healed := time.Now()
		f.proxy.Heal()
		took, failed := recoverWith(t, healed, http.StatusOK, func() *keycaptest.Response {
			return alice.KeyOnly(t, k.Key).DoJSON(t, http.MethodGet, "/api/files", nil)
		})
		t.Logf("%s: first 200 %v after the hang ended (%d requests failed first)", b.name, took, failed)
		keycaptest.RequireCode(t, alice.DoJSON(t, http.MethodPost, "/api-keys", createBody("after")), "")
	})
}

// withDeadline gives every request a deadline of d.
func withDeadline(d time.Duration, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), d)
		defer cancel()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// TestClosedPort starts the app on a database address where nothing
// listens (the database never came up): every request that needs the store
// answers 503 at once.
func TestClosedPort(t *testing.T) {
	eachSQL(t, func(t *testing.T, b backend) {
		db := openDB(t, b.driver, b.via("127.0.0.1:1"))
		store, err := sqlstore.New(db, b.dialect, sqlstore.Options{}) // no Migrate: nothing answers
		require.NoError(t, err)
		srv := newServer(t, store)
		alice := srv.LogIn(t, "alice")
		mark := logs.mark()
		for _, do := range []func() *keycaptest.Response{
			request(t, alice, http.MethodPost, "/api-keys", createBody("k")),
			request(t, alice, http.MethodGet, "/api-keys", nil),
			func() *keycaptest.Response { return useKey(t, srv, unknownKey(t)) },
		} {
			requireUnavailable(t, timed(t, do))
		}
		causes := requireLogged(t, mark, 3)
		t.Logf("%s at a closed port: logged cause, e.g. %q", b.name, causes[0])
	})
}

// TestReadOnlyDatabase connects to a database that refuses writes (a
// standby, or a primary being failed over): writes answer 503, not 500,
// and reads and verification go on.
func TestReadOnlyDatabase(t *testing.T) {
	eachSQL(t, func(t *testing.T, b backend) {
		f := newFixture(t, b)
		k := f.srv.LogIn(t, "alice").CreateKey(t, "/api-keys", "k", filesRead)

		var dsn string
		switch b.dialect {
		case sqlstore.Postgres:
			dsn = b.via(f.proxy.Addr()) + "&default_transaction_read_only=on"
		default:
			cfg, err := mysql.ParseDSN(b.via(f.proxy.Addr()))
			require.NoError(t, err)
			cfg.Params = map[string]string{"tx_read_only": "1"} // MariaDB and MySQL before 8.0.3
			if probe := openDB(t, b.driver, cfg.FormatDSN()); probe.PingContext(context.Background()) != nil {
				cfg.Params = map[string]string{"transaction_read_only": "1"}
			}
			dsn = cfg.FormatDSN()
		}
		ro, err := sqlstore.New(openDB(t, b.driver, dsn), b.dialect, sqlstore.Options{TablePrefix: strings.TrimSuffix(f.table, "keys")})
		require.NoError(t, err)
		srv := newServer(t, ro)
		alice := srv.LogIn(t, "alice")

		mark := logs.mark()
		requireUnavailable(t, alice.DoJSON(t, http.MethodPost, "/api-keys", createBody("k")))
		requireUnavailable(t, alice.DoJSON(t, http.MethodDelete, "/api-keys/"+k.ID, nil))
		t.Logf("%s read-only: logged cause %q", b.name, requireLogged(t, mark, 2)[0])
		keycaptest.RequireCode(t, alice.DoJSON(t, http.MethodGet, "/api-keys", nil), "")
		keycaptest.RequireCode(t, useKey(t, srv, k.Key), "") // the failed revoke changed nothing
	})
}
