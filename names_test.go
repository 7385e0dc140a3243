package keycap_test

import (
	"go/ast"
	"go/parser"
	"go/printer"
	"go/token"
	"io/fs"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// predeclared are Go's predeclared identifiers: a name declared as one of
// them shadows it ("cap" and "max" did, 16 times).
var predeclared = map[string]bool{}

func init() {
	for _, n := range strings.Fields(`append cap clear close complex copy delete imag len make max min new
		panic print println real recover any bool byte comparable complex64 complex128 error float32
		float64 int int8 int16 int32 int64 rune string uint uint8 uint16 uint32 uint64 uintptr true false
		iota nil`) {
		predeclared[n] = true
	}
}

// TestNoBuiltinShadowing fails for every variable, constant, parameter,
// result, receiver, range variable or type of the repository's Go files,
// tests included, named after a predeclared identifier (cap, max, len,
// new, ...).
func TestNoBuiltinShadowing(t *testing.T) {
	fset := token.NewFileSet()
	var found []string
	err := filepath.WalkDir(".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != "." && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || d.Name() == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") {
			return nil
		}
		f, err := parser.ParseFile(fset, p, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		declare := func(id *ast.Ident) {
			if id != nil && predeclared[id.Name] {
				found = append(found, fset.Position(id.Pos()).String()+": "+id.Name)
			}
		}
		declareAll := func(fl *ast.FieldList) {
			if fl != nil {
				for _, field := range fl.List {
					for _, id := range field.Names {
						declare(id)
					}
				}
			}
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.AssignStmt:
				if n.Tok == token.DEFINE {
					for _, l := range n.Lhs {
						if id, ok := l.(*ast.Ident); ok {
							declare(id)
						}
					}
				}
			case *ast.RangeStmt:
				if n.Tok == token.DEFINE {
					for _, e := range []ast.Expr{n.Key, n.Value} {
						if id, ok := e.(*ast.Ident); ok {
							declare(id)
						}
					}
				}
			case *ast.ValueSpec:
				for _, id := range n.Names {
					declare(id)
				}
			case *ast.TypeSpec:
				declare(n.Name)
			case *ast.FuncType:
				declareAll(n.Params)
				declareAll(n.Results)
			case *ast.FuncDecl:
				declareAll(n.Recv)
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(found) > 0 {
		t.Errorf("%d declarations shadow a predeclared identifier; rename them:\n%s", len(found), strings.Join(found, "\n"))
	}
}

// TestCapabilitiesDeclared: the library's code (not tests, internal, the
// example or commands) never probes what a store, auditor, observer,
// session system or limiter can do with a type assertion or type switch
// (a wrapper would hide or fake the method, as http.Flusher wrappers do);
// capabilities are declared in the interfaces and options instead. An
// assertion to an anonymous interface is refused whatever it is on.
func TestCapabilitiesDeclared(t *testing.T) {
	fset := token.NewFileSet()
	probed := regexp.MustCompile(`(?i)store|auditor|observer|sessions|limiter|notifier|log\b`)
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
		f, err := parser.ParseFile(fset, p, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			a, ok := n.(*ast.TypeAssertExpr)
			if !ok {
				return true
			}
			var on strings.Builder
			_ = printer.Fprint(&on, fset, a.X)
			_, anonymous := a.Type.(*ast.InterfaceType)
			if anonymous || probed.MatchString(on.String()) {
				found = append(found, fset.Position(a.Pos()).String()+": "+on.String())
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(found) > 0 {
		t.Errorf("%d probes of a capability; declare it instead:\n%s", len(found), strings.Join(found, "\n"))
	}
}
