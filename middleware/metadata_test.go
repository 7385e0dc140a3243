package middleware_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/keycaphq/keycap"
	keycaptest "github.com/keycaphq/keycap/httptest_helpers"
)

// Clients set metadata where the policy allows it: it comes back in
// records and on the principal; a refusal names the field and writes
// nothing. Where it does not, any metadata is refused.
func TestMetadataOverHTTP(t *testing.T) {
	t.Parallel()
	c := testPolicy()
	c.AllowClientMetadata = true
	f := newFixture(t, keycaptest.WithPolicy(c))
	resp := f.alice.DoJSON(t, http.MethodPost, "/api-keys", map[string]any{"name": "m", "permissions": map[string][]string{"files": {"read"}},
		"metadata": map[string]any{"environment": "staging", "customer": "cus_42"}})
	keycaptest.RequireCode(t, resp, "")
	var k keyBody
	resp.JSON(t, &k)
	assert.JSONEq(t, `{"customer":"cus_42","environment":"staging"}`, string(k.Metadata))
	var p principalJSON
	f.keyClient(t, k.Key).Get(t, "/api/me").JSON(t, &p)
	assert.JSONEq(t, `{"customer":"cus_42","environment":"staging"}`, string(p.Metadata))

	writes := f.store.writes()
	for _, bad := range []any{[]string{"a"}, "x", map[string]any{"s": strings.Repeat("x", 5000)}, map[string]any{"a": map[string]any{"b": map[string]any{"c": map[string]any{"d": []int{1}}}}}} {
		resp = f.alice.DoJSON(t, http.MethodPatch, "/api-keys/"+k.ID, map[string]any{"metadata": bad})
		keycaptest.RequireCode(t, resp, keycap.CodeInvalidField)
		assert.Equal(t, "metadata", details[keycap.InvalidFieldDetails](t, resp).Field)
	}
	assert.Equal(t, writes, f.store.writes())

	resp = f.alice.DoJSON(t, http.MethodPatch, "/api-keys/"+k.ID, map[string]any{"metadata": map[string]any{}})
	keycaptest.RequireCode(t, resp, "")
	k = keyBody{}
	resp.JSON(t, &k)
	assert.Empty(t, k.Metadata, "{} removes it")

	server := newFixture(t) // the default: only the server sets metadata
	resp = server.alice.DoJSON(t, http.MethodPost, "/api-keys", map[string]any{"name": "m", "permissions": map[string][]string{"files": {"read"}}, "metadata": map[string]any{"a": 1}})
	keycaptest.RequireCode(t, resp, keycap.CodeInvalidField)
	assert.Equal(t, "metadata", details[keycap.InvalidFieldDetails](t, resp).Field)
}
