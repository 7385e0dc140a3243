package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"

	"github.com/keycaphq/keycap/internal/serversecret"
	"github.com/keycaphq/keycap/keys"
)

// keyring is the server secrets the app runs with.
type keyring = serversecret.Ring

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
		k, err := serversecret.Parse(ring)
		if err != nil {
			return keyring{}, fmt.Errorf("KEYCAP_SECRETS: %w", err)
		}
		logger.Info("using the server secrets from KEYCAP_SECRETS", "ids", k.IDs())
		return k, nil
	case single != "":
		secret, err := serversecret.Decode(single)
		if err != nil {
			return keyring{}, fmt.Errorf("KEYCAP_SECRET: %w", err)
		}
		logger.Info("using the server secret from KEYCAP_SECRET")
		return keyring{ID: "1", Secret: secret}, nil
	}
	k, err := readKeyringFile(path)
	if err == nil {
		logger.Info("using the server secret stored in "+path, "ids", k.IDs())
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
	return keyring{ID: "1", Secret: secret}, nil
}

func readKeyringFile(path string) (keyring, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return keyring{}, err
	}
	k, err := serversecret.Parse(string(data))
	if err != nil {
		return keyring{}, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}
