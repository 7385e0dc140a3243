package policy

import (
	"slices"
	"strconv"
)

// Limits of a [Resources] restriction that [NormalizeResources] enforces.
const (
	MaxRecordIDLength     = 64  // bytes in a record id
	MaxRecordsPerResource = 100 // ids listed for one resource
	MaxRecords            = 200 // ids listed in one restriction, all resources together
	MaxRecordResources    = 16  // resources one restriction names
)

// Resources limits a key to particular records, per resource:
// {"projects": ["1", "2"]} lets the key act on projects 1 and 2 only. A
// resource with no entry is not limited: the key reaches every record of it
// that its owner can reach. nil is no restriction at all.
//
// Normalized values (from [NormalizeResources] and the functions of this
// package) list each resource with its ids sorted and unique. In a key's
// stored restriction no list is empty; an effective restriction
// ([IntersectResources] along a delegation chain) may hold an empty list,
// which lets no record of that resource through (a Store keeps one
// faithfully all the same). Treat normalized values
// as read-only; [Resources.Clone] gives a copy to change.
type Resources map[string][]string

// Allows reports whether r lets the record id of resource through: always
// when r has no entry for resource, else only when the entry lists id. It
// expects r normalized, and does not allocate.
func (r Resources) Allows(resource, id string) bool {
	ids, limited := r[resource]
	if !limited {
		return true
	}
	_, found := slices.BinarySearch(ids, id)
	return found
}

// Clone returns a deep copy of r. The clone of nil is nil.
func (r Resources) Clone() Resources {
	if r == nil {
		return nil
	}
	c := make(Resources, len(r))
	for res, ids := range r {
		c[res] = slices.Clone(ids)
	}
	return c
}

// Equal reports whether r and o hold the same restriction; nil and empty
// are equal (both restrict nothing). Both are expected normalized.
func (r Resources) Equal(o Resources) bool {
	if len(r) != len(o) {
		return false
	}
	for res, ids := range r {
		other, ok := o[res]
		if !ok || !slices.Equal(ids, other) {
			return false
		}
	}
	return true
}

// NormalizeResources validates a restriction as a client sends it and
// returns it normalized: ids sorted and unique; nil for nil or an empty
// map (no restriction). Resource names follow the grammar of [Normalize];
// an id is 1 to [MaxRecordIDLength] bytes of ASCII letters, digits, '_',
// '.', '-', ':' and '@'. A resource lists 1 to [MaxRecordsPerResource]
// ids (an empty list would let the key reach no record: leave the resource
// out instead), a restriction at most [MaxRecords] ids over at most
// [MaxRecordResources] resources. A violation is an [*InvalidError] whose
// Path is "resources", "resources.<resource>" or
// "resources.<resource>[<index>]".
func NormalizeResources(in Resources) (Resources, error) {
	if len(in) == 0 {
		return nil, nil
	}
	if len(in) > MaxRecordResources {
		return nil, &InvalidError{Path: "resources", Reason: "at most " + strconv.Itoa(MaxRecordResources) + " resources may be limited to records"}
	}
	out := make(Resources, len(in))
	total := 0
	for res, ids := range in {
		path := "resources." + quote(res)
		if reason := checkName(res, false); reason != "" {
			return nil, &InvalidError{Path: path, Reason: "resource " + reason}
		}
		switch {
		case len(ids) == 0:
			return nil, &InvalidError{Path: path, Reason: "name at least one record, or leave " + res + " out to reach every record you can"}
		case len(ids) > MaxRecordsPerResource:
			return nil, &InvalidError{Path: path, Reason: "at most " + strconv.Itoa(MaxRecordsPerResource) + " records per resource; leave " + res + " out to reach every record you can"}
		}
		for i, id := range ids {
			if reason := checkRecordID(id); reason != "" {
				return nil, &InvalidError{Path: path + pathIndex(i), Reason: reason}
			}
		}
		sorted := slices.Clone(ids)
		slices.Sort(sorted)
		out[res] = slices.Compact(sorted)
		if total += len(out[res]); total > MaxRecords {
			return nil, &InvalidError{Path: "resources", Reason: "at most " + strconv.Itoa(MaxRecords) + " records in all"}
		}
	}
	return out, nil
}

// ValidRecordID reports whether id is a record id a restriction may name
// (see [NormalizeResources]).
func ValidRecordID(id string) bool { return checkRecordID(id) == "" }

func checkRecordID(id string) string {
	if len(id) == 0 || len(id) > MaxRecordIDLength {
		return "record ids are 1 to " + strconv.Itoa(MaxRecordIDLength) + " characters"
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9') || c == '_' || c == '.' || c == '-' || c == ':' || c == '@' {
			continue
		}
		return "record ids use only letters, digits, '_', '.', '-', ':' and '@'"
	}
	return ""
}

// IntersectResources returns the restriction of a key limited by both a
// and b (a delegated key and its parent): for a resource both limit, the
// ids both list (possibly none); for a resource one limits, its ids; nil
// when neither limits anything. Both are expected normalized; the result
// may share lists with them.
func IntersectResources(a, b Resources) Resources {
	switch {
	case len(b) == 0:
		return a
	case len(a) == 0:
		return b
	}
	out := make(Resources, len(a)+len(b))
	for res, ids := range a {
		out[res] = ids
	}
	for res, ids := range b {
		mine, ok := out[res]
		if !ok {
			out[res] = ids
			continue
		}
		both := []string{}
		for _, id := range mine {
			if _, found := slices.BinarySearch(ids, id); found {
				both = append(both, id)
			}
		}
		out[res] = both
	}
	return out
}

// OutsideResources returns the ids inner lists that outer does not let
// through (see [Resources.Allows]), per resource; nil when inner lies
// within outer. A resource inner does not limit while outer does is
// reported with a nil list: inner would reach every record of it.
func OutsideResources(inner, outer Resources) Resources {
	var out Resources
	for res := range outer {
		ids, limited := inner[res]
		if !limited {
			if out == nil {
				out = Resources{}
			}
			out[res] = nil
			continue
		}
		for _, id := range ids {
			if !outer.Allows(res, id) {
				if out == nil {
					out = Resources{}
				}
				out[res] = append(out[res], id)
			}
		}
	}
	return out
}
