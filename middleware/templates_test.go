package middleware_test

import (
	"context"
	"net/http"
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

// withTemplates is testPolicy with two templates: one a member may
// grant, one beyond the member role.
func withTemplates() keycaptest.AppOption {
	c := testPolicy()
	c.Templates = []policy.Template{
		{Name: "Read-only dashboard", Description: "read files and projects", Permissions: policy.MustParse("files:read", "projects:read")},
		{Name: "Project admin", Permissions: policy.MustParse("projects:read", "projects:write", "projects:delete")},
	}
	return keycaptest.WithPolicy(c)
}

type templateBody struct {
	Name        string             `json:"name"`
	Description string             `json:"description"`
	Permissions policy.Permissions `json:"permissions"`
	Grantable   policy.Permissions `json:"grantable"`
	Dropped     policy.Permissions `json:"dropped"`
	Available   bool               `json:"available"`
}

// GET /grantable lists every template, cut to the caller's cap, with
// what would be dropped.
func TestGrantableTemplates(t *testing.T) {
	t.Parallel()
	f := newFixture(t, withTemplates())
	var alice struct {
		Templates []templateBody `json:"templates"`
	}
	resp := f.alice.DoJSON(t, http.MethodGet, "/api-keys/grantable", nil)
	keycaptest.RequireCode(t, resp, "")
	resp.JSON(t, &alice)
	require.Len(t, alice.Templates, 2)
	assert.Equal(t, templateBody{Name: "Read-only dashboard", Description: "read files and projects",
		Permissions: policy.MustParse("files:read", "projects:read"), Grantable: policy.MustParse("files:read", "projects:read"),
		Dropped: policy.Permissions{}, Available: true}, alice.Templates[0])
	assert.Equal(t, templateBody{Name: "Project admin", Permissions: policy.MustParse("projects:read", "projects:write", "projects:delete"),
		Grantable: policy.MustParse("projects:read"), Dropped: policy.MustParse("projects:write", "projects:delete")}, alice.Templates[1])

	var bob struct {
		Templates []templateBody `json:"templates"`
	}
	f.bob.DoJSON(t, http.MethodGet, "/api-keys/grantable", nil).JSON(t, &bob)
	assert.True(t, bob.Templates[1].Available, "the owner role grants the project admin template")
}

// A key created from a template holds, and is audited with, the
// template's permissions; a template beyond the cap, an unknown one, or a
// template with permissions is refused with nothing written.
func TestCreateFromTemplate(t *testing.T) {
	t.Parallel()
	log := audit.NewMemory(100)
	f := newFixture(t, withTemplates(), keycaptest.WithManager(func(c *keys.Config) { c.Auditor = log }),
		keycaptest.WithMiddleware(func(o *middleware.Options) { o.Activity = log }))

	resp := f.alice.DoJSON(t, http.MethodPost, "/api-keys", map[string]any{"name": "dashboard", "template": "Read-only dashboard"})
	keycaptest.RequireCode(t, resp, "")
	var created keyBody
	resp.JSON(t, &created)
	assert.Equal(t, policy.MustParse("files:read", "projects:read"), created.Permissions)
	assert.Equal(t, policy.MustParse("files:read", "projects:read"), f.get(t, created.ID).Permissions)
	events, err := log.Events(context.Background(), "alice", 10)
	require.NoError(t, err)
	require.NotEmpty(t, events)
	assert.Equal(t, audit.Created, events[0].Type)
	assert.Equal(t, policy.MustParse("files:read", "projects:read"), events[0].After, "audited as the permissions it expands to")

	for name, tc := range map[string]struct {
		body   map[string]any
		code   keycap.Code
		detail func(t *testing.T, resp *keycaptest.Response)
	}{
		"beyond the cap": {map[string]any{"name": "x", "template": "Project admin"}, keycap.CodeExceedsMaximum, func(t *testing.T, resp *keycaptest.Response) {
			d := details[keycap.ExceedsMaximumDetails](t, resp)
			assert.Equal(t, policy.MustParse("projects:write", "projects:delete"), d.Exceeded)
		}},
		"unknown": {map[string]any{"name": "x", "template": "Everything"}, keycap.CodeInvalidField, func(t *testing.T, resp *keycaptest.Response) {
			d := details[keycap.InvalidFieldDetails](t, resp)
			assert.Equal(t, "template", d.Field)
			assert.Contains(t, d.Reason, `"Read-only dashboard", "Project admin"`)
		}},
		"with permissions": {map[string]any{"name": "x", "template": "Read-only dashboard", "permissions": map[string][]string{"files": {"read"}}},
			keycap.CodeInvalidBody, func(t *testing.T, resp *keycaptest.Response) {
				assert.Equal(t, "template", details[keycap.InvalidBodyDetails](t, resp).Field)
			}},
		"not a string": {map[string]any{"name": "x", "template": 3}, keycap.CodeInvalidBody, func(t *testing.T, resp *keycaptest.Response) {
			assert.Equal(t, "template", details[keycap.InvalidBodyDetails](t, resp).Field)
		}},
	} {
		t.Run(name, func(t *testing.T) {
			before := f.store.snapshot(t, f.owners...)
			resp := f.alice.DoJSON(t, http.MethodPost, "/api-keys", tc.body)
			keycaptest.RequireCode(t, resp, tc.code)
			tc.detail(t, resp)
			assert.Equal(t, before, f.store.snapshot(t, f.owners...), "nothing written")
		})
	}
}
