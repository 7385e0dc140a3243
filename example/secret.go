package main

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/keycaphq/keycap/keys"
)

// keyring is the server secrets the app runs with: the newest, which
// hashes new keys, under its id, and the older ones still accepted, by id.
type keyring struct {
	id     string
	secret []byte
	old    map[string][]byte // nil: none
}

// apply sets the keyring in a keys.Config.
func (k keyring) apply(c *keys.Config) { c.Secret, c.SecretID, c.OldSecrets = k.secret, k.id, k.old }

// ids lists the keyring's ids, newest first, for the log.
func (k keyring) ids() string {
	old := slices.Sorted(maps.Keys(k.old))
	return strings.Join(append([]string{k.id + " (newest)"}, old...), ", ")
}

// serverSecrets returns the keyring that keys the HMAC of stored keys:
// from ring (KEYCAP_SECRETS, "2:<hex>,1:<hex>", newest first), or one
// secret (KEYCAP_SECRET, hex or base64, id "1"), or else the file path,
// which holds either one secret or "id:secret" lines, newest first, and is
// created with a new random secret (mode 0600) the first time, so that
// keys survive restarts.
func serverSecrets(single, ring, path string, logger *slog.Logger) (keyring, error) {
	switch {
	case single != "" && ring != "":
		return keyring{}, errors.New("set KEYCAP_SECRETS or KEYCAP_SECRET, not both: KEYCAP_SECRET=<s> is KEYCAP_SECRETS=1:<s>")
	case ring != "":
		k, err := parseKeyring(ring)
		if err != nil {
			return keyring{}, fmt.Errorf("KEYCAP_SECRETS: %w", err)
		}
		logger.Info("using the server secrets from KEYCAP_SECRETS", "ids", k.ids())
		return k, nil
	case single != "":
		secret, err := decodeSecret(single)
		if err != nil {
			return keyring{}, fmt.Errorf("KEYCAP_SECRET: %w", err)
		}
		logger.Info("using the server secret from KEYCAP_SECRET")
		return keyring{id: "1", secret: secret}, nil
	}
	k, err := readKeyringFile(path)
	if err == nil {
		logger.Info("using the server secret stored in "+path, "ids", k.ids())
		return k, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return keyring{}, err
	}
	return newKeyringFile(path, logger)
}

// newKeyringFile creates path holding a new random secret under id "1".
func newKeyringFile(path string, logger *slog.Logger) (keyring, error) {
	secret := make([]byte, keys.MinSecretLength)
	if _, err := rand.Read(secret); err != nil {
		return keyring{}, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return readKeyringFile(path) // another process just made it
	} else if err != nil {
		return keyring{}, fmt.Errorf("storing a new server secret: %w", err)
	}
	_, err = f.WriteString("# keycap's server secrets, newest first, one \"id:hex\" per line.\n" +
		"# To rotate, add a new line on top: see \"Rotating the server secret\" in the README.\n" +
		"1:" + hex.EncodeToString(secret) + "\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return keyring{}, fmt.Errorf("storing a new server secret: %w", err)
	}
	logger.Info("generated a new server secret and stored it in " + path +
		"; keep it with the database (keys stop working without it), or set KEYCAP_SECRETS")
	return keyring{id: "1", secret: secret}, nil
}

func readKeyringFile(path string) (keyring, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return keyring{}, err
	}
	k, err := parseKeyring(string(data))
	if err != nil {
		return keyring{}, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}

// parseKeyring reads secrets separated by commas or new lines, newest
// first, each "id:secret" (hex or base64); lines starting with "#" are
// comments. A lone secret without an id is the single secret "1".
func parseKeyring(text string) (keyring, error) {
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
		return keyring{}, errors.New("no secret: want \"id:hex\" entries, newest first (make one with: openssl rand -hex 32)")
	}
	var k keyring
	for i, e := range entries {
		id, text, ok := strings.Cut(e, ":")
		if !ok && len(entries) > 1 {
			return keyring{}, fmt.Errorf("entry %d has no id: write \"id:secret\", such as 2:<hex>", i+1)
		} else if !ok {
			id, text = "1", e
		}
		secret, err := decodeSecret(text)
		if err != nil {
			return keyring{}, fmt.Errorf("secret %q: %w", id, err)
		}
		switch _, dup := k.old[id]; {
		case i == 0:
			k.id, k.secret = id, secret
			continue
		case dup || id == k.id:
			return keyring{}, fmt.Errorf("secret id %q appears twice", id)
		case k.old == nil:
			k.old = map[string][]byte{}
		}
		k.old[id] = secret
	}
	return k, nil
}

// decodeSecret reads hex, or else base64 (standard or URL alphabet,
// padded or not), holding at least keys.MinSecretLength bytes.
func decodeSecret(text string) ([]byte, error) {
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
