package middleware

import (
	_ "embed"
	"encoding/json"
	"net/http"
	"strings"
)

// openAPIDocument describes the keys handler mounted at "/api-keys".
//
//go:embed openapi.json
var openAPIDocument []byte

// OpenAPI returns the OpenAPI 3.1 document of the keys handler at
// Options.Path (every route, body, answer, error code and detail shape,
// introspection, revocation and forward auth included), as served at GET
// {Path}/openapi.json. The caller may keep and change the slice.
func (kc *Keycap) OpenAPI() []byte { return append([]byte(nil), kc.openapi...) }

// openAPIFor returns the document with its paths under path instead of
// "/api-keys".
func openAPIFor(path string) []byte {
	if path == "/api-keys" {
		return openAPIDocument
	}
	var doc map[string]json.RawMessage
	var paths map[string]json.RawMessage
	if json.Unmarshal(openAPIDocument, &doc) != nil || json.Unmarshal(doc["paths"], &paths) != nil {
		panic("middleware: the embedded openapi.json is not a JSON object with paths")
	}
	moved := make(map[string]json.RawMessage, len(paths))
	for p, item := range paths {
		moved[path+strings.TrimPrefix(p, "/api-keys")] = item
	}
	doc["paths"], _ = json.Marshal(moved)
	out, _ := json.MarshalIndent(doc, "", "  ")
	return out
}

// serveOpenAPI serves GET {Path}/openapi.json, to anyone: it describes the
// API, and holds nothing about a user.
func (kc *Keycap) serveOpenAPI(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(kc.openapi)
}
