package doccheck

import (
	"fmt"
	"go/ast"
	"go/token"
	"strings"
)

// Undocumented lists the exported names of p that have no doc comment, one
// line each, in file order: "keys/manager.go:20: field Config.Secret".
//
// A name is documented by a comment group directly above it; a const or
// var also by the comment above its parenthesized group; a struct field
// also by a comment at the end of its line. Counted are exported types,
// funcs, consts and vars, methods of exported types, the fields of exported
// struct types (and of struct types nested in them) and the methods of
// exported interfaces. A comment made only of directives (//go:...,
// //lint:...) is not documentation.
func Undocumented(p *Package) []string {
	var out []string
	report := func(pos token.Pos, what string) {
		out = append(out, fmt.Sprintf("%s: %s", p.Fset.Position(pos), what))
	}
	for _, f := range p.Files {
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				if !d.Name.IsExported() || hasDoc(d.Doc) {
					continue
				}
				if d.Recv == nil {
					report(d.Pos(), "func "+d.Name.Name)
				} else if recv := receiver(d); ast.IsExported(recv) {
					report(d.Pos(), "method "+recv+"."+d.Name.Name)
				}
			case *ast.GenDecl:
				for _, spec := range d.Specs {
					switch s := spec.(type) {
					case *ast.TypeSpec:
						if !s.Name.IsExported() {
							continue
						}
						if !hasDoc(s.Doc) && (d.Lparen.IsValid() || !hasDoc(d.Doc)) {
							report(s.Pos(), "type "+s.Name.Name)
						}
						members(s.Name.Name, s.Type, report)
					case *ast.ValueSpec:
						for _, n := range s.Names {
							if n.IsExported() && !hasDoc(s.Doc, d.Doc) {
								report(n.Pos(), d.Tok.String()+" "+n.Name)
							}
						}
					}
				}
			}
		}
	}
	return out
}

// members reports the undocumented exported fields of struct type t and
// of the struct types nested in it, and the undocumented exported methods
// of interface type t. owner names t in the report: "Config".
func members(owner string, t ast.Expr, report func(token.Pos, string)) {
	switch t := t.(type) {
	case *ast.StructType:
		for _, f := range t.Fields.List {
			for _, name := range fieldNames(f) {
				if ast.IsExported(name) && !hasDoc(f.Doc, f.Comment) {
					report(f.Pos(), "field "+owner+"."+name)
				}
				if ast.IsExported(name) {
					members(owner+"."+name, f.Type, report)
				}
			}
		}
	case *ast.InterfaceType:
		for _, m := range t.Methods.List {
			for _, n := range m.Names { // none for an embedded interface
				if n.IsExported() && !hasDoc(m.Doc) {
					report(n.Pos(), "interface method "+owner+"."+n.Name)
				}
			}
		}
	}
}

// fieldNames returns the names f declares: its names, or for an embedded
// field the name of its type.
func fieldNames(f *ast.Field) []string {
	if len(f.Names) == 0 {
		return []string{typeName(f.Type)}
	}
	names := make([]string, len(f.Names))
	for i, n := range f.Names {
		names[i] = n.Name
	}
	return names
}

// receiver returns the name of the type of d's receiver: "Manager" for
// (m *Manager) and for (m *Map[K, V]).
func receiver(d *ast.FuncDecl) string { return typeName(d.Recv.List[0].Type) }

// typeName returns the name of the type t names, less pointers, type
// arguments and package qualifiers.
func typeName(t ast.Expr) string {
	for {
		switch x := t.(type) {
		case *ast.StarExpr:
			t = x.X
		case *ast.IndexExpr:
			t = x.X
		case *ast.IndexListExpr:
			t = x.X
		case *ast.ParenExpr:
			t = x.X
		case *ast.SelectorExpr:
			return x.Sel.Name
		case *ast.Ident:
			return x.Name
		default:
			return ""
		}
	}
}

// hasDoc reports whether any of groups holds text other than directives.
func hasDoc(groups ...*ast.CommentGroup) bool {
	for _, g := range groups {
		if g != nil && strings.TrimSpace(g.Text()) != "" {
			return true
		}
	}
	return false
}
