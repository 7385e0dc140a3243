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
	"encoding/json"
	"encoding/pem"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"

	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/keys/memstore"
	"github.com/keycaphq/keycap/leaks"
	"github.com/keycaphq/keycap/policy"
)

// An app mounts the partner endpoint; GitHub posts a signed report of a
// key it found in a public repository, and the key is revoked. Here the
// test plays GitHub with a key pair of its own.
func ExampleNewGitHub() {
	ctx := context.Background()
	mgr, _ := keys.NewManager(keys.Config{
		Store:    memstore.New(),
		Policy:   policy.MustNew(policy.Config{Default: policy.MustParse("files:read")}),
		Subjects: policy.SubjectsFunc(func(_ context.Context, id string) (policy.Subject, error) { return policy.Subject{ID: id}, nil }),
		Secret:   []byte("an example secret of 32 bytes..."),
		Prefix:   "acme", // register your own prefix with GitHub: never keep "kc"
	})
	_, leaked, _ := mgr.Create(ctx, keys.CreateRequest{Owner: "alice", Name: "ci"})

	github, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader) // GitHub's signing key
	der, _ := x509.MarshalPKIXPublicKey(&github.PublicKey)
	doc, _ := json.Marshal(map[string]any{"public_keys": []map[string]any{{
		"key_identifier": "k1", "key": string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})), "is_current": true,
	}}})
	// In an app: fetch https://api.github.com/meta/public_keys/secret_scanning,
	// or read a copy the app keeps.
	pub, err := leaks.NewPublicKeys(ctx, func(context.Context) ([]byte, error) { return doc, nil })
	if err != nil {
		fmt.Println(err)
		return
	}
	handler, _ := leaks.NewGitHub(leaks.GitHubOptions{Manager: mgr, Keys: pub, Logger: slog.New(slog.NewTextHandler(os.Stderr, nil))})

	body, _ := json.Marshal([]map[string]string{{"token": leaked, "type": "acme_api_key", "url": "https://github.com/octocat/hello/blob/main/.env", "source": "content"}})
	digest := sha256.Sum256(body)
	sig, _ := ecdsa.SignASN1(rand.Reader, github, digest[:])
	req := httptest.NewRequest(http.MethodPost, "/github/secret-scanning", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(leaks.KeyIdentifierHeader, "k1")
	req.Header.Set(leaks.SignatureHeader, base64.StdEncoding.EncodeToString(sig))
	rec := httptest.NewRecorder()
	handler.ServeHTTP(rec, req)

	var answers []struct{ Label string }
	_ = json.Unmarshal(rec.Body.Bytes(), &answers)
	_, err = mgr.Verify(ctx, leaked, "")
	fmt.Println(rec.Code, answers[0].Label)
	fmt.Println(err)
	// Output:
	// 200 true_positive
	// keys: invalid key: revoked
}
