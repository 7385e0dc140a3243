package keys

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxNameLength is the longest key name, in characters.
const maxNameLength = 100

// checkName trims name and refuses what cannot be shown safely: nothing,
// too long, invalid UTF-8, control characters, and the invisible format
// characters (bidirectional overrides, zero-width characters, line and
// paragraph separators) that make a name display as another.
func checkName(name string) (string, error) {
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		return "", &FieldError{Field: "name", Reason: "give the key a name"}
	case !utf8.ValidString(name):
		return "", &FieldError{Field: "name", Reason: "the name must be valid UTF-8"}
	case utf8.RuneCountInString(name) > maxNameLength:
		return "", &FieldError{Field: "name", Reason: "the name is at most 100 characters"}
	case strings.IndexFunc(name, unicode.IsControl) >= 0:
		return "", &FieldError{Field: "name", Reason: "the name must not contain control characters"}
	case hasInvisible(name):
		return "", &FieldError{Field: "name", Reason: "the name must not contain invisible formatting characters (such as U+202E or U+200B)"}
	}
	return name, nil
}

// hasInvisible reports whether name holds an invisible character, except
// the zero-width joiner and non-joiner where they shape what is shown:
// inside an emoji sequence (👩‍💻) or between letters of a script that joins
// (Persian می‌خواهم).
func hasInvisible(name string) bool {
	runes := []rune(name)
	for i, r := range runes {
		if r == zeroWidthJoiner || r == zeroWidthNonJoiner {
			if i == 0 || i == len(runes)-1 || !joins(runes[i-1], runes[i+1]) {
				return true
			}
			continue
		}
		if invisible(r) {
			return true
		}
	}
	return false
}

const (
	zeroWidthNonJoiner = '\u200C'
	zeroWidthJoiner    = '\u200D'
	variationSelector  = '\uFE0F' // emoji presentation
)

// invisible reports what is not a letter, mark, number, punctuation,
// symbol or space: format characters (Cf: bidirectional controls,
// zero-width characters, the byte-order mark), line and paragraph
// separators, controls, and private-use, surrogate and unassigned code
// points. (Go's unicode.C includes the unassigned ones: it cannot be used
// to tell them apart.)
func invisible(r rune) bool {
	return !unicode.In(r, unicode.L, unicode.M, unicode.N, unicode.P, unicode.S, unicode.Zs)
}

// joins reports whether a joiner between prev and next changes what is
// shown: emoji on both sides (a symbol, a skin-tone modifier or an emoji
// variation selector before, a symbol after), or letters and marks of a
// script other than Latin on both sides. Between Latin letters, digits or
// spaces it would be invisible, so a name could pass for another.
func joins(prev, next rune) bool {
	emoji := func(r rune) bool { return unicode.In(r, unicode.So, unicode.Sk) }
	if (emoji(prev) || prev == variationSelector) && emoji(next) {
		return true
	}
	joining := func(r rune) bool {
		return unicode.In(r, unicode.L, unicode.M) && !unicode.In(r, unicode.Latin, unicode.Common)
	}
	return joining(prev) && joining(next)
}
