// Package serversecret reads a keyring of keycap server secrets from text,
// for the example app and the operator CLI, which read the same
// environment (KEYCAP_SECRETS, KEYCAP_SECRET) and files.
package serversecret

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/keycaphq/keycap/keys"
)

// Ring is the server secrets an app runs with: the newest, which hashes
// new keys, under its id, and the older ones still accepted, by id.
type Ring struct {
	ID     string
	Secret []byte            // nil: no keyring
	Old    map[string][]byte // nil: none
}

// Apply sets the keyring in c; a zero Ring leaves c as it is.
func (k Ring) Apply(c *keys.Config) {
	if k.Secret != nil {
		c.Secret, c.SecretID, c.OldSecrets = k.Secret, k.ID, k.Old
	}
}

// IDs lists the keyring's ids, newest first, for a log line.
func (k Ring) IDs() string {
	old := slices.Sorted(maps.Keys(k.Old))
	return strings.Join(append([]string{k.ID + " (newest)"}, old...), ", ")
}

// Parse reads secrets separated by commas or new lines, newest first,
// each "id:secret" (hex or base64); lines starting with "#" are comments.
// A lone secret without an id is the single secret "1".
func Parse(text string) (Ring, error) {
	var entries []string
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		for _, e := range strings.Split(line, ",") {
			if e = strings.TrimSpace(e); e != "" {
				entries = append(entries, e)
			}
		}
	}
	if len(entries) == 0 {
		return Ring{}, errors.New("no secret: want \"id:hex\" entries, newest first (make one with: openssl rand -hex 32)")
	}
	var k Ring
	for i, e := range entries {
		id, text, ok := strings.Cut(e, ":")
		if !ok && len(entries) > 1 {
			return Ring{}, fmt.Errorf("entry %d has no id: write \"id:secret\", such as 2:<hex>", i+1)
		} else if !ok {
			id, text = "1", e
		}
		secret, err := Decode(text)
		if err != nil {
			return Ring{}, fmt.Errorf("secret %q: %w", id, err)
		}
		switch _, dup := k.Old[id]; {
		case i == 0:
			k.ID, k.Secret = id, secret
			continue
		case dup || id == k.ID:
			return Ring{}, fmt.Errorf("secret id %q appears twice", id)
		case k.Old == nil:
			k.Old = map[string][]byte{}
		}
		k.Old[id] = secret
	}
	return k, nil
}

// Decode reads hex, or else base64 (standard or URL alphabet, padded or
// not), holding at least keys.MinSecretLength bytes.
func Decode(text string) ([]byte, error) {
	text = strings.TrimSpace(text)
	secret, err := hex.DecodeString(text)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if err == nil {
			break // valid hex is hex, even if it would decode as base64 too
		}
		secret, err = enc.DecodeString(text)
	}
	switch {
	case err != nil:
		return nil, errors.New("want hex or base64")
	case len(secret) < keys.MinSecretLength:
		return nil, fmt.Errorf("want at least %d bytes, got %d (make one with: openssl rand -hex 32)", keys.MinSecretLength, len(secret))
	}
	return secret, nil
}
