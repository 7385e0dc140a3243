package middleware_test

import (
	"encoding/json"
	"net/http"
	"os"
	"sort"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap"
	"github.com/keycaphq/keycap/internal/openapicheck"
)

// TestOpenAPIServed: GET /api-keys/openapi.json serves the embedded
// document, to anyone, and it is a valid OpenAPI 3.1 document.
func TestOpenAPIServed(t *testing.T) {
	f := newFixture(t)
	resp := f.anon.Get(t, "/api-keys/openapi.json")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	file, err := os.ReadFile("openapi.json")
	require.NoError(t, err)
	assert.Equal(t, file, resp.Body)
	assert.Equal(t, file, f.srv.Keycap.OpenAPI())
	_, err = openapicheck.New(resp.Body, "/api-keys")
	require.NoError(t, err)
	keycapHead := f.anon.Get(t, "/api-keys/openapi.json")
	assert.Equal(t, http.StatusOK, keycapHead.StatusCode)
	resp = f.anon.DoJSON(t, http.MethodPost, "/api-keys/openapi.json", nil)
	keycaptestRequire405(t, resp.StatusCode, resp.Header.Get("Allow"))
}

func keycaptestRequire405(t *testing.T, status int, allow string) {
	t.Helper()
	assert.Equal(t, http.StatusMethodNotAllowed, status)
	assert.Equal(t, "GET, HEAD", allow)
}

// TestOpenAPIErrorCodes: the document's error answers list exactly the
// codes of keycap.Codes, each under its status, in both formats.
func TestOpenAPIErrorCodes(t *testing.T) {
	file, err := os.ReadFile("openapi.json")
	require.NoError(t, err)
	var doc struct {
		Components struct {
			Schemas map[string]struct {
				OneOf []struct {
					Properties struct {
						Code struct {
							Const string `json:"const"`
						} `json:"code"`
					} `json:"properties"`
				} `json:"oneOf"`
			} `json:"schemas"`
		} `json:"components"`
	}
	require.NoError(t, json.Unmarshal(file, &doc))
	for _, format := range []string{"Error", "Problem"} {
		var documented []string
		for _, code := range keycap.Codes() {
			schema, ok := doc.Components.Schemas[format+strconv.Itoa(code.Status())]
			require.True(t, ok, "%s%d", format, code.Status())
			found := false
			for _, v := range schema.OneOf {
				found = found || v.Properties.Code.Const == string(code)
			}
			assert.True(t, found, "%s is documented under %s%d", code, format, code.Status())
		}
		for name, schema := range doc.Components.Schemas {
			if len(name) == len(format)+3 && name[:len(format)] == format {
				for _, v := range schema.OneOf {
					documented = append(documented, v.Properties.Code.Const)
				}
			}
		}
		sort.Strings(documented)
		var all []string
		for _, c := range keycap.Codes() {
			all = append(all, string(c))
		}
		assert.Equal(t, all, documented, "no code documented that keycap does not define")
	}
}
