package middleware_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/keycaphq/keycap"
	keycaptest "github.com/keycaphq/keycap/httptest_helpers"
	"github.com/keycaphq/keycap/middleware"
)

// TestRotationContainsALeakOverHTTP, with AllowDelegation: a leaked
// secret that works only through its rotation's grace period calls the
// API but manages no key (it used to rotate the key with grace 0, locking
// the owner's fresh secret out while its own worked); and once the owner
// rotates with grace 0, the keys minted with the leaked secret stop (they
// used to keep working).
func TestRotationContainsALeakOverHTTP(t *testing.T) {
	t.Parallel()
	f := newFixture(t, keycaptest.WithMiddleware(func(o *middleware.Options) { o.AllowDelegation = true }))
	leaked := f.keyClient(t, f.aliceKey.Key)
	var minted keycaptest.CreatedKey
	resp := leaked.DoJSON(t, http.MethodPost, "/api-keys", map[string]any{"name": "thief's", "permissions": map[string][]string{"files": {"read"}}})
	keycaptest.RequireCode(t, resp, "")
	resp.JSON(t, &minted)

	var fresh keycaptest.CreatedKey
	resp = f.alice.DoJSON(t, http.MethodPost, "/api-keys/"+f.aliceKey.ID+"/rotate", map[string]any{"grace_seconds": 3600})
	keycaptest.RequireCode(t, resp, "")
	resp.JSON(t, &fresh)

	keycaptest.RequireCode(t, leaked.DoJSON(t, http.MethodGet, "/api/files", nil), "") // the grace period
	before, writes := f.store.snapshot(t, "alice"), f.store.writes()
	for name, r := range map[string]*keycaptest.Response{
		"rotate":  leaked.DoJSON(t, http.MethodPost, "/api-keys/"+f.aliceKey.ID+"/rotate", map[string]any{"grace_seconds": 0}),
		"rename":  leaked.DoJSON(t, http.MethodPatch, "/api-keys/"+f.aliceKey.ID, map[string]any{"name": "mine"}),
		"disable": leaked.DoJSON(t, http.MethodPatch, "/api-keys/"+minted.ID, map[string]any{"disabled": true}),
		"revoke":  leaked.DoJSON(t, http.MethodDelete, "/api-keys/"+minted.ID, nil),
		"create":  leaked.DoJSON(t, http.MethodPost, "/api-keys", map[string]any{"name": "successor"}),
	} {
		assert.Equal(t, http.StatusForbidden, r.StatusCode, "%s with the previous secret: %s", name, r.Body)
		assert.Equal(t, string(keycap.CodeDelegationNotAllowed), r.Error(t).Code, name)
	}
	assert.Equal(t, before, f.store.snapshot(t, "alice"), "nothing written")
	assert.Equal(t, writes, f.store.writes())
	keycaptest.RequireCode(t, f.keyClient(t, fresh.Key).DoJSON(t, http.MethodGet, "/api/files", nil), "")

	// The owner ends the leak at once: the leaked secret and what it minted stop.
	resp = f.alice.DoJSON(t, http.MethodPost, "/api-keys/"+f.aliceKey.ID+"/rotate", map[string]any{"grace_seconds": 0})
	keycaptest.RequireCode(t, resp, "")
	resp.JSON(t, &fresh)
	for name, key := range map[string]string{"the leaked secret": f.aliceKey.Key, "a key it minted": minted.Key} {
		assert.Equal(t, http.StatusUnauthorized, f.keyClient(t, key).DoJSON(t, http.MethodGet, "/api/files", nil).StatusCode, name)
	}
	keycaptest.RequireCode(t, f.keyClient(t, fresh.Key).DoJSON(t, http.MethodGet, "/api/files", nil), "")
}
