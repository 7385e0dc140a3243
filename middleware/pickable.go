package middleware

import (
	"context"

	"github.com/keycaphq/keycap/policy"
)

// maxPickable is how many records of one resource GET /grantable offers.
const maxPickable = policy.MaxRecordsPerResource

// pickable returns, per resource the policy's Records answer for and the
// caller may grant actions on (allowed), the records the caller may limit
// a key to: id, label and the actions of allowed the owner may do on each
// now; for a key, only the records of its own restriction. Records on
// which none of allowed applies are left out. {} without Records. The
// records are the owner's: the caller's own, or, for an organization's
// keys, the organization's.
func (kc *Keycap) pickable(ctx context.Context, p Principal, owner string, allowed policy.Permissions) (map[string][]policy.Record, error) {
	out := map[string][]policy.Record{}
	pol := kc.manager.Policy()
	sub := p.subject
	for _, resource := range pol.RecordResources() {
		if len(allowed[resource]) == 0 {
			continue
		}
		if sub.ID != owner {
			// Was a bug, fixed: an organization's picker listed the
			// member's own records, which creation then refused.
			s, err := kc.manager.Subject(ctx, owner)
			if err != nil {
				return nil, err
			}
			sub = s
		}
		list, err := pol.ListRecords(ctx, sub, resource, maxPickable)
		if err != nil {
			return nil, err
		}
		picks := []policy.Record{}
		for _, rec := range list {
			if !p.restriction.Allows(resource, rec.ID) {
				continue
			}
			var actions []string
			for _, a := range allowed[resource] {
				for _, live := range rec.Actions {
					if a == live {
						actions = append(actions, a)
						break
					}
				}
			}
			if len(actions) > 0 {
				picks = append(picks, policy.Record{ID: rec.ID, Label: rec.Label, Actions: actions})
			}
		}
		out[resource] = picks
	}
	return out, nil
}
