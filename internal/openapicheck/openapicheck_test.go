package openapicheck_test

import (
	"os"
	"testing"

	"github.com/keycaphq/keycap/internal/openapicheck"
)

func TestLoadsKeycapsDocument(t *testing.T) {
	doc, err := os.ReadFile("../../middleware/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	c, err := openapicheck.New(doc, "/api-keys")
	if err != nil {
		t.Fatal(err)
	}
	t.Log(c.Operations())
}
