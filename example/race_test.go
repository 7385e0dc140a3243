package main

import (
	"net/http"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap"
	keycaptest "github.com/keycaphq/keycap/httptest_helpers"
	"github.com/keycaphq/keycap/policy"
)

// racing runs change from n goroutines in a loop until stop is called,
// then waits for them. It returns once each goroutine has made one change,
// so what the caller does next runs while the changes go on.
func racing(n int, change func(i int)) (stop func()) {
	var wg, started sync.WaitGroup
	done := make(chan struct{})
	started.Add(n)
	for i := range n {
		wg.Go(func() {
			change(i)
			started.Done()
			for {
				select {
				case <-done:
					return
				default:
					change(i)
				}
			}
		})
	}
	started.Wait()
	return func() { close(done); wg.Wait() }
}

// TestRevokeRacingChanges: a DELETE answered 200 while the same key is
// renamed or rotated from several goroutines stays revoked, every time:
// neither the original secret nor any rotated one works afterwards.
func TestRevokeRacingChanges(t *testing.T) {
	_, srv := newTestApp(t)
	alice := mustLogIn(t, srv.URL, "alice")
	const trials = 20
	for _, race := range []string{"rename", "rotate"} {
		undone, changed := 0, atomic.Int64{}
		for trial := range trials {
			k := alice.CreateKey(t, "/api-keys", "raced", policy.Permissions{"files": {"read"}})
			var mu sync.Mutex
			secrets := []string{k.Key}
			stop := racing(3, func(i int) {
				if race == "rename" {
					if alice.DoJSON(t, http.MethodPatch, "/api-keys/"+k.ID, map[string]any{"name": "renamed"}).StatusCode == http.StatusOK {
						changed.Add(1)
					}
					return
				}
				resp := alice.DoJSON(t, http.MethodPost, "/api-keys/"+k.ID+"/rotate", nil)
				if resp.StatusCode == http.StatusOK {
					changed.Add(1)
					var rotated keycaptest.CreatedKey
					resp.JSON(t, &rotated)
					mu.Lock()
					secrets = append(secrets, rotated.Key)
					mu.Unlock()
				}
			})
			resp := alice.DoJSON(t, http.MethodDelete, "/api-keys/"+k.ID, nil)
			stop()
			require.Equal(t, http.StatusOK, resp.StatusCode, "trial %d: %s", trial, resp.Body)
			for _, secret := range secrets {
				if alice.KeyOnly(t, secret).DoJSON(t, http.MethodGet, "/api/files", nil).StatusCode != http.StatusUnauthorized {
					undone++
					break
				}
			}
			assert.Contains(t, string(alice.DoJSON(t, http.MethodGet, "/api-keys/"+k.ID, nil).Body), `"status":"revoked"`)
		}
		t.Logf("revoke racing %s: %d of %d revocations undone (%d racing changes answered 200)", race, undone, trials, changed.Load())
		assert.Zero(t, undone, "revoke racing %s", race)
		assert.Positive(t, changed.Load(), "the changes ran")
	}
}

// TestQuotaRacingRenames: a quota of 20, spent from several goroutines
// while the key is renamed, admits at most 20 requests (exactly 20 here).
func TestQuotaRacingRenames(t *testing.T) {
	_, srv := newTestApp(t)
	alice := mustLogIn(t, srv.URL, "alice")
	resp := alice.DoJSON(t, http.MethodPost, "/api-keys", map[string]any{
		"name": "metered", "permissions": policy.Permissions{"files": {"read"}}, "remaining": 20})
	require.Equal(t, http.StatusCreated, resp.StatusCode, "%s", resp.Body)
	var k keycaptest.CreatedKey
	resp.JSON(t, &k)
	stop := racing(2, func(int) {
		alice.DoJSON(t, http.MethodPatch, "/api-keys/"+k.ID, map[string]any{"name": "metered, renamed"})
	})
	var admitted, refused, other atomic.Int64
	var wg sync.WaitGroup
	for range 6 {
		wg.Go(func() {
			c := alice.KeyOnly(t, k.Key)
			for range 10 {
				switch resp := c.DoJSON(t, http.MethodGet, "/api/files", nil); {
				case resp.StatusCode == http.StatusOK:
					admitted.Add(1)
				case resp.StatusCode == http.StatusTooManyRequests && resp.Error(t).Code == string(keycap.CodeQuotaExceeded):
					refused.Add(1)
				default:
					other.Add(1)
				}
			}
		})
	}
	wg.Wait()
	stop()
	t.Logf("quota 20: %d admitted, %d refused, while renamed", admitted.Load(), refused.Load())
	assert.Equal(t, int64(20), admitted.Load())
	assert.Zero(t, other.Load(), "every refusal is QUOTA_EXCEEDED")
}
