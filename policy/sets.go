package policy

import "slices"

// Subset reports whether every action in a is also in b. Both are expected
// normalized. The empty set is a subset of everything.
func Subset(a, b Permissions) bool {
	for r, actions := range a {
		for _, action := range actions {
			if !b.Has(r, action) {
				return false
			}
		}
	}
	return true
}

// Intersect returns the actions present in both a and b, normalized.
func Intersect(a, b Permissions) Permissions {
	out := make(Permissions, min(len(a), len(b)))
	for r, actions := range a {
		var kept []string
		for _, action := range actions {
			if b.Has(r, action) {
				kept = append(kept, action)
			}
		}
		if len(kept) > 0 {
			out[r] = kept
		}
	}
	return out
}

// Union returns every action present in any of sets, normalized.
func Union(sets ...Permissions) Permissions {
	out := Permissions{}
	for _, p := range sets {
		for r, actions := range p {
			out[r] = append(out[r], actions...)
		}
	}
	for r, actions := range out {
		slices.Sort(actions)
		out[r] = slices.Compact(actions)
	}
	return out
}

// Excess returns exactly the part of requested beyond maximum: the actions
// in requested that maximum does not hold. It is empty iff
// [Subset](requested, maximum).
func Excess(requested, maximum Permissions) Permissions {
	out := Permissions{}
	for r, actions := range requested {
		var over []string
		for _, action := range actions {
			if !maximum.Has(r, action) {
				over = append(over, action)
			}
		}
		if len(over) > 0 {
			out[r] = over
		}
	}
	return out
}

// Satisfies reports whether granted holds every required "resource:action".
// A required string that is not of that form is never satisfied.
func Satisfies(granted Permissions, required ...string) bool {
	for _, s := range required {
		if !granted.hasString(s) {
			return false
		}
	}
	return true
}

// Missing returns the required "resource:action" strings that granted does
// not hold, in the order given; nil when granted satisfies them all.
func Missing(granted Permissions, required ...string) []string {
	var out []string
	for _, s := range required {
		if !granted.hasString(s) {
			out = append(out, s)
		}
	}
	return out
}

func (p Permissions) hasString(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == ':' {
			return p.Has(s[:i], s[i+1:])
		}
	}
	return false
}
