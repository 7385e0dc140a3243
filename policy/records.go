package policy

import (
	"context"
	"errors"
	"fmt"
	"slices"
)

// Records tells keycap what a subject may do on one record of a resource,
// so that keys limited to records ([Resources]) are checked against the
// owner's live access to each record, at creation and at every request a
// record guard (middleware.RequireRecord) admits. Set it as
// [Config].Records. The functions must be safe for concurrent use; Actions
// is asked at most once per request and record, so it should be fast (an
// indexed query, a membership table in memory).
type Records struct {
	// Resources names the resources whose records Actions and List answer
	// for: a key's restriction of another resource still narrows it, but
	// nothing checks the owner's access to those records. Required: 1 to
	// [MaxRecordResources] names in the grammar of [Normalize].
	Resources []string
	// Actions returns the actions s may do now on the record id of
	// resource, such as ["read", "write"] for a member of project "42";
	// none (nil) for a record s cannot reach or that does not exist. An
	// error refuses what was asked (at a request: the app's error
	// answer, never an admission). Required. The slice is keycap's to read
	// and must not be changed afterwards.
	Actions func(ctx context.Context, s Subject, resource, id string) ([]string, error)
	// List returns up to limit records of resource that s can reach, for a
	// picker (GET /api-keys/grantable): id, a label to show and the actions
	// s may do on each. nil: no picker is offered (a client may still name
	// ids). Ids that break the grammar of [NormalizeResources] are an error.
	List func(ctx context.Context, s Subject, resource string, limit int) ([]Record, error)
}

// ErrNoRecord is what [Records].Actions returns for a record that does not
// exist: a record guard answers 404 NOT_FOUND (keycap.From), and a
// restriction naming it is refused like a record the owner cannot reach.
// Return no actions (nil) instead for a record the subject may not know
// of, so that a guard answers 403 as for any record out of reach.
var ErrNoRecord = errors.New("policy: no such record")

// Record is one record a subject can reach, as [Records].List returns it.
type Record struct {
	ID      string   `json:"id"`      // as a restriction names it
	Label   string   `json:"label"`   // what a person recognises it by, such as a project's name
	Actions []string `json:"actions"` // what the subject may do on it now, as [Records].Actions would say
}

// RecordsError reports a restriction naming records the key may not be
// limited to: records the owner cannot reach with the key's actions on
// that resource, or, for a key created or changed by a key, records
// outside that key's own restriction. It maps to 403
// PERMISSIONS_EXCEED_MAXIMUM with the records in details.records.
type RecordsError struct {
	// Records are the refused ids per resource; an empty list for a
	// resource means the calling key lets no record of it through, so a
	// key it creates may not act on that resource.
	Records Resources
	// Exceeded are the key's actions on those resources, which the owner
	// may not do on them (or which reach beyond the calling key).
	Exceeded Permissions
	// Maximum is the owner's cap, as for an [*ExceedsError].
	Maximum Permissions
	// Delegation is set when the bound was the calling key's restriction.
	Delegation bool
}

// Error names the refused records.
func (e *RecordsError) Error() string {
	return "records beyond the maximum: " + recordList(e.Records)
}

func recordList(r Resources) string {
	out := ""
	res := make([]string, 0, len(r))
	for name := range r {
		res = append(res, name)
	}
	slices.Sort(res)
	for _, name := range res {
		if out != "" {
			out += ", "
		}
		if r[name] == nil {
			out += name + " (every record)"
		}
		for i, id := range r[name] {
			if i > 0 {
				out += ", "
			}
			out += name + " " + id
		}
	}
	return out
}

// setRecords checks c.Records and keeps it.
func (p *Policy) setRecords(c Config) error {
	r := c.Records
	if r == nil {
		return nil
	}
	switch {
	case r.Actions == nil:
		return errors.New("policy: Records.Actions is required")
	case len(r.Resources) == 0 || len(r.Resources) > MaxRecordResources:
		return fmt.Errorf("policy: Records.Resources must name 1 to %d resources", MaxRecordResources)
	}
	p.recordResources = make(map[string]bool, len(r.Resources))
	for _, name := range r.Resources {
		if reason := checkName(name, false); reason != "" {
			return fmt.Errorf("policy: Records.Resources: %q: %s", name, reason)
		}
		p.recordResources[name] = true
	}
	p.recordActions, p.recordList = r.Actions, r.List
	return nil
}

// RecordResources returns the resources [Records] answers for, sorted;
// nil without Records.
func (p *Policy) RecordResources() []string {
	if p.recordResources == nil {
		return nil
	}
	out := make([]string, 0, len(p.recordResources))
	for name := range p.recordResources {
		out = append(out, name)
	}
	slices.Sort(out)
	return out
}

// RecordActions returns what s may do now on the record id of resource, as
// [Records].Actions says; checked is false when the policy has no Records
// for resource (then only a key's restriction narrows). A disabled subject
// may do nothing. The slice is shared: do not modify it.
func (p *Policy) RecordActions(ctx context.Context, s Subject, resource, id string) (actions []string, checked bool, err error) {
	if !p.recordResources[resource] {
		return nil, false, nil
	}
	if s.Disabled {
		return nil, true, nil
	}
	actions, err = p.recordActions(ctx, s, resource, id)
	return actions, true, err
}

// ListRecords returns up to limit (at most [MaxRecordsPerResource]) records
// of resource s can reach, for a picker; nil when the policy offers none
// for resource.
func (p *Policy) ListRecords(ctx context.Context, s Subject, resource string, limit int) ([]Record, error) {
	if p.recordList == nil || !p.recordResources[resource] || s.Disabled {
		return nil, nil
	}
	limit = min(max(limit, 1), MaxRecordsPerResource)
	list, err := p.recordList(ctx, s, resource, limit)
	if err != nil {
		return nil, err
	}
	if len(list) > limit {
		list = list[:limit]
	}
	for _, rec := range list {
		if !ValidRecordID(rec.ID) {
			return nil, fmt.Errorf("policy: Records.List for %q: %q is not a record id", resource, rec.ID)
		}
	}
	return list, nil
}

// RecordAllowed is the decision of a record guard: a caller holding perms
// (a key's effective permissions, or a session user's cap), limited to
// restriction (nil: not limited), may do action on the record id of
// resource only when perms holds resource:action, restriction lets id
// through, and, when checked, the owner's live actions on the record
// ([Policy.RecordActions]) hold action.
func RecordAllowed(perms Permissions, restriction Resources, resource, action, id string, live []string, checked bool) bool {
	return perms.Has(resource, action) && restriction.Allows(resource, id) && (!checked || slices.Contains(live, action))
}
