package doccheck

import (
	"bufio"
	"bytes"
	"fmt"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// errorLine is a go build message: "file:line:col: text" or "file:line: text".
var errorLine = regexp.MustCompile(`^(.+?):(\d+)(?::(\d+))?: (.*)$`)

// parse turns go build's output into messages, and returns the snippets
// that could not be loaded (their imports failed: nothing was compiled).
//
// Compiler errors come in sections headed "# import/path"; positions in a
// block are those of the //line directives, which the go command reports
// relative to the block's package directory when it fails to load it.
func (b *builder) parse(out []byte) ([]message, map[*Snippet]bool) {
	var msgs []message
	unloaded := map[*Snippet]bool{}
	var section *Snippet // nil outside a block's section
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		m := errorLine.FindStringSubmatch(line)
		switch {
		case strings.HasPrefix(line, "# "):
			section = b.byPkg[path.Base(strings.TrimPrefix(line, "# "))]
			if !strings.HasPrefix(strings.TrimPrefix(line, "# "), path.Join(b.mod, b.dir)+"/") {
				section = nil
			}
		case strings.HasPrefix(line, "\t") && len(msgs) > 0:
			msgs[len(msgs)-1].text += " " + strings.TrimSpace(line)
		case m == nil:
			msgs = append(msgs, message{file: "~", text: line, block: section})
		default:
			file, s := m[1], section
			if rel, ok := strings.CutPrefix(file, b.dir+"/"); ok { // a load error
				pkg, f, _ := strings.Cut(rel, "/")
				if s = b.byPkg[pkg]; s != nil {
					unloaded[s], file = true, f
				}
			}
			msgs = append(msgs, b.message(file, m[2], m[3], m[4], s))
		}
	}
	return msgs, unloaded
}

// message formats an error at file:line:col about snippet s (nil if none).
func (b *builder) message(file, line, col, text string, s *Snippet) message {
	l, _ := strconv.Atoi(line)
	c, _ := strconv.Atoi(col)
	if file == givensFile && l >= 1 && l <= len(b.env.list) {
		g := b.env.list[l-1]
		return message{text: fmt.Sprintf("givens table: %s %s: %s", g.Name, g.Type, text)}
	}
	pos := fmt.Sprintf("%s:%s", file, line)
	if col != "" {
		pos += ":" + col
	}
	if s != nil && !strings.HasSuffix(file, ".md") { // outside the block: the code around it
		return message{file: s.Block.File, line: s.Block.Line, text: fmt.Sprintf("%s: in the code around the block: %s: %s", s.Block.Pos(), pos, text), block: s}
	}
	return message{file: file, line: l, col: c, text: fmt.Sprintf("%s: %s", pos, text), block: s}
}

// SortLines sorts messages that start with "file:line:col:" by position,
// numerically; those without a position come first, in their order.
func SortLines(lines []string) {
	pos := func(s string) (string, int, int) {
		m := errorLine.FindStringSubmatch(s)
		if m == nil {
			return "", 0, 0
		}
		l, _ := strconv.Atoi(m[2])
		c, _ := strconv.Atoi(m[3])
		return m[1], l, c
	}
	sort.SliceStable(lines, func(i, j int) bool {
		fi, li, ci := pos(lines[i])
		fj, lj, cj := pos(lines[j])
		if fi != fj {
			return fi < fj
		}
		if li != lj {
			return li < lj
		}
		return ci < cj
	})
}
