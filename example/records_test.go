package main

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap"
	keycaptest "github.com/keycaphq/keycap/httptest_helpers"
	"github.com/keycaphq/keycap/policy"
)

// createLimited creates a key with perms limited to resources as c and
// requires a 201; it returns the key's own client and its id.
func createLimited(t *testing.T, c *keycaptest.Client, name string, perms policy.Permissions, resources policy.Resources) (*keycaptest.Client, string) {
	t.Helper()
	resp := c.DoJSON(t, http.MethodPost, "/api-keys", map[string]any{"name": name, "permissions": perms, "resources": resources})
	require.Equal(t, http.StatusCreated, resp.StatusCode, "%s", resp.Body)
	var k struct {
		ID        string           `json:"id"`
		Key       string           `json:"key"`
		Resources policy.Resources `json:"resources"`
	}
	resp.JSON(t, &k)
	if resources == nil {
		resources = policy.Resources{}
	}
	require.Equal(t, resources, k.Resources)
	return c.KeyOnly(t, k.Key), k.ID
}

// projectIDs lists the ids GET /api/projects answers to c.
func projectIDs(t *testing.T, c *keycaptest.Client) []int {
	t.Helper()
	resp := c.DoJSON(t, http.MethodGet, "/api/projects", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", resp.Body)
	var list struct{ Projects []item }
	resp.JSON(t, &list)
	ids := []int{}
	for _, p := range list.Projects {
		ids = append(ids, p.ID)
	}
	return ids
}

// requireRecordRefused requires 403 INSUFFICIENT_PERMISSIONS naming
// permission and the project.
func requireRecordRefused(t *testing.T, resp *keycaptest.Response, permission, project string) {
	t.Helper()
	keycaptest.RequireCode(t, resp, keycap.CodeInsufficientPermissions)
	var d keycap.InsufficientDetails
	require.NoError(t, json.Unmarshal(resp.Error(t).Details, &d))
	assert.Equal(t, keycap.InsufficientDetails{Missing: []string{permission}, Records: policy.Resources{"projects": {project}}}, d)
	assert.Equal(t, permission, resp.Header.Get("X-Accepted-Permissions"))
}

// keyCount is how many keys c lists.
func keyCount(t *testing.T, c *keycaptest.Client) int {
	t.Helper()
	var list struct{ Keys []json.RawMessage }
	c.DoJSON(t, http.MethodGet, "/api-keys", nil).JSON(t, &list)
	return len(list.Keys)
}

func TestRecordsRestrictedKey(t *testing.T) {
	_, srv := newTestApp(t)
	alice := mustLogIn(t, srv.URL, "alice")
	key, _ := createLimited(t, alice, "project 1", policy.MustParse("projects:read"), policy.Resources{"projects": {"1"}})

	resp := key.DoJSON(t, http.MethodGet, "/api/projects/1", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", resp.Body)
	assert.Contains(t, string(resp.Body), `"name":"Website redesign"`)
	requireRecordRefused(t, key.DoJSON(t, http.MethodGet, "/api/projects/2", nil), "projects:read", "2")
	assert.Equal(t, []int{1}, projectIDs(t, key))
	assert.Equal(t, []int{1, 2}, projectIDs(t, alice), "alice, logged in, reads the projects she is a member of")
}

func TestRecordsOutOfReach(t *testing.T) {
	_, srv := newTestApp(t)
	alice := mustLogIn(t, srv.URL, "alice")
	before := keyCount(t, alice)

	resp := alice.DoJSON(t, http.MethodPost, "/api-keys", map[string]any{
		"name": "project 3", "permissions": policy.MustParse("projects:read"), "resources": policy.Resources{"projects": {"1", "3"}}})
	keycaptest.RequireCode(t, resp, keycap.CodeExceedsMaximum)
	var d keycap.ExceedsMaximumDetails
	require.NoError(t, json.Unmarshal(resp.Error(t).Details, &d))
	assert.Equal(t, policy.Resources{"projects": {"3"}}, d.Records)
	assert.Equal(t, policy.MustParse("projects:read"), d.Exceeded)
	assert.Equal(t, memberRole, d.Maximum)
	assert.Equal(t, before, keyCount(t, alice), "nothing written")

	for _, tt := range []struct {
		name      string
		resources any
		path      string
	}{
		{"empty list", map[string]any{"projects": []string{}}, "resources.projects"},
		{"bad id", map[string]any{"projects": []string{"1/2"}}, "resources.projects[0]"},
		{"long id", map[string]any{"projects": []string{string(make([]byte, 65))}}, "resources.projects[0]"},
		{"resource the key does not hold", map[string]any{"files": []string{"1"}}, "resources.files"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp := alice.DoJSON(t, http.MethodPost, "/api-keys", map[string]any{
				"name": "bad", "permissions": policy.MustParse("projects:read"), "resources": tt.resources})
			keycaptest.RequireCode(t, resp, keycap.CodeInvalidPermissions)
			assert.Equal(t, tt.path, string(detailsField(t, resp, "path")[1:len(detailsField(t, resp, "path"))-1]))
			assert.Equal(t, before, keyCount(t, alice), "nothing written")
		})
	}

	unrestricted, _ := createLimited(t, alice, "every project", policy.MustParse("projects:read"), nil)
	requireRecordRefused(t, unrestricted.DoJSON(t, http.MethodGet, "/api/projects/3", nil), "projects:read", "3")
	assert.Equal(t, []int{1, 2}, projectIDs(t, unrestricted))
	keycaptest.RequireCode(t, unrestricted.DoJSON(t, http.MethodGet, "/api/projects/99", nil), keycap.CodeNotFound)
}

func TestRecordsLiveAccess(t *testing.T) {
	_, srv := newTestApp(t) // SQLite with the in-process cache: the key's record stays cached
	alice, bob := mustLogIn(t, srv.URL, "alice"), mustLogIn(t, srv.URL, "bob")
	key, _ := createLimited(t, alice, "project 1", policy.MustParse("projects:read"), policy.Resources{"projects": {"1"}})
	require.Equal(t, http.StatusOK, key.DoJSON(t, http.MethodGet, "/api/projects/1", nil).StatusCode, "cached now")

	require.Equal(t, http.StatusNoContent, bob.DoJSON(t, http.MethodDelete, "/api/projects/1/members/alice", nil).StatusCode)
	requireRecordRefused(t, key.DoJSON(t, http.MethodGet, "/api/projects/1", nil), "projects:read", "1")
	assert.Equal(t, []int{}, projectIDs(t, key))
	requireRecordRefused(t, alice.DoJSON(t, http.MethodGet, "/api/projects/1", nil), "projects:read", "1")

	require.Equal(t, http.StatusNoContent, bob.DoJSON(t, http.MethodPut, "/api/projects/1/members/alice", nil).StatusCode)
	assert.Equal(t, http.StatusOK, key.DoJSON(t, http.MethodGet, "/api/projects/1", nil).StatusCode)
	assert.Equal(t, []int{1}, projectIDs(t, key))

	// Members are an owner's to change: alice may not write projects.
	keycaptest.RequireCode(t, alice.DoJSON(t, http.MethodDelete, "/api/projects/2/members/bob", nil), keycap.CodeInsufficientPermissions)
}

func TestRecordsDelete(t *testing.T) {
	_, srv := newTestApp(t)
	bob := mustLogIn(t, srv.URL, "bob")
	key, _ := createLimited(t, bob, "delete 2", policy.MustParse("projects:delete"), policy.Resources{"projects": {"2"}})
	assert.Equal(t, http.StatusNoContent, key.DoJSON(t, http.MethodDelete, "/api/projects/2", nil).StatusCode)
	requireRecordRefused(t, key.DoJSON(t, http.MethodDelete, "/api/projects/3", nil), "projects:delete", "3")
	assert.Equal(t, []int{1, 3}, projectIDs(t, bob), "project 3 is still there")
}

func TestRecordsPatchAndGrantable(t *testing.T) {
	_, srv := newTestApp(t)
	alice := mustLogIn(t, srv.URL, "alice")
	key, id := createLimited(t, alice, "projects", policy.MustParse("projects:read"), policy.Resources{"projects": {"1", "2"}})
	assert.Equal(t, []int{1, 2}, projectIDs(t, key))

	resp := alice.DoJSON(t, http.MethodPatch, "/api-keys/"+id, map[string]any{"resources": policy.Resources{"projects": {"3"}}})
	keycaptest.RequireCode(t, resp, keycap.CodeExceedsMaximum)
	assert.JSONEq(t, `{"projects":["3"]}`, string(detailsField(t, resp, "records")))
	assert.Equal(t, []int{1, 2}, projectIDs(t, key), "nothing written")

	resp = alice.DoJSON(t, http.MethodPatch, "/api-keys/"+id, map[string]any{"resources": policy.Resources{"projects": {"2"}}})
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", resp.Body)
	assert.Equal(t, []int{2}, projectIDs(t, key))
	resp = alice.DoJSON(t, http.MethodPatch, "/api-keys/"+id, map[string]any{"resources": nil})
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", resp.Body)
	assert.Contains(t, string(resp.Body), `"resources":{}`)
	assert.Equal(t, []int{1, 2}, projectIDs(t, key), "lifted: every project alice can read")

	var g struct {
		Records map[string][]policy.Record `json:"records"`
	}
	alice.DoJSON(t, http.MethodGet, "/api-keys/grantable", nil).JSON(t, &g)
	assert.Equal(t, map[string][]policy.Record{"projects": {
		{ID: "1", Label: "Website redesign", Actions: []string{"read"}},
		{ID: "2", Label: "Mobile app", Actions: []string{"read"}},
	}}, g.Records)

	var activity struct {
		Events []struct {
			Type            string           `json:"type"`
			BeforeResources policy.Resources `json:"before_resources"`
			AfterResources  policy.Resources `json:"after_resources"`
		} `json:"events"`
	}
	alice.DoJSON(t, http.MethodGet, "/api-keys/activity", nil).JSON(t, &activity)
	require.GreaterOrEqual(t, len(activity.Events), 3)
	assert.Equal(t, "updated", activity.Events[0].Type)
	assert.Equal(t, policy.Resources{"projects": {"2"}}, activity.Events[0].BeforeResources)
	assert.Nil(t, activity.Events[0].AfterResources)
	assert.Equal(t, policy.Resources{"projects": {"1", "2"}}, activity.Events[1].BeforeResources)
	assert.Equal(t, policy.Resources{"projects": {"2"}}, activity.Events[1].AfterResources)
}
