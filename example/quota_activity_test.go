package main

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestQuotaActivity: the example keeps its activity in the SQL events
// table (sqlstore.NewAuditor); a quota lowered and given a refill by PATCH
// is listed with the quota before and after it.
func TestQuotaActivity(t *testing.T) {
	_, srv := newTestApp(t)
	alice := mustLogIn(t, srv.URL, "alice")
	resp := alice.DoJSON(t, http.MethodPost, "/api-keys", map[string]any{"name": "metered", "permissions": map[string][]string{"files": {"read"}}, "remaining": 50})
	require.Equal(t, http.StatusCreated, resp.StatusCode, "%s", resp.Body)
	var created struct {
		ID string `json:"id"`
	}
	resp.JSON(t, &created)
	resp = alice.DoJSON(t, http.MethodPatch, "/api-keys/"+created.ID, map[string]any{"remaining": 20, "refill_amount": 30, "refill_interval_seconds": 60})
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", resp.Body)

	var activity struct {
		Events []struct {
			Type        string          `json:"type"`
			BeforeQuota json.RawMessage `json:"before_quota"`
			AfterQuota  json.RawMessage `json:"after_quota"`
		} `json:"events"`
	}
	alice.DoJSON(t, http.MethodGet, "/api-keys/activity", nil).JSON(t, &activity)
	require.NotEmpty(t, activity.Events)
	e := activity.Events[0]
	assert.Equal(t, "updated", e.Type)
	assert.JSONEq(t, `{"remaining":50}`, string(e.BeforeQuota))
	assert.JSONEq(t, `{"remaining":20,"refill_amount":30,"refill_interval_seconds":60}`, string(e.AfterQuota))
}
