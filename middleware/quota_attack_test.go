package middleware_test

// Attack tests of the atomic-changes work, written by an attacker who did
// not write the code: each once broke a guarantee (fixed since) or probed one
// that held; all are kept as regression tests.

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	keycaptest "github.com/keycaphq/keycap/httptest_helpers"
	"github.com/keycaphq/keycap/middleware"
	"github.com/keycaphq/keycap/policy"
)

// Claim 4: "a delegated child's requests spend its ancestors' quotas".
// The parent has a quota of 3; a child minted through it with no quota of
// its own (allowed: the Manager's default Quota is zero) spends nothing,
// because Require only consumes when the *leaf* record has Remaining set
// (require.go: p.Key.Key.Remaining != nil), not when Verified.HasQuota().
// Minting one child turns a 3-request key into an unlimited one.
func TestAttackChildWithoutQuotaBypassesParentQuota(t *testing.T) {
	f := newFixture(t, keycaptest.WithMiddleware(func(o *middleware.Options) { o.AllowDelegation = true }))
	resp := f.alice.DoJSON(t, "POST", "/api-keys", map[string]any{"name": "parent", "permissions": policy.Permissions{"files": {"read"}}, "remaining": 3})
	require.Equal(t, http.StatusCreated, resp.StatusCode, string(resp.Body))
	var parent keycaptest.CreatedKey
	resp.JSON(t, &parent)

	pc := f.keyClient(t, parent.Key)
	// The parent mints a child with no quota (the keys API spends none).
	resp = pc.DoJSON(t, "POST", "/api-keys", map[string]any{"name": "child", "permissions": policy.Permissions{"files": {"read"}}})
	require.Equal(t, http.StatusCreated, resp.StatusCode, string(resp.Body))
	var child keycaptest.CreatedKey
	resp.JSON(t, &child)

	cc := f.keyClient(t, child.Key)
	admitted := 0
	for range 20 {
		if r := cc.DoJSON(t, "GET", "/api/files", nil); r.StatusCode == http.StatusOK {
			admitted++
		}
	}
	assert.Equal(t, 3, admitted, "the child's requests must spend the parent's quota of 3")
	assert.Equal(t, int64(0), *f.get(t, parent.ID).Remaining, "the parent's quota is spent by its child's requests")
}

// Claim 5 (key limit) with delegation: a leaked key mints children up to
// the owner's MaxKeys. The owner revokes the leaked key: every child stops
// working (its parent is revoked), yet each still counts as "live" (not
// revoked, not expired), so the owner, holding no working key, cannot
// create one (409 KEY_LIMIT_REACHED) until she finds and revokes every
// dead child one by one. Revocation of a parent does not free the limit.
func TestAttackDeadChildrenOfRevokedKeyHoldTheKeyLimit(t *testing.T) {
	pc := testPolicy()
	pc.MaxKeys = new(5)
	f := newFixture(t, keycaptest.WithPolicy(pc), keycaptest.WithMiddleware(func(o *middleware.Options) { o.AllowDelegation = true }))
	// The fixture minted aliceKey: the leaked one. It fills the limit.
	leaked := f.keyClient(t, f.aliceKey.Key)
	var children []string
	for range 4 {
		resp := leaked.DoJSON(t, "POST", "/api-keys", map[string]any{"name": "c", "permissions": policy.Permissions{"files": {"read"}}})
		require.Equal(t, http.StatusCreated, resp.StatusCode, string(resp.Body))
		var k keycaptest.CreatedKey
		resp.JSON(t, &k)
		children = append(children, k.Key)
	}
	resp := f.alice.DoJSON(t, "DELETE", "/api-keys/"+f.aliceKey.ID, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(resp.Body))
	for _, c := range children {
		require.Equal(t, http.StatusUnauthorized, f.keyClient(t, c).DoJSON(t, "GET", "/api/files", nil).StatusCode, "the children are dead")
	}
	// Alice holds no working key; the limit is 5. Her second key is refused.
	for i := range 2 {
		resp = f.alice.DoJSON(t, "POST", "/api-keys", map[string]any{"name": "fresh", "permissions": policy.Permissions{"files": {"read"}}})
		assert.Equal(t, http.StatusCreated, resp.StatusCode, "key %d of a limit of 5, with no working key: %s", i+1, resp.Body)
	}
}
