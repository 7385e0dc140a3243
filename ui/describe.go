package ui

import (
	"cmp"
	"slices"
	"sort"
	"strings"

	"github.com/keycaphq/keycap/policy"
)

// Describe says what permissions allow, one phrase per resource in
// alphabetical order: "read billing; read and write files"; none is
// "nothing". assets/keycap.js has the same function for the browser.
func Describe(p policy.Permissions) string {
	resources := make([]string, 0, len(p))
	for r := range p {
		resources = append(resources, r)
	}
	sort.Strings(resources)
	phrases := make([]string, 0, len(resources))
	for _, r := range resources {
		actions := slices.Clone(p[r])
		slices.SortFunc(actions, byRank)
		phrases = append(phrases, andList(actions)+" "+r)
	}
	if len(phrases) == 0 {
		return "nothing"
	}
	return strings.Join(phrases, "; ")
}

// byRank orders actions as people say them: read, write, delete, then any
// other alphabetically.
func byRank(a, b string) int {
	rank := func(s string) int {
		switch s {
		case "read":
			return 0
		case "write":
			return 1
		case "delete":
			return 2
		}
		return 3
	}
	if c := cmp.Compare(rank(a), rank(b)); c != 0 {
		return c
	}
	return strings.Compare(a, b)
}

// andList joins words as "a", "a and b", "a, b and c".
func andList(words []string) string {
	if len(words) < 2 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " and " + words[len(words)-1]
}
