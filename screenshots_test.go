package keycap_test

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestREADMEScreenshots: the README shows exactly the screenshots the
// browser tests write (b.Publish, with KEYCAP_UPDATE_SCREENSHOTS=1), each
// file is there, and none is left over from a test that no longer writes
// it: the pictures in the README are the ones the tests regenerate.
func TestREADMEScreenshots(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	var shown []string
	for _, m := range regexp.MustCompile(`docs/screenshots/([a-z0-9-]+\.png)`).FindAllStringSubmatch(string(readme), -1) {
		shown = append(shown, m[1])
	}
	var published []string
	publish := regexp.MustCompile(`b\.Publish\(filepath\.Join\("\.\.", "docs", "screenshots"\), ((?:"[a-z0-9-]+"(?:, )?)+)\)`)
	for _, file := range []string{"ui/browser_test.go", "example/browser_test.go", "example/browser_notices_test.go"} {
		src, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range publish.FindAllStringSubmatch(string(src), -1) {
			for _, name := range strings.Split(m[1], ", ") {
				published = append(published, strings.Trim(name, `"`)+".png")
			}
		}
	}
	if len(published) < 10 || len(shown) < 10 {
		t.Fatalf("found %d screenshots in the README and %d published by tests: the patterns no longer match", len(shown), len(published))
	}
	files, err := filepath.Glob(filepath.Join("docs", "screenshots", "*.png"))
	if err != nil {
		t.Fatal(err)
	}
	for i := range files {
		files[i] = filepath.Base(files[i])
	}
	for _, list := range [][]string{shown, published, files} {
		slices.Sort(list)
	}
	shown, published = slices.Compact(shown), slices.Compact(published)
	if !slices.Equal(shown, published) {
		t.Errorf("the README shows %v, the browser tests write %v", shown, published)
	}
	if !slices.Equal(files, published) {
		t.Errorf("docs/screenshots holds %v, the browser tests write %v", files, published)
	}
}
