package main

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/keycaphq/keycap/keys"
)

// keyring is the app's server secrets, newest first, as the example reads
// them: KEYCAP_SECRETS ("2:<hex>,1:<hex>") or KEYCAP_SECRET (the secret "1").
type keyring struct {
	id     string
	secret []byte
	old    map[string][]byte
}

func (k keyring) apply(c *keys.Config) {
	if k.secret != nil {
		c.Secret, c.SecretID, c.OldSecrets = k.secret, k.id, k.old
	}
}

// keyring reads the secrets from the environment; none is a zero keyring.
func (c *cli) keyring() (keyring, error) {
	if text := c.getenv("KEYCAP_SECRETS"); text != "" {
		return parseKeyring(text)
	}
	if text := c.getenv("KEYCAP_SECRET"); text != "" {
		s, err := decodeSecret(text)
		if err != nil {
			return keyring{}, usageError{"KEYCAP_SECRET: " + err.Error()}
		}
		return keyring{id: "1", secret: s}, nil
	}
	return keyring{}, nil
}

// parseKeyring reads "id:secret" entries separated by commas, newest first.
func parseKeyring(text string) (keyring, error) {
	var k keyring
	for i, e := range strings.Split(text, ",") {
		id, value, ok := strings.Cut(strings.TrimSpace(e), ":")
		if !ok {
			return keyring{}, usageError{fmt.Sprintf("KEYCAP_SECRETS: entry %d has no id: write \"id:secret\", such as 2:<hex>", i+1)}
		}
		secret, err := decodeSecret(value)
		if err != nil {
			return keyring{}, usageError{fmt.Sprintf("KEYCAP_SECRETS: secret %q: %v", id, err)}
		}
		if _, dup := k.old[id]; dup || id == k.id {
			return keyring{}, usageError{fmt.Sprintf("KEYCAP_SECRETS: secret id %q appears twice", id)}
		}
		if i == 0 {
			k.id, k.secret = id, secret
			continue
		}
		if k.old == nil {
			k.old = map[string][]byte{}
		}
		k.old[id] = secret
	}
	return k, nil
}

// decodeSecret reads hex, or else base64, of at least keys.MinSecretLength bytes.
func decodeSecret(text string) ([]byte, error) {
	text = strings.TrimSpace(text)
	secret, err := hex.DecodeString(text)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if err == nil {
			break
		}
		secret, err = enc.DecodeString(text)
	}
	switch {
	case err != nil:
		return nil, errors.New("want hex or base64")
	case len(secret) < keys.MinSecretLength:
		return nil, fmt.Errorf("want at least %d bytes, got %d", keys.MinSecretLength, len(secret))
	}
	return secret, nil
}
