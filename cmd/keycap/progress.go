package main

import (
	"fmt"
	"io"
)

// progress reports a long operation on stderr, never on stdout, so that
// -json output stays one JSON document and a table stays a table: a line
// for every item when there are at most progressEvery of them (an
// operator offboarding someone sees each key go), else about every 5%,
// and always the last.
type progress struct {
	w    io.Writer
	verb string // "revoked"
	n    int    // how many items in all
	step int
}

// progressEvery is the most items that each get a line.
const progressEvery = 20

func newProgress(w io.Writer, verb string, n int) *progress {
	return &progress{w: w, verb: verb, n: n, step: max(1, (n+progressEvery-1)/progressEvery)}
}

// done reports that item i (1-based) is done; what names it ("key
// 06h3… “ci deploy”"), or "".
func (p *progress) done(i int, what string) {
	if i != p.n && i%p.step != 0 {
		return
	}
	if what != "" && p.step == 1 {
		fmt.Fprintf(p.w, "%s %d of %d: %s\n", p.verb, i, p.n, what)
		return
	}
	fmt.Fprintf(p.w, "%s %d of %d\n", p.verb, i, p.n)
}
