package main

import (
	"os"
	"testing"

	"github.com/keycaphq/keycap/internal/openapicheck"
)

// TestMain checks every exchange of the example's tests with /api-keys
// (in process, and with the built binary) against keycap's OpenAPI
// document: each answer must match it, and each request it calls invalid
// must have been refused.
func TestMain(m *testing.M) {
	doc, err := os.ReadFile("../middleware/openapi.json")
	if err != nil {
		panic(err)
	}
	openapicheck.Main(m, doc, "/api-keys")
}
