// Command testonly lists the exported names of keycap's library packages
// (not internal, example or cmd) that no non-test Go file of the module
// uses: TESTONLY when only _test.go files use them, UNUSED when nothing
// does. Methods that implement an interface (Error, ServeHTTP, a Store's
// methods) and the test kits (httptest_helpers, storetest, notifytest)
// show up by nature; anything else is a candidate to unexport or move to
// a _test.go file. It is its own module, to keep golang.org/x/tools out of
// keycap's go.mod. Run from the repository root:
//
//	(cd scripts/testonly && go run . ../..)
package main

import (
	"fmt"
	"go/types"
	"os"
	"sort"
	"strings"

	"golang.org/x/tools/go/packages"
)

func library(path string) bool {
	const mod = "github.com/keycaphq/keycap"
	if !strings.HasPrefix(path, mod) {
		return false
	}
	rest := strings.TrimPrefix(path, mod)
	for _, p := range []string{"/internal", "/example", "/cmd"} {
		if strings.HasPrefix(rest, p) {
			return false
		}
	}
	return true
}

func main() {
	cfg := &packages.Config{Dir: os.Args[1], Tests: true,
		Mode: packages.NeedName | packages.NeedFiles | packages.NeedSyntax | packages.NeedTypes | packages.NeedTypesInfo | packages.NeedImports | packages.NeedDeps}
	pkgs, err := packages.Load(cfg, "./...")
	if err != nil {
		panic(err)
	}
	type use struct{ test, nontest, nontestOther int }
	uses := map[string]*use{}
	key := func(o types.Object) string {
		if o.Pkg() == nil {
			return ""
		}
		if f, ok := o.(*types.Func); ok {
			f = f.Origin()
			if sig, ok := f.Type().(*types.Signature); ok && sig.Recv() != nil {
				t := sig.Recv().Type()
				if p, ok := t.(*types.Pointer); ok {
					t = p.Elem()
				}
				if n, ok := t.(*types.Named); ok {
					return f.Pkg().Path() + "." + n.Obj().Name() + "." + f.Name()
				}
				return f.Pkg().Path() + ".?." + f.Name()
			}
		}
		if v, ok := o.(*types.Var); ok && v.IsField() {
			return "" // fields skipped
		}
		return o.Pkg().Path() + "." + o.Name()
	}
	exported := map[string]bool{}
	for _, p := range pkgs {
		if strings.HasSuffix(p.ID, ".test") || strings.Contains(p.ID, "[") || strings.HasSuffix(p.PkgPath, "_test") {
			continue
		}
		if !library(p.PkgPath) || p.Name == "main" {
			continue
		}
		sc := p.Types.Scope()
		for _, n := range sc.Names() {
			o := sc.Lookup(n)
			if !o.Exported() {
				continue
			}
			exported[key(o)] = true
			if tn, ok := o.(*types.TypeName); ok {
				if nt, ok := tn.Type().(*types.Named); ok {
					for i := 0; i < nt.NumMethods(); i++ {
						m := nt.Method(i)
						if m.Exported() {
							exported[key(m)] = true
						}
					}
				}
			}
		}
	}
	seen := map[string]bool{}
	for _, p := range pkgs {
		for id, o := range p.TypesInfo.Uses {
			k := key(o)
			if !exported[k] {
				continue
			}
			pos := p.Fset.Position(id.Pos())
			tag := pos.String()
			if seen[tag] {
				continue
			}
			seen[tag] = true
			u := uses[k]
			if u == nil {
				u = &use{}
				uses[k] = u
			}
			if strings.HasSuffix(pos.Filename, "_test.go") {
				u.test++
			} else {
				u.nontest++
				if !strings.HasPrefix(k, p.PkgPath+".") {
					u.nontestOther++
				}
			}
		}
	}
	var out []string
	for k := range exported {
		u := uses[k]
		if u == nil {
			out = append(out, "UNUSED    "+k)
		} else if u.nontest == 0 {
			out = append(out, fmt.Sprintf("TESTONLY  %s (%d test uses)", k, u.test))
		}
	}
	sort.Strings(out)
	fmt.Println(strings.Join(out, "\n"))
}
