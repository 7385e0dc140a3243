package middleware_test

import (
	"os"
	"testing"

	"github.com/keycaphq/keycap/internal/openapicheck"
)

// TestMain checks every exchange of this package's tests with the keys
// handler against the OpenAPI document it serves: each answer must match
// it, and each request it calls invalid must have been refused.
func TestMain(m *testing.M) {
	doc, err := os.ReadFile("openapi.json")
	if err != nil {
		panic(err)
	}
	openapicheck.Main(m, doc, "/api-keys")
}
