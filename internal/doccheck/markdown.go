package doccheck

import (
	"bufio"
	"bytes"
	"fmt"
	"regexp"
	"strings"
)

// Block is one fenced Go code block of a Markdown file.
type Block struct {
	File   string // slash path from the module root: "README.md", "example/README.md"
	Line   int    // line of the opening fence; the code starts on the next line
	Code   string // the lines between the fences, less the opening fence's indentation
	OptOut string // the reason in "<!-- not-go-checked: reason -->" just before the fence; "" if checked
}

// Pos names the block as every message about it does: "README.md:52".
func (b Block) Pos() string { return fmt.Sprintf("%s:%d", b.File, b.Line) }

// Package is the name of the package the block is compiled as:
// "readme_md_52" for README.md:52.
func (b Block) Package() string {
	name := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			return r
		case r >= 'A' && r <= 'Z':
			return r - 'A' + 'a'
		}
		return '_'
	}, b.File)
	if name == "" || name[0] < 'a' || name[0] > 'z' {
		name = "md" + name
	}
	return fmt.Sprintf("%s_%d", name, b.Line)
}

// optOut matches an opt-out comment; it applies to the fence on the next line.
var optOut = regexp.MustCompile(`^\s*<!--\s*not-go-checked\b:?\s*(.*?)\s*-->\s*$`)

// fence is an opening or closing code fence: indentation, the fence, the info string.
var fence = regexp.MustCompile("^( *)(```+|~~~+)\\s*(.*)$")

// GoBlocks returns the ```go blocks of the Markdown text src, read from
// file. An opt-out comment that is not directly followed by a ```go fence,
// an opt-out without a reason and an unclosed fence are errors: nothing is
// left out of the check without saying so.
func GoBlocks(file string, src []byte) ([]Block, error) {
	var (
		blocks   []Block
		problems []string
		open     *Block // the Go block being read, nil for another language
		closing  string // the fence that closes the current block; "" outside one
		openLine int    // the line of that block's opening fence
		indent   int
		code     strings.Builder
		pending  *Block // an opt-out seen on the previous line
	)
	sc := bufio.NewScanner(bytes.NewReader(src))
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if closing != "" {
			if m := fence.FindStringSubmatch(line); m != nil && m[3] == "" &&
				m[2][0] == closing[0] && len(m[2]) >= len(closing) {
				if open != nil {
					open.Code = code.String()
					blocks = append(blocks, *open)
				}
				open, closing = nil, ""
				continue
			}
			if open != nil {
				code.WriteString(trimIndent(line, indent) + "\n")
			}
			continue
		}
		optedOut := pending
		pending = nil
		if m := optOut.FindStringSubmatch(line); m != nil {
			if m[1] == "" {
				problems = append(problems, fmt.Sprintf("%s:%d: not-go-checked needs a reason: <!-- not-go-checked: why -->", file, n))
			}
			pending = &Block{File: file, Line: n, OptOut: m[1]}
			continue
		}
		m := fence.FindStringSubmatch(line)
		if m == nil {
			if optedOut != nil {
				problems = append(problems, fmt.Sprintf("%s:%d: not-go-checked is not on the line before a ```go fence", file, optedOut.Line))
			}
			continue
		}
		closing, indent, openLine = m[2], len(m[1]), n
		code.Reset()
		if lang, _, _ := strings.Cut(m[3], " "); lang == "go" || lang == "golang" {
			open = &Block{File: file, Line: n}
			if optedOut != nil {
				open.OptOut = optedOut.OptOut
			}
		} else if optedOut != nil {
			problems = append(problems, fmt.Sprintf("%s:%d: not-go-checked is before a %q fence, not a ```go one", file, optedOut.Line, m[2]+m[3]))
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %v", file, err)
	}
	if closing != "" {
		problems = append(problems, fmt.Sprintf("%s:%d: this code fence is never closed", file, openLine))
	}
	if pending != nil {
		problems = append(problems, fmt.Sprintf("%s:%d: not-go-checked is not on the line before a ```go fence", file, pending.Line))
	}
	if len(problems) > 0 {
		return blocks, fmt.Errorf("%s", strings.Join(problems, "\n"))
	}
	return blocks, nil
}

// trimIndent removes up to n leading spaces from line.
func trimIndent(line string, n int) string {
	for n > 0 && strings.HasPrefix(line, " ") {
		line, n = line[1:], n-1
	}
	return line
}
