package keycap_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/keycaphq/keycap/internal/doccheck"
)

// givens are the values Go blocks in the Markdown may use without declaring
// them, because the prose says the app has them. A block gets, as function
// parameters, exactly the givens it uses; a name that is neither declared
// in the block nor listed here fails the test. Keep the list short: a block
// that can declare what it uses should.
var givens = []doccheck.Given{
	// Well-known names.
	{Name: "ctx", Type: "context.Context", From: "the request's context, or main's"},
	{Name: "db", Type: "*sql.DB", From: "the app's database, opened with its driver"},
	{Name: "rdb", Type: "*redis.Client", From: "the app's go-redis client"},
	{Name: "logger", Type: "*slog.Logger", From: "the app's logger"},
	{Name: "mux", Type: "*http.ServeMux", From: "the app's routes"},
	{Name: "w", Type: "http.ResponseWriter", From: "inside a handler"},
	{Name: "r", Type: "*http.Request", From: "inside a handler"},
	{Name: "t", Type: "*testing.T", From: "inside a test"},
	// What the app brings to keycap.
	{Name: "secret", Type: "[]byte", From: "the server secret: at least 32 random bytes, kept out of the database"},
	{Name: "lookupUser", Type: "func(ctx context.Context, id string) (policy.Subject, error)", From: "the app's user lookup"},
	{Name: "users", Type: "interface{ Subject(ctx context.Context, id string) (policy.Subject, error) }",
		From: "the app's users, as keycap asks for them (written out: the interface's home may move)"},
	{Name: "roles", Type: "map[string]policy.Permissions", From: "the app's roles"},
	{Name: "files", Type: "http.Handler", From: "an app handler"},
	{Name: "deleteFile", Type: "http.Handler", From: "an app handler"},
	{Name: "createProject", Type: "http.HandlerFunc", From: "an app handler"},
	// What the Wiring section builds, used by later sections.
	{Name: "pol", Type: "*policy.Policy", From: "policy.New in Wiring"},
	{Name: "store", Type: "*sqlstore.Store", From: "sqlstore.New in Wiring"},
	{Name: "kc", Type: "*middleware.Keycap", From: "middleware.New in Wiring"},
}

// otherImports are the packages, besides this module's, that blocks may use
// without importing them: package name → import path.
var otherImports = map[string]string{
	"context": "context", "errors": "errors", "fmt": "fmt", "io": "io", "json": "encoding/json",
	"log": "log", "os": "os", "rand": "crypto/rand", "slog": "log/slog", "sql": "database/sql",
	"strings": "strings", "sync": "sync", "testing": "testing", "time": "time",
	"http": "net/http", "httptest": "net/http/httptest",
	"scs":           "github.com/alexedwards/scs/v2",
	"postgresstore": "github.com/alexedwards/scs/postgresstore",
	"redisstore":    "github.com/alexedwards/scs/redisstore",
	"chi":           "github.com/go-chi/chi/v5",
	"redis":         "github.com/redis/go-redis/v9",
}

// blocksDir is where the blocks' packages are compiled: a directory of this
// module that exists only in go build's overlay.
const blocksDir = "internal/doccheck/zz"

// TestREADMEGoBlocks compiles every ```go block of the repository's
// Markdown files (CHANGELOG.md aside), so that the README cannot drift from
// the code. A block may opt out with <!-- not-go-checked: reason --> on the
// line before its fence.
func TestREADMEGoBlocks(t *testing.T) {
	root, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	env, err := doccheck.NewEnv(readmeImports(t, root), givens)
	if err != nil {
		t.Fatalf("givens or imports table: %v", err)
	}
	var problems []string
	var snippets []*doccheck.Snippet
	files, blocks, optedOut := markdownFiles(t, root), 0, 0
	for _, file := range files {
		src, err := os.ReadFile(filepath.Join(root, file))
		if err != nil {
			t.Fatal(err)
		}
		bs, err := doccheck.GoBlocks(file, src)
		if err != nil {
			problems = append(problems, strings.Split(err.Error(), "\n")...)
		}
		if file == "README.md" && len(bs) == 0 {
			problems = append(problems, "README.md: no ```go block found: has the fence syntax changed?")
		}
		for _, b := range bs {
			blocks++
			if b.OptOut != "" {
				optedOut++
				t.Logf("%s: not checked: %s", b.Pos(), b.OptOut)
				continue
			}
			s, p := env.Compose(b)
			problems = append(problems, p...)
			if s != nil {
				t.Logf("%s: %s, givens %v", b.Pos(), s.Kind, s.Uses)
				snippets = append(snippets, s)
			}
		}
	}
	start := time.Now()
	lines, err := env.Build(root, blocksDir, t.TempDir(), snippets)
	if err != nil {
		t.Fatal(err)
	}
	problems = append(problems, lines...)
	doccheck.SortLines(problems)
	t.Logf("%d Go blocks in %v: %d compiled (go build, %v), %d not checked (opted out)",
		blocks, files, len(snippets), time.Since(start).Round(time.Millisecond), optedOut)
	if len(problems) > 0 {
		t.Errorf("%d problems in the Markdown's Go blocks:\n%s", len(problems), strings.Join(problems, "\n"))
	}
}

// readmeImports is the import table: otherImports and this module's
// library packages, found on disk.
func readmeImports(t *testing.T, root string) map[string]string {
	pkgs, err := doccheck.Packages(root, libraryOnly)
	if err != nil {
		t.Fatal(err)
	}
	imports := map[string]string{}
	for name, path := range otherImports {
		imports[name] = path
	}
	for _, p := range pkgs {
		if q, dup := imports[p.Name]; dup {
			t.Fatalf("import table: package name %s is both %s and %s", p.Name, q, p.ImportPath)
		}
		imports[p.Name] = p.ImportPath
	}
	return imports
}

// markdownFiles returns the Markdown files of the repository but
// CHANGELOG.md, as slash paths from root.
func markdownFiles(t *testing.T, root string) []string {
	var files []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if p != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "node_modules" || name == "vendor") {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(name, ".md") && name != "CHANGELOG.md" {
			rel, err := filepath.Rel(root, p)
			files = append(files, filepath.ToSlash(rel))
			return err
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}
