package keycap_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// globalLog matches a call that logs through the process-wide logger
// rather than the *slog.Logger an app configured: slog.Info and its
// siblings, slog.Default() used to log, and package log's printers.
var globalLog = regexp.MustCompile(`\bslog\.(Debug|Info|Warn|Error|Log|LogAttrs)(Context)?\(|\bslog\.Default\(\)|\blog\.(Print|Printf|Println|Fatal|Fatalf|Fatalln|Panic|Panicf|Panicln)\(`)

// TestLoggerUsedEverywhere: the library's code (not tests, internal, the
// example or commands) logs only through a configured *slog.Logger.
// slog.Default() appears only as the default of a Logger option
// (cmp.Or(o.Logger, slog.Default())) and in the one place no option can
// reach, which middleware.Options.Logger documents: a Require with no
// Authenticate in front.
func TestLoggerUsedEverywhere(t *testing.T) {
	allowed := map[string]string{
		"middleware/records.go": `slog.Default().Error("keycap: "+name+" needs Keycap.Authenticate in front of it"`,
	}
	var found []string
	err := filepath.WalkDir(".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != "." && (strings.HasPrefix(d.Name(), ".") || libraryOnly(p) || p == "cmd" || p == "scripts" || d.Name() == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for i, line := range strings.Split(string(src), "\n") {
			code, _, _ := strings.Cut(line, "//")
			if !globalLog.MatchString(code) {
				continue
			}
			if strings.Contains(code, "cmp.Or(") && strings.Contains(code, "slog.Default()") && !strings.Contains(code, "slog.Default().") {
				continue // the default of a Logger option
			}
			if a, ok := allowed[filepath.ToSlash(p)]; ok && strings.Contains(code, a) {
				continue
			}
			found = append(found, p+":"+strconv.Itoa(i+1)+": "+strings.TrimSpace(line))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(found) > 0 {
		t.Errorf("%d lines log through the global logger; use the configured *slog.Logger:\n%s", len(found), strings.Join(found, "\n"))
	}
}
