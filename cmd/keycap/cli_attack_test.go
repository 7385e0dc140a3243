package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/audit"
	"github.com/keycaphq/keycap/internal/keyforge"
	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/keys/sqlstore"
)

// An age too large for a time.Duration is refused, never wrapped around:
// 213504d was 25 minutes, so `audit prune -older-than 213504d` (meant as
// "keep everything") deleted every event older than 25 minutes.
func TestAttackAgeOverflow(t *testing.T) {
	for _, text := range []string{"106752d", "213504d", "500000d", "99999999999d", "9223372036854775807d"} {
		d, err := age("older-than", text)
		var ue usageError
		assert.ErrorAs(t, err, &ue, "%s: refused as bad usage, got %v", text, d)
	}
	for text, want := range map[string]time.Duration{"1d": 24 * time.Hour, "106751d": 106751 * 24 * time.Hour, "36h": 36 * time.Hour} {
		d, err := age("older-than", text)
		require.NoError(t, err, text)
		assert.Equal(t, want, d, text)
	}
}

// On every database: `audit prune -older-than 213504d` deletes nothing
// and exits 2, and `prune` with such an age prunes nothing either.
func TestAttackAgeOverflowCLI(t *testing.T) {
	for name, open := range backends(t) {
		t.Run(name, func(t *testing.T) {
			w := open(t)
			ctx := context.Background()
			k, _ := w.create(t, "alice", "old", 0)
			_, err := w.app.Revoke(ctx, keys.RevokeRequest{Ref: keys.Ref{Owner: "alice", ID: k.ID}, Reason: "test"})
			require.NoError(t, err)
			later := w.clock.Add(200 * 24 * time.Hour) // the events are 200 days old
			_, errOut, code := w.cliAt(t, later, "audit", "prune", "-older-than", "213504d")
			assert.Equal(t, exitUsage, code, errOut)
			_, errOut, code = w.cliAt(t, later, "prune", "-revoked-older-than", "213504d")
			assert.Equal(t, exitUsage, code, errOut)
			events, err := sqlstore.NewAuditor(w.store).Events(ctx, "alice", 10)
			require.NoError(t, err)
			assert.Len(t, events, 2, "created and revoked are kept")
			w.get(t, k.ID)
		})
	}
}

// hookReader runs before once, at the first read: while the CLI waits for
// the operator's answer, then answers.
type hookReader struct {
	once   sync.Once
	before func()
	r      io.Reader
}

func (h *hookReader) Read(p []byte) (int, error) {
	h.once.Do(h.before)
	return h.r.Read(p)
}

// hookWriter calls each on every line written (progress lines on stderr).
type hookWriter struct {
	bytes.Buffer
	each func(line string)
}

func (h *hookWriter) Write(p []byte) (int, error) {
	n, err := h.Buffer.Write(p)
	for _, line := range strings.Split(strings.TrimRight(string(p), "\n"), "\n") {
		h.each(line)
	}
	return n, err
}

// liveOf lists the live keys of owner.
func (w *world) liveOf(t *testing.T, owner string) []string {
	t.Helper()
	list, err := ownerKeys(context.Background(), w.store, owner)
	require.NoError(t, err)
	var live []string
	for _, k := range list {
		if k.RevokedAt.IsZero() && !k.IsExpired(*w.clock) {
			live = append(live, k.ID+" "+k.Name)
		}
	}
	return live
}

// Offboarding revokes every live key of the user, also those created
// while it runs: while the operator reads the question (the user's
// script, or the user, still logged in, makes keys), and between two
// revocations. Before, the keys made while the question waited were left
// live, and the command said it had revoked "every live key".
func TestAttackOffboardingKeysCreatedMeanwhile(t *testing.T) {
	for name, open := range backends(t) {
		t.Run(name, func(t *testing.T) {
			w := open(t)
			ctx := context.Background()
			for i := range 3 {
				w.create(t, "alice", fmt.Sprint("before ", i), 0)
			}
			bob, _ := w.create(t, "bob", "bob's", 0)
			made := 0
			stdin := &hookReader{r: strings.NewReader("y\n"), before: func() {
				for i := range 2 {
					k, _, err := w.app.Create(ctx, keys.CreateRequest{Owner: "alice", Name: fmt.Sprint("during the question ", i),
						Permissions: map[string][]string{"files": {"read"}}})
					if err == nil && k != nil {
						made++
					}
				}
			}}
			stderr := &hookWriter{}
			stderr.each = func(line string) {
				if strings.HasPrefix(line, "revoked 1 of 5") { // between two revocations of the first round
					if _, _, err := w.app.Create(ctx, keys.CreateRequest{Owner: "alice", Name: "during the revocations",
						Permissions: map[string][]string{"files": {"read"}}}); err == nil {
						made++
					}
				}
			}
			var out bytes.Buffer
			global := []string{"-json"}
			if w.prefix != "" {
				global = append(global, "-prefix", w.prefix)
			}
			environ := map[string]string{"DATABASE_URL": w.dsn, "USER": "ops", "KEYCAP_SECRETS": "1:" + w.secret}
			c := &cli{stdin: stdin, stdout: &out, stderr: stderr, getenv: func(k string) string { return environ[k] }, now: time.Now}
			code := c.run(ctx, append(global, "keys", "revoke", "-owner", "alice", "-reason", "left"))
			require.Equal(t, exitOK, code, stderr.String())
			require.Equal(t, 3, made, "keys made while offboarding ran")
			assert.Empty(t, w.liveOf(t, "alice"), "0 live keys of alice left after offboarding; stderr:\n%s", stderr.String())
			assert.JSONEq(t, `{"owner": "alice", "revoked": 6}`, out.String(), "the count says every key revoked")
			assert.True(t, w.get(t, bob.ID).RevokedAt.IsZero(), "another user's key is untouched")
			events, err := sqlstore.NewAuditor(w.store).Events(ctx, "alice", 20)
			require.NoError(t, err)
			revoked := 0
			for _, e := range events {
				if e.Type == audit.Revoked {
					revoked++
					assert.Equal(t, audit.Operator("ops"), e.Actor)
				}
			}
			assert.Equal(t, 6, revoked, "each revocation audited once")
		})
	}
}

// A user whose keys keep coming (a script making one after each
// revocation) is not offboarded forever, nor reported done: after
// offboardRounds rounds the command stops with exit 1 and says why.
func TestAttackOffboardingEndless(t *testing.T) {
	w := newWorld(t, "sqlite://"+t.TempDir()+"/app.db", "")
	ctx := context.Background()
	w.create(t, "alice", "first", 0)
	stderr := &hookWriter{}
	made := 0
	stderr.each = func(line string) {
		if strings.HasPrefix(line, "revoked ") {
			if _, _, err := w.app.Create(ctx, keys.CreateRequest{Owner: "alice", Name: "again",
				Permissions: map[string][]string{"files": {"read"}}}); err == nil {
				made++
			}
		}
	}
	var out bytes.Buffer
	environ := map[string]string{"DATABASE_URL": w.dsn, "USER": "ops"}
	c := &cli{stdin: strings.NewReader(""), stdout: &out, stderr: stderr, getenv: func(k string) string { return environ[k] }, now: time.Now}
	code := c.run(ctx, []string{"keys", "revoke", "-owner", "alice", "-yes"})
	assert.Equal(t, exitFailed, code)
	assert.Contains(t, stderr.String(), "alice keeps getting new keys")
	assert.Empty(t, out.String(), "no report of success")
	assert.Equal(t, offboardRounds, made)
	assert.Len(t, w.liveOf(t, "alice"), 1, "the last one, made after the last round")
}

// keys show says everything the record holds that an operator needs at
// offboarding or in an incident: the description (a multi-line one on
// one line), the quota's refill and its last refill, in the table and in
// -json; before, the description was in -json only and the refill nowhere.
func TestAttackShowWholeRecord(t *testing.T) {
	w := newWorld(t, "sqlite://"+t.TempDir()+"/app.db", "")
	k, _, err := w.app.Create(context.Background(), keys.CreateRequest{Owner: "alice", Name: "nightly",
		Description: "runs the backup\nasks Ops first", Permissions: map[string][]string{"files": {"read"}},
		Quota: &keys.Quota{Remaining: 50, RefillAmount: 100, RefillInterval: time.Hour}})
	require.NoError(t, err)
	out, _, code := w.cli(t, "", "keys", "show", k.ID)
	require.Equal(t, exitOK, code, out)
	assert.Regexp(t, `(?m)^description\s+runs the backup asks Ops first$`, out)
	assert.Regexp(t, `(?m)^remaining\s+50$`, out)
	assert.Regexp(t, `(?m)^refill\s+to 100 every 1h0m0s$`, out)

	out, _, code = w.cli(t, "", "-json", "keys", "show", k.ID)
	require.Equal(t, exitOK, code, out)
	var j map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &j), out)
	assert.Equal(t, "runs the backup\nasks Ops first", j["description"])
	assert.Equal(t, 100.0, j["refill_amount"])
	assert.Equal(t, 3600.0, j["refill_interval_seconds"])
	assert.NotContains(t, j, "last_refill_at", "not refilled yet")
}

// A key on the command line is in the shell's history and in every
// local user's `ps` while the command runs: `verify -` reads it from
// stdin instead (one line, trimmed), with the same verdict.
func TestAttackVerifyFromStdin(t *testing.T) {
	w := newWorld(t, "sqlite://"+t.TempDir()+"/app.db", "")
	k, token := w.create(t, "alice", "ci", 0)
	out, errOut, code := w.cli(t, token+"\n", "-json", "verify", "-")
	require.Equal(t, exitOK, code, errOut)
	var v struct {
		Valid bool `json:"valid"`
		Key   struct {
			ID string `json:"id"`
		} `json:"key"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &v), out)
	assert.True(t, v.Valid)
	assert.Equal(t, k.ID, v.Key.ID)
	_, _, code = w.cli(t, keyforge.Typo(token)+"\n", "verify", "-")
	assert.Equal(t, exitRefused, code, "a wrong key read from stdin is refused like one given as an argument")
	_, errOut, code = w.cli(t, "", "verify", "-")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, "no key on stdin")
}

// Held: a description of 500 four-byte characters (2,000 bytes) is kept
// whole on every database, in the record and in the audit's
// after_description; 501 is refused and nothing is written.
func TestAttackDescriptionBoundary(t *testing.T) {
	for name, open := range backends(t) {
		t.Run(name, func(t *testing.T) {
			w := open(t)
			ctx := context.Background()
			full := strings.Repeat("😀", 500)
			k, _, err := w.app.Create(ctx, keys.CreateRequest{Owner: "alice", Name: "emoji", Description: full,
				Permissions: map[string][]string{"files": {"read"}}})
			require.NoError(t, err)
			assert.Equal(t, full, w.get(t, k.ID).Description)
			events, err := sqlstore.NewAuditor(w.store).Events(ctx, "alice", 1)
			require.NoError(t, err)
			require.Len(t, events, 1)
			assert.Equal(t, full, events[0].AfterDescription)
			_, _, err = w.app.Create(ctx, keys.CreateRequest{Owner: "alice", Name: "too long", Description: full + "😀",
				Permissions: map[string][]string{"files": {"read"}}})
			var fe *keys.FieldError
			require.ErrorAs(t, err, &fe)
			assert.Equal(t, "description", fe.Field)
			list, err := ownerKeys(ctx, w.store, "alice")
			require.NoError(t, err)
			assert.Len(t, list, 1, "nothing written for the refusal")
		})
	}
}
