package main

import (
	"bytes"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// progress names each item of a short run, and reports a long one about
// every 5%, always ending on the last item.
func TestProgress(t *testing.T) {
	for _, c := range []struct {
		n          int
		lines      int
		first, end string
	}{
		{1, 1, "revoked 1 of 1: k1", "revoked 1 of 1: k1"},
		{3, 3, "revoked 1 of 3: k1", "revoked 3 of 3: k3"},
		{20, 20, "revoked 1 of 20: k1", "revoked 20 of 20: k20"},
		{21, 11, "revoked 2 of 21", "revoked 21 of 21"},
		{45, 15, "revoked 3 of 45", "revoked 45 of 45"},
		{10000, 20, "revoked 500 of 10000", "revoked 10000 of 10000"},
	} {
		var b bytes.Buffer
		p := newProgress(&b, "revoked", c.n)
		for i := 1; i <= c.n; i++ {
			p.done(i, "k"+itoa(i))
		}
		lines := strings.Split(strings.TrimSpace(b.String()), "\n")
		assert.Len(t, lines, c.lines, "n=%d", c.n)
		assert.Equal(t, c.first, lines[0], "n=%d", c.n)
		assert.Equal(t, c.end, lines[len(lines)-1], "n=%d", c.n)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }
