package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/leaks"
)

// newGitHub returns the endpoint of GitHub's secret scanning partner
// program (POST /github/secret-scanning), or nil when keysFile is "":
// then the route is not served. keysFile holds the public keys GitHub
// signs its reports with, as https://api.github.com/meta/public_keys/secret_scanning
// serves them (curl that URL into the file); it is read again when a
// report names a key it does not hold, at most once a minute, so that
// refreshing the file is enough when GitHub rotates its keys.
func newGitHub(keysFile string, m *keys.Manager, logger *slog.Logger) (*leaks.GitHub, error) {
	if keysFile == "" {
		return nil, nil
	}
	pub, err := leaks.NewPublicKeys(context.Background(), func(context.Context) ([]byte, error) { return os.ReadFile(keysFile) })
	if err != nil {
		return nil, err
	}
	logger.Info("secret scanning: revoking the keys GitHub reports at POST /github/secret-scanning",
		"public_keys", keysFile, "pattern", m.Pattern().String())
	return leaks.NewGitHub(leaks.GitHubOptions{Manager: m, Keys: pub, Logger: logger})
}
