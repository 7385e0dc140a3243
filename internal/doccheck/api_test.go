package doccheck

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fixture parses testdata/api, where each name says whether it is documented.
func fixture(t *testing.T) *Package {
	t.Helper()
	pkgs, err := Packages("testdata/api", func(string) bool { return false })
	require.NoError(t, err)
	require.Len(t, pkgs, 1)
	require.Equal(t, "example.com/api", pkgs[0].ImportPath)
	return pkgs[0]
}

func TestUndocumented(t *testing.T) {
	got := Undocumented(fixture(t))
	want := []string{
		"api.go:10:2: field Doc.Undoc1",
		"api.go:14:3: field Doc.Doc3.Undoc2",
		"api.go:16:2: field Doc.Undoc3",
		"api.go:19:6: type Undoc3",
		"api.go:19:21: field Undoc3.Undoc4",
		"api.go:24:2: type Undoc5",
		"api.go:33:7: const Undoc6",
		"api.go:35:5: var Undoc7",
		"api.go:35:13: var Undoc8",
		"api.go:41:2: interface method Doc7.Undoc9",
		"api.go:52:1: method Doc.Undoc10",
		"api.go:55:1: func Undoc11",
		"api.go:63:1: method Doc10.Undoc12",
	}
	assert.Equal(t, want, got)
	for _, line := range got { // the names say which they are
		assert.Contains(t, line, "Undoc", "reported but documented")
	}
}

func TestAPI(t *testing.T) {
	var got []string
	for _, n := range API(fixture(t)) {
		got = append(got, n.Kind+" "+n.Name)
	}
	assert.Equal(t, []string{
		"type Doc", "method Doc.Undoc10", "type Doc10", "method Doc10.Undoc12", "type Doc4",
		"const Doc5", "const Doc6", "type Doc7", "interface method Doc7.Doc8",
		"interface method Doc7.Undoc9", "func Doc9", "func Undoc11", "type Undoc3",
		"method Undoc3.Doc11", "type Undoc5", "const Undoc6", "var Undoc7", "var Undoc8",
	}, got)
}
