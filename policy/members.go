package policy

import (
	"context"
	"fmt"
)

// MemberRights returns what user may do now in org, an organization
// ([Subject].Organization): the rights [Config].Members gives, normalized,
// and whether they include [Config].ManageKeys, the permission to manage
// the organization's keys. It returns [ErrNotMember] when user is not a
// member, when org is not an organization or when no Members is
// configured, and [ErrOrganizationDisabled] to a member of a disabled
// organization. Membership is asked first: to anyone else a disabled
// organization answers as one that does not exist.
func (p *Policy) MemberRights(ctx context.Context, org Subject, user string) (rights Permissions, manage bool, err error) {
	if p.members == nil || !org.Organization || user == "" || user == org.ID {
		return nil, false, ErrNotMember
	}
	rights, err = p.members(ctx, org, user)
	if err != nil {
		return nil, false, err
	}
	if org.Disabled {
		return nil, false, ErrOrganizationDisabled
	}
	if rights, err = normalize(rights, true); err != nil {
		return nil, false, fmt.Errorf("policy: Members for %q in %q: %w", user, org.ID, err)
	}
	if rights == nil {
		rights = Permissions{}
	}
	return rights, rights.Has(p.manageKeys[0], p.manageKeys[1]), nil
}

// ManageKeys returns the permission a member needs to manage an
// organization's keys ([Config].ManageKeys), "" when none is configured.
func (p *Policy) ManageKeys() string {
	if p.members == nil {
		return ""
	}
	return p.manageKeys[0] + ":" + p.manageKeys[1]
}

// setMembers checks and keeps c.Members and c.ManageKeys.
func (p *Policy) setMembers(c Config) error {
	if c.Members == nil {
		if c.ManageKeys != "" {
			return fmt.Errorf("policy: ManageKeys needs Members")
		}
		return nil
	}
	perms, err := Parse(c.ManageKeys)
	if err != nil || len(perms) != 1 {
		return fmt.Errorf("policy: Members needs ManageKeys, one \"resource:action\" permission (such as \"keys:manage\")")
	}
	for r, actions := range perms {
		if len(actions) != 1 {
			return fmt.Errorf("policy: ManageKeys is one \"resource:action\" permission")
		}
		p.manageKeys = [2]string{r, actions[0]}
	}
	p.members = c.Members
	return nil
}
