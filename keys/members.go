package keys

import (
	"context"
	"errors"

	"github.com/keycaphq/keycap/audit"
	"github.com/keycaphq/keycap/policy"
)

// side says on whose side an actor acts for a key of an owner.
type side struct {
	// owner: the owner, one of its keys, keycap, nobody recorded, or a
	// member managing an organization's keys. Otherwise an admin or an
	// operator, who may only stop keys.
	owner bool
	// member: a user managing the keys of an organization; rights are
	// theirs in it, a bound on what they grant.
	member bool
	rights policy.Permissions
	// refusal is why a user who is not the owner is not on its side when
	// they are a member without the right to manage keys
	// ([*policy.ManageError]); nil otherwise.
	refusal error
}

// sideOf returns on whose side actor acts for a key of owner, checking a
// member's rights in an organization as they are now.
func (m *Manager) sideOf(ctx context.Context, actor audit.Actor, owner string) (side, error) {
	if actsFor(actor, owner) {
		return side{owner: true}, nil
	}
	if actor.Kind != audit.KindUser {
		return side{}, nil
	}
	rights, err := m.Manages(ctx, actor.ID, owner)
	var manage *policy.ManageError
	switch {
	case errors.Is(err, policy.ErrNotMember):
		return side{}, nil // an admin, whose powers the caller checked, or nobody
	case errors.As(err, &manage):
		return side{refusal: err}, nil
	case err != nil:
		return side{}, err
	}
	return side{owner: true, member: true, rights: rights}, nil
}

// Manages returns the rights user holds now in owner, an organization
// ([policy.Subject].Organization), when those rights let them manage its
// keys ([policy.Config].ManageKeys). It returns [policy.ErrNotMember] when
// user is not a member, owner is not an organization or does not exist;
// a [*policy.ManageError] for a member without the right to manage keys;
// [policy.ErrSubjectDisabled] to a member of a disabled organization (to anyone
// else, ErrNotMember: it answers as one that does not exist); or the
// Subjects' and Members' other errors. [Manager.Create], Update, Rotate
// and Revoke check it themselves for an Actor who is a user other than
// the owner; an HTTP layer asks it before listing or reading an
// organization's keys.
func (m *Manager) Manages(ctx context.Context, user, owner string) (policy.Permissions, error) {
	if user == "" || user == owner || !validText(owner) {
		return nil, policy.ErrNotMember
	}
	org, err := m.subjects.Subject(ctx, owner)
	if errors.Is(err, policy.ErrUnknownSubject) {
		return nil, policy.ErrNotMember
	} else if err != nil {
		return nil, err
	}
	rights, manage, err := m.policy.MemberRights(ctx, org, user)
	if err != nil {
		return nil, err
	}
	if !manage {
		return nil, &policy.ManageError{Owner: owner, Permission: m.policy.ManageKeys()}
	}
	return rights, nil
}

// sideRefusal is what an actor not on the owner's side gets for a change
// only that side may make.
func (s side) sideRefusal() error {
	if s.refusal != nil {
		return s.refusal
	}
	return ErrAdminChange
}

// grantFor returns what may be put on a key of owner asked for by s:
// within the owner's cap and the caller's permissions and, for a member of
// an organization, their rights in it. A refusal beyond a member's bounds
// names them ([policy.ExceedsError].Bounds).
func (m *Manager) grantFor(ctx context.Context, owner string, requested policy.Permissions, caller *Verified, s side, kc *kind) (policy.Permissions, error) {
	subject, err := m.subjects.Subject(ctx, owner)
	if err != nil {
		return nil, err
	}
	bounds := append(callerBounds(caller), kc.bounds()...)
	if s.member {
		bounds = append(bounds, s.rights)
	}
	granted, err := m.policy.Grant(ctx, subject, requested, bounds...)
	var exceeds *policy.ExceedsError
	if s.member && errors.As(err, &exceeds) {
		if orgCap, capErr := m.policy.Cap(ctx, subject, kc.bounds()...); capErr == nil && !policy.Excess(exceeds.Exceeded, orgCap).IsEmpty() {
			exceeds.Bounds = append(exceeds.Bounds, "organization")
		}
		if !policy.Excess(exceeds.Exceeded, s.rights).IsEmpty() {
			exceeds.Bounds = append(exceeds.Bounds, "user")
		}
	}
	return granted, err
}
