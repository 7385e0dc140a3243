package middleware_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap"
	"github.com/keycaphq/keycap/audit"
	keycaptest "github.com/keycaphq/keycap/httptest_helpers"
	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/middleware"
	"github.com/keycaphq/keycap/policy"
)

// PATCH sets, lowers, raises and removes a quota and its refill where the
// policy sets none; each refusal has its status, code and field, and
// writes nothing; the activity feed shows the quota before and after.
func TestQuotaOverHTTP(t *testing.T) {
	t.Parallel()
	log := audit.NewMemory(100)
	f := newFixture(t,
		keycaptest.WithMiddleware(func(o *middleware.Options) { o.Activity = log }),
		keycaptest.WithManager(func(c *keys.Config) { c.Auditor = log }))
	resp := f.alice.DoJSON(t, http.MethodPost, "/api-keys", map[string]any{"name": "metered", "remaining": 10,
		"permissions": map[string][]string{"files": {"read"}}})
	keycaptest.RequireCode(t, resp, "")
	var k detailBody
	resp.JSON(t, &k)
	patch := func(body map[string]any) detailBody {
		t.Helper()
		resp := f.alice.DoJSON(t, http.MethodPatch, "/api-keys/"+k.ID, body)
		keycaptest.RequireCode(t, resp, "")
		var got detailBody
		resp.JSON(t, &got)
		return got
	}
	got := patch(map[string]any{"remaining": 3})
	require.NotNil(t, got.Remaining)
	assert.Equal(t, int64(3), *got.Remaining, "lowered")
	got = patch(map[string]any{"remaining": 50, "refill_amount": 20, "refill_interval_seconds": 3600})
	assert.Equal(t, int64(50), *got.Remaining, "raised by the owner: the policy sets no quota")
	assert.Equal(t, int64(20), got.RefillAmount)
	assert.Equal(t, int64(3600), got.RefillInterval)
	got = patch(map[string]any{"refill_amount": nil, "refill_interval_seconds": nil})
	assert.Zero(t, got.RefillAmount, "refills stopped")
	assert.Equal(t, int64(50), *got.Remaining)

	writes := f.store.writes()
	for _, tt := range []struct {
		name  string
		body  map[string]any
		code  keycap.Code
		field string
	}{
		{"remove and refill", map[string]any{"remaining": nil, "refill_amount": 5, "refill_interval_seconds": 60}, keycap.CodeInvalidBody, "remaining"},
		{"negative", map[string]any{"remaining": -1}, keycap.CodeInvalidBody, "remaining"},
		{"not a number", map[string]any{"remaining": "10"}, keycap.CodeInvalidBody, "remaining"},
		{"half a refill", map[string]any{"refill_amount": 5}, keycap.CodeInvalidField, "refill_amount"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp := f.alice.DoJSON(t, http.MethodPatch, "/api-keys/"+k.ID, tt.body)
			keycaptest.RequireCode(t, resp, tt.code)
			assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
			if tt.code == keycap.CodeInvalidBody {
				assert.Equal(t, tt.field, details[keycap.InvalidBodyDetails](t, resp).Field)
			} else {
				assert.Equal(t, tt.field, details[keycap.InvalidFieldDetails](t, resp).Field)
			}
		})
	}
	assert.Equal(t, writes, f.store.writes(), "nothing written")

	got = patch(map[string]any{"remaining": nil})
	assert.Nil(t, got.Remaining, "removed")
	resp = f.alice.DoJSON(t, http.MethodPatch, "/api-keys/"+k.ID, map[string]any{"refill_amount": 5, "refill_interval_seconds": 60})
	keycaptest.RequireCode(t, resp, keycap.CodeInvalidField)
	d := details[keycap.InvalidFieldDetails](t, resp)
	assert.Equal(t, "remaining", d.Field)
	assert.Equal(t, "a refill needs a quota: set remaining too", d.Reason)

	var events struct {
		Events []struct {
			Type        string         `json:"type"`
			BeforeQuota map[string]any `json:"before_quota"`
			AfterQuota  map[string]any `json:"after_quota"`
		} `json:"events"`
	}
	f.alice.Get(t, "/api-keys/activity").JSON(t, &events)
	require.NotEmpty(t, events.Events)
	last := events.Events[0] // newest first: the removal
	assert.Equal(t, "updated", last.Type)
	assert.Equal(t, map[string]any{"remaining": float64(50)}, last.BeforeQuota)
	assert.Nil(t, last.AfterQuota, "no quota after the removal")
}

// A key may lower its own quota but not raise or remove it; where the
// policy sets a quota, no one may raise it, and the refusal says what the
// key has left.
func TestQuotaRefusalsOverHTTP(t *testing.T) {
	t.Parallel()
	t.Run("a key's own quota", func(t *testing.T) {
		f := newFixture(t, keycaptest.WithMiddleware(func(o *middleware.Options) { o.AllowDelegation = true }))
		k, token, err := f.srv.Manager.Create(context.Background(), keys.CreateRequest{Owner: "alice", Name: "metered",
			Permissions: policy.Permissions{"files": {"read"}}, Quota: &keys.Quota{Remaining: 10}})
		require.NoError(t, err)
		self := f.keyClient(t, token)
		resp := self.DoJSON(t, http.MethodPatch, "/api-keys/"+k.ID, map[string]any{"remaining": 11})
		keycaptest.RequireCode(t, resp, keycap.CodeInvalidField)
		d := details[keycap.InvalidFieldDetails](t, resp)
		assert.Equal(t, "remaining", d.Field)
		assert.Contains(t, d.Reason, "a key cannot raise its own quota")
		resp = self.DoJSON(t, http.MethodPatch, "/api-keys/"+k.ID, map[string]any{"remaining": nil})
		keycaptest.RequireCode(t, resp, keycap.CodeInvalidField)
		assert.Equal(t, int64(10), *f.get(t, k.ID).Remaining, "nothing written")

		resp = self.DoJSON(t, http.MethodPatch, "/api-keys/"+k.ID, map[string]any{"remaining": 2})
		keycaptest.RequireCode(t, resp, "")
		assert.LessOrEqual(t, *f.get(t, k.ID).Remaining, int64(2))
	})
	t.Run("the policy's quota is a cap", func(t *testing.T) {
		f := newFixture(t, keycaptest.WithManager(func(c *keys.Config) {
			c.Quota = keys.Quota{Remaining: 100, RefillAmount: 100, RefillInterval: time.Hour}
		}))
		resp := f.alice.DoJSON(t, http.MethodPost, "/api-keys", map[string]any{"name": "capped", "remaining": 40,
			"permissions": map[string][]string{"files": {"read"}}})
		keycaptest.RequireCode(t, resp, "")
		var k detailBody
		resp.JSON(t, &k)
		writes := f.store.writes()
		resp = f.alice.DoJSON(t, http.MethodPatch, "/api-keys/"+k.ID, map[string]any{"remaining": 41})
		keycaptest.RequireCode(t, resp, keycap.CodeInvalidField)
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
		d := details[keycap.InvalidFieldDetails](t, resp)
		assert.Equal(t, "remaining", d.Field)
		assert.Equal(t, "a quota can only be lowered: this key has 40 left", d.Reason)
		resp = f.alice.DoJSON(t, http.MethodPatch, "/api-keys/"+k.ID, map[string]any{"remaining": nil})
		keycaptest.RequireCode(t, resp, keycap.CodeInvalidField)
		resp = f.alice.DoJSON(t, http.MethodPatch, "/api-keys/"+k.ID, map[string]any{"refill_amount": 500, "refill_interval_seconds": 3600})
		keycaptest.RequireCode(t, resp, keycap.CodeInvalidField)
		assert.Equal(t, "refill_amount", details[keycap.InvalidFieldDetails](t, resp).Field)
		assert.Equal(t, writes, f.store.writes(), "nothing written")

		resp = f.alice.DoJSON(t, http.MethodPatch, "/api-keys/"+k.ID, map[string]any{"remaining": 7})
		keycaptest.RequireCode(t, resp, "")
		var got detailBody
		resp.JSON(t, &got)
		assert.Equal(t, int64(7), *got.Remaining)
	})
}
