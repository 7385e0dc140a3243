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
		return "", &FieldError{Field: "name", Reason: "the name must not contain invisible characters (such as U+202E, U+200B or U+3164)"}
	case strings.IndexFunc(name, visible) < 0:
		return "", &FieldError{Field: "name", Reason: "the name needs at least one visible letter, digit, punctuation mark or symbol"}
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
		if r == variationSelector { // emoji presentation: after an emoji, or a keycap's base (1️⃣)
			if i == 0 || !unicode.In(runes[i-1], unicode.So, unicode.Sk) && !strings.ContainsRune("0123456789#*", runes[i-1]) {
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
	return !unicode.In(r, unicode.L, unicode.M, unicode.N, unicode.P, unicode.S, unicode.Zs) || unicode.Is(blank, r)
}

// blank holds letters, symbols and marks that show nothing: the Hangul
// fillers, the blank braille pattern, the combining grapheme joiner, the
// Khmer inherent vowels, and the variation selectors (the emoji one is
// allowed after an emoji, see hasInvisible). A name made of them, or
// holding them between letters, could look empty or like another.
var blank = &unicode.RangeTable{
	R16: []unicode.Range16{
		{Lo: 0x034F, Hi: 0x034F, Stride: 1}, // combining grapheme joiner
		{Lo: 0x115F, Hi: 0x1160, Stride: 1}, // Hangul choseong and jungseong fillers
		{Lo: 0x17B4, Hi: 0x17B5, Stride: 1}, // Khmer inherent vowels
		{Lo: 0x180B, Hi: 0x180F, Stride: 1}, // Mongolian free variation selectors
		{Lo: 0x2800, Hi: 0x2800, Stride: 1}, // braille pattern blank
		{Lo: 0x3164, Hi: 0x3164, Stride: 1}, // Hangul filler
		{Lo: 0xFE00, Hi: 0xFE0F, Stride: 1}, // variation selectors
		{Lo: 0xFFA0, Hi: 0xFFA0, Stride: 1}, // halfwidth Hangul filler
	},
	R32: []unicode.Range32{
		{Lo: 0xE0100, Hi: 0xE01EF, Stride: 1}, // variation selectors supplement
	},
}

// visible reports a character that shows on its own: a letter, digit,
// punctuation mark or symbol that is not blank.
func visible(r rune) bool {
	return unicode.In(r, unicode.L, unicode.N, unicode.P, unicode.S) && !unicode.Is(blank, r)
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
