package keycap_test

import (
	"encoding/json"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	keycaptest "github.com/keycaphq/keycap/httptest_helpers"
)

// TestREADMEKeysAPIFields: the README names every field of create's body,
// of /grantable's answer (and of each template in it) and of a key's
// record, as the OpenAPI document the handler is checked against
// (middleware's TestMain validates every exchange of its tests with it)
// has them, and as go doc KeysHandler lists them; and a real /grantable
// and create answer hold exactly those fields.
func TestREADMEKeysAPIFields(t *testing.T) {
	readme := read(t, "README.md")
	schemas := openAPISchemas(t)
	handlerDoc := read(t, "middleware/keys_router.go")

	createTable := tableNames(t, readme, "Creating a key:")
	grantableTable := tableNames(t, readme, "`GET /api-keys/grantable` tells a page what to offer:")
	record := quoted(between(t, readme, "A record is `{", "and never holds"))
	templates := quoted(between(t, readme, "| `templates` |", "\n"))
	createRow := quoted(between(t, readme, "| `POST /api-keys` |", "| `201`")) // the body, not the answer
	grantableRow := quoted(between(t, readme, "| `GET /api-keys/grantable` |", "\n"))
	docCreate := quoted(between(t, handlerDoc, "//\tPOST   /              create", "→ 201"))
	docGrantable := quoted(between(t, handlerDoc, "//\tGET    /grantable", "//\tGET    /activity"))

	for _, c := range []struct {
		what   string
		got    []string
		schema string
	}{
		{"README: the table of create's fields", createTable, "CreateKey"},
		{"README: create's row in the routes table", createRow, "CreateKey"},
		{"go doc KeysHandler: create", docCreate, "CreateKey"},
		{"README: the table of /grantable's fields", grantableTable, "Grantable"},
		{"README: /grantable's row in the routes table", grantableRow, "Grantable"},
		{"go doc KeysHandler: /grantable", docGrantable, "Grantable"},
		{"README: a template in /grantable", templates, "Template"},
		{"README: a key's record", record, "Key"},
	} {
		assert.Equal(t, schemas[c.schema], sorted(c.got), "%s, against the OpenAPI schema %s", c.what, c.schema)
	}

	// The handler's own answers.
	app := keycaptest.NewApp(t)
	alice := app.LogIn(t, "alice")
	resp := alice.Get(t, "/api-keys/grantable")
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", resp.Body)
	var grantable map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(resp.Body, &grantable))
	assert.Equal(t, sorted(grantableTable), keysOf(grantable), "what /grantable answers is what the README lists")

	resp = alice.DoJSON(t, http.MethodPost, "/api-keys", map[string]any{
		"name": "every field", "permissions": grantable["permissions"], "expires_in": 3600,
		"remaining": 10, "refill_amount": 10, "refill_interval_seconds": 60, "allowed_ips": []string{"192.0.2.0/24"},
	})
	require.Equal(t, http.StatusCreated, resp.StatusCode, "%s", resp.Body)
	var created map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(resp.Body, &created))
	for _, name := range keysOf(created) {
		assert.True(t, name == "key" || slices.Contains(record, name), "create answers %q, which the README's record does not list", name)
	}
	assert.Contains(t, created, "key", "create answers the key")
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return string(b)
}

// between returns the text of s after the first start, up to the first
// end after it.
func between(t *testing.T, s, start, end string) string {
	t.Helper()
	i := strings.Index(s, start)
	require.GreaterOrEqual(t, i, 0, "%q not found", start)
	s = s[i+len(start):]
	j := strings.Index(s, end)
	require.GreaterOrEqual(t, j, 0, "%q not found after %q", end, start)
	return s[:j]
}

var quotedName = regexp.MustCompile(`"([a-z_]+)"`)

// quoted returns the "names" in s, each once.
func quoted(s string) []string {
	var out []string
	for _, m := range quotedName.FindAllStringSubmatch(s, -1) {
		if !slices.Contains(out, m[1]) {
			out = append(out, m[1])
		}
	}
	return out
}

var backticked = regexp.MustCompile("`([a-z_]+)`")

// tableNames returns the `names` of the first column of the Markdown table
// that follows heading in s.
func tableNames(t *testing.T, s, heading string) []string {
	t.Helper()
	var out []string
	i := strings.Index(s, heading)
	require.GreaterOrEqual(t, i, 0, "%q not found", heading)
	rows := strings.Split(strings.TrimLeft(s[i+len(heading):], "\n"), "\n")
	for _, row := range rows {
		if !strings.HasPrefix(row, "|") {
			break
		}
		cells := strings.Split(row, "|")
		for _, m := range backticked.FindAllStringSubmatch(cells[1], -1) {
			out = append(out, m[1])
		}
	}
	require.NotEmpty(t, out, "no table after %q", heading)
	return out
}

// openAPISchemas returns the property names of each object schema of the
// keys handler's OpenAPI document, sorted.
func openAPISchemas(t *testing.T) map[string][]string {
	var doc struct {
		Components struct {
			Schemas map[string]struct {
				Properties map[string]json.RawMessage `json:"properties"`
			} `json:"schemas"`
		} `json:"components"`
	}
	require.NoError(t, json.Unmarshal([]byte(read(t, "middleware/openapi.json")), &doc))
	out := map[string][]string{}
	for name, s := range doc.Components.Schemas {
		out[name] = keysOf(s.Properties)
	}
	return out
}

func keysOf[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func sorted(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return slices.Compact(out)
}
