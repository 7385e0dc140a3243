package audit_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/audit"
	keycaptest "github.com/keycaphq/keycap/httptest_helpers"
	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/middleware"
	"github.com/keycaphq/keycap/policy"
)

func TestSlog(t *testing.T) {
	var buf bytes.Buffer
	a := audit.Slog(slog.New(slog.NewJSONHandler(&buf, nil)))
	a.Audit(context.Background(), audit.Event{Type: audit.Refused, Actor: audit.User("alice"), OwnerID: "alice", After: policy.MustParse("files:delete"), Reason: "exceeds"})
	var line map[string]any
	require.NoError(t, json.Unmarshal(buf.Bytes(), &line))
	assert.Equal(t, "WARN", line["level"])
	assert.Equal(t, "refused", line["event"])
	assert.Equal(t, "files:delete", line["after"])
	assert.NotContains(t, line, "key_id", "empty fields are left out")
}

func TestMemoryKeepsLatestPerOwner(t *testing.T) {
	m := audit.NewMemory(3)
	for i, typ := range []audit.Type{audit.Created, audit.Updated, audit.Rotated, audit.Revoked} {
		m.Audit(context.Background(), audit.Event{Type: typ, OwnerID: "alice", KeyID: strings.Repeat("k", i+1)})
	}
	m.Audit(context.Background(), audit.Event{Type: audit.VerificationDenied}) // no owner: not kept
	events, err := m.Events(context.Background(), "alice", 10)
	require.NoError(t, err)
	require.Len(t, events, 3)
	assert.Equal(t, audit.Revoked, events[0].Type, "newest first")
	assert.Equal(t, audit.Updated, events[2].Type, "the oldest was dropped")
	events, _ = m.Events(context.Background(), "bob", 10)
	assert.Empty(t, events)
}

func TestTee(t *testing.T) {
	m1, m2 := audit.NewMemory(0), audit.NewMemory(0)
	a := audit.Tee(nil, m1, m2)
	a.Audit(context.Background(), audit.Event{Type: audit.Created, OwnerID: "u"})
	for _, m := range []*audit.Memory{m1, m2} {
		events, _ := m.Events(context.Background(), "u", 5)
		assert.Len(t, events, 1, "every auditor gets the event")
	}
}

// TestActivityOverHTTP: every change and refusal made through the handler
// is audited and listed at GET /api-keys/activity, never with a key.
func TestActivityOverHTTP(t *testing.T) {
	log := audit.NewMemory(0)
	srv := keycaptest.NewApp(t, keycaptest.WithManager(func(c *keys.Config) { c.Auditor = log }),
		keycaptest.WithMiddleware(func(o *middleware.Options) { o.Activity = log }))
	alice := srv.LogIn(t, "alice")
	k := alice.CreateKey(t, "/api-keys", "ci", policy.MustParse("files:read"))
	resp := alice.DoJSON(t, "POST", "/api-keys", map[string]any{"name": "x", "permissions": map[string][]string{"billing": {"read"}}})
	require.Equal(t, 403, resp.StatusCode)
	require.Equal(t, 200, alice.DoJSON(t, "PATCH", "/api-keys/"+k.ID, map[string]any{"name": "ci-2"}).StatusCode)
	resp = alice.DoJSON(t, "POST", "/api-keys/"+k.ID+"/rotate", map[string]any{})
	require.Equal(t, 200, resp.StatusCode)
	var rotated keycaptest.CreatedKey
	resp.JSON(t, &rotated)
	require.Equal(t, 200, alice.DoJSON(t, "DELETE", "/api-keys/"+k.ID, map[string]any{"reason": "leaked"}).StatusCode)
	require.Equal(t, 401, srv.Anonymous(t).WithKey(rotated.Key).DoJSON(t, "GET", "/whoami", nil).StatusCode)

	resp = alice.DoJSON(t, "GET", "/api-keys/activity", nil)
	require.Equal(t, 200, resp.StatusCode, string(resp.Body))
	var body struct {
		Events []struct {
			Type   string              `json:"type"`
			Actor  string              `json:"actor"`
			KeyID  string              `json:"key_id"`
			After  map[string][]string `json:"after"`
			Reason string              `json:"reason"`
		} `json:"events"`
	}
	resp.JSON(t, &body)
	var types []string
	for _, e := range body.Events {
		types = append(types, e.Type)
	}
	assert.Equal(t, []string{"verification_denied", "revoked", "rotated", "updated", "refused", "created"}, types)
	assert.Equal(t, map[string][]string{"billing": {"read"}}, body.Events[4].After, "the refusal names what was beyond the cap")
	assert.Equal(t, "leaked", body.Events[1].Reason)
	assert.NotContains(t, string(resp.Body), k.Key, "events never hold the key")
	assert.NotContains(t, string(resp.Body), rotated.Key)

	// Bob sees none of it.
	resp = srv.LogIn(t, "bob").DoJSON(t, "GET", "/api-keys/activity", nil)
	assert.JSONEq(t, `{"events":[]}`, string(resp.Body))
}
