package leaks_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/leaks"
)

// TestNewPublicKeysRefuses: a document that holds no usable key fails at
// start, saying what is wrong.
func TestNewPublicKeysRefuses(t *testing.T) {
	pemOf := func(pub any) string {
		der, err := x509.MarshalPKIXPublicKey(pub)
		require.NoError(t, err)
		return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	}
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	require.NoError(t, err)
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	doc := func(id, key string) string {
		return `{"public_keys": [{"key_identifier": "` + id + `", "key": ` + quote(key) + `, "is_current": true}]}`
	}
	tests := map[string]struct{ doc, says string }{
		"not JSON":      {`public keys`, "not JSON"},
		"no key":        {`{"public_keys": []}`, "holds no key"},
		"no identifier": {doc("", newSignerPEM(t)), "key_identifier"},
		"not PEM":       {doc("k1", "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE"), "PEM"},
		"a P-384 key":   {doc("k1", pemOf(&p384.PublicKey)), "ECDSA P-256"},
		"an RSA key":    {doc("k1", pemOf(&rsaKey.PublicKey)), "ECDSA P-256"},
		"a private key": {doc("k1", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"), "PEM \"PUBLIC KEY\""},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := leaks.NewPublicKeys(context.Background(), func(context.Context) ([]byte, error) { return []byte(tt.doc), nil })
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.says)
		})
	}
	_, err = leaks.NewPublicKeys(context.Background(), func(context.Context) ([]byte, error) { return nil, errors.New("offline") })
	assert.ErrorContains(t, err, "offline")
	_, err = leaks.NewPublicKeys(context.Background(), nil)
	assert.Error(t, err)
}

func newSignerPEM(t *testing.T) string {
	s := newSigner(t, "x")
	der, err := x509.MarshalPKIXPublicKey(&s.key.PublicKey)
	require.NoError(t, err)
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

func quote(s string) string {
	out := []byte{'"'}
	for _, c := range []byte(s) {
		switch c {
		case '\n':
			out = append(out, '\\', 'n')
		case '"':
			out = append(out, '\\', '"')
		default:
			out = append(out, c)
		}
	}
	return string(append(out, '"'))
}
