package middleware_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/keycaphq/keycap"
	keycaptest "github.com/keycaphq/keycap/httptest_helpers"
	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/policy"
)

// Create and /grantable take a kind; the key's prefix and the principal
// say it; a key's kind cannot change.
func TestKindsOverHTTP(t *testing.T) {
	t.Parallel()
	f := newFixture(t, keycaptest.WithManager(func(c *keys.Config) {
		c.Now = time.Now
		c.Kinds = map[string]keys.Kind{"live": {Prefix: "live"}, "test": {Prefix: "test", Max: policy.MustParse("files:read")}}
	}))
	var g struct {
		Permissions policy.Permissions `json:"permissions"`
	}
	f.alice.Get(t, "/api-keys/grantable?kind=test").JSON(t, &g)
	assert.Equal(t, policy.Permissions{"files": {"read"}}, g.Permissions)
	keycaptest.RequireCode(t, f.alice.Get(t, "/api-keys/grantable?kind=staging"), keycap.CodeInvalidField)

	resp := f.alice.DoJSON(t, http.MethodPost, "/api-keys", map[string]any{"name": "t", "kind": "test", "permissions": map[string][]string{"files": {"read"}}})
	keycaptest.RequireCode(t, resp, "")
	var k keyBody
	resp.JSON(t, &k)
	assert.True(t, strings.HasPrefix(k.Key, "test_"), k.Key)
	assert.Equal(t, "test", k.Kind)
	var p principalJSON
	f.keyClient(t, k.Key).Get(t, "/api/me").JSON(t, &p)
	assert.Equal(t, "test", p.KeyKind)

	writes := f.store.writes()
	resp = f.alice.DoJSON(t, http.MethodPost, "/api-keys", map[string]any{"name": "t", "kind": "test", "permissions": map[string][]string{"files": {"write"}}})
	keycaptest.RequireCode(t, resp, keycap.CodeExceedsMaximum)
	resp = f.alice.DoJSON(t, http.MethodPatch, "/api-keys/"+k.ID, map[string]any{"kind": "live"})
	keycaptest.RequireCode(t, resp, keycap.CodeInvalidField)
	assert.Equal(t, "kind", details[keycap.InvalidFieldDetails](t, resp).Field)
	assert.Equal(t, writes, f.store.writes())
}
