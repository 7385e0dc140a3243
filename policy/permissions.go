package policy

import (
	"sort"
	"strings"
)

// Permissions is a set of actions per resource: {"files": ["read", "write"]}.
//
// A nil or empty Permissions grants nothing. Values returned by [Normalize]
// and by the set functions of this package are normalized: every resource
// has at least one action, and actions are sorted and unique. Treat
// normalized values as read-only; [Permissions.Clone] gives a copy to change.
type Permissions map[string][]string

// Has reports whether p holds action on resource. It expects p normalized.
func (p Permissions) Has(resource, action string) bool {
	actions := p[resource]
	// Action lists are short; a linear scan beats a binary search here.
	for _, a := range actions {
		if a == action {
			return true
		}
	}
	return false
}

// IsEmpty reports whether p grants nothing.
func (p Permissions) IsEmpty() bool {
	for _, actions := range p {
		if len(actions) > 0 {
			return false
		}
	}
	return true
}

// Clone returns a deep copy of p. The clone of nil is nil.
func (p Permissions) Clone() Permissions {
	if p == nil {
		return nil
	}
	c := make(Permissions, len(p))
	for r, actions := range p {
		c[r] = append([]string(nil), actions...)
	}
	return c
}

// Strings returns p as sorted "resource:action" strings.
func (p Permissions) Strings() []string {
	var out []string
	for r, actions := range p {
		for _, a := range actions {
			out = append(out, r+":"+a)
		}
	}
	sort.Strings(out)
	return out
}

// String returns p as a space-separated list of "resource:action" strings.
func (p Permissions) String() string { return strings.Join(p.Strings(), " ") }

// Parse turns "resource:action" strings into normalized Permissions, so
// Parse("files:read", "files:write") is {"files": ["read", "write"]}. It
// returns an [*InvalidError] for a string that is not of that form or whose
// names break the grammar of [Normalize].
func Parse(permissions ...string) (Permissions, error) {
	p := make(Permissions, len(permissions))
	for i, s := range permissions {
		resource, action, ok := strings.Cut(s, ":")
		if !ok {
			return nil, &InvalidError{Path: pathIndex(i), Reason: `want "resource:action", e.g. "files:read"`}
		}
		p[resource] = append(p[resource], action)
	}
	return Normalize(p)
}

// MustParse is like [Parse] but panics on an error. It is meant for
// permissions written in the program's source, such as a policy's maximum.
func MustParse(permissions ...string) Permissions {
	p, err := Parse(permissions...)
	if err != nil {
		panic("policy.MustParse: " + err.Error())
	}
	return p
}
