package policy

import (
	"context"
	"errors"
	"slices"
)

// GrantResources returns the restriction to store on a key that s asks to
// limit to requested (nil: no restriction of its own), holding granted,
// asked for through a calling key whose effective restriction is bound
// (nil: none, or a person asks). In order:
//   - requested must be valid ([NormalizeResources]) and name only
//     resources granted holds actions on ([*InvalidError]);
//   - within bound: a resource of granted that bound limits and requested
//     does not gets bound's ids; ids outside bound, or a resource of which
//     bound lets no record through, are a [*RecordsError] (Delegation set);
//   - each requested id of a resource [Records] answers for must be a
//     record s can do every action of granted on now; the others are a
//     [*RecordsError].
//
// Nothing here widens a key: without Records a restriction still narrows.
func (p *Policy) GrantResources(ctx context.Context, s Subject, granted Permissions, requested, bound Resources) (Resources, error) {
	res, err := NormalizeResources(requested)
	if err != nil {
		return nil, err
	}
	for name := range res {
		if len(granted[name]) == 0 {
			return nil, &InvalidError{Path: "resources." + quote(name),
				Reason: "the key holds no permission on " + name + ": give it one, or leave " + name + " out of resources"}
		}
	}
	if outside := OutsideResources(res, bound); outside != nil {
		// A resource the client left out is inherited below, not refused.
		for name, ids := range outside {
			if ids == nil {
				delete(outside, name)
			}
		}
		if len(outside) > 0 {
			return nil, p.recordsError(ctx, s, granted, outside, true)
		}
	}
	if refused, err := p.unreachable(ctx, s, granted, res); err != nil || refused != nil {
		if err != nil {
			return nil, err
		}
		return nil, p.recordsError(ctx, s, granted, refused, false)
	}
	for name, ids := range bound {
		if _, own := res[name]; own || len(granted[name]) == 0 {
			continue // a key holding nothing on name is still cut to bound at every verification
		}
		if len(ids) == 0 {
			return nil, p.recordsError(ctx, s, granted, Resources{name: {}}, true)
		}
		if res == nil {
			res = Resources{}
		}
		res[name] = slices.Clone(ids)
	}
	return res, nil
}

// unreachable returns the ids of res that s cannot do every action of
// granted on, per resource [Records] answers for; nil when there are none.
func (p *Policy) unreachable(ctx context.Context, s Subject, granted Permissions, res Resources) (Resources, error) {
	var refused Resources
	for name, ids := range res {
		for _, id := range ids {
			live, checked, err := p.RecordActions(ctx, s, name, id)
			if errors.Is(err, ErrNoRecord) {
				live, err = nil, nil // refused below, like a record out of reach
			}
			if err != nil {
				return nil, err
			}
			if !checked {
				break
			}
			for _, action := range granted[name] {
				if !slices.Contains(live, action) {
					if refused == nil {
						refused = Resources{}
					}
					refused[name] = append(refused[name], id)
					break
				}
			}
		}
	}
	return refused, nil
}

// recordsError builds the refusal of records, with the key's actions on
// their resources and the owner's cap.
func (p *Policy) recordsError(ctx context.Context, s Subject, granted Permissions, records Resources, delegation bool) error {
	maximum, err := p.Cap(ctx, s)
	if err != nil {
		return err
	}
	exceeded := Permissions{}
	for name := range records {
		exceeded[name] = slices.Clone(granted[name])
	}
	return &RecordsError{Records: records, Exceeded: exceeded, Maximum: maximum.Clone(), Delegation: delegation}
}
