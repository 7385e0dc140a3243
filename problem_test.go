package keycap_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap"
	"github.com/keycaphq/keycap/keys"
)

func TestPrefersProblem(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		accept []string
		want   bool
	}{
		{nil, false},
		{[]string{"*/*"}, false},
		{[]string{"application/json"}, false},
		{[]string{"application/problem+json"}, true},
		{[]string{"application/problem+json, application/json"}, false}, // a tie: keycap's JSON
		{[]string{"application/json;q=0.5, application/problem+json"}, true},
		{[]string{"application/problem+json;q=0.4, application/json;q=0.5"}, false},
		{[]string{"application/problem+json, */*;q=0.1"}, true},
		{[]string{"application/*;q=0.2, application/problem+json"}, true},
		{[]string{"application/json", "application/problem+json;q=1"}, false},
		{[]string{"text/html"}, false},
		{[]string{"application/problem+json;q=0"}, false},
		{[]string{"application/problem+json;q=nonsense"}, false},
		{[]string{"application/problem+json; charset=utf-8"}, true},
		{[]string{",,;;"}, false},
	} {
		h := http.Header{}
		for _, a := range tt.accept {
			h.Add("Accept", a)
		}
		assert.Equal(t, tt.want, keycap.PrefersProblem(h), "Accept: %q", tt.accept)
	}
}

// TestWriteProblem: the RFC 9457 members, keycap's code and details beside
// them, the same status and headers as keycap's JSON.
func TestWriteProblem(t *testing.T) {
	t.Parallel()
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Accept", "application/problem+json")
	rec := httptest.NewRecorder()
	keycap.WriteError(rec, r, &keycap.Error{Code: keycap.CodeInsufficientPermissions, Message: "needs files:delete",
		Details: &keycap.InsufficientDetails{Missing: []string{"files:delete"}}})
	resp := rec.Result()
	body, _ := io.ReadAll(resp.Body)
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
	assert.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"))
	assert.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
	assert.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"))
	assert.JSONEq(t, `{"type": "https://github.com/keycaphq/keycap#INSUFFICIENT_PERMISSIONS", "title": "Insufficient permissions",
		"status": 403, "detail": "needs files:delete", "code": "INSUFFICIENT_PERMISSIONS", "details": {"missing": ["files:delete"]}}`, string(body))

	// A 401 gets its challenge; no details is {}; an internal cause is never sent.
	rec = httptest.NewRecorder()
	keycap.WriteError(rec, r, keys.ErrInvalid)
	assert.Equal(t, `Bearer realm="api", error="invalid_token"`, rec.Result().Header.Get("WWW-Authenticate"))
	var p map[string]any
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &p))
	assert.Equal(t, map[string]any{}, p["details"])
	assert.EqualValues(t, 401, p["status"])
	rec = httptest.NewRecorder()
	keycap.WriteProblem(rec, &keycap.Error{Code: keycap.CodeInternal, Err: io.ErrUnexpectedEOF})
	assert.NotContains(t, rec.Body.String(), "unexpected EOF")
	assert.Contains(t, rec.Body.String(), `"detail":"Internal Server Error"`)

	// Every code: the same status either way.
	for _, code := range keycap.Codes() {
		rec := httptest.NewRecorder()
		keycap.WriteProblem(rec, &keycap.Error{Code: code})
		assert.Equal(t, code.Status(), rec.Code, code)
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &p))
		assert.Equal(t, string(code), p["code"])
		assert.Equal(t, keycap.ProblemType+string(code), p["type"])
	}
}
