package middleware_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap"
	"github.com/keycaphq/keycap/audit"
	keycaptest "github.com/keycaphq/keycap/httptest_helpers"
	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/middleware"
	"github.com/keycaphq/keycap/policy"
)

// Findings of the concurrency review, each over HTTP: every test failed on
// the code that wrote whole records back.

// A leaked key that keeps renaming itself does not survive its owner's
// DELETE: 0 of 20.
func TestLeakedKeyRenamingItselfIsRevoked(t *testing.T) {
	t.Parallel()
	f := newFixture(t, keycaptest.WithMiddleware(func(o *middleware.Options) { o.AllowDelegation = true }))
	undone := 0
	for range 20 {
		leaked := f.mint(t, "alice", policy.Permissions{"files": {"read"}}, 0)
		thief := f.keyClient(t, leaked.Key)
		var wg sync.WaitGroup
		stop := make(chan struct{})
		for range 3 {
			wg.Go(func() {
				for {
					select {
					case <-stop:
						return
					default:
						thief.DoJSON(t, http.MethodPatch, "/api-keys/"+leaked.ID, map[string]any{"name": "mine now"})
					}
				}
			})
		}
		resp := f.alice.DoJSON(t, http.MethodDelete, "/api-keys/"+leaked.ID, nil)
		close(stop)
		wg.Wait()
		keycaptest.RequireCode(t, resp, "")
		if thief.DoJSON(t, http.MethodGet, "/api/files", nil).StatusCode != http.StatusUnauthorized {
			undone++
		}
	}
	assert.Zero(t, undone, "revocations undone by the key's own renames")
}

// A PATCH refused for one field writes none of the others.
func TestRefusedPatchWritesNothing(t *testing.T) {
	t.Parallel()
	f := newFixture(t, keycaptest.WithMiddleware(func(o *middleware.Options) { o.AdminPermission = "keys:admin" }))
	k := f.mint(t, "alice", policy.Permissions{"files": {"read"}}, 0)
	keycaptest.RequireCode(t, f.root.DoJSON(t, http.MethodPatch, "/api-keys/"+k.ID+"?owner=alice", map[string]any{"disabled": true}), "")
	before, writes := f.get(t, k.ID), f.store.writes()
	resp := f.alice.DoJSON(t, http.MethodPatch, "/api-keys/"+k.ID, map[string]any{
		"name": "renamed", "permissions": map[string][]string{"files": {"read", "write"}}, "disabled": false})
	keycaptest.RequireCode(t, resp, keycap.CodeForbidden)
	assert.Equal(t, before, f.get(t, k.ID), "nothing written")
	assert.Equal(t, writes, f.store.writes(), "no write attempted")
}

// Bad input is refused with its code and details, and nothing is written.
func TestBadInputOnPatchAndCreate(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	k := f.mint(t, "alice", policy.Permissions{"files": {"read"}}, 0)
	invalidUTF8 := func(method, path string) *keycaptest.Response {
		req, err := http.NewRequest(method, f.srv.URL+path, bytes.NewReader([]byte("{\"name\": \"ci \xff\xfe\"}")))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		return f.alice.Do(t, req)
	}
	tests := []struct {
		name    string
		do      func() *keycaptest.Response
		code    keycap.Code
		details string
	}{
		{"PATCH expires_in 0", func() *keycaptest.Response {
			return f.alice.DoJSON(t, http.MethodPatch, "/api-keys/"+k.ID, map[string]any{"expires_in": 0})
		}, keycap.CodeInvalidBody, `{"field":"expires_in","reason":"expires_in must be at least 1 second; leave it out for the default"}`},
		{"create expires_in 0", func() *keycaptest.Response {
			return f.alice.DoJSON(t, http.MethodPost, "/api-keys", map[string]any{"name": "x", "expires_in": 0})
		}, keycap.CodeInvalidBody, `{"field":"expires_in","reason":"expires_in must be at least 1 second; leave it out for the default"}`},
		{"PATCH invalid UTF-8", func() *keycaptest.Response { return invalidUTF8(http.MethodPatch, "/api-keys/"+k.ID) },
			keycap.CodeInvalidBody, `{"reason":"the body is not valid UTF-8"}`},
		{"create invalid UTF-8", func() *keycaptest.Response { return invalidUTF8(http.MethodPost, "/api-keys") },
			keycap.CodeInvalidBody, `{"reason":"the body is not valid UTF-8"}`},
		{"name with a right-to-left override", func() *keycaptest.Response {
			return f.alice.DoJSON(t, http.MethodPost, "/api-keys", map[string]any{"name": "ci\u202egnp.exe"})
		}, keycap.CodeInvalidField, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before, writes := f.store.snapshot(t, "alice"), f.store.writes()
			resp := tt.do()
			keycaptest.RequireCode(t, resp, tt.code)
			if tt.details != "" {
				assert.JSONEq(t, tt.details, string(resp.Error(t).Details))
			}
			assert.Equal(t, before, f.store.snapshot(t, "alice"), "nothing written")
			assert.Equal(t, writes, f.store.writes())
		})
	}
}

// The owner's activity names keys out of a calling key's reach: a key is
// refused it.
func TestActivityRefusedToKeys(t *testing.T) {
	t.Parallel()
	log := audit.NewMemory(100)
	f := newFixture(t,
		keycaptest.WithMiddleware(func(o *middleware.Options) { o.AllowDelegation, o.Activity = true, log }),
		keycaptest.WithManager(func(c *keys.Config) { c.Auditor = log }))
	keycaptest.RequireCode(t, f.alice.DoJSON(t, http.MethodGet, "/api-keys/activity", nil), "")
	keycaptest.RequireCode(t, f.keyClient(t, f.aliceKey.Key).DoJSON(t, http.MethodGet, "/api-keys/activity", nil), keycap.CodeDelegationNotAllowed)
}

// The key limit and the delegation depth answer with their codes and
// details, and store nothing.
func TestLimitsOverHTTP(t *testing.T) {
	t.Parallel()
	limited := testPolicy()
	limited.MaxKeys = new(3)
	f := newFixture(t, keycaptest.WithPolicy(limited), keycaptest.WithMiddleware(func(o *middleware.Options) { o.AllowDelegation = true }))
	keycaptest.RequireCode(t, f.alice.DoJSON(t, http.MethodPost, "/api-keys", map[string]any{"name": "second", "permissions": map[string][]string{"files": {"read"}}}), "")
	keycaptest.RequireCode(t, f.alice.DoJSON(t, http.MethodPost, "/api-keys", map[string]any{"name": "third", "permissions": map[string][]string{"files": {"read"}}}), "")
	before := f.store.snapshot(t, "alice")
	resp := f.alice.DoJSON(t, http.MethodPost, "/api-keys", map[string]any{"name": "fourth", "permissions": map[string][]string{"files": {"read"}}})
	keycaptest.RequireCode(t, resp, keycap.CodeKeyLimitReached)
	assert.JSONEq(t, `{"limit":3}`, string(resp.Error(t).Details))
	resp = f.keyClient(t, f.aliceKey.Key).DoJSON(t, http.MethodPost, "/api-keys", map[string]any{"name": "delegated fourth", "permissions": map[string][]string{"files": {"read"}}})
	keycaptest.RequireCode(t, resp, keycap.CodeKeyLimitReached)
	assert.Equal(t, before, f.store.snapshot(t, "alice"))

	// A chain of keys, each made by the last, up to the depth limit.
	deep := newFixture(t, keycaptest.WithMiddleware(func(o *middleware.Options) { o.AllowDelegation = true }))
	caller := deep.aliceKey
	for range 8 /* keys' maximum delegation depth */ {
		resp := deep.keyClient(t, caller.Key).DoJSON(t, http.MethodPost, "/api-keys", map[string]any{"name": "deeper", "permissions": map[string][]string{"files": {"read"}}})
		keycaptest.RequireCode(t, resp, "")
		resp.JSON(t, &caller)
	}
	before = deep.store.snapshot(t, "alice")
	resp = deep.keyClient(t, caller.Key).DoJSON(t, http.MethodPost, "/api-keys", map[string]any{"name": "too deep", "permissions": map[string][]string{"files": {"read"}}})
	keycaptest.RequireCode(t, resp, keycap.CodeDelegationTooDeep)
	var details keycap.DelegationDepthDetails
	require.NoError(t, json.Unmarshal(resp.Error(t).Details, &details))
	assert.Equal(t, 8 /* keys' maximum delegation depth */, details.MaxDepth)
	assert.Equal(t, before, deep.store.snapshot(t, "alice"))
	keycaptest.RequireCode(t, deep.keyClient(t, caller.Key).DoJSON(t, http.MethodGet, "/api/files", nil), "")
}

// A change that keeps losing the race to the store answers 409 CONFLICT
// with a message that says to retry, and writes nothing.
func TestConflictAnswered(t *testing.T) {
	t.Parallel()
	store := &conflicting{countingStore: newCountingStore()}
	f := newFixture(t, keycaptest.WithStore(store))
	resp := f.alice.DoJSON(t, http.MethodPatch, "/api-keys/"+f.aliceKey.ID, map[string]any{"name": "renamed"})
	keycaptest.RequireCode(t, resp, keycap.CodeConflict)
	assert.Contains(t, resp.Error(t).Message, "retry")
	k, err := store.Get(t.Context(), f.aliceKey.ID)
	require.NoError(t, err)
	assert.Equal(t, "alice key", k.Name)
}

// conflicting refuses every Change with ErrConflict, as a store does when
// another change always wins.
type conflicting struct{ *countingStore }

func (c *conflicting) Change(context.Context, string, keys.Change) (*keys.Key, error) {
	return nil, keys.ErrConflict
}
