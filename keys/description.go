package keys

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxDescriptionLength is the longest key description, in characters.
const maxDescriptionLength = 500

// checkDescription trims d, makes its line breaks "\n", and refuses what
// cannot be shown safely, as [checkName] does for names: too long, invalid
// UTF-8, control characters other than line breaks, invisible format
// characters, and text with nothing visible. "" (after trimming) is no
// description.
func checkDescription(d string) (string, error) {
	d = strings.TrimSpace(strings.ReplaceAll(d, "\r\n", "\n"))
	switch {
	case d == "":
		return "", nil
	case !utf8.ValidString(d):
		return "", &FieldError{Field: "description", Reason: "the description must be valid UTF-8"}
	case utf8.RuneCountInString(d) > maxDescriptionLength:
		return "", &FieldError{Field: "description", Reason: "the description is at most 500 characters"}
	case strings.IndexFunc(d, func(r rune) bool { return r != '\n' && unicode.IsControl(r) }) >= 0:
		return "", &FieldError{Field: "description", Reason: "the description must not contain control characters (line breaks are fine)"}
	case hasInvisible(strings.ReplaceAll(d, "\n", " ")):
		return "", &FieldError{Field: "description", Reason: "the description must not contain invisible characters (such as U+202E, U+200B or U+3164)"}
	case strings.IndexFunc(d, visible) < 0:
		return "", &FieldError{Field: "description", Reason: "the description needs at least one visible letter, digit, punctuation mark or symbol; leave it empty for none"}
	}
	return d, nil
}
