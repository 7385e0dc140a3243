package ui_test

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestStylesheetScoped fails for any rule of the page's stylesheet whose
// selector could match an element of the app that embeds the page: each
// must start at the page's root, :where(.kc-root) (the body's wrapper), or
// .kc-page (the <body> of the standalone page only). The one exception is
// a rule that only defines --keycap-* custom properties, which style
// nothing by themselves (the theming hooks, on :root).
func TestStylesheetScoped(t *testing.T) {
	css, err := os.ReadFile("assets/keycap.css")
	require.NoError(t, err)
	rules := cssRules(t, string(css))
	require.Greater(t, len(rules), 100, "the tokenizer found the rules")
	scoped := regexp.MustCompile(`^(:where\(\.kc-root\)|\.kc-page)([\s>+~:.#\[]|$)`)
	customOnly := regexp.MustCompile(`^(\s*--keycap-[a-z-]+\s*:[^;]+;)*\s*$`)
	for _, r := range rules {
		for _, sel := range splitSelectors(r.selector) {
			if !scoped.MatchString(sel) && !customOnly.MatchString(r.body) {
				t.Errorf("selector %q is not scoped to the page's root: it would style the embedding app's elements", sel)
			}
		}
	}
	// The tokenizer itself: an unscoped rule, nested in @media, is found.
	bad := cssRules(t, "/* x { } */ @media (max-width: 1px) { :where(.kc-root) a { color: red } label { x: y } }")
	require.Len(t, bad, 2)
	assert.Equal(t, "label", bad[1].selector)
}

type cssRule struct{ selector, body string }

// cssRules returns the style rules of css, those inside at-rules
// (@media) included; comments are dropped.
func cssRules(t *testing.T, css string) []cssRule {
	css = regexp.MustCompile(`(?s)/\*.*?\*/`).ReplaceAllString(css, "")
	var out []cssRule
	for len(strings.TrimSpace(css)) > 0 {
		open := strings.IndexByte(css, '{')
		require.GreaterOrEqual(t, open, 0, "a rule without a block: %q", css)
		head := strings.TrimSpace(css[:open])
		depth, end := 1, open+1
		for ; depth > 0; end++ {
			require.Less(t, end, len(css), "an unclosed block after %q", head)
			switch css[end] {
			case '{':
				depth++
			case '}':
				depth--
			}
		}
		body := css[open+1 : end-1]
		if strings.HasPrefix(head, "@") {
			out = append(out, cssRules(t, body)...)
		} else {
			out = append(out, cssRule{selector: head, body: body})
		}
		css = css[end:]
	}
	return out
}

// splitSelectors splits a selector list at its top-level commas.
func splitSelectors(list string) []string {
	var out []string
	depth, start := 0, 0
	for i, c := range list {
		switch c {
		case '(':
			depth++
		case ')':
			depth--
		case ',':
			if depth == 0 {
				out = append(out, strings.TrimSpace(list[start:i]))
				start = i + 1
			}
		}
	}
	return append(out, strings.TrimSpace(list[start:]))
}
