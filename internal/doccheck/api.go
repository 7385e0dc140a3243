package doccheck

import (
	"go/ast"
	"sort"
)

// Name is one name of a package's API.
type Name struct {
	Kind string // "type", "func", "const", "var", "method" or "interface method"
	Name string // "Manager", "Manager.Verify", "Store.Get"
}

// API lists what p exports, counted the way APIs are compared: exported
// top-level types, funcs, consts and vars, exported methods of exported
// types, and exported methods of exported interfaces (embedded interfaces
// add nothing). Struct fields do not count. Each name is listed once,
// sorted.
func API(p *Package) []Name {
	seen := map[Name]bool{}
	add := func(kind, name string) { seen[Name{kind, name}] = true }
	for _, f := range p.Files {
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				switch {
				case !d.Name.IsExported():
				case d.Recv == nil:
					add("func", d.Name.Name)
				case ast.IsExported(receiver(d)):
					add("method", receiver(d)+"."+d.Name.Name)
				}
			case *ast.GenDecl:
				for _, spec := range d.Specs {
					switch s := spec.(type) {
					case *ast.TypeSpec:
						if !s.Name.IsExported() {
							continue
						}
						add("type", s.Name.Name)
						if it, ok := s.Type.(*ast.InterfaceType); ok {
							for _, m := range it.Methods.List {
								for _, n := range m.Names {
									if n.IsExported() {
										add("interface method", s.Name.Name+"."+n.Name)
									}
								}
							}
						}
					case *ast.ValueSpec:
						for _, n := range s.Names {
							if n.IsExported() {
								add(d.Tok.String(), n.Name)
							}
						}
					}
				}
			}
		}
	}
	names := make([]Name, 0, len(seen))
	for n := range seen {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool { return names[i].Name < names[j].Name })
	return names
}
