package policy

import (
	"slices"
	"strconv"
)

// Limits of the grammar that [Normalize] enforces.
const (
	MaxNameLength = 64 // bytes in a resource or action name
	MaxResources  = 64 // resources in one Permissions
	MaxActions    = 32 // actions per resource
)

// Star is the name "*". In [Permissions] it is a literal, never a
// wildcard: it matches only itself, so a key holding "files:*" holds the
// one action named "*" and not "files:read". [Normalize] refuses it; a
// [Policy] whose bounds name it explicitly (for example "admin:*") makes it
// a grantable literal in that policy, and clients may then ask for it
// where the policy lets them choose.
//
// The one place where "*" does match any name is a pattern of
// [Config].MaxLifetimeFor, such as "*:delete".
const Star = "*"

// Normalize validates p and returns a normalized copy: actions sorted and
// unique, resources with no action dropped. Names are 1 to 64 bytes of
// lower-case ASCII letters, digits, '_', '.' and '-'; p has at most 64
// resources and 32 actions per resource. A violation is an [*InvalidError]
// whose Path names the offending resource or action. nil stays nil.
func Normalize(p Permissions) (Permissions, error) {
	return normalize(p, false)
}

func normalize(p Permissions, allowStar bool) (Permissions, error) {
	if p == nil {
		return nil, nil
	}
	if len(p) > MaxResources {
		return nil, &InvalidError{Path: "permissions", Reason: "at most " + strconv.Itoa(MaxResources) + " resources"}
	}
	out := make(Permissions, len(p))
	for r, actions := range p {
		if reason := checkName(r, allowStar); reason != "" {
			return nil, &InvalidError{Path: quote(r), Reason: "resource " + reason}
		}
		if len(actions) > MaxActions {
			return nil, &InvalidError{Path: quote(r), Reason: "at most " + strconv.Itoa(MaxActions) + " actions per resource"}
		}
		for i, a := range actions {
			if reason := checkName(a, allowStar); reason != "" {
				return nil, &InvalidError{Path: quote(r) + pathIndex(i), Reason: "action " + reason}
			}
		}
		if len(actions) == 0 {
			continue
		}
		sorted := slices.Clone(actions)
		slices.Sort(sorted)
		out[r] = slices.Compact(sorted)
	}
	return out, nil
}

// checkName returns "" for a valid name, else why it is not.
func checkName(s string, allowStar bool) string {
	if s == Star {
		if allowStar {
			return ""
		}
		return `"*" is not a wildcard and this policy does not define it; name the actions, e.g. "read"`
	}
	if len(s) == 0 || len(s) > MaxNameLength {
		return "names are 1 to " + strconv.Itoa(MaxNameLength) + " characters"
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if ('a' <= c && c <= 'z') || ('0' <= c && c <= '9') || c == '_' || c == '.' || c == '-' {
			continue
		}
		return "names use only a-z, 0-9, '_', '.' and '-' (lower case)"
	}
	return ""
}

// quote renders a name for an error path; names that break the grammar may
// hold any bytes, so they are quoted and shortened.
func quote(s string) string {
	if checkName(s, true) == "" {
		return s
	}
	if len(s) > MaxNameLength {
		s = s[:MaxNameLength] + "…"
	}
	return strconv.Quote(s)
}
