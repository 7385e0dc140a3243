package audit_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/audit"
	"github.com/keycaphq/keycap/policy"
)

// TestSlogRecordsQuotaChanges: an Updated event that lowered, removed or
// set a key's quota says so in the Slog auditor's line, before and after
// (#16 attack: the line showed only the permissions, unchanged, so a
// quota change left no trace in the log).
func TestSlogRecordsQuotaChanges(t *testing.T) {
	refilling := &audit.Quota{Remaining: 40, RefillAmount: 100, RefillInterval: time.Hour}
	for _, tt := range []struct {
		name          string
		before, after *audit.Quota
	}{
		{"lowered", refilling, &audit.Quota{Remaining: 5, RefillAmount: 100, RefillInterval: time.Hour}},
		{"removed", refilling, nil},
		{"set", nil, &audit.Quota{Remaining: 7}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			audit.Slog(slog.New(slog.NewJSONHandler(&buf, nil))).Audit(context.Background(),
				audit.Event{Type: audit.Updated, Actor: audit.User("alice"), OwnerID: "alice", KeyID: "k1", BeforeQuota: tt.before, AfterQuota: tt.after})
			var line map[string]any
			require.NoError(t, json.Unmarshal(buf.Bytes(), &line))
			for name, q := range map[string]*audit.Quota{"before_quota": tt.before, "after_quota": tt.after} {
				if q == nil {
					assert.NotContains(t, line, name, "no quota on that side")
					continue
				}
				want := map[string]any{"remaining": float64(q.Remaining)}
				if q.RefillAmount > 0 {
					want["refill_amount"] = float64(q.RefillAmount)
					want["refill_interval_seconds"] = q.RefillInterval.Seconds()
				}
				assert.Equal(t, want, line[name], name)
			}
		})
	}
}

// TestSlogRecordsEveryChange: an update's restriction to records and its
// description are logged like its permissions and quota; a description that
// did not change is not.
func TestSlogRecordsEveryChange(t *testing.T) {
	var buf bytes.Buffer
	log := audit.Slog(slog.New(slog.NewJSONHandler(&buf, nil)))
	log.Audit(context.Background(), audit.Event{Type: audit.Updated, Actor: audit.User("alice"), OwnerID: "alice", KeyID: "k1",
		BeforeResources: policy.Resources{"projects": {"1", "2"}}, AfterResources: policy.Resources{"projects": {"2"}},
		BeforeDescription: "old words", AfterDescription: "new words"})
	var line map[string]any
	require.NoError(t, json.Unmarshal(buf.Bytes(), &line))
	assert.Equal(t, map[string]any{"projects": []any{"1", "2"}}, line["before_resources"])
	assert.Equal(t, map[string]any{"projects": []any{"2"}}, line["after_resources"])
	assert.Equal(t, "old words", line["before_description"])
	assert.Equal(t, "new words", line["after_description"])

	buf.Reset()
	log.Audit(context.Background(), audit.Event{Type: audit.Updated, Actor: audit.User("alice"), OwnerID: "alice", KeyID: "k1"})
	line = nil
	require.NoError(t, json.Unmarshal(buf.Bytes(), &line))
	for _, name := range []string{"before_resources", "after_resources", "before_description", "after_description"} {
		assert.NotContains(t, line, name)
	}
}
