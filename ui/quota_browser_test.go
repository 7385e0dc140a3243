package ui_test

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/policy"
)

// TestQuotaInPage: where the app gives every key a quota (a cap), the edit
// dialog lowers it, the list shows what is left, and a raise is refused
// with the server's reason in the page's words, nothing written.
func TestQuotaInPage(t *testing.T) {
	b := startBrowser(t)
	app := newMiniApp(t, func(c *keys.Config) {
		c.Quota = keys.Quota{Remaining: 100, RefillAmount: 100, RefillInterval: time.Hour}
	})
	run, eval := b.Run, b.Eval
	k, _, err := app.manager.Create(context.Background(), keys.CreateRequest{Owner: "alice", Name: "metered", Permissions: policy.MustParse("files:read")})
	require.NoError(t, err)
	require.Equal(t, int64(100), *k.Remaining)

	run(chromedp.Navigate(app.srv.URL+"/login"), chromedp.WaitVisible(chromedp.CSS(`main[data-ready="true"]`)))
	b.WaitFor(`document.querySelector('tr[data-key-id="` + k.ID + `"]') !== null`)
	edit := chromedp.CSS(`button[data-edit="` + k.ID + `"]`)

	run(chromedp.Click(edit), chromedp.WaitVisible(chromedp.ID("kc-edit-dialog")))
	assert.Equal(t, "Request quota now: 100 left, refilling back to 100 requests every hour.", b.Text("#kc-edit-quota"))
	eval(`document.getElementById('kc-edit-remaining').value = '40'`)
	run(chromedp.Click(chromedp.ID("kc-edit-save")), chromedp.WaitNotVisible(chromedp.ID("kc-edit-dialog")))
	b.WaitFor(`document.getElementById('kc-status').textContent.includes('40 requests left')`)
	assert.Equal(t, int64(40), *onlyKey(t, app, "metered").Remaining)
	b.WaitFor(`document.querySelector('tr[data-key-id="` + k.ID + `"]').textContent.includes('40 requests left')`)
	assert.Contains(t, b.Text(`tr[data-key-id="`+k.ID+`"]`), "40 requests left (refills back to 100 requests every hour)")

	// A raise is refused: the reason, in the page's words; nothing written.
	run(chromedp.Click(edit), chromedp.WaitVisible(chromedp.ID("kc-edit-dialog")))
	eval(`document.getElementById('kc-edit-remaining').value = '60'`)
	run(chromedp.Click(chromedp.ID("kc-edit-save")))
	b.WaitFor(`!document.getElementById('kc-edit-error').hidden`)
	refused := b.Text("#kc-edit-error")
	assert.Contains(t, refused, "Please check the request quota: A quota can only be lowered: this key has 40 left; it refills to 100 every 1 hour")
	assert.NotContains(t, refused, "remaining")
	assert.Equal(t, "kc-edit-error", eval(`document.activeElement.id`))
	assert.Equal(t, int64(40), *onlyKey(t, app, "metered").Remaining, "nothing written")
	run(chromedp.Click(chromedp.ID("kc-edit-cancel")), chromedp.WaitNotVisible(chromedp.ID("kc-edit-dialog")))

	// The activity says what changed.
	run(chromedp.Click(chromedp.ID("kc-activity-refresh")))
	b.WaitFor(`document.getElementById('kc-activity-list').textContent.includes('request quota is now 40')`)
	assert.Contains(t, eval(`document.getElementById('kc-activity-list').textContent`), "Its request quota is now 40, refilling to 100 every 1 hour (before: 100, refilling to 100 every 1 hour).")
	b.RequireQuietConsole(quietConsole...)
}
