package openapicheck_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/internal/openapicheck"
)

func TestLoadsKeycapsDocument(t *testing.T) {
	doc, err := os.ReadFile("../../middleware/openapi.json")
	require.NoError(t, err)
	c, err := openapicheck.New(doc, "/api-keys")
	require.NoError(t, err)
	assert.Contains(t, c.Operations(), "POST /api-keys/introspect")
	assert.Contains(t, c.Operations(), "PATCH /api-keys/{id}")

	_, err = openapicheck.New([]byte(strings.Replace(string(doc), `"openapi": "3.1.0"`, `"openapi": "3.0.3"`, 1)), "/api-keys")
	assert.Error(t, err, "a 3.0 document is not what keycap serves")
}

// tiny describes POST /things {"name": string ≤ 5} → 201 {"id": integer}.
const tiny = `{"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "paths": {"/things": {"post": {
  "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "properties": {"name": {"type": "string", "maxLength": 5}}, "required": ["name"]}}}},
  "responses": {"201": {"description": "made", "content": {"application/json": {"schema": {"type": "object", "properties": {"id": {"type": "integer"}}, "required": ["id"]}}}},
    "400": {"description": "bad"}}}}}}`

// TestChecks: a good exchange passes; an answer off the document, an
// undocumented status, and an invalid request that was accepted fail;
// other paths and skipped requests are not checked.
func TestChecks(t *testing.T) {
	for _, tt := range []struct {
		name, body, answer string
		status             int
		fails              bool
	}{
		{"good", `{"name": "a"}`, `{"id": 1}`, 201, false},
		{"refused bad request", `{"name": "toolong"}`, ``, 400, false},
		{"answer off the document", `{"name": "a"}`, `{"id": "one"}`, 201, true},
		{"undocumented status", `{"name": "a"}`, `{"id": 1}`, 200, true},
		{"invalid request accepted", `{"name": "toolong"}`, `{"id": 1}`, 201, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, err := openapicheck.New([]byte(tiny), "/things")
			require.NoError(t, err)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tt.status)
				_, _ = w.Write([]byte(tt.answer))
			}))
			defer srv.Close()
			client := &http.Client{Transport: c.Transport(nil)}
			resp, err := client.Post(srv.URL+"/things", "application/json", strings.NewReader(tt.body))
			require.NoError(t, err)
			resp.Body.Close()
			failures, summary := c.Report()
			assert.Equal(t, tt.fails, len(failures) > 0, "%v", failures)
			assert.Contains(t, summary, "1 exchanges checked")

			resp, err = client.Get(srv.URL + "/elsewhere")
			require.NoError(t, err)
			resp.Body.Close()
			req, _ := http.NewRequest("POST", srv.URL+"/things", strings.NewReader(`{"name": "toolong"}`))
			req.Header.Set(openapicheck.SkipHeader, "test")
			resp, err = client.Do(req)
			require.NoError(t, err)
			resp.Body.Close()
			_, summary = c.Report()
			assert.Contains(t, summary, "1 exchanges checked", "neither another path nor a skipped request is checked")
		})
	}
}
