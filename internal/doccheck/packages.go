package doccheck

import (
	"go/ast"
	"go/build"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// Package is the parsed non-test Go files of one directory.
type Package struct {
	Dir        string // slash path from the module root; "." for the root
	ImportPath string
	Name       string
	Fset       *token.FileSet // positions are relative to the module root
	Files      []*ast.File
}

// Packages parses, with their comments, the library packages of the
// module at root: every directory with non-test Go files for this platform
// whose package is not main, except testdata, directories whose name
// starts with "." or "_", and the directories skip returns true for (given
// slash paths from root, such as "internal"; skipping a directory skips
// what is under it). They are sorted by directory.
func Packages(root string, skip func(dir string) bool) ([]*Package, error) {
	mod, err := modulePath(root)
	if err != nil {
		return nil, err
	}
	var pkgs []*Package
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if base := d.Name(); rel != "." && (base == "testdata" || strings.HasPrefix(base, ".") ||
			strings.HasPrefix(base, "_") || skip(rel)) {
			return filepath.SkipDir
		}
		pkg, err := parseDir(root, rel)
		if err != nil || pkg == nil || pkg.Name == "main" {
			return err
		}
		pkg.ImportPath = mod
		if rel != "." {
			pkg.ImportPath = path.Join(mod, rel)
		}
		pkgs = append(pkgs, pkg)
		return nil
	})
	sort.Slice(pkgs, func(i, j int) bool { return pkgs[i].Dir < pkgs[j].Dir })
	return pkgs, err
}

// parseDir parses the non-test Go files of root/dir that build on this
// platform; nil if there are none.
func parseDir(root, dir string) (*Package, error) {
	abs := filepath.Join(root, filepath.FromSlash(dir))
	entries, err := os.ReadDir(abs)
	if err != nil {
		return nil, err
	}
	pkg := &Package{Dir: dir, Fset: token.NewFileSet()}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		if ok, err := build.Default.MatchFile(abs, name); err != nil || !ok {
			continue
		}
		src, err := os.ReadFile(filepath.Join(abs, name))
		if err != nil {
			return nil, err
		}
		f, err := parser.ParseFile(pkg.Fset, path.Join(dir, name), src, parser.ParseComments|parser.SkipObjectResolution)
		if err != nil {
			return nil, err
		}
		pkg.Name = f.Name.Name
		pkg.Files = append(pkg.Files, f)
	}
	if len(pkg.Files) == 0 {
		return nil, nil
	}
	return pkg, nil
}
