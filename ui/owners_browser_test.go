package ui_test

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/policy"
	"github.com/keycaphq/keycap/ui"
)

// orgsApp is miniApp with what the keys API allows besides: a second kind
// of key ("test": reads only, 30 days at most), metadata set by clients,
// and organizations. alice manages Acme's keys (her rights in it: read
// and write files, keys:manage); in Globex she is a plain member; the
// app's Owners lists both and one that does not exist.
func newOrgsApp(t *testing.T) (*miniApp, *atomic.Bool) {
	t.Helper()
	demoted := new(atomic.Bool) // alice no longer manages Acme's keys
	rights := map[string]policy.Permissions{
		"org:acme":   policy.MustParse("files:read", "files:write", "keys:manage"),
		"org:globex": policy.MustParse("files:read"),
	}
	return newMiniAppWith(t, func(o *ui.Options) {
		o.Owners = func(*http.Request) []ui.Owner {
			return []ui.Owner{{ID: "org:acme", Name: "Acme"}, {ID: "org:globex", Name: "Globex"}, {ID: "org:nope"}}
		}
	}, func(c *keys.Config) {
		c.Policy = policy.MustNew(policy.Config{AllowClientPermissions: true, AllowClientMetadata: true, MaxLifetime: 90 * 24 * time.Hour,
			Roles:      map[string]policy.Permissions{"member": policy.MustParse("files:read", "files:write", "projects:read")},
			ManageKeys: "keys:manage",
			Members: func(_ context.Context, org policy.Subject, user string) (policy.Permissions, error) {
				if r, ok := rights[org.ID]; ok && user == "alice" {
					if org.ID == "org:acme" && demoted.Load() {
						return policy.MustParse("files:read"), nil
					}
					return r, nil
				}
				return nil, policy.ErrNotMember
			}})
		c.Subjects = policy.SubjectsFunc(func(_ context.Context, id string) (policy.Subject, error) {
			switch {
			case id == "org:nope":
				return policy.Subject{}, policy.ErrUnknownSubject
			case strings.HasPrefix(id, "org:"):
				return policy.Subject{ID: id, Roles: []string{"member"}, Organization: true}, nil
			}
			return policy.Subject{ID: id, Roles: []string{"member"}}, nil
		})
		c.Kinds = map[string]keys.Kind{"test": {Prefix: "kctest", Max: policy.MustParse("files:read", "projects:read"), MaxLifetime: 30 * 24 * time.Hour}}
	}), demoted
}

// TestKindsOrgsMetadataInPage: the page does what the keys API allows
// beyond the basics: keys of another kind, an organization's keys, and
// metadata, with refusals in the page's words.
func TestKindsOrgsMetadataInPage(t *testing.T) {
	b := startBrowser(t)
	app, demoted := newOrgsApp(t)
	run, eval := b.Run, b.Eval
	ctx := context.Background()
	options := func(id string) any {
		return eval(`Array.from(document.querySelectorAll('#` + id + ` option'), o => o.value + '=' + o.textContent)`)
	}
	clickCreate := func() {
		eval(`document.activeElement.blur()`)
		run(chromedp.Click(chromedp.ID("kc-create-submit")))
		b.WaitFor(`!document.getElementById('kc-new-key').hidden || !document.getElementById('kc-create-error').hidden`)
	}
	closeNewKey := func() {
		run(chromedp.Click(chromedp.ID("kc-new-key-done")), chromedp.WaitNotVisible(chromedp.ID("kc-new-key")))
	}

	run(chromedp.Navigate(app.srv.URL+"/login"), chromedp.WaitVisible(chromedp.CSS(`main[data-ready="true"]`)))
	assert.Equal(t, []any{"=yourself", "org:acme=Acme"}, options("kc-owner"), "only the organizations alice manages")
	assert.Equal(t, []any{"=standard", "test=test"}, options("kc-key-kind"))
	assert.Equal(t, "read and write files; read projects", b.Text("#kc-cap"))
	axeCheck(t, b, "with the owner and kind choices")

	// A key of another kind: the cap, the longest expiry and the picker
	// are that kind's; the key is made of it and the list says so.
	run(chromedp.SendKeys(chromedp.ID("kc-key-name"), "ci test"), chromedp.Click(chromedp.ID("kc-perm-files-read")),
		chromedp.SetValue(chromedp.ID("kc-key-expiry"), "7776000"), chromedp.SetValue(chromedp.ID("kc-key-kind"), "test"))
	eval(`document.getElementById('kc-key-kind').dispatchEvent(new Event('change', {bubbles: true}))`)
	b.WaitFor(`document.getElementById('kc-cap').textContent === 'read files; read projects'`)
	assert.Equal(t, true, eval(`document.getElementById('kc-perm-files-write').disabled`))
	assert.Equal(t, true, eval(`document.getElementById('kc-perm-files-read').checked`), "a pick the kind allows stays picked")
	assert.Equal(t, "Keys may live at most 30 days.", b.Text("#kc-key-expiry-max"))
	assert.Equal(t, "2592000", eval(`document.getElementById('kc-key-expiry').value`), "90 days is beyond a test key: the longest allowed")
	b.WaitFor(`document.getElementById('kc-status').textContent.includes('test key')`)
	clickCreate()
	require.Empty(t, eval(`document.getElementById('kc-create-error').textContent`))
	assert.True(t, strings.HasPrefix(eval(`document.getElementById('kc-new-key-value').value`).(string), "kctest_"), "a test key's prefix")
	closeNewKey()
	ciTest := onlyKey(t, app, "ci test")
	assert.Equal(t, "test", ciTest.Kind)
	assert.WithinDuration(t, time.Now().Add(30*24*time.Hour), ciTest.ExpiresAt, time.Minute)
	assert.Contains(t, b.Text(`tr[data-key-id="`+ciTest.ID+`"] th`), "test key")
	b.WaitFor(`document.getElementById('kc-cap').textContent === 'read and write files; read projects'`) // the form is back to the default kind
	assert.Equal(t, "", eval(`document.getElementById('kc-key-kind').value`))

	// Metadata: invalid JSON is explained before anything is sent; valid
	// JSON is sent as written (a number beyond JavaScript's precision kept).
	run(chromedp.SendKeys(chromedp.ID("kc-key-name"), "tagged"), chromedp.Click(chromedp.ID("kc-perm-files-read")))
	eval(`document.getElementById('kc-key-metadata').value = '{"environment": "staging",}'`)
	clickCreate()
	assert.Equal(t, `The metadata is not valid JSON (near line 1, column 27): check the quotes, commas and braces. Write an object such as {"environment": "staging"}.`,
		b.Text("#kc-create-error"))
	assert.Equal(t, "kc-create-error", eval(`document.activeElement.id`))
	assert.Nil(t, findKey(t, app, "tagged"), "nothing created")
	eval(`document.getElementById('kc-key-metadata').value = '["staging"]'`)
	clickCreate()
	assert.Equal(t, `The metadata must be one JSON object, in braces, such as {"environment": "staging"}.`, b.Text("#kc-create-error"))
	eval(`document.getElementById('kc-key-metadata').value = '{"environment": "staging",\n "build": 12345678901234567890}'`)
	clickCreate()
	require.Empty(t, eval(`document.getElementById('kc-create-error').textContent`))
	closeNewKey()
	tagged := onlyKey(t, app, "tagged")
	assert.JSONEq(t, `{"build": 12345678901234567890, "environment": "staging"}`, string(tagged.Metadata))
	assert.Contains(t, string(tagged.Metadata), "12345678901234567890", "as written")

	// The details show the kind and the metadata as text.
	run(chromedp.Click(chromedp.CSS(`button[data-details="`+tagged.ID+`"]`)), chromedp.WaitVisible(chromedp.ID("kc-detail-dialog")))
	details := b.Text("#kc-detail-list")
	assert.Contains(t, details, "Kind\nstandard")
	assert.Contains(t, b.Text("#kc-detail-metadata"), `"environment": "staging"`)
	assert.Equal(t, "PRE", eval(`document.getElementById('kc-detail-metadata').tagName`))
	axeCheck(t, b, "with metadata in the details")
	run(chromedp.Click(chromedp.ID("kc-detail-close")), chromedp.WaitNotVisible(chromedp.ID("kc-detail-dialog")))
	run(chromedp.Click(chromedp.CSS(`button[data-details="`+ciTest.ID+`"]`)), chromedp.WaitVisible(chromedp.ID("kc-detail-dialog")))
	assert.Contains(t, b.Text("#kc-detail-list"), "Kind\ntest")
	assert.Contains(t, b.Text("#kc-detail-list"), "Metadata\nnone")
	run(chromedp.Click(chromedp.ID("kc-detail-close")), chromedp.WaitNotVisible(chromedp.ID("kc-detail-dialog")))

	// Editing the metadata: a client-side check, the server's refusal in
	// the page's words, nothing written; then a change and a removal.
	edit := chromedp.CSS(`button[data-edit="` + tagged.ID + `"]`)
	run(chromedp.Click(edit), chromedp.WaitVisible(chromedp.ID("kc-edit-dialog")))
	assert.Contains(t, eval(`document.getElementById('kc-edit-metadata').value`), `"environment": "staging"`)
	axeCheck(t, b, "with metadata in the edit dialog")
	eval(`document.getElementById('kc-edit-metadata').value = '{"environment": staging}'`)
	run(chromedp.Click(chromedp.ID("kc-edit-save")))
	b.WaitFor(`!document.getElementById('kc-edit-error').hidden`)
	assert.Contains(t, b.Text("#kc-edit-error"), "The metadata is not valid JSON")
	assert.Equal(t, "kc-edit-error", eval(`document.activeElement.id`))
	eval(`document.getElementById('kc-edit-metadata').value = '{"a": {"b": {"c": {"d": {"e": 1}}}}}'`)
	run(chromedp.Click(chromedp.ID("kc-edit-save")))
	b.WaitFor(`document.getElementById('kc-edit-error').textContent.includes('levels')`)
	refused := b.Text("#kc-edit-error")
	assert.Equal(t, "Please check the metadata: At most 4 levels of nested objects and arrays.", refused, "the server's refusal")
	assert.JSONEq(t, `{"build": 12345678901234567890, "environment": "staging"}`, string(onlyKey(t, app, "tagged").Metadata), "nothing written")
	eval(`document.getElementById('kc-edit-metadata').value = '{"environment": "production"}'`)
	run(chromedp.Click(chromedp.ID("kc-edit-save")), chromedp.WaitNotVisible(chromedp.ID("kc-edit-dialog")))
	b.WaitFor(`document.getElementById('kc-status').textContent.includes('saved')`)
	assert.JSONEq(t, `{"environment": "production"}`, string(onlyKey(t, app, "tagged").Metadata))
	run(chromedp.Click(edit), chromedp.WaitVisible(chromedp.ID("kc-edit-dialog")))
	eval(`document.getElementById('kc-edit-metadata').value = ''`)
	run(chromedp.Click(chromedp.ID("kc-edit-save")), chromedp.WaitNotVisible(chromedp.ID("kc-edit-dialog")))
	require.Eventually(t, func() bool { return onlyKey(t, app, "tagged").Metadata == nil }, 5*time.Second, 20*time.Millisecond, "emptied: removed")
	// A test key is edited within its kind's cap.
	run(chromedp.Click(chromedp.CSS(`button[data-edit="`+ciTest.ID+`"]`)), chromedp.WaitVisible(chromedp.ID("kc-edit-dialog")))
	assert.Equal(t, true, eval(`document.getElementById('kc-edit-perm-files-write').disabled`), "beyond a test key")
	assert.Equal(t, false, eval(`document.getElementById('kc-edit-perm-projects-read').disabled`))
	run(chromedp.Click(chromedp.ID("kc-edit-cancel")), chromedp.WaitNotVisible(chromedp.ID("kc-edit-dialog")))

	// An organization's keys: the list, the cap, the form and the
	// activity are Acme's; every call carries ?owner=.
	run(chromedp.SetValue(chromedp.ID("kc-owner"), "org:acme"))
	eval(`document.getElementById('kc-owner').dispatchEvent(new Event('change', {bubbles: true}))`)
	b.WaitFor(`document.getElementById('kc-status').textContent === 'Showing the keys of Acme.'`)
	assert.Equal(t, "Keys of Acme", b.Text("#kc-keys-title"))
	assert.Equal(t, "read and write files", b.Text("#kc-cap"), "Acme's cap within alice's rights in it")
	assert.Equal(t, "You have no keys yet. Create one above.", b.Text("#kc-keys-body"))
	assert.Equal(t, true, eval(`document.getElementById('kc-perm-projects-read').disabled`))
	run(chromedp.SendKeys(chromedp.ID("kc-key-name"), "acme deploy"), chromedp.Click(chromedp.ID("kc-perm-files-write")))
	clickCreate()
	require.Empty(t, eval(`document.getElementById('kc-create-error').textContent`))
	closeNewKey()
	acme, err := app.store.List(ctx, "org:acme", keys.Page{Limit: 10})
	require.NoError(t, err)
	require.Len(t, acme, 1)
	assert.Equal(t, "acme deploy", acme[0].Name)
	assert.Equal(t, "alice", acme[0].CreatedBy.ID)
	b.WaitFor(`document.querySelector('tr[data-key-id="` + acme[0].ID + `"]') !== null`)
	assert.Equal(t, float64(1), eval(`document.querySelectorAll('#kc-keys-table tbody tr').length`), "only Acme's keys")
	b.WaitFor(`document.getElementById('kc-activity-list') !== null && document.getElementById('kc-activity-list').textContent.includes('acme deploy')`)
	assert.NotContains(t, b.Text("#kc-activity-list"), "tagged", "Acme's activity only")
	// Beyond alice's rights in Acme: refused, explained, nothing written.
	eval(`window.keycap.createKey({name: 'acme projects', permissions: {projects: ['read']}})`)
	b.WaitFor(`!document.getElementById('kc-create-error').hidden`)
	assert.Contains(t, b.Text("#kc-create-error"), "You can’t give a key permission to read projects, because that is beyond your rights in Acme. You may grant at most: read and write files.")
	acme, err = app.store.List(ctx, "org:acme", keys.Page{Limit: 10})
	require.NoError(t, err)
	assert.Len(t, acme, 1, "nothing created")
	// Revoked from the page, with ?owner=.
	run(chromedp.Click(chromedp.CSS(`button[data-revoke="`+acme[0].ID+`"]`)), chromedp.WaitVisible(chromedp.ID("kc-revoke-dialog")),
		chromedp.Click(chromedp.ID("kc-revoke-confirm")))
	b.WaitFor(`document.getElementById('kc-status').textContent.includes('revoked')`)
	gone, err := app.store.Get(ctx, acme[0].ID)
	require.NoError(t, err)
	assert.False(t, gone.RevokedAt.IsZero())
	axeCheck(t, b, "showing an organization's keys")
	// Demoted meanwhile: the next call is refused, in words.
	demoted.Store(true)
	run(chromedp.SendKeys(chromedp.ID("kc-key-name"), "too late"), chromedp.Click(chromedp.ID("kc-perm-files-read")))
	clickCreate()
	assert.Equal(t, "You may no longer manage the keys of Acme. Ask one of its administrators, or choose your own keys.", b.Text("#kc-create-error"))
	acme, err = app.store.List(ctx, "org:acme", keys.Page{Limit: 10})
	require.NoError(t, err)
	assert.Len(t, acme, 1, "nothing created")
	demoted.Store(false)

	// Back to her own keys.
	eval(`document.getElementById('kc-owner').value = ''`)
	eval(`document.getElementById('kc-owner').dispatchEvent(new Event('change', {bubbles: true}))`)
	b.WaitFor(`document.getElementById('kc-status').textContent === 'Showing your own keys.'`)
	assert.Equal(t, "Your keys", b.Text("#kc-keys-title"))
	b.WaitFor(`document.querySelector('tr[data-key-id="` + tagged.ID + `"]') !== null`)
	assert.Equal(t, "read and write files; read projects", b.Text("#kc-cap"))

	// At phone width the page still fits.
	run(chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile))
	assert.Equal(t, true, eval(`document.documentElement.scrollWidth <= window.innerWidth`))
	b.RequireQuietConsole(quietConsole...)
}
