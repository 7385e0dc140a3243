package main

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/keycaphq/keycap"
	keycaptest "github.com/keycaphq/keycap/httptest_helpers"
	"github.com/keycaphq/keycap/internal/serversecret"
	"github.com/keycaphq/keycap/policy"
)

func TestParseKeyring(t *testing.T) {
	a, b, c := strings.Repeat("aa", 32), strings.Repeat("bb", 32), strings.Repeat("cc", 32)
	tests := []struct {
		name, text string
		want       keyring // zero: an error
	}{
		{"one secret, no id", a, keyring{ID: "1", Secret: bytes.Repeat([]byte{0xaa}, 32)}},
		{"newest first, commas", "2:" + b + ",1:" + a, keyring{ID: "2", Secret: bytes.Repeat([]byte{0xbb}, 32),
			Old: map[string][]byte{"1": bytes.Repeat([]byte{0xaa}, 32)}}},
		{"lines and comments", "# rotated 2026-11\n3:" + c + "\n\n2:" + b + "\n  1:" + a + "  \n", keyring{ID: "3", Secret: bytes.Repeat([]byte{0xcc}, 32),
			Old: map[string][]byte{"2": bytes.Repeat([]byte{0xbb}, 32), "1": bytes.Repeat([]byte{0xaa}, 32)}}},
		{"base64", "2024-b:u7u7u7u7u7u7u7u7u7u7u7u7u7u7u7u7u7u7u7u7u7s=", keyring{ID: "2024-b", Secret: bytes.Repeat([]byte{0xbb}, 32)}},
		{"nothing", " \n# only a comment\n", keyring{}},
		{"an entry without an id among several", "2:" + b + "," + a, keyring{}},
		{"an id twice", "2:" + b + ",2:" + a, keyring{}},
		{"the newest id again", "2:" + b + ",1:" + a + ",2:" + c, keyring{}},
		{"a short secret", "2:abcd", keyring{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := serversecret.Parse(tt.text)
			if tt.want.ID == "" {
				assert.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
	_, err := serverSecrets(a, "1:"+a, "", slog.Default())
	assert.ErrorContains(t, err, "not both")
}

// TestRotatingTheServerSecret follows the README's procedure on the
// example: keys made under secret 1 (KEYCAP_SECRET) work once secret 2 is
// the newest (KEYCAP_SECRETS=2:...,1:...); a key used then moves to 2;
// the start-up log counts the keys of each secret; once 1 is retired the
// moved key works and the key nobody used is refused. The same works with
// the secret file.
func TestRotatingTheServerSecret(t *testing.T) {
	one, two := strings.Repeat("1a", 32), strings.Repeat("2b", 32)
	for _, viaFile := range []bool{false, true} {
		name := map[bool]string{false: "env", true: "file"}[viaFile]
		t.Run(name, func(t *testing.T) {
			dbPath := filepath.Join(t.TempDir(), "keys.db")
			start := func(secrets string) (*app, *httptest.Server, *lockedBuffer) {
				logs := &lockedBuffer{}
				cfg := config{DBPath: dbPath, BcryptCost: bcrypt.MinCost, LastUsedInterval: time.Hour,
					Logger: slog.New(slog.NewTextHandler(logs, nil))}
				if viaFile {
					require.NoError(t, os.WriteFile(dbPath+".secret", []byte(strings.ReplaceAll(secrets, ",", "\n")), 0o600))
				} else {
					cfg.Secrets = secrets
				}
				a, err := newApp(cfg)
				require.NoError(t, err)
				srv := httptest.NewServer(a)
				t.Cleanup(srv.Close)
				return a, srv, logs
			}
			stop := func(a *app, srv *httptest.Server) {
				srv.Close()
				require.NoError(t, a.Close()) // writes the pending moves
			}
			a, srv, _ := start("1:" + one)
			alice := mustLogIn(t, srv.URL, "alice")
			used := alice.CreateKey(t, "/api-keys", "used", policy.Permissions{"files": {"read"}})
			idle := alice.CreateKey(t, "/api-keys", "idle", policy.Permissions{"files": {"read"}})
			stop(a, srv)

			a, srv, logs := start("2:" + two + ",1:" + one)
			assert.Contains(t, logs.String(), `retiring server secret \"1\" now would refuse 2 live keys`)
			resp := keycaptest.NewClient(t, srv.URL).WithKey(used.Key).DoJSON(t, http.MethodGet, "/api/files", nil)
			require.Equal(t, http.StatusOK, resp.StatusCode, "a key made under 1 works once 2 is the newest")
			stop(a, srv)

			a, srv, logs = start("2:" + two + ",1:" + one)
			assert.Contains(t, logs.String(), `retiring server secret \"1\" now would refuse 1 live key;`, "the used key moved to 2")
			stop(a, srv)

			_, srv, logs = start("2:" + two)
			assert.Contains(t, logs.String(), `server secret \"1\" is retired (not configured): 1 live key hashed under it is refused`)
			resp = keycaptest.NewClient(t, srv.URL).WithKey(used.Key).DoJSON(t, http.MethodGet, "/api/files", nil)
			assert.Equal(t, http.StatusOK, resp.StatusCode)
			resp = keycaptest.NewClient(t, srv.URL).WithKey(idle.Key).DoJSON(t, http.MethodGet, "/api/files", nil)
			keycaptest.RequireCode(t, resp, keycap.CodeKeyInvalid)
		})
	}
}

// lockedBuffer is a bytes.Buffer safe for the concurrent writes of a
// logger.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
