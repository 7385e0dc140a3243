package main

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/policy"
	"github.com/keycaphq/keycap/ui"
)

// The demo's organization, Acme: its keys belong to it, not to whoever
// made them. Its cap is acmeCap; bob is one of its admins (he may manage
// its keys), alice a plain member.
const acmeID = "org:acme"

var (
	acmeCap    = policy.MustParse("files:read", "files:write", "projects:read")
	acmeAdmin  = policy.MustParse("files:read", "files:write", "projects:read", "keys:manage")
	acmeMember = policy.MustParse("files:read", "projects:read")
)

// kinds are the demo's kinds of keys besides the default: live keys, and
// test keys that only read and live at most 30 days.
var kinds = map[string]keys.Kind{
	"live": {Prefix: "kclive"},
	"test": {Prefix: "kctest", Max: policy.MustParse("files:read", "projects:read"), MaxLifetime: 30 * 24 * time.Hour},
}

// organizations holds the demo's organizations and their members' rights:
// the rights a member holds in an organization, keys:manage letting them
// manage its keys. Safe for concurrent use; changed by tests (a demotion,
// a smaller cap) as an app's admin screens would.
type organizations struct {
	mu      sync.RWMutex
	orgs    map[string]policy.Subject
	members map[string]map[string]policy.Permissions // org, user
}

func newOrganizations() *organizations {
	return &organizations{
		orgs: map[string]policy.Subject{acmeID: {ID: acmeID, Roles: []string{"acme"}, Organization: true}},
		members: map[string]map[string]policy.Permissions{acmeID: {
			"bob": acmeAdmin, "alice": acmeMember,
		}},
	}
}

// subject returns the organization with id, if there is one.
func (o *organizations) subject(id string) (policy.Subject, bool) {
	o.mu.RLock()
	defer o.mu.RUnlock()
	s, ok := o.orgs[id]
	return s, ok
}

// rights implements policy.Config.Members.
func (o *organizations) rights(_ context.Context, org policy.Subject, user string) (policy.Permissions, error) {
	o.mu.RLock()
	defer o.mu.RUnlock()
	r, ok := o.members[org.ID][user]
	if !ok {
		return nil, policy.ErrNotMember
	}
	return r, nil
}

// owners lists the organizations user is a member of, for the key page's
// "Keys of" choice (ui.Options.Owners): the page offers those whose keys
// they may manage (keys:manage among their rights) and drops the others.
func (o *organizations) owners(user string) []ui.Owner {
	o.mu.RLock()
	defer o.mu.RUnlock()
	var out []ui.Owner
	for id, members := range o.members {
		if _, ok := members[user]; ok {
			out = append(out, ui.Owner{ID: id, Name: orgNames[id]})
		}
	}
	slices.SortFunc(out, func(a, b ui.Owner) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// memberIDs returns the members of org, sorted.
func (o *organizations) memberIDs(org string) []string {
	o.mu.RLock()
	defer o.mu.RUnlock()
	ids := make([]string, 0, len(o.members[org]))
	for id := range o.members[org] {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// orgNames are what the pages call the organizations.
var orgNames = map[string]string{acmeID: "Acme"}

// setMember gives user rights in org; nil removes them.
func (o *organizations) setMember(org, user string, rights policy.Permissions) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if rights == nil {
		delete(o.members[org], user)
		return
	}
	o.members[org][user] = rights
}

// setCap gives Acme another cap (a role of roles, or "acme").
func (o *organizations) setCap(role string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	s := o.orgs[acmeID]
	s.Roles = []string{role}
	o.orgs[acmeID] = s
}

// withOrgs answers for organizations before the users: an organization's
// id starts with "org:", which no demo user's does.
type withOrgs struct {
	policy.Subjects
	orgs *organizations
}

func (w withOrgs) Subject(ctx context.Context, id string) (policy.Subject, error) {
	if strings.HasPrefix(id, "org:") {
		if s, ok := w.orgs.subject(id); ok {
			return s, nil
		}
		return policy.Subject{}, policy.ErrUnknownSubject
	}
	return w.Subjects.Subject(ctx, id)
}
