package middleware_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap"
	"github.com/keycaphq/keycap/audit"
	keycaptest "github.com/keycaphq/keycap/httptest_helpers"
	"github.com/keycaphq/keycap/internal/keyforge"
)

// TestRevokePresentedHTTP: a key's holder revokes it with token=<key>
// (RFC 7009), with no session and no other credential; every token gets
// the same 200, and the key is refused at its next request.
func TestRevokePresentedHTTP(t *testing.T) {
	f := newFixture(t)
	c := f.keyClient(t, f.aliceKey.Key)
	require.Equal(t, http.StatusOK, c.DoJSON(t, "GET", "/api/files", nil).StatusCode)

	writes := f.store.writes()
	for _, token := range []string{"hello", "kc_0000000000000000_x", keyforge.Typo(f.aliceKey.Key), f.bobKey.Key + "x"} {
		resp := f.anon.PostForm(t, "/api-keys/revoke", url.Values{"token": {token}})
		assert.Equal(t, http.StatusOK, resp.StatusCode, "%q: %s", token, resp.Body)
		assert.Empty(t, resp.Body)
	}
	assert.Equal(t, writes, f.store.writes(), "nothing written for what names no key")

	resp := f.anon.PostForm(t, "/api-keys/revoke", url.Values{"token": {f.aliceKey.Key}, "token_type_hint": {"access_token"}})
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Empty(t, resp.Body, "the same answer as for a token that is no key")
	assert.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
	keycaptest.RequireCode(t, c.DoJSON(t, "GET", "/api/files", nil), keycap.CodeKeyInvalid)
	k := f.get(t, f.aliceKey.ID)
	assert.Equal(t, audit.Key(f.aliceKey.ID), k.RevokedBy, "the key revoked itself")
	assert.Equal(t, "revoked by its holder (RFC 7009)", k.RevokedReason)

	again := f.anon.PostForm(t, "/api-keys/revoke", url.Values{"token": {f.aliceKey.Key}})
	assert.Equal(t, http.StatusOK, again.StatusCode, "revoking twice is harmless")

	// Cross-origin browsers may revoke too: a key is no ambient authority.
	resp = f.anon.WithHeader("Origin", "https://elsewhere.example").WithHeader("Sec-Fetch-Site", "cross-site").
		PostForm(t, "/api-keys/revoke", url.Values{"token": {f.bobKey.Key}})
	assert.Equal(t, http.StatusOK, resp.StatusCode, "%s", resp.Body)
	keycaptest.RequireCode(t, f.keyClient(t, f.bobKey.Key).DoJSON(t, "GET", "/api/files", nil), keycap.CodeKeyInvalid)
}

func TestRevokePresentedRefusals(t *testing.T) {
	f := newFixture(t)
	writes := f.store.writes()
	keycaptest.RequireCode(t, f.anon.PostForm(t, "/api-keys/revoke", url.Values{}), keycap.CodeInvalidBody)
	keycaptest.RequireCode(t, f.anon.DoJSON(t, "POST", "/api-keys/revoke", `{"token": "`+f.aliceKey.Key+`"}`), keycap.CodeInvalidBody)
	resp := f.anon.Get(t, "/api-keys/revoke")
	keycaptest.RequireCode(t, resp, keycap.CodeMethodNotAllowed)
	assert.Equal(t, "POST", resp.Header.Get("Allow"))
	assert.Equal(t, writes, f.store.writes())

	f.store.down.Store(true)
	keycaptest.RequireCode(t, f.anon.PostForm(t, "/api-keys/revoke", url.Values{"token": {f.aliceKey.Key}}), keycap.CodeStoreUnavailable)
	f.store.down.Store(false)
	require.Equal(t, http.StatusOK, f.keyClient(t, f.aliceKey.Key).DoJSON(t, "GET", "/api/files", nil).StatusCode)
}
