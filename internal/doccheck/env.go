package doccheck

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"sort"
)

// Given is a value that blocks use without declaring it, because the prose
// around them says the app already has it.
type Given struct {
	Name string // as blocks use it: "db"
	Type string // a Go type, naming packages as the import table does: "*sql.DB"
	From string // where the app gets it, for whoever reads the table
}

// Env is what blocks are compiled against: the packages they may use
// without importing them, and the givens. Create it with [NewEnv].
type Env struct {
	imports  map[string]string // package name → import path
	givens   map[string]int    // given name → index in list
	list     []Given
	typePkgs [][]string // the packages each given's type names
}

// NewEnv checks the tables and returns an Env. imports maps package names
// to import paths; a given may not share a name with a package, and its
// type may name only packages of imports.
func NewEnv(imports map[string]string, givens []Given) (*Env, error) {
	e := &Env{imports: imports, givens: map[string]int{}, list: givens}
	var problems []string
	for i, g := range givens {
		if _, dup := e.givens[g.Name]; dup {
			problems = append(problems, fmt.Sprintf("given %s is listed twice", g.Name))
		}
		if _, pkg := imports[g.Name]; pkg {
			problems = append(problems, fmt.Sprintf("given %s has the name of package %s", g.Name, imports[g.Name]))
		}
		e.givens[g.Name] = i
		t, err := parser.ParseExpr(g.Type)
		if err != nil {
			problems = append(problems, fmt.Sprintf("given %s: type %q: %v", g.Name, g.Type, err))
		}
		pkgs := selectorPackages(t)
		for _, p := range pkgs {
			if imports[p] == "" {
				problems = append(problems, fmt.Sprintf("given %s: type %s names package %s, which is not in the import table", g.Name, g.Type, p))
			}
		}
		e.typePkgs = append(e.typePkgs, pkgs)
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("%v", problems)
	}
	return e, nil
}

// Givens returns the givens, in the order of the table.
func (e *Env) Givens() []Given { return e.list }

// selectorPackages returns the names X of the X.Sel expressions in t, sorted.
func selectorPackages(t ast.Node) []string {
	seen := map[string]bool{}
	if t != nil {
		ast.Inspect(t, func(n ast.Node) bool {
			if se, ok := n.(*ast.SelectorExpr); ok {
				if id, ok := se.X.(*ast.Ident); ok {
					seen[id.Name] = true
				}
			}
			return true
		})
	}
	names := make([]string, 0, len(seen))
	for n := range seen {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// at formats p for a //line directive: "README.md:57:3".
func at(p token.Position) string { return fmt.Sprintf("%s:%d:%d", p.Filename, p.Line, p.Column) }

// givenPos is where messages about the i-th given point: "givens:3:1".
// The compiler reports errors in a given's type there, and Build maps them
// back to the table.
func givenPos(i int) token.Position {
	return token.Position{Filename: givensFile, Line: i + 1, Column: 1}
}

// givensFile stands for the givens table in //line directives.
const givensFile = "givens"
