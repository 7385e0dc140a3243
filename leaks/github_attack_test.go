package leaks_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/asn1"
	"encoding/base64"
	"fmt"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/audit"
	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/keys/memstore"
	"github.com/keycaphq/keycap/leaks"
	"github.com/keycaphq/keycap/policy"
)

// TestAttackSignatureForms: a report whose signature is not GitHub's
// (base64 of ASN.1 DER over the SHA-256 of the exact body) is refused and
// revokes nothing, whatever form the forger tries: the raw r||s form, DER
// with trailing bytes, a signature by another known key than the one
// named (key-id confusion), a signature over the body re-serialised
// (canonicalisation: whitespace, key order, a trailing newline), URL-safe
// base64, and a signature header sent twice with the good one second.
func TestAttackSignatureForms(t *testing.T) {
	a := newApp(t)
	other := newSigner(t, "k2")
	a.keys.set(document(t, a.github, other))
	a.now = a.now.Add(2 * leaks.RefreshInterval)
	_, token := a.key(t)
	body := report(t, token)
	digest := sha256.Sum256(body)

	r, s, err := ecdsa.Sign(nil, a.github.key, digest[:]) //nolint:staticcheck // nil reader: crypto/ecdsa uses its own
	if err != nil {
		t.Fatal(err)
	}
	raw := append(r.FillBytes(make([]byte, 32)), s.FillBytes(make([]byte, 32))...)
	der, err := asn1.Marshal(struct{ R, S *big.Int }{r, s})
	require.NoError(t, err)
	good := base64.StdEncoding.EncodeToString(der)
	respaced := append(bytes.ReplaceAll(body, []byte(`","`), []byte(`", "`)), '\n')

	cases := map[string]struct {
		body    []byte
		id, sig string
		extra   string // a second signature header
	}{
		"raw r||s":                   {body, "k1", base64.StdEncoding.EncodeToString(raw), ""},
		"DER with trailing bytes":    {body, "k1", base64.StdEncoding.EncodeToString(append(der, 0, 0)), ""},
		"signed by k2, names k1":     {body, "k1", other.sign(t, body), ""},
		"good signature, other body": {respaced, "k1", good, ""},
		"url-safe base64 of other":   {body, "k1", base64.URLEncoding.EncodeToString([]byte("\xff\xfe" + string(der))), ""},
		"bad first, good second":     {body, "k1", "AAAA", good},
		"unknown id, good sig":       {body, "k9", good, ""},
		"empty id":                   {body, "", good, ""},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			h := http.Header{"Content-Type": {"application/json"}, leaks.KeyIdentifierHeader: {tc.id}, leaks.SignatureHeader: {tc.sig}}
			if tc.extra != "" {
				h.Add(leaks.SignatureHeader, tc.extra)
			}
			writes := a.store.count()
			resp, out := a.post(t, tc.body, h)
			assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, string(out))
			assert.Equal(t, writes, a.store.count(), "a refused report writes nothing")
			assert.Equal(t, http.StatusOK, a.works(t, token), "the key still works")
		})
	}
	// The control: the good DER signature is accepted.
	resp, out := a.post(t, body, http.Header{"Content-Type": {"application/json"}, leaks.KeyIdentifierHeader: {"k1"}, leaks.SignatureHeader: {good}})
	require.Equal(t, http.StatusOK, resp.StatusCode, string(out))
	assert.Equal(t, http.StatusUnauthorized, a.works(t, token))
}

// TestAttackConcurrentReplay: the same signed report posted 16 times at
// once (GitHub retries, or an attacker who captured it replays it):
// every answer says true_positive, the key is revoked by exactly one
// write and audited as leaked exactly once.
func TestAttackConcurrentReplay(t *testing.T) {
	const trials, posts = 10, 16
	var leakedEvents, positives, statuses atomic.Int64
	for range trials {
		a := newApp(t)
		_, token := a.key(t)
		body := report(t, token, token) // the token twice in one report, too
		h := signed(t, a.github, body)
		var wg sync.WaitGroup
		for range posts {
			wg.Go(func() {
				resp, out := a.post(t, body, h)
				if resp.StatusCode == http.StatusOK {
					statuses.Add(1)
					for _, ans := range answers(t, out) {
						if ans["label"] == "true_positive" {
							positives.Add(1)
						}
					}
				}
			})
		}
		wg.Wait()
		events, err := a.events.Events(t.Context(), "alice", 1000)
		require.NoError(t, err)
		for _, e := range events {
			if e.Type == audit.Leaked {
				leakedEvents.Add(1)
			}
		}
		assert.Equal(t, 1, a.store.count(), "one revocation write per key")
	}
	t.Logf("%d trials × %d concurrent posts: %d answered 200, %d true_positive labels, %d leaked events", trials, posts, statuses.Load(), positives.Load(), leakedEvents.Load())
	assert.EqualValues(t, trials*posts, statuses.Load())
	assert.EqualValues(t, trials*posts*2, positives.Load())
	assert.EqualValues(t, trials, leakedEvents.Load(), "exactly one leaked event per key")
}

// TestAttackUnknownKeyIDFlood: 64 concurrent forged reports, each naming
// a different unknown key id, make at most one fetch of the public keys
// per RefreshInterval, and revoke nothing.
func TestAttackUnknownKeyIDFlood(t *testing.T) {
	a := newApp(t)
	_, token := a.key(t)
	body := report(t, token)
	a.now = a.now.Add(2 * leaks.RefreshInterval)
	before := a.keys.count()
	var wg sync.WaitGroup
	var refused atomic.Int64
	for i := range 64 {
		wg.Go(func() {
			forger := newSigner(t, fmt.Sprintf("forged-%d", i))
			resp, _ := a.post(t, body, signed(t, forger, body))
			if resp.StatusCode == http.StatusUnauthorized {
				refused.Add(1)
			}
		})
	}
	wg.Wait()
	t.Logf("64 forged key ids: %d refused, %d fetches", refused.Load(), a.keys.count()-before)
	assert.EqualValues(t, 64, refused.Load())
	assert.LessOrEqual(t, a.keys.count()-before, 1)
	assert.Equal(t, http.StatusOK, a.works(t, token))
}

// TestAttackOversizedAndOdd: a body one byte over the bound, a body that
// is JSON but with a huge number of empty matches, non-string fields,
// a UTF-8 BOM, nested arrays: refused or answered without revoking, never
// a panic.
func TestAttackOversizedAndOdd(t *testing.T) {
	a := newApp(t)
	_, token := a.key(t)
	over := append(report(t, token), bytes.Repeat([]byte(" "), 1<<20)...)
	resp, _ := a.post(t, over, signed(t, a.github, over))
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	for name, odd := range map[string]func(token string) []byte{
		"bom":        func(tok string) []byte { return append([]byte("\xef\xbb\xbf"), report(t, tok)...) },
		"nested":     func(tok string) []byte { return []byte(`[[{"token":"` + tok + `"}]]`) },
		"number":     func(string) []byte { return []byte(`[{"token":12}]`) },
		"null token": func(string) []byte { return []byte(`[{"token":null,"type":"x"}]`) },
		"object":     func(tok string) []byte { return []byte(`{"token":"` + tok + `"}`) },
		"many empties": func(string) []byte {
			return append(append([]byte("["), bytes.Repeat([]byte("{},"), 300000)...), []byte("{}]")...)
		},
	} {
		_, tok := a.key(t)
		body := odd(tok)
		resp, out := a.post(t, body, signed(t, a.github, body))
		t.Logf("%s: %d (%d bytes)", name, resp.StatusCode, len(out))
		assert.NotEqual(t, http.StatusInternalServerError, resp.StatusCode)
		assert.Equal(t, http.StatusOK, a.works(t, tok), name)
	}
	assert.Equal(t, http.StatusOK, a.works(t, token))
}

// TestAttackLeakOnOlderServerSecret: the GitHub endpoint revokes a leaked
// key that still works under an older server secret (the operator rotated
// the secret, the key was not used since). Was a bug, fixed in
// keys/presented.go: the answer was false_positive and the key kept
// working.
func TestAttackLeakOnOlderServerSecret(t *testing.T) {
	store := memstore.New()
	subjects := policy.SubjectsFunc(func(_ context.Context, id string) (policy.Subject, error) { return policy.Subject{ID: id}, nil })
	pol := policy.MustNew(policy.Config{AllowClientPermissions: true, Max: policy.MustParse("files:read")})
	secretA, secretB := bytes.Repeat([]byte("a"), 32), bytes.Repeat([]byte("b"), 32)
	mA, err := keys.NewManager(keys.Config{Store: store, Policy: pol, Subjects: subjects, Secret: secretA, SecretID: "a", Prefix: "acme"})
	require.NoError(t, err)
	_, token, err := mA.Create(t.Context(), keys.CreateRequest{Owner: "alice", Name: "ci", Permissions: policy.MustParse("files:read")})
	require.NoError(t, err)
	mB, err := keys.NewManager(keys.Config{Store: store, Policy: pol, Subjects: subjects, Secret: secretB, SecretID: "b",
		OldSecrets: map[string][]byte{"a": secretA}, Prefix: "acme"})
	require.NoError(t, err)
	_, err = mB.Verify(t.Context(), token, "")
	require.NoError(t, err, "the key works under the older secret")
	// (No Close: the move to B is not written; the key stays on A.)

	github := newSigner(t, "k1")
	ks := &keyServer{}
	ks.set(document(t, github))
	pub, err := leaks.NewPublicKeys(t.Context(), ks.fetch)
	require.NoError(t, err)
	gh, err := leaks.NewGitHub(leaks.GitHubOptions{Manager: mB, Keys: pub, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	body := report(t, token)
	req := httptest.NewRequest(http.MethodPost, "/github/secret-scanning", bytes.NewReader(body))
	req.Header = signed(t, github, body)
	rec := httptest.NewRecorder()
	gh.ServeHTTP(rec, req)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.Contains(t, rec.Body.String(), "true_positive")
	_, err = mB.Verify(t.Context(), token, "")
	assert.ErrorIs(t, err, keys.ErrInvalid, "the leaked key must stop working")
}
