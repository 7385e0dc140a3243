package doccheck

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testEnv knows a few standard packages and givens; kc's type does not exist.
func testEnv(t *testing.T) *Env {
	t.Helper()
	e, err := NewEnv(map[string]string{"http": "net/http", "sql": "database/sql", "fmt": "fmt", "keys": "example.com/keys"},
		[]Given{
			{Name: "db", Type: "*sql.DB"},
			{Name: "r", Type: "*http.Request"},
			{Name: "kc", Type: "*http.Keycap"},
		})
	require.NoError(t, err)
	return e
}

func TestNewEnvRefusesBadTables(t *testing.T) {
	imports := map[string]string{"http": "net/http"}
	for _, tc := range []struct {
		name  string
		given Given
		want  string
	}{
		{"a package's name", Given{Name: "http", Type: "int"}, "given http has the name of package net/http"},
		{"an unknown package", Given{Name: "db", Type: "*sql.DB"}, "given db: type *sql.DB names package sql, which is not in the import table"},
		{"not a type", Given{Name: "x", Type: "[]"}, `given x: type "[]"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewEnv(imports, []Given{tc.given})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestCompose(t *testing.T) {
	e := testEnv(t)
	for _, tc := range []struct {
		name, code, kind string
		uses             []string
		contains         []string
	}{
		{name: "statements", code: "rows, err := db.Query(\"q\")\nfmt.Println(rows, err)\n", kind: "statements",
			uses: []string{"db"}, contains: []string{"//line README.md:12:1\n\tfmt \"fmt\"", "//line givens:1:1\n\tdb *sql.DB,", "\t{\n//line README.md:11:1\nrows, err"}},
		{name: "a given redeclared", code: "r := 1\nfmt.Println(r)\n", kind: "statements",
			contains: []string{"func _(\n) {"}},
		{name: "declarations", code: "// Lookup finds.\nfunc Lookup(id string) *http.Request { return r }\n", kind: "declarations",
			uses: []string{"r"}, contains: []string{"//line README.md:12:25\n\thttp \"net/http\"", "//line givens:2:1\nvar r *http.Request"}},
		{name: "imports, then statements", code: "import _ \"embed\"\n\nx := 1\n_ = x\n", kind: "statements",
			contains: []string{"//line README.md:11:1\nimport _ \"embed\"\n", "//line README.md:12:1\n\nx := 1"}},
		{name: "a package", code: "package main\n\nfunc main() {}\n", kind: "file",
			contains: []string{"//line README.md:11:1\npackage main\n"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, problems := e.Compose(Block{File: "README.md", Line: 10, Code: tc.code})
			require.Empty(t, problems)
			assert.Equal(t, tc.kind, s.Kind)
			assert.Equal(t, tc.uses, s.Uses)
			for _, c := range tc.contains {
				assert.Contains(t, string(s.Src), c)
			}
		})
	}
}

func TestComposeRefuses(t *testing.T) {
	e := testEnv(t)
	for _, tc := range []struct{ name, code, want string }{
		{"an undeclared name", "x := 1\nfmt.Println(x, mgr)\n",
			"README.md:12:16: uses mgr, which the block does not declare and is not a given [block README.md:10]"},
		{"an unknown package", "\tx := chi.NewRouter()\n_ = x\n",
			"README.md:11:7: uses chi.NewRouter: chi is neither a package of the import table nor a given [block README.md:10]"},
		{"a syntax error", "x := \n}\n",
			"README.md:12:1: syntax error: expected operand, found '}' [block README.md:10]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, problems := e.Compose(Block{File: "README.md", Line: 10, Code: tc.code})
			assert.Nil(t, s)
			assert.Equal(t, []string{tc.want}, problems)
		})
	}
}
