package doccheck

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// Build compiles every snippet as a package of its own under dir, a
// directory of the module at root that does not exist on disk: the files
// are given to go build through -overlay, so imports resolve through the
// module's go.mod and the build cache. tmp holds the generated files.
//
// It returns what the compiler says, one line each, sorted: errors in a
// block point at the Markdown file and line and name the block; errors in
// a given's type name the given, once. A block whose imports cannot be
// loaded stops go build before it compiles anything, so it is reported and
// the others are built again without it.
func (e *Env) Build(root, dir, tmp string, snippets []*Snippet) ([]string, error) {
	if _, err := os.Stat(filepath.Join(root, dir)); err == nil {
		return nil, fmt.Errorf("%s exists on disk: the blocks' packages must be the only files there", dir)
	}
	mod, err := modulePath(root)
	if err != nil {
		return nil, err
	}
	b := &builder{env: e, root: root, dir: dir, mod: mod, tmp: tmp, byPkg: map[string]*Snippet{}}
	for _, s := range snippets {
		name := s.Block.Package()
		if b.byPkg[name] != nil {
			return nil, fmt.Errorf("%s and %s would be the same package %s", b.byPkg[name].Block.Pos(), s.Block.Pos(), name)
		}
		b.byPkg[name] = s
		if err := os.WriteFile(filepath.Join(tmp, name+".go"), s.Src, 0o644); err != nil {
			return nil, err
		}
	}
	var msgs []message
	for left := snippets; len(left) > 0; {
		out, err := b.run(left)
		if err != nil {
			return nil, err
		}
		if out == nil {
			break
		}
		m, unloaded := b.parse(out)
		msgs = append(msgs, m...)
		if len(m) == 0 {
			return nil, fmt.Errorf("go build failed and said nothing about a block:\n%s", out)
		}
		if len(unloaded) == 0 {
			break
		}
		var rest []*Snippet
		for _, s := range left {
			if !unloaded[s] {
				rest = append(rest, s)
			}
		}
		left = rest
	}
	return sortMessages(msgs), nil
}

// builder is one call of Build.
type builder struct {
	env                 *Env
	root, dir, mod, tmp string
	byPkg               map[string]*Snippet // package name → snippet
}

// run builds snippets, and returns go build's output if it failed, nil if
// it succeeded.
func (b *builder) run(snippets []*Snippet) ([]byte, error) {
	overlay := map[string]string{}
	ovl := filepath.Join(b.tmp, "overlay.json")
	args := []string{"build", "-overlay=" + ovl, "-gcflags=-e"}
	for _, s := range snippets {
		name := s.Block.Package()
		overlay[filepath.Join(b.root, b.dir, name, "block.go")] = filepath.Join(b.tmp, name+".go")
		args = append(args, path.Join(b.mod, b.dir, name))
	}
	j, err := json.Marshal(map[string]any{"Replace": overlay})
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(ovl, j, 0o644); err != nil {
		return nil, err
	}
	cmd := exec.Command("go", args...)
	cmd.Dir = b.root
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		return nil, fmt.Errorf("go build: %v", err)
	}
	if err == nil {
		return nil, nil
	}
	return out, nil
}

// message is one line of what Build returns.
type message struct {
	file      string // "" for the givens table, which comes first
	line, col int
	text      string
	block     *Snippet // the block it is about; nil if none
}

// sortMessages sorts msgs by position, drops repeats, and formats them.
func sortMessages(msgs []message) []string {
	sort.SliceStable(msgs, func(i, j int) bool {
		a, b := msgs[i], msgs[j]
		if a.file != b.file {
			return a.file < b.file
		}
		if a.line != b.line {
			return a.line < b.line
		}
		return a.col < b.col
	})
	var lines []string
	seen := map[string]bool{}
	for _, m := range msgs {
		text := m.text
		if m.block != nil {
			text += " [block " + m.block.Block.Pos() + "]"
		}
		if !seen[text] {
			seen[text] = true
			lines = append(lines, text)
		}
	}
	return lines
}

// modulePath reads the module path from root/go.mod.
func modulePath(root string) (string, error) {
	b, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) == 2 && f[0] == "module" {
			return strings.Trim(f[1], `"`), nil
		}
	}
	return "", fmt.Errorf("%s/go.mod: no module line", root)
}
