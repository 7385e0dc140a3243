package main

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"strings"

	"github.com/keycaphq/keycap/keys"
)

// serverSecret returns the secret that keys the HMAC of stored keys: from
// text (KEYCAP_SECRET, hex or base64) when set, or else from the file path,
// which is created with a new random secret (mode 0600) the first time, so
// that keys survive restarts.
func serverSecret(text, path string, logger *slog.Logger) ([]byte, error) {
	if text != "" {
		secret, err := decodeSecret(text)
		if err != nil {
			return nil, fmt.Errorf("KEYCAP_SECRET: %w", err)
		}
		logger.Info("using the server secret from KEYCAP_SECRET")
		return secret, nil
	}
	secret, err := readSecretFile(path)
	if err == nil {
		logger.Info("using the server secret stored in " + path)
		return secret, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	secret = make([]byte, keys.MinSecretLength)
	if _, err := rand.Read(secret); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return readSecretFile(path) // another process just made it
	} else if err != nil {
		return nil, fmt.Errorf("storing a new server secret: %w", err)
	}
	_, err = f.WriteString(hex.EncodeToString(secret) + "\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("storing a new server secret: %w", err)
	}
	logger.Info("generated a new server secret and stored it in " + path +
		"; keep it with the database (keys stop working without it), or set KEYCAP_SECRET")
	return secret, nil
}

func readSecretFile(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	secret, err := decodeSecret(string(data))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return secret, nil
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
