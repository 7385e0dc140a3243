package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/keycaphq/keycap/internal/testenv"
	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/policy"
)

// TestOwnerChangesSeenUnderBatches: on Postgres, with verifications of
// alice's keys in flight and queued (their owner rows kept in ownerReads
// by statements that finish in any order), alice is disabled, demoted to
// viewer or deleted; every verification whose request begins after the
// change was answered sees it.
func TestOwnerChangesSeenUnderBatches(t *testing.T) {
	const trials, readers = 45, 12
	db, pg, m, _, raw := postgresWithKey(t)
	var raws []string
	for range 5 {
		_, r, err := m.Create(context.Background(), keys.CreateRequest{Owner: "alice", Name: "noise", Permissions: policy.MustParse("files:read")})
		require.NoError(t, err)
		raws = append(raws, r)
	}
	all := append(raws, raw)
	var hash string
	require.NoError(t, db.QueryRow("SELECT password_hash FROM "+pg.usersTable+" WHERE id = 'alice'").Scan(&hash))
	exec := func(q string, args ...any) {
		t.Helper()
		_, err := db.Exec(q, args...)
		require.NoError(t, err)
	}
	request := func() context.Context { return context.WithValue(context.Background(), requestStartKey{}, time.Now()) }
	stale := map[string]int{}
	for trial := range trials {
		exec("DELETE FROM " + pg.usersTable + " WHERE id = 'alice'")
		exec("INSERT INTO "+pg.usersTable+" (id, password_hash, roles) VALUES ('alice', $1, 'member')", hash)
		stop := testenv.UntilStopped(6, func(i int) { _, _ = m.Verify(request(), all[i%len(all)], "") })
		time.Sleep(2 * time.Millisecond)
		change := []string{"disabled", "demoted", "deleted"}[trial%3]
		switch change {
		case "disabled":
			exec("UPDATE " + pg.usersTable + " SET disabled = TRUE WHERE id = 'alice'")
		case "demoted":
			exec("UPDATE " + pg.usersTable + " SET roles = 'viewer' WHERE id = 'alice'")
		case "deleted":
			exec("DELETE FROM " + pg.usersTable + " WHERE id = 'alice'")
		}
		var n atomic.Int64
		var readersWG sync.WaitGroup
		for range readers {
			readersWG.Go(func() {
				v, err := m.Verify(request(), raw, "")
				if err == nil && (change != "demoted" || slices.Contains(v.Subject.Roles, "member")) {
					n.Add(1)
				}
			})
		}
		readersWG.Wait()
		stop()
		stale[change] += int(n.Load())
	}
	t.Logf("verifications begun after the owner's change was answered that did not see it, of %d each: %v", trials/3*readers, stale)
	for change, n := range stale {
		assert.Zero(t, n, change)
	}
}

// TestRevokedOverHTTPUnderBatches: the example on Postgres (no cache,
// lookups batched, owners read with keys), over HTTP: while other
// requests with alice's keys are in flight, a key revoked, or alice
// disabled, is refused by every request sent after the answer.
func TestRevokedOverHTTPUnderBatches(t *testing.T) {
	const trials, readers = 20, 8
	ping(t)
	db, url := newSchema(t)
	a, err := newApp(config{DatabaseURL: url, BcryptCost: bcrypt.MinCost, Secret: strings.Repeat("ab", 32),
		Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	srv := httptest.NewServer(a)
	t.Cleanup(func() { srv.Close(); assert.NoError(t, a.Close()) })
	alice := mustLogIn(t, srv.URL, "alice")
	var others []string
	for range 4 {
		others = append(others, alice.CreateKey(t, "/api-keys", "noise", policy.Permissions{"files": {"read"}}).Key)
	}
	get := func(key string) int {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/files", nil)
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	accepted := map[string]int{}
	for trial := range trials {
		_, err := db.Exec("UPDATE keycap_example_users SET disabled = FALSE WHERE id = 'alice'")
		require.NoError(t, err)
		created := alice.CreateKey(t, "/api-keys", "k", policy.Permissions{"files": {"read"}})
		require.Equal(t, http.StatusOK, get(created.Key))
		sent := append(others[:len(others):len(others)], created.Key)
		stop := testenv.UntilStopped(4, func(i int) { get(sent[i%len(sent)]) })
		time.Sleep(2 * time.Millisecond)
		change := "revoked"
		if trial%2 == 0 {
			requireStatus(t, alice.DoJSON(t, http.MethodDelete, "/api-keys/"+created.ID, nil), http.StatusOK)
		} else {
			change = "owner disabled"
			_, err := db.Exec("UPDATE keycap_example_users SET disabled = TRUE WHERE id = 'alice'")
			require.NoError(t, err)
		}
		var n atomic.Int64
		var rw sync.WaitGroup
		for range readers {
			rw.Go(func() {
				if get(created.Key) == http.StatusOK {
					n.Add(1)
				}
			})
		}
		rw.Wait()
		stop()
		accepted[change] += int(n.Load())
	}
	_, err = db.Exec("UPDATE keycap_example_users SET disabled = FALSE WHERE id = 'alice'")
	require.NoError(t, err)
	t.Logf("requests sent after the change was answered that got 200, of %d each: %v", trials/2*readers, accepted)
	for change, n := range accepted {
		assert.Zero(t, n, change)
	}
}
