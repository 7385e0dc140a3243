package main

import (
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	keycaptest "github.com/keycaphq/keycap/httptest_helpers"
	"github.com/keycaphq/keycap/policy"
)

// revokeRacingRenames revokes a key through A while B renames it from
// several goroutines: after A answered 200, the key is refused on both
// instances, in every trial. (The old store wrote whole records back: B's
// rename restored the revoked record in 23 of 50 trials.)
func (p *pair) revokeRacingRenames(t *testing.T) {
	const trials = 20
	undone := 0
	for i := range trials {
		created := p.aliceA.CreateKey(t, "/api-keys", fmt.Sprintf("raced %d", i), policy.Permissions{"files": {"read"}})
		stop := racing(3, func(int) {
			p.aliceB.DoJSON(t, http.MethodPatch, "/api-keys/"+created.ID, map[string]any{"name": "renamed on B"})
		})
		resp := p.aliceA.DoJSON(t, http.MethodDelete, "/api-keys/"+created.ID, nil)
		stop()
		requireStatus(t, resp, http.StatusOK)
		for _, base := range []string{p.a, p.b} {
			if p.keyOn(t, base, created.Key).StatusCode != http.StatusUnauthorized {
				undone++
			}
		}
	}
	t.Logf("revoked on A while renamed on B: %d of %d revocations undone", undone, trials)
	assert.Zero(t, undone)
}

// keyLimit fills alice's live keys to the limit (100) from both instances
// at once, asking for 30 more than fit: exactly 100 are live afterwards,
// and every refusal is KEY_LIMIT_REACHED with the limit in its details.
func (p *pair) keyLimit(t *testing.T) {
	live := p.liveKeys(t)
	want := 100 - live
	var created, refused, other atomic.Int64
	var wg sync.WaitGroup
	for i := range want + 30 {
		c := []*keycaptest.Client{p.aliceA, p.aliceB}[i%2]
		wg.Go(func() {
			resp := c.DoJSON(t, http.MethodPost, "/api-keys", map[string]any{"name": fmt.Sprintf("fill %d", i), "permissions": policy.Permissions{"files": {"read"}}})
			switch {
			case resp.StatusCode == http.StatusCreated:
				created.Add(1)
			case resp.StatusCode == http.StatusConflict && string(resp.Body) != "" && resp.Error(t).Code == "KEY_LIMIT_REACHED":
				refused.Add(1)
			default:
				other.Add(1)
			}
		})
	}
	wg.Wait()
	t.Logf("key limit 100 across two instances: %d had, %d created, %d refused", live, created.Load(), refused.Load())
	assert.EqualValues(t, want, created.Load())
	assert.EqualValues(t, 30, refused.Load())
	assert.Zero(t, other.Load())
	assert.Equal(t, 100, p.liveKeys(t))
	p.revokeAll(t)
}

// liveKeys counts alice's keys that are neither revoked nor expired.
func (p *pair) liveKeys(t *testing.T) int {
	t.Helper()
	var n int
	require.NoError(t, p.db.QueryRow("SELECT count(*) FROM "+p.keysTable+
		" WHERE owner_id = 'alice' AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())").Scan(&n))
	return n
}

// revokeAll revokes every live key of alice's through A.
func (p *pair) revokeAll(t *testing.T) {
	t.Helper()
	rows, err := p.db.Query("SELECT id FROM " + p.keysTable + " WHERE owner_id = 'alice' AND revoked_at IS NULL")
	require.NoError(t, err)
	var ids []string
	for rows.Next() {
		var id string
		require.NoError(t, rows.Scan(&id))
		ids = append(ids, id)
	}
	require.NoError(t, rows.Err())
	rows.Close()
	for _, id := range ids {
		requireStatus(t, p.aliceA.DoJSON(t, http.MethodDelete, "/api-keys/"+id, nil), http.StatusOK)
	}
}
