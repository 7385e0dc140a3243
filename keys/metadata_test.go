package keys_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/policy"
)

// Metadata is a JSON object within bounds; anything else is refused with
// the limit it breaks, and nothing is written.
func TestMetadataLimits(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	deep := `{"a":{"b":{"c":{"d":1}}}}`      // 4 levels
	tooDeep := `{"a":{"b":{"c":{"d":[1]}}}}` // 5
	many := make(map[string]int, 65)
	for i := range 65 {
		many[strings.Repeat("k", i+1)] = i
	}
	manyJSON, _ := json.Marshal(many)
	big, _ := json.Marshal(map[string]string{"s": strings.Repeat("x", 4090)})
	for _, tt := range []struct {
		name, metadata string
		reason         string // a part of the refusal's reason; "" for accepted
	}{
		{"an object", `{"environment": "staging", "customer": "cus_42"}`, ""},
		{"4 levels", deep, ""},
		{"an array", `["a"]`, "JSON object"},
		{"a string", `"staging"`, "JSON object"},
		{"null", `null`, "JSON object"},
		{"a number", `17`, "JSON object"},
		{"not JSON", `{"a":}`, "one JSON object"},
		{"two objects", `{"a":1} {"b":2}`, "one JSON object"},
		{"5 levels", tooDeep, "4 levels"},
		{"65 keys", string(manyJSON), "64 keys"},
		{"over 4 KiB", string(big), "4096 bytes"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			writes := f.store.writes()
			k, _, err := f.m.Create(ctx, keys.CreateRequest{Owner: "alice", Name: "m", Permissions: policy.MustParse("files:read"),
				Metadata: json.RawMessage(tt.metadata)})
			if tt.reason == "" {
				require.NoError(t, err)
				assert.JSONEq(t, tt.metadata, string(k.Metadata))
				return
			}
			var field *keys.FieldError
			require.ErrorAs(t, err, &field)
			assert.Equal(t, "metadata", field.Field)
			assert.Contains(t, field.Reason, tt.reason)
			assert.Equal(t, writes, f.store.writes(), "nothing written")
		})
	}
}

// Metadata is stored compact with members sorted, changed atomically with
// other fields, removed by an empty object, and never touches what a key
// may do.
func TestMetadataChange(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	k, token, err := f.m.Create(ctx, keys.CreateRequest{Owner: "alice", Name: "m", Permissions: policy.MustParse("files:read"),
		Metadata: json.RawMessage(`{ "z": 1, "a": {"permissions": "files:delete"} }`)})
	require.NoError(t, err)
	assert.Equal(t, `{"a":{"permissions":"files:delete"},"z":1}`, string(k.Metadata))
	v, err := f.m.Verify(ctx, token, "")
	require.NoError(t, err)
	assert.Equal(t, policy.MustParse("files:read"), v.Permissions, "metadata is never a permission")
	stored, err := f.m.Get(ctx, keys.Ref{Owner: v.OwnerID, ID: v.ID}) // a Verified holds no metadata
	require.NoError(t, err)
	assert.Equal(t, k.Metadata, stored.Metadata)

	after, err := f.m.Update(ctx, keys.UpdateRequest{Ref: keys.Ref{Owner: "alice", ID: k.ID}, Name: ptr("n"), Metadata: ptr(json.RawMessage(`{"env":"prod"}`))})
	require.NoError(t, err)
	assert.Equal(t, "n", after.Name)
	assert.Equal(t, `{"env":"prod"}`, string(after.Metadata))
	assert.Equal(t, k.Version+1, after.Version, "one write")

	same, err := f.m.Update(ctx, keys.UpdateRequest{Ref: keys.Ref{Owner: "alice", ID: k.ID}, Metadata: ptr(json.RawMessage(`{ "env" : "prod" }`))})
	require.NoError(t, err)
	assert.Equal(t, after.Version, same.Version, "the same metadata writes nothing")

	cleared, err := f.m.Update(ctx, keys.UpdateRequest{Ref: keys.Ref{Owner: "alice", ID: k.ID}, Metadata: ptr(json.RawMessage(`{}`))})
	require.NoError(t, err)
	assert.Nil(t, cleared.Metadata)

	_, err = f.m.Update(ctx, keys.UpdateRequest{Ref: keys.Ref{Owner: "alice", ID: k.ID}, Metadata: ptr(json.RawMessage(`[1]`))})
	var field *keys.FieldError
	require.ErrorAs(t, err, &field)
}
