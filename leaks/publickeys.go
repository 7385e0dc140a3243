package leaks

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"sync"
	"time"
)

// RefreshInterval is the least time between two fetches of [PublicKeys]
// prompted by reports naming a key it does not hold, so that forged
// reports cannot make the app hammer the key server.
const RefreshInterval = time.Minute

// PublicKeys holds the ECDSA P-256 public keys that sign reports, by key
// identifier, as GitHub publishes them at
// https://api.github.com/meta/public_keys/secret_scanning:
//
//	{"public_keys": [{"key_identifier": "...", "key": "-----BEGIN PUBLIC KEY-----...", "is_current": true}]}
//
// Create it with [NewPublicKeys]. When a report names an identifier it
// does not hold, it fetches the document again (GitHub rotates its keys),
// at most once per [RefreshInterval]. It is safe for concurrent use.
type PublicKeys struct {
	fetch func(context.Context) ([]byte, error)
	now   func() time.Time

	mu   sync.RWMutex
	keys map[string]*ecdsa.PublicKey

	refreshMu sync.Mutex // one fetch at a time
	fetched   time.Time  // when fetch last ran
}

// NewPublicKeys returns the keys fetch gives: the document above, from
// GitHub's API (use a token, or a conditional request, against its rate
// limits), a file the app keeps, or its own configuration. fetch is called
// once now, and its document must hold at least one valid key; it is
// called again only when a report names an unknown key.
func NewPublicKeys(ctx context.Context, fetch func(context.Context) ([]byte, error)) (*PublicKeys, error) {
	if fetch == nil {
		return nil, errors.New("leaks: NewPublicKeys needs a fetch function")
	}
	p := &PublicKeys{fetch: fetch, now: time.Now}
	if err := p.refresh(ctx); err != nil {
		return nil, err
	}
	return p, nil
}

// key returns the public key named id, fetching the document again if it
// holds none and the last fetch is at least RefreshInterval old. A failed
// fetch keeps the keys held.
func (p *PublicKeys) key(ctx context.Context, id string) (*ecdsa.PublicKey, error) {
	if k := p.get(id); k != nil {
		return k, nil
	}
	p.refreshMu.Lock()
	defer p.refreshMu.Unlock()
	if k := p.get(id); k != nil { // fetched while we waited
		return k, nil
	}
	if p.now().Sub(p.fetched) < RefreshInterval {
		return nil, nil
	}
	if err := p.refreshLocked(ctx); err != nil {
		return nil, err
	}
	return p.get(id), nil
}

func (p *PublicKeys) get(id string) *ecdsa.PublicKey {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.keys[id]
}

func (p *PublicKeys) refresh(ctx context.Context) error {
	p.refreshMu.Lock()
	defer p.refreshMu.Unlock()
	return p.refreshLocked(ctx)
}

func (p *PublicKeys) refreshLocked(ctx context.Context) error {
	p.fetched = p.now()
	doc, err := p.fetch(ctx)
	if err != nil {
		return fmt.Errorf("leaks: fetching the public keys: %w", err)
	}
	keys, err := parsePublicKeys(doc)
	if err != nil {
		return err
	}
	p.mu.Lock()
	p.keys = keys
	p.mu.Unlock()
	return nil
}

// parsePublicKeys reads a public keys document. Every key must be an
// ECDSA P-256 key in a PEM "PUBLIC KEY" block with an identifier.
func parsePublicKeys(doc []byte) (map[string]*ecdsa.PublicKey, error) {
	var d struct {
		PublicKeys []struct {
			KeyIdentifier string `json:"key_identifier"`
			Key           string `json:"key"`
		} `json:"public_keys"`
	}
	if err := json.Unmarshal(doc, &d); err != nil {
		return nil, fmt.Errorf("leaks: the public keys document is not JSON of the form {\"public_keys\": [...]}: %w", err)
	}
	keys := map[string]*ecdsa.PublicKey{}
	for i, k := range d.PublicKeys {
		block, _ := pem.Decode([]byte(k.Key))
		if k.KeyIdentifier == "" || block == nil || block.Type != "PUBLIC KEY" {
			return nil, fmt.Errorf("leaks: public key %d: want a key_identifier and a PEM \"PUBLIC KEY\" block", i)
		}
		pub, err := x509.ParsePKIXPublicKey(block.Bytes)
		ec, ok := pub.(*ecdsa.PublicKey)
		if err != nil || !ok || ec.Curve != elliptic.P256() {
			return nil, fmt.Errorf("leaks: public key %q: want an ECDSA P-256 key", k.KeyIdentifier)
		}
		keys[k.KeyIdentifier] = ec
	}
	if len(keys) == 0 {
		return nil, errors.New("leaks: the public keys document holds no key")
	}
	return keys, nil
}
