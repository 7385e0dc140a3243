package leaks_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap"
	"github.com/keycaphq/keycap/audit"
	keycaptest "github.com/keycaphq/keycap/httptest_helpers"
	"github.com/keycaphq/keycap/internal/keyforge"
	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/leaks"
)

// TestGitHubRevokes: a signed report revokes the key; its next request is
// 401; the answer labels it a true positive by its hash, never echoing it.
func TestGitHubRevokes(t *testing.T) {
	a := newApp(t)
	k, token := a.key(t)
	require.Equal(t, http.StatusOK, a.works(t, token))

	body := report(t, token)
	resp, out := a.post(t, body, signed(t, a.github, body))
	require.Equal(t, http.StatusOK, resp.StatusCode, string(out))
	assert.Equal(t, []map[string]string{{"token_hash": hash(token), "token_type": "acme_api_key", "label": "true_positive"}}, answers(t, out))
	assert.NotContains(t, string(out), token, "the key is never echoed")

	assert.Equal(t, http.StatusUnauthorized, a.works(t, token), "the next request with it is refused")
	rec, err := a.store.Get(t.Context(), k.ID)
	require.NoError(t, err)
	assert.Equal(t, audit.System("secret-scanning"), rec.RevokedBy)
	assert.Equal(t, "reported by GitHub secret scanning; found at https://github.com/octocat/hello/blob/abc123/config.yml (commit)", rec.RevokedReason)
	events, err := a.events.Events(t.Context(), "alice", 2)
	require.NoError(t, err)
	leaked := events[1] // then the refused request
	assert.Equal(t, audit.Leaked, leaked.Type)
	assert.Equal(t, audit.System("secret-scanning"), leaked.Actor)
	assert.Contains(t, leaked.Reason, "https://github.com/octocat/hello/blob/abc123/config.yml")
}

// TestGitHubReplay: the same report twice is harmless: the same answer,
// nothing written, nothing audited.
func TestGitHubReplay(t *testing.T) {
	a := newApp(t)
	_, token := a.key(t)
	body := report(t, token)
	headers := signed(t, a.github, body)
	_, first := a.post(t, body, headers)
	writes := a.store.count()
	events, _ := a.events.Events(t.Context(), "alice", 100)
	for range 3 {
		resp, again := a.post(t, body, headers)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		assert.JSONEq(t, string(first), string(again))
	}
	assert.Equal(t, writes, a.store.count(), "nothing written")
	after, _ := a.events.Events(t.Context(), "alice", 100)
	assert.Len(t, after, len(events), "nothing audited")
}

// TestGitHubNotOurs: anything but one of our keys is a false positive,
// the same for another prefix, an unknown id and a wrong secret, and
// nothing is written; our key among them is revoked; a token repeated is
// answered each time, in order.
func TestGitHubNotOurs(t *testing.T) {
	a := newApp(t)
	k, token := a.key(t)
	_, other := a.key(t)
	tokens := []string{
		keyforge.Key("kc", k.ID),                       // the default prefix: not this app's
		keyforge.Key("acme", keyforge.ID(k.CreatedAt)), // an unknown id
		keyforge.Key("acme", k.ID),                     // a wrong secret
		keyforge.Typo(token),                           // a bad checksum
		"acme_" + strings.Repeat("a", 300),             // too long to be a key
		"", "not a key at all",
		token, token,
	}
	body := report(t, tokens...)
	resp, out := a.post(t, body, signed(t, a.github, body))
	require.Equal(t, http.StatusOK, resp.StatusCode, string(out))
	got := answers(t, out)
	require.Len(t, got, len(tokens))
	for i, tok := range tokens {
		want := "false_positive"
		if tok == token {
			want = "true_positive"
		}
		assert.Equal(t, map[string]string{"token_hash": hash(tok), "token_type": "acme_api_key", "label": want}, got[i], "match %d", i)
	}
	assert.Equal(t, 1, a.store.count(), "only our key was written")
	assert.Equal(t, http.StatusOK, a.works(t, other), "other keys work")
}

// TestGitHubRefusals: unsigned, wrongly signed, tampered, oversized or
// malformed reports are refused with a code and details naming the fix,
// and nothing is revoked.
func TestGitHubRefusals(t *testing.T) {
	a := newApp(t)
	_, token := a.key(t)
	body := report(t, token)
	stranger := newSigner(t, "k1") // another key under GitHub's identifier
	with := func(h http.Header, name, value string) http.Header {
		h = h.Clone()
		if value == "" {
			h.Del(name)
		} else {
			h.Set(name, value)
		}
		return h
	}
	good := signed(t, a.github, body)
	signedJSON := func(b string) ([]byte, http.Header) { return []byte(b), signed(t, a.github, []byte(b)) }
	tests := []struct {
		name   string
		body   []byte
		header http.Header
		code   keycap.Code
		field  string // a detail the refusal names
	}{
		{"no signature", body, with(good, "Github-Public-Key-Signature", ""), keycap.CodeInvalidSignature, "not signed"},
		{"no key identifier", body, with(good, "Github-Public-Key-Identifier", ""), keycap.CodeInvalidSignature, "not signed"},
		{"an unknown key identifier", body, with(good, "Github-Public-Key-Identifier", "k9"), keycap.CodeInvalidSignature, "no public key"},
		{"signed by another key", body, signed(t, stranger, body), keycap.CodeInvalidSignature, "does not verify"},
		{"a tampered body", []byte(strings.Replace(string(body), "commit", "commiT", 1)), good, keycap.CodeInvalidSignature, "does not verify"},
		{"a signature not in base64", body, with(good, "Github-Public-Key-Signature", "%%%"), keycap.CodeInvalidSignature, "does not verify"},
		{"a garbage signature", body, with(good, "Github-Public-Key-Signature", "MEQCIA=="), keycap.CodeInvalidSignature, "does not verify"},
		{"oversized", append(body, make([]byte, 1<<20)...), good, keycap.CodeInvalidBody, "larger than 1048576 bytes"},
		{"not JSON", nil, nil, keycap.CodeInvalidBody, "not valid JSON"},
		{"not an array", nil, nil, keycap.CodeInvalidBody, "JSON array"},
		{"a match not an object", nil, nil, keycap.CodeInvalidBody, "match 1 is not a JSON object"},
		{"a token not a string", nil, nil, keycap.CodeInvalidBody, "are strings"},
		{"no JSON content type", body, with(good, "Content-Type", "text/plain"), keycap.CodeInvalidBody, "Content-Type"},
	}
	bodies := map[string]string{
		"not JSON": `[{"token": "` + token + `"`, "not an array": `{"token": "` + token + `"}`,
		"a match not an object": `[{"token": "` + token + `"}, "` + token + `"]`, "a token not a string": `[{"token": 42}, {"token": "` + token + `"}]`,
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if b, ok := bodies[tt.name]; ok {
				tt.body, tt.header = signedJSON(b)
			}
			writes := a.store.count()
			resp, out := a.post(t, tt.body, tt.header)
			r := &keycaptest.Response{Response: resp, Body: out}
			keycaptest.RequireCode(t, r, tt.code)
			assert.Contains(t, string(out), tt.field)
			if tt.code == keycap.CodeInvalidSignature {
				assert.Equal(t, `Signature realm="secret-scanning"`, resp.Header.Get("WWW-Authenticate"))
			}
			assert.Equal(t, writes, a.store.count(), "nothing written")
			assert.Equal(t, http.StatusOK, a.works(t, token), "nothing revoked")
		})
	}
	resp, out := a.post(t, nil, nil)
	keycaptest.RequireCode(t, &keycaptest.Response{Response: resp, Body: out}, keycap.CodeInvalidSignature)
	req, _ := http.NewRequest(http.MethodGet, a.srv.URL+"/github/secret-scanning", nil)
	get, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	get.Body.Close()
	assert.Equal(t, http.StatusMethodNotAllowed, get.StatusCode)
	assert.Equal(t, "POST", get.Header.Get("Allow"))
}

// TestGitHubKeyRotation: a report signed with a key GitHub published after
// the app loaded its keys is verified once the keys are fetched again;
// unknown identifiers fetch at most once per RefreshInterval.
func TestGitHubKeyRotation(t *testing.T) {
	a := newApp(t)
	_, token := a.key(t)
	rotated := newSigner(t, "k2")
	body := report(t, token)
	post := func(s signer, id string) int {
		h := signed(t, s, body)
		h.Set(leaks.KeyIdentifierHeader, id)
		resp, _ := a.post(t, body, h)
		return resp.StatusCode
	}
	require.Equal(t, 1, a.keys.count(), "fetched once, at start")
	for range 20 {
		require.Equal(t, http.StatusUnauthorized, post(a.github, "k-forged"))
	}
	assert.Equal(t, 1, a.keys.count(), "forged identifiers cannot make the app hammer the key server")

	a.keys.set(document(t, rotated, a.github)) // GitHub publishes k2
	require.Equal(t, http.StatusUnauthorized, post(rotated, "k2"), "fetched less than a minute ago: not again yet")
	a.now = a.now.Add(leaks.RefreshInterval)
	require.Equal(t, http.StatusOK, post(rotated, "k2"), "fetched again: k2 verifies")
	assert.Equal(t, 2, a.keys.count())
	require.Equal(t, http.StatusUnauthorized, post(rotated, "k1"), "k2's signature under k1's identifier")
	assert.Equal(t, http.StatusUnauthorized, a.works(t, token), "revoked by the rotated key's report")
}

// TestGitHubStoreDown: when keys cannot be looked up, the report is
// answered 503 for GitHub to send again; nothing is labelled.
func TestGitHubStoreDown(t *testing.T) {
	a := newApp(t)
	_, token := a.key(t)
	a.store.getErr = fmt.Errorf("%w: connection refused", keys.ErrStoreUnavailable)
	body := report(t, token)
	resp, out := a.post(t, body, signed(t, a.github, body))
	keycaptest.RequireCode(t, &keycaptest.Response{Response: resp, Body: out}, keycap.CodeStoreUnavailable)
	assert.NotContains(t, string(out), "true_positive")
	a.store.getErr = nil
	assert.Equal(t, http.StatusOK, a.works(t, token), "nothing revoked")
}
