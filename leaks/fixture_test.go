package leaks_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/audit"
	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/keys/memstore"
	"github.com/keycaphq/keycap/leaks"
	"github.com/keycaphq/keycap/middleware"
	"github.com/keycaphq/keycap/policy"
)

// signer is a key pair GitHub would sign reports with.
type signer struct {
	id  string
	key *ecdsa.PrivateKey
}

func newSigner(t testing.TB, id string) signer {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	return signer{id: id, key: k}
}

// sign returns the signature header of body: base64 of an ASN.1 ECDSA
// signature over its SHA-256, as GitHub signs.
func (s signer) sign(t testing.TB, body []byte) string {
	t.Helper()
	digest := sha256.Sum256(body)
	sig, err := ecdsa.SignASN1(rand.Reader, s.key, digest[:])
	require.NoError(t, err)
	return base64.StdEncoding.EncodeToString(sig)
}

// document is a public keys document holding the signers' keys.
func document(t testing.TB, signers ...signer) []byte {
	t.Helper()
	type entry struct {
		ID      string `json:"key_identifier"`
		Key     string `json:"key"`
		Current bool   `json:"is_current"`
	}
	var d struct {
		PublicKeys []entry `json:"public_keys"`
	}
	for i, s := range signers {
		der, err := x509.MarshalPKIXPublicKey(&s.key.PublicKey)
		require.NoError(t, err)
		pemKey := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
		d.PublicKeys = append(d.PublicKeys, entry{s.id, string(pemKey), i == 0})
	}
	doc, err := json.Marshal(d)
	require.NoError(t, err)
	return doc
}

// keyServer serves a public keys document the test may change, and counts
// fetches.
type keyServer struct {
	mu      sync.Mutex
	doc     []byte
	fetches int
}

func (k *keyServer) fetch(context.Context) ([]byte, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.fetches++
	return k.doc, nil
}

func (k *keyServer) set(doc []byte) { k.mu.Lock(); k.doc = doc; k.mu.Unlock() }
func (k *keyServer) count() int     { k.mu.Lock(); defer k.mu.Unlock(); return k.fetches }

// countingStore counts writes (Change calls the Store carried out: one it
// refused, such as a second revocation of a revoked key, writes nothing),
// and fails Get when getErr is set.
type countingStore struct {
	keys.Store
	mu     sync.Mutex
	writes int
	getErr error
}

func (s *countingStore) Change(ctx context.Context, id string, c keys.Change) (*keys.Key, error) {
	k, err := s.Store.Change(ctx, id, c)
	if err == nil {
		s.mu.Lock()
		s.writes++
		s.mu.Unlock()
	}
	return k, err
}

func (s *countingStore) Get(ctx context.Context, id string) (*keys.Key, error) {
	s.mu.Lock()
	err := s.getErr
	s.mu.Unlock()
	if err != nil {
		return nil, err
	}
	return s.Store.Get(ctx, id)
}

func (s *countingStore) count() int { s.mu.Lock(); defer s.mu.Unlock(); return s.writes }

// app is an app with the partner endpoint at /github/secret-scanning and
// a guarded route at /api/files.
type app struct {
	srv     *httptest.Server
	handler *leaks.GitHub // the endpoint, without the server
	mgr     *keys.Manager
	store   *countingStore
	events  *audit.Memory
	github  signer
	keys    *keyServer
	pub     *leaks.PublicKeys
	now     time.Time // the clock of pub
}

func newApp(t testing.TB) *app {
	t.Helper()
	a := &app{store: &countingStore{Store: memstore.New()}, events: audit.NewMemory(0), github: newSigner(t, "k1"), keys: &keyServer{}}
	a.keys.set(document(t, a.github))
	mgr, err := keys.NewManager(keys.Config{
		Store: a.store, Policy: policy.MustNew(policy.Config{AllowClientPermissions: true, Max: policy.MustParse("files:read")}),
		Subjects: policy.SubjectsFunc(func(_ context.Context, id string) (policy.Subject, error) { return policy.Subject{ID: id}, nil }),
		Secret:   bytes.Repeat([]byte("s"), 32), Auditor: a.events, Prefix: "acme",
	})
	require.NoError(t, err)
	a.mgr = mgr
	pub, err := leaks.NewPublicKeys(t.Context(), a.keys.fetch)
	require.NoError(t, err)
	a.pub, a.now = pub, time.Now()
	pub.SetNowForTest(func() time.Time { return a.now })
	gh, err := leaks.NewGitHub(leaks.GitHubOptions{Manager: mgr, Keys: pub, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	a.handler = gh
	kc, err := middleware.New(middleware.Options{Manager: mgr, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.Handle("/github/secret-scanning", gh)
	mux.Handle("GET /api/files", middleware.Require("files:read")(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "[]")
	})))
	a.srv = httptest.NewServer(kc.Authenticate(mux))
	t.Cleanup(a.srv.Close)
	return a
}

// key creates a key of alice.
func (a *app) key(t *testing.T) (*keys.Key, string) {
	t.Helper()
	k, token, err := a.mgr.Create(t.Context(), keys.CreateRequest{Owner: "alice", Name: "ci", Permissions: policy.MustParse("files:read")})
	require.NoError(t, err)
	return k, token
}

// report is a report body of matches of tokens.
func report(t testing.TB, tokens ...string) []byte {
	t.Helper()
	var matches []map[string]string
	for _, tok := range tokens {
		matches = append(matches, map[string]string{"token": tok, "type": "acme_api_key",
			"url": "https://github.com/octocat/hello/blob/abc123/config.yml", "source": "commit"})
	}
	body, err := json.Marshal(matches)
	require.NoError(t, err)
	return body
}

// post sends body signed by s (or with the given headers) and returns the
// answer.
func (a *app) post(t *testing.T, body []byte, header http.Header) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, a.srv.URL+"/github/secret-scanning", bytes.NewReader(body))
	require.NoError(t, err)
	req.Header = header
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, out
}

// signed returns the headers of body signed by s.
func signed(t testing.TB, s signer, body []byte) http.Header {
	return http.Header{
		"Content-Type":            {"application/json"},
		leaks.KeyIdentifierHeader: {s.id},
		leaks.SignatureHeader:     {s.sign(t, body)},
	}
}

// works reports whether token gets through the guarded route.
func (a *app) works(t *testing.T, token string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, a.srv.URL+"/api/files", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	return resp.StatusCode
}

// answers decodes an answer body.
func answers(t *testing.T, body []byte) []map[string]string {
	t.Helper()
	var out []map[string]string
	require.NoError(t, json.Unmarshal(body, &out), string(body))
	return out
}

func hash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}
