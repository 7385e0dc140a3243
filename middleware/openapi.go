package middleware

import (
	"bytes"
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
// "/api-keys", naming the forward-auth headers methodHeader and uriHeader
// ("" keeps the defaults).
func openAPIFor(path, methodHeader, uriHeader string) []byte {
	doc := openAPIDocument
	for _, h := range []struct{ from, to string }{{"X-Forwarded-Method", methodHeader}, {"X-Forwarded-Uri", uriHeader}} {
		if h.to != "" && h.to != h.from {
			doc = bytes.ReplaceAll(doc, []byte(`"name": "`+h.from+`"`), []byte(`"name": "`+h.to+`"`))
		}
	}
	if path == "/api-keys" {
		return doc
	}
	var paths map[string]json.RawMessage
	var object map[string]json.RawMessage
	if json.Unmarshal(doc, &object) != nil || json.Unmarshal(object["paths"], &paths) != nil {
		panic("middleware: the embedded openapi.json is not a JSON object with paths")
	}
	moved := make(map[string]json.RawMessage, len(paths))
	for p, item := range paths {
		moved[path+strings.TrimPrefix(p, "/api-keys")] = item
	}
	object["paths"], _ = json.Marshal(moved)
	out, _ := json.MarshalIndent(object, "", "  ")
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
