package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// runCtx runs the CLI with ctx and a stderr that calls each on every line.
func (w *world) runCtx(t *testing.T, ctx context.Context, each func(line string), args ...string) (string, string, int) {
	t.Helper()
	var out bytes.Buffer
	stderr := &hookWriter{each: each}
	global := []string{}
	if w.prefix != "" {
		global = append(global, "-prefix", w.prefix)
	}
	environ := map[string]string{"DATABASE_URL": w.dsn, "USER": "ops", "KEYCAP_SECRETS": "1:" + w.secret}
	c := &cli{stdin: strings.NewReader(""), stdout: &out, stderr: stderr, getenv: func(k string) string { return environ[k] }, now: time.Now}
	code := c.run(ctx, append(global, args...))
	return out.String(), stderr.String(), code
}

// partialResult is the -json output of a command that failed partway.
type partialResult struct {
	Owner   string `json:"owner"`
	Revoked *int   `json:"revoked"`
	Pruned  *int   `json:"pruned"`
	Error   string `json:"error"`
}

// Offboarding and prune that fail partway (here: interrupted, as by
// Ctrl-C, after the first key or batch) print, with -json, what they did
// so far and an "error" on stdout, and exit 1. Before, stdout was empty:
// a script could not tell how many keys were revoked or deleted.
func TestAttackPartialFailureJSON(t *testing.T) {
	for name, open := range backends(t) {
		t.Run(name, func(t *testing.T) {
			w := open(t)
			for i := range 3 {
				w.create(t, "alice", fmt.Sprint("alice ", i), 0)
			}
			ctx, cancel := context.WithCancel(context.Background())
			out, errOut, code := w.runCtx(t, ctx, func(line string) {
				if strings.HasPrefix(line, "revoked 1 of 3") {
					cancel()
				}
			}, "-json", "keys", "revoke", "-owner", "alice", "-yes")
			cancel()
			assert.Equal(t, exitFailed, code, errOut)
			var r partialResult
			require.NoError(t, json.Unmarshal([]byte(out), &r), "stdout: %q", out)
			assert.Equal(t, "alice", r.Owner)
			require.NotNil(t, r.Revoked)
			assert.Equal(t, 1, *r.Revoked)
			assert.Contains(t, r.Error, "after revoking 1 keys")
			assert.Contains(t, errOut, "keycap: after revoking 1 keys")
			assert.Len(t, w.liveOf(t, "alice"), 2, "the JSON's count is the truth")

			// Text output: nothing on stdout, the error on stderr.
			ctx, cancel = context.WithCancel(context.Background())
			out, errOut, code = w.runCtx(t, ctx, func(line string) {
				if strings.HasPrefix(line, "revoked 1 of 2") {
					cancel()
				}
			}, "keys", "revoke", "-owner", "alice", "-yes")
			cancel()
			assert.Equal(t, exitFailed, code)
			assert.Empty(t, out)
			assert.Contains(t, errOut, "after revoking 1 keys")

			// 501 expired keys: prune interrupted after its first batch of 500.
			*w.clock = time.Now().UTC().Add(-3 * time.Hour)
			for i := range 501 { // 100 live keys per owner at most
				w.create(t, fmt.Sprint("bob", i/100), fmt.Sprint("bob ", i), time.Hour)
			}
			ctx, cancel = context.WithCancel(context.Background())
			out, errOut, code = w.runCtx(t, ctx, func(line string) {
				if strings.HasPrefix(line, "pruned 500 so far") {
					cancel()
				}
			}, "-json", "prune", "-expired-older-than", "1h")
			cancel()
			assert.Equal(t, exitFailed, code, errOut)
			r = partialResult{}
			require.NoError(t, json.Unmarshal([]byte(out), &r), "stdout: %q", out)
			require.NotNil(t, r.Pruned)
			assert.Equal(t, 500, *r.Pruned)
			assert.Contains(t, r.Error, "after pruning 500 keys")
			left := 0
			for i := range 6 {
				list, err := ownerKeys(context.Background(), w.store, fmt.Sprint("bob", i))
				require.NoError(t, err)
				left += len(list)
			}
			assert.Equal(t, 1, left, "the JSON's count is the truth")
		})
	}
}
