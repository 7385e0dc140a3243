package ui_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/policy"
)

// hostile is markup and script in every piece of text the page shows
// that a user (or another key of theirs) chose.
const hostile = `<img src=x id=pwned onerror="document.body.dataset.pwned=1"><script>document.body.dataset.pwned=1</script>"'>`

// Held: names, descriptions, metadata, revocation reasons and IP-range
// refusals with markup are shown as text in the list, the details and the
// activity: no element is made from them, no script runs, and nothing
// trips the strict CSP.
func TestAttackPageRendersTextOnly(t *testing.T) {
	b := startBrowser(t)
	app := newMiniApp(t)
	ctx := context.Background()
	meta := json.RawMessage(`{"note":` + mustJSON(t, hostile) + `}`)
	k, _, err := app.manager.Create(ctx, keys.CreateRequest{Owner: "alice", Name: "n " + hostile[:90], Description: "d " + hostile,
		Permissions: policy.MustParse("files:read"), Metadata: meta})
	require.NoError(t, err)
	r, _, err := app.manager.Create(ctx, keys.CreateRequest{Owner: "alice", Name: "r " + hostile[:90], Permissions: policy.MustParse("files:read")})
	require.NoError(t, err)
	_, err = app.manager.Revoke(ctx, keys.RevokeRequest{Ref: keys.Ref{Owner: "alice", ID: r.ID}, Reason: "why " + hostile})
	require.NoError(t, err)
	description := "changed " + hostile
	_, err = app.manager.Update(ctx, keys.UpdateRequest{Ref: keys.Ref{Owner: "alice", ID: k.ID}, Description: &description})
	require.NoError(t, err)

	b.Run(chromedp.Navigate(app.srv.URL+"/login"), chromedp.WaitVisible(chromedp.CSS(`main[data-ready="true"]`)))
	b.Run(chromedp.Click(chromedp.CSS(`[data-details="`+k.ID+`"]`)), chromedp.WaitVisible(chromedp.ID("kc-detail-events")))
	got := b.Eval(`({imgs: document.querySelectorAll('main img, main script').length, pwned: document.body.dataset.pwned || '',
		text: document.querySelector('main').textContent})`).(map[string]any)
	assert.Equal(t, 0.0, got["imgs"], "no element made from user text")
	assert.Empty(t, got["pwned"], "no script ran")
	assert.Contains(t, got["text"], `<script>document.body.dataset.pwned=1</script>`, "the text shown as written")
	b.RequireQuietConsole(quietConsole...) // the favicon
}

// The activity says who acted by the actor's kind, not by the shape of
// its id: a user whose id is "key:<id of a key>" (an app whose user ids
// are chosen names; an organization's member acting on its keys) was
// shown as that key, so the member's revocation read as done by the key.
func TestAttackActivityActorKind(t *testing.T) {
	b := startBrowser(t)
	app := newMiniApp(t)
	k, _, err := app.manager.Create(context.Background(), keys.CreateRequest{Owner: "alice", Name: "CI deploy", Permissions: policy.MustParse("files:read")})
	require.NoError(t, err)
	b.Run(chromedp.Navigate(app.srv.URL+"/login"), chromedp.WaitVisible(chromedp.CSS(`main[data-ready="true"]`)))
	text := func(actor, kind string) string {
		return b.Eval(`window.keycap.eventText({type: 'revoked', actor: ` + mustJSON(t, actor) + `, actor_kind: ` + mustJSON(t, kind) +
			`, key_id: ` + mustJSON(t, k.ID) + `})`).(string)
	}
	assert.Equal(t, "key:"+k.ID+" revoked “CI deploy”.", text("key:"+k.ID, "user"), "a user named like a key")
	assert.Equal(t, "Key “CI deploy” revoked “CI deploy”.", text("key:"+k.ID, "key"))
	assert.Equal(t, "You revoked “CI deploy”.", text("alice", "user"))
	assert.Equal(t, "operator:alice revoked “CI deploy”.", text("operator:alice", "operator"), "an operator named alice is not you")
	assert.Equal(t, "operator:ops revoked “CI deploy”.", text("operator:ops", "operator"))
	assert.Equal(t, "Someone revoked “CI deploy”.", text("", ""))
	// Events from an app on an older keycap carry no actor_kind: read as before.
	assert.Equal(t, "You revoked “CI deploy”.", text("alice", ""))
	assert.Equal(t, "Key “CI deploy” revoked “CI deploy”.", text("key:"+k.ID, ""))
	b.RequireQuietConsole(quietConsole...) // the favicon
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}
