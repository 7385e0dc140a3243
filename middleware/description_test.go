package middleware_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap"
	"github.com/keycaphq/keycap/audit"
	keycaptest "github.com/keycaphq/keycap/httptest_helpers"
	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/middleware"
)

// detailBody is the part of a key's JSON the detail view reads.
type detailBody struct {
	ID             string `json:"id"`
	Name           string `json:"name"`
	Description    string `json:"description"`
	LastUsedIP     string `json:"last_used_ip"`
	Remaining      *int64 `json:"remaining"`
	RefillAmount   int64  `json:"refill_amount"`
	RefillInterval int64  `json:"refill_interval_seconds"`
	ParentID       string `json:"parent_id"`
	Key            string `json:"key"`
}

// A description is set on create and PATCH, comes back in every answer,
// is audited before and after, and a bad one is refused with its field,
// writing nothing.
func TestDescriptionOverHTTP(t *testing.T) {
	t.Parallel()
	log := audit.NewMemory(100)
	f := newFixture(t,
		keycaptest.WithMiddleware(func(o *middleware.Options) { o.Activity = log }),
		keycaptest.WithManager(func(c *keys.Config) { c.Auditor = log }))
	resp := f.alice.DoJSON(t, http.MethodPost, "/api-keys", map[string]any{"name": "backup",
		"description": "runs the nightly backup\nowned by ops", "permissions": map[string][]string{"files": {"read"}}})
	keycaptest.RequireCode(t, resp, "")
	var k detailBody
	resp.JSON(t, &k)
	assert.Equal(t, "runs the nightly backup\nowned by ops", k.Description)

	writes := f.store.writes()
	for name, bad := range map[string]any{
		"too long":       strings.Repeat("x", 501),
		"bidi override":  "runs \u202Ethe backup",
		"a tab":          "runs\tthe backup",
		"zero-width sp.": "runs\u200Bthe backup",
	} {
		t.Run(name, func(t *testing.T) {
			resp := f.alice.DoJSON(t, http.MethodPatch, "/api-keys/"+k.ID, map[string]any{"description": bad, "name": "renamed"})
			keycaptest.RequireCode(t, resp, keycap.CodeInvalidField)
			assert.Equal(t, "description", details[keycap.InvalidFieldDetails](t, resp).Field)
			resp = f.alice.DoJSON(t, http.MethodPost, "/api-keys", map[string]any{"name": "x", "description": bad})
			keycaptest.RequireCode(t, resp, keycap.CodeInvalidField)
			assert.Equal(t, "description", details[keycap.InvalidFieldDetails](t, resp).Field)
		})
	}
	resp = f.alice.DoJSON(t, http.MethodPatch, "/api-keys/"+k.ID, map[string]any{"description": 42})
	keycaptest.RequireCode(t, resp, keycap.CodeInvalidBody)
	assert.Equal(t, writes, f.store.writes(), "nothing written")
	assert.Equal(t, "backup", f.get(t, k.ID).Name)

	resp = f.alice.DoJSON(t, http.MethodPatch, "/api-keys/"+k.ID, map[string]any{"description": "runs the weekly backup"})
	keycaptest.RequireCode(t, resp, "")
	k = detailBody{}
	resp.JSON(t, &k)
	assert.Equal(t, "runs the weekly backup", k.Description)

	var events struct {
		Events []struct {
			Type              string `json:"type"`
			KeyID             string `json:"key_id"`
			BeforeDescription string `json:"before_description"`
			AfterDescription  string `json:"after_description"`
		} `json:"events"`
	}
	resp = f.alice.DoJSON(t, http.MethodGet, "/api-keys/activity", nil)
	keycaptest.RequireCode(t, resp, "")
	resp.JSON(t, &events)
	require.NotEmpty(t, events.Events)
	e := events.Events[0]
	assert.Equal(t, "updated", e.Type)
	assert.Equal(t, k.ID, e.KeyID)
	assert.Equal(t, "runs the nightly backup\nowned by ops", e.BeforeDescription)
	assert.Equal(t, "runs the weekly backup", e.AfterDescription)

	resp = f.alice.DoJSON(t, http.MethodPatch, "/api-keys/"+k.ID, map[string]any{"description": ""})
	keycaptest.RequireCode(t, resp, "")
	k = detailBody{}
	resp.JSON(t, &k)
	assert.Empty(t, k.Description, `"" removes it`)
}

// A key's JSON says where it was last used from, how its quota refills
// and which key created it.
func TestKeyDetailFields(t *testing.T) {
	t.Parallel()
	f := newFixture(t,
		keycaptest.WithMiddleware(func(o *middleware.Options) { o.AllowDelegation = true }),
		keycaptest.WithManager(func(c *keys.Config) { c.LastUsedInterval = time.Millisecond }))
	resp := f.alice.DoJSON(t, http.MethodPost, "/api-keys", map[string]any{"name": "metered",
		"permissions": map[string][]string{"files": {"read", "write"}}, "remaining": 100, "refill_amount": 50, "refill_interval_seconds": 3600})
	keycaptest.RequireCode(t, resp, "")
	var parent detailBody
	resp.JSON(t, &parent)
	assert.Equal(t, int64(50), parent.RefillAmount)
	assert.Equal(t, int64(3600), parent.RefillInterval)
	assert.Empty(t, parent.ParentID, "made by a person")
	assert.Empty(t, parent.LastUsedIP, "never used")

	resp = f.keyClient(t, parent.Key).DoJSON(t, http.MethodPost, "/api-keys", map[string]any{"name": "child",
		"permissions": map[string][]string{"files": {"read"}}})
	keycaptest.RequireCode(t, resp, "")
	var child detailBody
	resp.JSON(t, &child)
	assert.Equal(t, parent.ID, child.ParentID)
	assert.Zero(t, child.RefillAmount, "no refill: left out")

	// The last use is recorded off the request path.
	require.Eventually(t, func() bool { return f.get(t, parent.ID).LastUsedIP != "" }, 5*time.Second, 10*time.Millisecond,
		"the use that created the child is recorded")
	resp = f.alice.DoJSON(t, http.MethodGet, "/api-keys/"+parent.ID, nil)
	keycaptest.RequireCode(t, resp, "")
	parent = detailBody{}
	resp.JSON(t, &parent)
	assert.Equal(t, f.get(t, parent.ID).LastUsedIP, parent.LastUsedIP)
}
