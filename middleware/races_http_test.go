package middleware_test

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	keycaptest "github.com/keycaphq/keycap/httptest_helpers"
	"github.com/keycaphq/keycap/middleware"
	"github.com/keycaphq/keycap/policy"
)

// Findings of the concurrency review over HTTP, 20 trials each: a disable
// or a narrowing answered 200 is never undone by the owner's concurrent
// PATCHes or rotations. (Whole-record writes undid an admin's disable 20
// of 20 times, an owner's 57 of 100, and lost a narrowing to a rotation
// 63 of 100.) The store pauses up to 1 ms after each read, as a database
// round trip would: memstore alone leaves no time between a change's read
// and its write for another write to land in.

// httpTrials is how many trials each race over HTTP runs.
const httpTrials = 20

// looping runs do from n goroutines until the returned stop is called;
// each has made one call when looping returns.
func looping(n int, do func()) (stop func()) {
	var wg, started sync.WaitGroup
	done := make(chan struct{})
	started.Add(n)
	for range n {
		wg.Go(func() {
			do()
			started.Done()
			for {
				select {
				case <-done:
					return
				default:
					do()
				}
			}
		})
	}
	started.Wait()
	return func() { close(done); wg.Wait() }
}

// untilNotConflict sends a request until it is answered something other
// than 409 CONFLICT (what a client does) and returns that answer.
func untilNotConflict(t *testing.T, send func() *keycaptest.Response) *keycaptest.Response {
	t.Helper()
	for range 20 {
		resp := send()
		if resp.StatusCode != http.StatusConflict || resp.Error(t).Code != "CONFLICT" {
			return resp
		}
	}
	t.Fatal("20 answers of 409 CONFLICT in a row")
	return nil
}

// TestDisableRacingOwnerChangesOverHTTP: an admin's PATCH ?owner=alice
// {"disabled":true}, or alice's own, answered 200 while alice renames the
// key from three goroutines: the key is refused afterwards every time,
// and stays disabled by whoever disabled it.
func TestDisableRacingOwnerChangesOverHTTP(t *testing.T) {
	t.Parallel()
	f := newFixture(t, keycaptest.WithMiddleware(func(o *middleware.Options) { o.AdminPermission = "keys:admin" }))
	f.store.readDelay.Store(int64(time.Millisecond))
	for _, who := range []struct {
		name, query, by string
		client          *keycaptest.Client
	}{{"admin", "?owner=alice", "user:root", f.root}, {"owner", "", "user:alice", f.alice}} {
		undone, renamed := 0, 0
		var mu sync.Mutex
		for trial := range httpTrials {
			k := f.mint(t, "alice", policy.Permissions{"files": {"read"}}, 0)
			stop := looping(3, func() {
				if f.alice.DoJSON(t, http.MethodPatch, "/api-keys/"+k.ID, map[string]any{"name": "renamed"}).StatusCode == http.StatusOK {
					mu.Lock()
					renamed++
					mu.Unlock()
				}
			})
			resp := untilNotConflict(t, func() *keycaptest.Response {
				return who.client.DoJSON(t, http.MethodPatch, "/api-keys/"+k.ID+who.query, map[string]any{"disabled": true})
			})
			stop()
			require.Equal(t, http.StatusOK, resp.StatusCode, "%s, trial %d: %s", who.name, trial, resp.Body)
			stored := f.get(t, k.ID)
			if f.keyClient(t, k.Key).DoJSON(t, http.MethodGet, "/api/files", nil).StatusCode == http.StatusOK ||
				!stored.Disabled || stored.DisabledBy.String() != who.by {
				undone++
			}
		}
		t.Logf("%s disable racing the owner's renames: %d of %d undone (%d renames answered 200)", who.name, undone, httpTrials, renamed)
		assert.Zero(t, undone, "%s disables undone", who.name)
		assert.Positive(t, renamed, "the renames ran")
	}
}

// TestNarrowRacingRotationsOverHTTP: alice narrows a key from files:read
// and files:write to files:read (200, retried on 409) while it is rotated
// from two goroutines: afterwards the key holds files:read alone, and no
// secret a rotation answered 200 may write.
func TestNarrowRacingRotationsOverHTTP(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.store.readDelay.Store(int64(time.Millisecond))
	lost, rotated := 0, 0
	for trial := range httpTrials {
		k := f.mint(t, "alice", policy.Permissions{"files": {"read", "write"}}, 0)
		var mu sync.Mutex
		secrets := []string{k.Key}
		stop := looping(2, func() {
			resp := f.alice.DoJSON(t, http.MethodPost, "/api-keys/"+k.ID+"/rotate", nil)
			if resp.StatusCode == http.StatusOK {
				var r keycaptest.CreatedKey
				resp.JSON(t, &r)
				mu.Lock()
				secrets = append(secrets, r.Key)
				rotated++
				mu.Unlock()
			}
		})
		resp := untilNotConflict(t, func() *keycaptest.Response {
			return f.alice.DoJSON(t, http.MethodPatch, "/api-keys/"+k.ID, map[string]any{"permissions": map[string][]string{"files": {"read"}}})
		})
		stop()
		require.Equal(t, http.StatusOK, resp.StatusCode, "trial %d: %s", trial, resp.Body)
		if !policy.Subset(f.get(t, k.ID).Permissions, policy.Permissions{"files": {"read"}}) {
			lost++
			continue
		}
		for _, s := range secrets {
			if f.keyClient(t, s).DoJSON(t, http.MethodPost, "/api/files", nil).StatusCode == http.StatusOK {
				lost++
				break
			}
		}
	}
	t.Logf("narrowing racing rotations: %d of %d lost (%d rotations answered 200)", lost, httpTrials, rotated)
	assert.Zero(t, lost, "narrowings lost")
	assert.Positive(t, rotated, "the rotations ran")
}
