package main

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap"
	keycaptest "github.com/keycaphq/keycap/httptest_helpers"
	"github.com/keycaphq/keycap/internal/serversecret"
	"github.com/keycaphq/keycap/policy"
)

func TestKeysSurviveRestart(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "keys.db")
	a, srv := newTestAppAt(t, dbPath, "")
	created := mustLogIn(t, srv.URL, "alice").CreateKey(t, "/api-keys", "kept", policy.Permissions{"files": {"read"}})
	srv.Close()
	require.NoError(t, a.Close())

	info, err := os.Stat(dbPath + ".secret")
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm())

	_, srv = newTestAppAt(t, dbPath, "")
	resp := keycaptest.NewClient(t, srv.URL).WithKey(created.Key).DoJSON(t, http.MethodGet, "/api/files", nil)
	assert.Equal(t, http.StatusOK, resp.StatusCode, "%s", resp.Body)

	// Another secret makes every stored key invalid.
	_, srv = newTestAppAt(t, dbPath, strings.Repeat("ab", 32))
	resp = keycaptest.NewClient(t, srv.URL).WithKey(created.Key).DoJSON(t, http.MethodGet, "/api/files", nil)
	keycaptest.RequireCode(t, resp, keycap.CodeKeyInvalid)
}

func TestDecodeSecret(t *testing.T) {
	tests := []struct {
		name, text string
		wantLen    int // 0 means an error
	}{
		{"hex", strings.Repeat("0f", 32), 32},
		{"hex with a newline", strings.Repeat("0f", 40) + "\n", 40},
		{"base64", "q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=", 32},
		{"raw url base64", "q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA", 32},
		{"short hex", strings.Repeat("0f", 31), 0},
		{"short base64", "q83vEjRWeJCrze8SNFZ4kA==", 0},
		{"neither", "not a secret!", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			secret, err := serversecret.Decode(tt.text)
			if tt.wantLen == 0 {
				assert.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Len(t, secret, tt.wantLen)
		})
	}
}
