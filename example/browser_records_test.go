package main

import (
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap"
	keycaptest "github.com/keycaphq/keycap/httptest_helpers"
)

// TestBrowserRecords: on the page, alice's picker offers "All my projects"
// or "Only these" with her projects (1 and 2, not 3); "only these" with
// none picked is explained; a key limited to "Website redesign" shows the
// restriction in the keys table, reads project 1 and is refused project
// 2; a key for all her projects shows none.
func TestBrowserRecords(t *testing.T) {
	b := startBrowser(t)
	_, srv := newTestApp(t)
	run := b.Run
	run(chromedp.Navigate(srv.URL+"/"), chromedp.WaitVisible(chromedp.ID("username")),
		chromedp.SendKeys(chromedp.ID("username"), "alice"), chromedp.SendKeys(chromedp.ID("password"), "alice"),
		chromedp.Click(chromedp.CSS(`form[action="/login"] button`)), chromedp.WaitVisible(chromedp.CSS(`main[data-ready="true"]`)),
		chromedp.WaitVisible(chromedp.ID("kc-scope-projects")))
	assert.Equal(t, "Which projects?", b.Text("#kc-scope-projects legend"))
	picker := b.Text("#kc-scope-projects")
	assert.Contains(t, picker, "All my projects")
	assert.Contains(t, picker, "Only these:")
	assert.Contains(t, b.Text("#kc-records-projects"), "Website redesign")
	assert.Contains(t, b.Text("#kc-records-projects"), "Mobile app")
	assert.NotContains(t, b.Text("#kc-records-projects"), "Annual report", "alice is not on project 3")
	assert.Equal(t, true, b.Eval(`document.getElementById("kc-record-projects-1").disabled`), "all projects by default")

	// Only these, none picked: said in words, nothing sent.
	run(chromedp.SendKeys(chromedp.ID("kc-key-name"), "project one"), chromedp.Click(chromedp.ID("kc-perm-projects-read")),
		chromedp.Click(chromedp.ID("kc-scope-projects-only")), chromedp.Click(chromedp.ID("kc-create-submit")),
		chromedp.WaitVisible(chromedp.ID("kc-create-error")))
	assert.Contains(t, b.Text("#kc-create-error"), "Pick at least one of your projects")

	run(chromedp.Click(chromedp.ID("kc-record-projects-1")), chromedp.Click(chromedp.ID("kc-create-submit")),
		chromedp.WaitVisible(chromedp.ID("kc-new-key")))
	key, err := chromedp.Run(b.Context(), chromedp.Value(chromedp.ID("kc-new-key-value")))
	require.NoError(t, err)
	keyID := strings.Split(key, "_")[1]
	run(chromedp.Click(chromedp.ID("kc-new-key-done")), chromedp.WaitNotVisible(chromedp.ID("kc-new-key")))
	b.WaitFor(`document.querySelector('tr[data-key-id="` + keyID + `"]') !== null`)
	assert.Contains(t, b.Text(`tr[data-key-id="`+keyID+`"] td[data-label="Permissions"]`), "only projects “Website redesign”")

	api := keycaptest.NewClient(t, srv.URL).WithKey(key)
	assert.Equal(t, http.StatusOK, api.DoJSON(t, http.MethodGet, "/api/projects/1", nil).StatusCode)
	keycaptest.RequireCode(t, api.DoJSON(t, http.MethodGet, "/api/projects/2", nil), keycap.CodeInsufficientPermissions)

	// All my projects: no restriction shown.
	assert.Equal(t, true, b.Eval(`document.getElementById("kc-scope-projects-all").checked && document.getElementById("kc-record-projects-1").disabled`),
		"the form is back to all projects")
	run(chromedp.SendKeys(chromedp.ID("kc-key-name"), "all projects"), chromedp.Click(chromedp.ID("kc-perm-projects-read")),
		chromedp.Click(chromedp.ID("kc-create-submit")), chromedp.WaitVisible(chromedp.ID("kc-new-key")))
	all, err := chromedp.Run(b.Context(), chromedp.Value(chromedp.ID("kc-new-key-value")))
	require.NoError(t, err)
	run(chromedp.Click(chromedp.ID("kc-new-key-done")), chromedp.WaitNotVisible(chromedp.ID("kc-new-key")))
	b.WaitFor(`document.querySelector('tr[data-key-id="` + strings.Split(all, "_")[1] + `"]') !== null`)
	assert.NotContains(t, b.Text(`tr[data-key-id="`+strings.Split(all, "_")[1]+`"] td[data-label="Permissions"]`), "only projects")
	b.RequireQuietConsole(quietConsole...)
}
