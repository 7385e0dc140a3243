package doccheck

import (
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/scanner"
	"go/token"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// firstToken returns the first token of code that is not a comment.
func firstToken(code string) token.Token {
	var s scanner.Scanner
	fset := token.NewFileSet()
	s.Init(fset.AddFile("", -1, len(code)), []byte(code), nil, 0)
	_, tok, _ := s.Scan()
	return tok
}

// splitImports splits code after its leading import declarations, at the
// start of the next line. head is "" if code starts with no import.
func splitImports(code string) (head, rest string) {
	const pkg = "package p\n"
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "", pkg+code, parser.ImportsOnly)
	if err != nil || len(f.Decls) == 0 {
		return "", code
	}
	end := fset.Position(f.Decls[len(f.Decls)-1].End()).Offset - len(pkg)
	if i := strings.IndexByte(code[end:], '\n'); i >= 0 {
		end += i + 1
	} else {
		end = len(code)
	}
	return code[:end], code[end:]
}

// syntaxError formats the first error of parsing b: those after it are
// mostly its echoes.
func syntaxError(b Block, err error) []string {
	var list scanner.ErrorList
	if !errors.As(err, &list) || len(list) == 0 {
		return []string{fmt.Sprintf("%s: %v", b.Pos(), err)}
	}
	return []string{fmt.Sprintf("%s: syntax error: %s [block %s]", at(list[0].Pos), list[0].Msg, b.Pos())}
}

// majorVersion matches the /vN suffix of a module path.
var majorVersion = regexp.MustCompile(`^v[0-9]+$`)

// importName is the name a block's own import declares: its explicit name,
// the name the import table gives its path, or a guess from the path.
func (e *Env) importName(spec *ast.ImportSpec) string {
	if spec.Name != nil {
		return spec.Name.Name
	}
	p, _ := strconv.Unquote(spec.Path.Value)
	for name, q := range e.imports {
		if q == p {
			return name
		}
	}
	dir, name := path.Split(p)
	if majorVersion.MatchString(name) && dir != "" {
		name = path.Base(dir)
	}
	return strings.TrimSuffix(strings.TrimPrefix(name, "go-"), ".go")
}

// sortedKeys returns the keys of m in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
