package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/keycaphq/keycap"
	"github.com/keycaphq/keycap/audit"
	keycaptest "github.com/keycaphq/keycap/httptest_helpers"
	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/policy"
)

// fakeGitHub signs reports as GitHub does, with a key of its own whose
// public half the app reads from a file (KEYCAP_GITHUB_KEYS_FILE).
type fakeGitHub struct {
	key  *ecdsa.PrivateKey
	file string
}

func newFakeGitHub(t *testing.T) *fakeGitHub {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	require.NoError(t, err)
	doc, err := json.Marshal(map[string]any{"public_keys": []map[string]any{{
		"key_identifier": "gh-1", "key": string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})), "is_current": true}}})
	require.NoError(t, err)
	file := filepath.Join(t.TempDir(), "github-keys.json")
	require.NoError(t, os.WriteFile(file, doc, 0o600))
	return &fakeGitHub{key: k, file: file}
}

// report posts a signed report of token to the app at baseURL.
func (g *fakeGitHub) report(t *testing.T, baseURL, token string) *keycaptest.Response {
	t.Helper()
	body, err := json.Marshal([]map[string]string{{"token": token, "type": "keycap_demo_key",
		"url": "https://github.com/octocat/demo/blob/main/deploy.sh", "source": "content"}})
	require.NoError(t, err)
	digest := sha256.Sum256(body)
	sig, err := ecdsa.SignASN1(rand.Reader, g.key, digest[:])
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodPost, baseURL+"/github/secret-scanning", bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Github-Public-Key-Identifier", "gh-1")
	req.Header.Set("Github-Public-Key-Signature", base64.StdEncoding.EncodeToString(sig))
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return &keycaptest.Response{Response: resp, Body: out}
}

// newAppWithGitHub is newTestApp serving the partner endpoint, logging to
// logs.
func newAppWithGitHub(t *testing.T, g *fakeGitHub, logs io.Writer) (*app, string) {
	t.Helper()
	a, err := newApp(config{DBPath: filepath.Join(t.TempDir(), "keycap.db"), BcryptCost: bcrypt.MinCost,
		GitHubKeysFile: g.file, Logger: slog.New(slog.NewTextHandler(logs, nil))})
	require.NoError(t, err)
	srv := keycaptest.Start(t, a)
	t.Cleanup(func() { assert.NoError(t, a.Close()) })
	return a, srv.URL
}

// TestGitHubLeakReport: GitHub reports alice's key; it is revoked at once,
// the report is answered true_positive, and the next notices run tells
// alice, on the page's list and in the log, where it was found.
func TestGitHubLeakReport(t *testing.T) {
	g := newFakeGitHub(t)
	var logs bytes.Buffer
	a, base := newAppWithGitHub(t, g, &logs)
	alice := mustLogIn(t, base, "alice")
	created := alice.CreateKey(t, "/api-keys", "deploy script", policy.MustParse("files:read"))
	key := alice.KeyOnly(t, created.Key)
	require.Equal(t, http.StatusOK, key.DoJSON(t, http.MethodGet, "/api/files", nil).StatusCode)

	resp := g.report(t, base, created.Key)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", resp.Body)
	assert.Contains(t, string(resp.Body), `"label":"true_positive"`)
	assert.NotContains(t, string(resp.Body), created.Key)
	keycaptest.RequireCode(t, key.DoJSON(t, http.MethodGet, "/api/files", nil), keycap.CodeKeyInvalid)
	again := g.report(t, base, created.Key)
	assert.JSONEq(t, string(resp.Body), string(again.Body), "a report sent twice is answered the same")

	r, err := a.scheduler.RunOnce(t.Context(), a.manager.Now())
	require.NoError(t, err)
	assert.Equal(t, 1, r.Sent)
	var notices struct{ Notices []noticeJSON }
	alice.DoJSON(t, http.MethodGet, "/notices", nil).JSON(t, &notices)
	require.Len(t, notices.Notices, 1)
	n := notices.Notices[0]
	assert.Equal(t, "revoked", string(n.Type))
	assert.Equal(t, "system:secret-scanning", n.Actor)
	assert.Equal(t, created.ID, n.KeyID)
	assert.Contains(t, n.Reason, "https://github.com/octocat/demo/blob/main/deploy.sh")
	assert.Contains(t, logs.String(), "keycap notice")
	assert.NotContains(t, logs.String(), created.Key, "the key never reaches the log")

	r, err = a.scheduler.RunOnce(t.Context(), a.manager.Now().Add(time.Minute))
	require.NoError(t, err)
	assert.Equal(t, 0, r.Sent, "told once")
}

// TestNoticesRefusals: the notices are for the logged-in owner: anonymous
// and key-authenticated requests are refused, and bob sees none of alice's.
func TestNoticesRefusals(t *testing.T) {
	a, srv := newTestApp(t)
	keycaptest.RequireCode(t, keycaptest.NewClient(t, srv.URL).DoJSON(t, http.MethodGet, "/notices", nil), keycap.CodeUnauthenticated)
	alice := mustLogIn(t, srv.URL, "alice")
	created := alice.CreateKey(t, "/api-keys", "ci", policy.MustParse("files:read"))
	keycaptest.RequireCode(t, alice.KeyOnly(t, created.Key).DoJSON(t, http.MethodGet, "/notices", nil), keycap.CodeDelegationNotAllowed)
	_, err := a.manager.Revoke(t.Context(), keys.RevokeRequest{Ref: keys.Ref{Owner: "alice", ID: created.ID}, Actor: audit.User("bob")})
	require.NoError(t, err)
	_, err = a.scheduler.RunOnce(t.Context(), a.manager.Now())
	require.NoError(t, err)
	assert.Contains(t, string(alice.DoJSON(t, http.MethodGet, "/notices", nil).Body), `"actor":"user:bob"`, "revoked by an admin: told")
	bob := mustLogIn(t, srv.URL, "bob")
	resp := bob.DoJSON(t, http.MethodGet, "/notices", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.JSONEq(t, `{"notices": []}`, string(resp.Body), "alice's notices are hers")
}

// TestGitHubEndpointOff: without KEYCAP_GITHUB_KEYS_FILE the route is not
// served; a bad keys file fails at start, saying why.
func TestGitHubEndpointOff(t *testing.T) {
	_, srv := newTestApp(t)
	resp := newFakeGitHub(t).report(t, srv.URL, "kc_x")
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)

	bad := filepath.Join(t.TempDir(), "keys.json")
	require.NoError(t, os.WriteFile(bad, []byte(`{"public_keys": []}`), 0o600))
	_, err := newApp(config{DBPath: filepath.Join(t.TempDir(), "keycap.db"), BcryptCost: bcrypt.MinCost, GitHubKeysFile: bad})
	require.Error(t, err)
	assert.True(t, strings.Contains(err.Error(), "holds no key"), err.Error())
}
