package main

import (
	"database/sql"
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap"
	keycaptest "github.com/keycaphq/keycap/httptest_helpers"
	"github.com/keycaphq/keycap/internal/testenv"
	"github.com/keycaphq/keycap/policy"
)

// TestTwoInstances starts two processes of the example, each on its own
// loopback port, sharing one Postgres schema (and, in the second variant,
// one Redis), and shows they act as one app: a login on one is a login on
// both, a key revoked through one is refused by the other at its very
// next request, a demotion in the users table cuts keys on both at once,
// and keys created concurrently on both never share an id or a hash.
func TestTwoInstances(t *testing.T) {
	ping(t) // skip (or fail) before building when Postgres is down
	bin := buildExample(t)
	t.Run("Postgres", func(t *testing.T) {
		pair := startPair(t, bin, "keycap_")
		assert.Contains(t, pair.procA.stderr(), `sessions="postgres table keycap_sessions"`)
		pair.run(t)
		var sessions int
		require.NoError(t, pair.db.QueryRow("SELECT count(*) FROM keycap_sessions").Scan(&sessions))
		assert.Positive(t, sessions, "logins are kept in Postgres")
	})
	t.Run("PostgresRedis", func(t *testing.T) {
		rdb, prefix := testenv.Redis(t)
		pair := startPair(t, bin, "mi_", "REDIS_URL=redis://"+rdb.Options().Addr+"/0",
			"KEYCAP_REDIS_PREFIX="+prefix, "KEYCAP_RATE_LIMIT=10/1m")
		assert.Contains(t, pair.procA.stderr(), "postgres behind rediscache")
		pair.run(t)

		ctx := t.Context()
		sessions, err := rdb.Keys(ctx, prefix+"session:*").Result()
		require.NoError(t, err)
		assert.NotEmpty(t, sessions, "logins are kept in Redis")
		var table sql.NullString
		require.NoError(t, pair.db.QueryRow("SELECT to_regclass('mi_sessions')::text").Scan(&table))
		assert.False(t, table.Valid, "no sessions table in Postgres when Redis holds them")

		t.Run("RecordCachedInRedis", func(t *testing.T) {
			created := pair.aliceA.CreateKey(t, "/api-keys", "cached", policy.Permissions{"files": {"read"}})
			requireStatus(t, pair.keyOn(t, pair.b, created.Key), http.StatusOK)
			n, err := rdb.Exists(ctx, prefix+"key:{"+created.ID+"}").Result()
			require.NoError(t, err)
			assert.EqualValues(t, 1, n, "B's verification filled the shared cache")
		})
		t.Run("RateLimitShared", func(t *testing.T) { // 10 per minute per key, counted in Redis
			created := pair.aliceA.CreateKey(t, "/api-keys", "limited", policy.Permissions{"files": {"read"}})
			for i := range 10 {
				requireStatus(t, pair.keyOn(t, []string{pair.a, pair.b}[i%2], created.Key), http.StatusOK)
			}
			keycaptest.RequireCode(t, pair.keyOn(t, pair.a, created.Key), keycap.CodeRateLimited)
			keycaptest.RequireCode(t, pair.keyOn(t, pair.b, created.Key), keycap.CodeRateLimited)
		})
	})
}

// run is what both variants show.
func (p *pair) run(t *testing.T) {
	t.Run("SessionSharedAcrossInstances", p.sharedSession)
	t.Run("RevokedOnARefusedOnB", p.revocation)
	t.Run("QuotaSharedAcrossInstances", p.quota)
	t.Run("ConcurrentCreation", p.concurrentCreation)
	t.Run("RevokeOnARacingRenamesOnB", p.revokeRacingRenames)
	t.Run("KeyLimitAcrossInstances", p.keyLimit)
	t.Run("DemotedOnBoth", p.demotion)
}

func (p *pair) sharedSession(t *testing.T) {
	var grantable struct{ Permissions policy.Permissions }
	resp := p.aliceB.DoJSON(t, http.MethodGet, "/api-keys/grantable", nil)
	requireStatus(t, resp, http.StatusOK)
	resp.JSON(t, &grantable)
	assert.Equal(t, memberRole, grantable.Permissions, "B knows alice from the cookie A set")
	keycaptest.RequireCode(t, keycaptest.NewClient(t, p.b).DoJSON(t, http.MethodGet, "/api-keys/grantable", nil),
		keycap.CodeUnauthenticated) // and only from it
}

// revocation creates a key on A, uses it on both, revokes it through A and
// counts the next requests that still get in: on B (the other instance)
// and on A. Each must be zero.
func (p *pair) revocation(t *testing.T) {
	const cycles = 20
	staleB, staleA := 0, 0
	for i := range cycles {
		created := p.aliceA.CreateKey(t, "/api-keys", fmt.Sprintf("cycle %d", i), policy.Permissions{"files": {"read"}})
		requireStatus(t, p.keyOn(t, p.b, created.Key), http.StatusOK)
		requireStatus(t, p.keyOn(t, p.a, created.Key), http.StatusOK)
		requireStatus(t, p.aliceA.DoJSON(t, http.MethodDelete, "/api-keys/"+created.ID, nil), http.StatusOK)
		for _, try := range []struct {
			base  string
			stale *int
		}{{p.b, &staleB}, {p.a, &staleA}} {
			resp := p.keyOn(t, try.base, created.Key)
			if resp.StatusCode == http.StatusOK {
				*try.stale++
				continue
			}
			keycaptest.RequireCode(t, resp, keycap.CodeKeyInvalid)
		}
	}
	t.Logf("stale accepts after revocation through A: %d of %d on B, %d of %d on A", staleB, cycles, staleA, cycles)
	assert.Zero(t, staleB, "revoked through A, accepted by B")
	assert.Zero(t, staleA, "revoked through A, accepted by A")
}

// quota spends a key's 3 requests alternately on A and B: the 4th is
// refused on both.
func (p *pair) quota(t *testing.T) {
	resp := p.aliceA.DoJSON(t, http.MethodPost, "/api-keys", map[string]any{
		"name": "three calls", "permissions": policy.Permissions{"files": {"read"}}, "remaining": 3})
	requireStatus(t, resp, http.StatusCreated)
	var created keycaptest.CreatedKey
	resp.JSON(t, &created)
	for i, base := range []string{p.a, p.b, p.a} {
		resp := p.keyOn(t, base, created.Key)
		requireStatus(t, resp, http.StatusOK)
		assert.Equal(t, fmt.Sprint(2-i), resp.Header.Get("X-Quota-Remaining"))
	}
	keycaptest.RequireCode(t, p.keyOn(t, p.b, created.Key), keycap.CodeQuotaExceeded)
	keycaptest.RequireCode(t, p.keyOn(t, p.a, created.Key), keycap.CodeQuotaExceeded)
}

// concurrentCreation creates 40 keys on each instance at once, then reads
// the shared table: 80 rows, 80 ids, 80 hashes; every key works on the
// instance that did not create it. It revokes them when done: alice may
// hold 100 live keys.
func (p *pair) concurrentCreation(t *testing.T) {
	const perInstance = 40
	type result struct {
		created keycaptest.CreatedKey
		other   string // the instance that did not create it
		err     error
	}
	results := make(chan result, 2*perInstance)
	var wg sync.WaitGroup
	for i := range perInstance {
		for _, c := range []struct {
			client *keycaptest.Client
			other  string
		}{{p.aliceA, p.b}, {p.aliceB, p.a}} {
			wg.Go(func() {
				created, err := createKey(c.client, fmt.Sprintf("concurrent %d on %s", i, c.client.BaseURL))
				results <- result{created, c.other, err}
			})
		}
	}
	wg.Wait()
	close(results)
	ids, keys := map[string]bool{}, map[string]bool{}
	var made []result
	for r := range results {
		require.NoError(t, r.err)
		ids[r.created.ID], keys[r.created.Key] = true, true
		made = append(made, r)
	}
	assert.Len(t, ids, 2*perInstance, "distinct ids answered")
	assert.Len(t, keys, 2*perInstance, "distinct keys answered")

	var rows, distinctIDs, distinctHashes int
	require.NoError(t, p.db.QueryRow("SELECT count(*), count(DISTINCT id), count(DISTINCT hash) FROM "+p.keysTable+
		" WHERE name LIKE 'concurrent %'").Scan(&rows, &distinctIDs, &distinctHashes))
	assert.Equal(t, 2*perInstance, rows)
	assert.Equal(t, 2*perInstance, distinctIDs)
	assert.Equal(t, 2*perInstance, distinctHashes)
	for _, r := range made {
		requireStatus(t, p.keyOn(t, r.other, r.created.Key), http.StatusOK)
	}
	p.revokeAll(t)
}

// demotion changes alice's row in the shared users table with plain SQL:
// her key holding files:write is cut on both instances at their next
// request, and works again within the new cap; disabling her refuses it.
func (p *pair) demotion(t *testing.T) {
	setAlice := func(column string, value any) {
		t.Helper()
		_, err := p.db.Exec("UPDATE "+p.usersTable+" SET "+column+" = $1 WHERE id = 'alice'", value)
		require.NoError(t, err)
	}
	t.Cleanup(func() { setAlice("roles", "member"); setAlice("disabled", false) })
	created := p.aliceA.CreateKey(t, "/api-keys", "writer", policy.Permissions{"files": {"read", "write"}})
	write := func(base string) *keycaptest.Response {
		return keycaptest.NewClient(t, base).WithKey(created.Key).DoJSON(t, http.MethodPost, "/api/files",
			map[string]string{"name": "notes.txt"})
	}
	for _, base := range []string{p.a, p.b} {
		requireStatus(t, write(base), http.StatusCreated)
	}

	setAlice("roles", "viewer") // files:read and projects:read only
	for _, base := range []string{p.a, p.b} {
		keycaptest.RequireCode(t, write(base), keycap.CodeInsufficientPermissions)
		requireStatus(t, p.keyOn(t, base, created.Key), http.StatusOK) // reading is within the new cap
	}
	var grantable struct{ Permissions policy.Permissions }
	resp := p.aliceB.DoJSON(t, http.MethodGet, "/api-keys/grantable", nil)
	requireStatus(t, resp, http.StatusOK)
	resp.JSON(t, &grantable)
	assert.Equal(t, viewerRole, grantable.Permissions, "her session's cap follows the table too")

	setAlice("disabled", true)
	for _, base := range []string{p.a, p.b} {
		keycaptest.RequireCode(t, p.keyOn(t, base, created.Key), keycap.CodeKeyInvalid)
	}
	setAlice("disabled", false)
	setAlice("roles", "member")
	for _, base := range []string{p.a, p.b} {
		requireStatus(t, write(base), http.StatusCreated)
	}
}
