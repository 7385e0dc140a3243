package main

import (
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap"
	keycaptest "github.com/keycaphq/keycap/httptest_helpers"
)

// TestBrowser walks through the page in headless Chromium as alice: she
// logs in, sees only her grantable choices enabled, creates a read-only
// key, copies it, the API accepts and refuses it as it should, a crafted
// request beyond her role is refused with an explanation on the page, she
// rotates the key (the old one is refused at once, the new one works), and
// after she revokes the key the API refuses it; the Activity panel tells
// the story in sentences. It saves screenshots in the test's artifact directory (go test -artifacts keeps them), and in
// docs/screenshots when KEYCAP_UPDATE_SCREENSHOTS=1.
func TestBrowser(t *testing.T) {
	b := startBrowser(t)
	a, srv := newTestApp(t)
	run, eval := b.Run, b.Eval

	// A wrong password re-renders the page with the error.
	run(chromedp.Navigate(srv.URL+"/"), chromedp.WaitVisible(chromedp.ID("username")))
	b.Shot("login", chromedp.CaptureScreenshot())
	run(chromedp.SendKeys(chromedp.ID("username"), "alice"), chromedp.SendKeys(chromedp.ID("password"), "wrong"),
		chromedp.Click(chromedp.CSS(`form[action="/login"] button`)), chromedp.WaitVisible(chromedp.ID("login-error")))
	assert.Contains(t, b.Text("#login-error"), "do not match")

	run(chromedp.SendKeys(chromedp.ID("password"), "alice"), // the user name is filled in again
		chromedp.Click(chromedp.CSS(`form[action="/login"] button`)), chromedp.WaitVisible(chromedp.CSS(`main[data-ready="true"]`)))
	assert.Contains(t, b.Text(".whoami"), "alice")

	// The picker offers what alice may grant and shows the rest disabled, with why.
	enabled := eval(`Array.from(document.querySelectorAll('#kc-picker-body input:enabled'), i => i.value).sort()`)
	disabled := eval(`Array.from(document.querySelectorAll('#kc-picker-body input:disabled'), i => i.value).sort()`)
	assert.Equal(t, []any{"files:read", "files:write", "projects:read"}, enabled)
	assert.Equal(t, []any{"billing:read", "files:delete", "projects:delete", "projects:write"}, disabled)
	assert.Contains(t, b.Text("#kc-perm-files-delete-reason"), "can’t grant")
	assert.Equal(t, "kc-perm-files-delete-reason", eval(`document.getElementById('kc-perm-files-delete').getAttribute('aria-describedby')`))
	assert.Contains(t, b.Text("#kc-no-keys"), "no keys yet")

	// She creates a read-only key; it is shown once, with focus on it.
	run(chromedp.SendKeys(chromedp.ID("kc-key-name"), "CI reader"), chromedp.Click(chromedp.ID("kc-perm-files-read")),
		chromedp.SetValue(chromedp.ID("kc-key-expiry"), "604800"), chromedp.Click(chromedp.ID("kc-create-submit")),
		chromedp.WaitVisible(chromedp.ID("kc-new-key")))
	assert.Equal(t, "kc-new-key-title", eval(`document.activeElement.id`))
	b.Shot("new-key", chromedp.CaptureScreenshot())
	run(chromedp.Click(chromedp.ID("kc-copy-key")))
	b.WaitFor(`document.getElementById('kc-status').textContent.includes('copied')`)
	key, err := chromedp.Run(b.Context(), chromedp.Value(chromedp.ID("kc-new-key-value")))
	require.NoError(t, err)
	pattern := regexp.MustCompile("^" + a.manager.Pattern().String() + "$")
	require.Regexp(t, pattern, key, "the page shows a well-formed key")
	keyID := strings.Split(key, "_")[1]
	if clip, err := chromedp.Run(b.Context(), chromedp.Evaluate[string](`navigator.clipboard.readText()`, chromedp.EvalAwaitPromise)); err == nil {
		assert.Equal(t, key, clip, "the copy button copies the key")
	} else {
		t.Logf("the clipboard cannot be read back here (%v); checked the page's message instead", err)
	}
	assert.Equal(t, `curl -H "Authorization: Bearer `+key+`" `+srv.URL+"/api/files", b.Text("#kc-curl-line"))

	// The key reads files and may not delete them.
	api := keycaptest.NewClient(t, srv.URL).WithKey(key)
	assert.Equal(t, http.StatusOK, api.DoJSON(t, http.MethodGet, "/api/files", nil).StatusCode)
	keycaptest.RequireCode(t, api.DoJSON(t, http.MethodDelete, "/api/files/1", nil), keycap.CodeInsufficientPermissions)

	run(chromedp.Click(chromedp.ID("kc-new-key-done")), chromedp.WaitNotVisible(chromedp.ID("kc-new-key")))
	assert.Equal(t, "kc-create-submit", eval(`document.activeElement.id`), "focus goes back where it was")
	assert.Empty(t, eval(`document.getElementById('kc-new-key-value').value`), "the key leaves the page")
	assert.Contains(t, b.Text(`tr[data-key-id="`+keyID+`"]`), "read files")
	b.Shot("keys", chromedp.FullScreenshot(100))
	assert.Equal(t, true, eval(`document.querySelector('.kc-table-wrap').scrollWidth <= document.querySelector('.kc-table-wrap').clientWidth`),
		"the key table fits at 1280 px, actions included")

	// A request the form would not send: files:delete, beyond alice's role.
	refused := eval(`fetch('/api-keys', {method: 'POST', credentials: 'same-origin',
		headers: {'Content-Type': 'application/json'},
		body: JSON.stringify({name: 'crafted', permissions: {files: ['delete']}})})
		.then(r => r.json().then(body => ({status: r.status, code: body.code, exceeded: body.details.exceeded})))`, chromedp.EvalAwaitPromise)
	assert.Equal(t, map[string]any{"status": 403.0, "code": "PERMISSIONS_EXCEED_MAXIMUM",
		"exceeded": map[string]any{"files": []any{"delete"}}}, refused)
	status := eval(`window.keycap.createKey({name: 'crafted', permissions: {files: ['delete']}}).then(r => r.status)`, chromedp.EvalAwaitPromise)
	assert.Equal(t, 403.0, status)
	message := b.Text("#kc-create-error")
	assert.Contains(t, message, "You can’t give a key permission to delete files")
	assert.Contains(t, message, "(member)")
	assert.Contains(t, message, "You may grant at most: read and write files; read projects.")
	assert.Equal(t, "kc-create-error", eval(`document.activeElement.id`))
	b.Shot("refused", chromedp.Screenshot(chromedp.CSS(`section[aria-labelledby="kc-create-title"]`)))

	// Rotating asks, in a dialog, how long the old key may keep working;
	// Escape cancels and focus comes back.
	rotate := chromedp.CSS(`button[data-rotate="` + keyID + `"]`)
	run(chromedp.Click(rotate), chromedp.WaitVisible(chromedp.ID("kc-rotate-dialog")))
	assert.Equal(t, "kc-grace-none", eval(`document.activeElement.id`), "focus starts on the choice, which is: now")
	assert.Equal(t, true, eval(`document.getElementById('kc-grace-none').checked`))
	assert.Contains(t, b.Text("#kc-rotate-title"), "CI reader")
	assert.Equal(t, "kc-rotate-title", eval(`document.getElementById('kc-rotate-dialog').getAttribute('aria-labelledby')`))
	b.Shot("rotate", chromedp.CaptureScreenshot())
	run(chromedp.KeyEvent(kb.Escape), chromedp.WaitNotVisible(chromedp.ID("kc-rotate-dialog")))
	assert.Equal(t, keyID, eval(`document.activeElement.dataset.rotate`))
	assert.Equal(t, http.StatusOK, api.DoJSON(t, http.MethodGet, "/api/files", nil).StatusCode, "cancel rotates nothing")

	// With no grace, the new key is shown once in the same panel as a new
	// key; the old key is refused at once and the new one works.
	run(chromedp.Click(rotate), chromedp.WaitVisible(chromedp.ID("kc-rotate-dialog")),
		chromedp.Click(chromedp.ID("kc-grace-hour")), chromedp.Click(chromedp.ID("kc-grace-none")),
		chromedp.Click(chromedp.ID("kc-rotate-confirm")), chromedp.WaitVisible(chromedp.ID("kc-new-key")))
	assert.Equal(t, "kc-new-key-title", eval(`document.activeElement.id`))
	assert.Equal(t, false, eval(`document.getElementById('kc-rotate-dialog').open`))
	assert.Contains(t, b.Text("#kc-new-key-note"), "The old key stopped working")
	b.WaitFor(`document.getElementById('kc-status').textContent.includes('rotated')`)
	rotated, err := chromedp.Run(b.Context(), chromedp.Value(chromedp.ID("kc-new-key-value")))
	require.NoError(t, err)
	require.Regexp(t, pattern, rotated, "the page shows a well-formed key")
	assert.Equal(t, keyID, strings.Split(rotated, "_")[1], "the same key record (id)")
	assert.NotEqual(t, key, rotated)
	b.Shot("rotated", chromedp.Screenshot(chromedp.ID("kc-new-key")))
	keycaptest.RequireCode(t, api.DoJSON(t, http.MethodGet, "/api/files", nil), keycap.CodeKeyInvalid)
	api = keycaptest.NewClient(t, srv.URL).WithKey(rotated)
	assert.Equal(t, http.StatusOK, api.DoJSON(t, http.MethodGet, "/api/files", nil).StatusCode)
	run(chromedp.Click(chromedp.ID("kc-new-key-done")), chromedp.WaitNotVisible(chromedp.ID("kc-new-key")))
	assert.Equal(t, keyID, eval(`document.activeElement.dataset.rotate`), "focus goes back to the key's Rotate button")
	assert.Empty(t, eval(`document.getElementById('kc-new-key-value').value`), "the key leaves the page")

	// Revoking asks first, in a dialog; Escape cancels and focus comes back.
	revoke := chromedp.CSS(`button[data-revoke="` + keyID + `"]`)
	run(chromedp.Click(revoke), chromedp.WaitVisible(chromedp.ID("kc-revoke-dialog")))
	assert.Equal(t, "kc-revoke-cancel", eval(`document.activeElement.id`))
	assert.Contains(t, b.Text("#kc-revoke-title"), "CI reader")
	b.Shot("confirm", chromedp.CaptureScreenshot())
	run(chromedp.KeyEvent(kb.Escape), chromedp.WaitNotVisible(chromedp.ID("kc-revoke-dialog")))
	assert.Equal(t, keyID, eval(`document.activeElement.dataset.revoke`))
	assert.Equal(t, http.StatusOK, api.DoJSON(t, http.MethodGet, "/api/files", nil).StatusCode, "cancel revokes nothing")

	run(chromedp.Click(revoke), chromedp.WaitVisible(chromedp.ID("kc-revoke-dialog")),
		chromedp.Click(chromedp.ID("kc-revoke-confirm")), chromedp.WaitNotPresent(revoke))
	b.WaitFor(`document.getElementById('kc-status').textContent.includes('revoked')`)
	assert.Equal(t, "revoked", b.Text(`tr[data-key-id="`+keyID+`"] .kc-badge`))
	assert.Equal(t, "kc-keys-title", eval(`document.activeElement.id`))
	b.Shot("revoked", chromedp.Screenshot(chromedp.CSS(`section[aria-labelledby="kc-keys-title"]`)))
	keycaptest.RequireCode(t, api.DoJSON(t, http.MethodGet, "/api/files", nil), keycap.CodeKeyInvalid)
	assert.Equal(t, 0.0, eval(`document.querySelectorAll('tr[data-key-id="`+keyID+`"] [data-rotate]').length`), "a revoked key has no Rotate button")

	// The Activity panel tells what happened, newest first, in sentences;
	// Refresh brings in the refusal the API just made. (The old key's
	// refusal after the rotation names no owner, a wrong secret proving
	// nothing, so it is in the log but not in alice's activity.)
	run(chromedp.Click(chromedp.ID("kc-activity-refresh")))
	b.WaitFor(`document.getElementById('kc-status').textContent.includes('Activity refreshed')`)
	assert.Equal(t, 1.0, eval(`document.querySelectorAll('#kc-activity-list li[data-event="verification_denied"]').length`))
	events := eval(`Array.from(document.querySelectorAll('#kc-activity-list li'), li => li.dataset.event)`)
	assert.Equal(t, []any{"verification_denied", "revoked", "rotated", "refused", "refused", "created"}, events)
	activity := b.Text("#kc-activity-list")
	for _, sentence := range []string{
		"You created “CI reader”, allowed to read files.",
		"Refused a new key: asked for files:delete, which your role (member) can’t grant.",
		"You rotated “CI reader”: it has a new secret.",
		"You revoked “CI reader”.",
		"A request with “CI reader” was refused: the key is revoked",
	} {
		assert.Contains(t, activity, sentence)
	}
	sentences := eval(`[
		{type: 'refused', actor: 'key:` + keyID + `', after: {billing: ['read']}},
		{type: 'refused', actor: 'alice', key_id: '` + keyID + `', reason: 'requested lifetime 720h0m0s exceeds the maximum 168h0m0s'},
		{type: 'disabled', actor: 'Bob', key_id: 'zzzzzzzzzzzzzzzz'},
		{type: 'verification_denied', key_id: '` + keyID + `', reason: 'keys: key expired'},
	].map(window.keycap.eventText)`)
	assert.Equal(t, []any{
		"Refused a new key (asked by key “CI reader”): asked for billing:read, which your role (member) can’t grant.",
		"Refused a change to “CI reader”: An expiry in 30 days exceeds the maximum of 7 days.",
		"Bob turned off key zzzzzzzzzzzzzzzz.",
		"A request with “CI reader” was refused: the key has expired.",
	}, sentences)
	assert.NotContains(t, activity, key, "the activity never shows a key")
	assert.NotContains(t, activity, rotated)
	b.Shot("activity", chromedp.Screenshot(chromedp.ID("kc-activity")))

	// At phone width the page fits: no sideways scrolling.
	run(chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile),
		chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(`main[data-ready="true"]`)))
	assert.Equal(t, true, eval(`document.documentElement.scrollWidth <= window.innerWidth`), "no horizontal overflow at 390 px")
	b.Shot("phone-keys", chromedp.Screenshot(chromedp.CSS(`section[aria-labelledby="kc-keys-title"]`)))
	b.Shot("phone-activity", chromedp.Screenshot(chromedp.ID("kc-activity")))
	run(chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, 0)`))
	b.Shot("phone", chromedp.CaptureScreenshot())

	b.RequireQuietConsole(quietConsole...)
	if os.Getenv("KEYCAP_UPDATE_SCREENSHOTS") == "1" {
		b.Publish(filepath.Join("..", "docs", "screenshots"), "keys", "new-key", "refused", "revoked", "activity", "phone")
	}
}
