package doccheck

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBuild(t *testing.T) {
	e := testEnv(t)
	var snippets []*Snippet
	for _, b := range []Block{
		{File: "README.md", Line: 10, Code: "rows, err := db.Query(\"q\")\nfmt.Println(rows, err)\n"},
		{File: "README.md", Line: 20, Code: "x, err := db.Query(\"q\")\n_ = x\n"},
		{File: "README.md", Line: 30, Code: "fmt.Println(kc)\n"},
		{File: "docs/a.md", Line: 40, Code: "kc.Use()\nvar n int = \"s\"\n"},
		{File: "docs/a.md", Line: 50, Code: "_ = keys.Parse\n"},
	} {
		s, problems := e.Compose(b)
		require.Empty(t, problems)
		snippets = append(snippets, s)
	}
	root, err := filepath.Abs("../..")
	require.NoError(t, err)
	lines, err := e.Build(root, "internal/doccheck/zztest", t.TempDir(), snippets)
	require.NoError(t, err)
	assert.Equal(t, []string{
		"givens table: kc *http.Keycap: undefined: http.Keycap",
		"README.md:21:4: declared and not used: err [block README.md:20]",
		"docs/a.md:42:5: declared and not used: n [block docs/a.md:40]",
		`docs/a.md:42:13: cannot use "s" (untyped string constant) as int value in variable declaration [block docs/a.md:40]`,
		"docs/a.md:51:6: no required module provides package example.com/keys; to add it: go get example.com/keys [block docs/a.md:50]",
	}, lines)
}
