package policy

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Config describes a [Policy]. Every bound that is set applies at once: the
// cap is their intersection. See [New] for what is a configuration error.
type Config struct {
	// Max is a static maximum for every subject. nil means no static bound.
	Max Permissions
	// Roles maps a role name to what it grants; a subject's role bound is the
	// union of its roles' permissions. nil means roles are not a bound (an
	// empty, non-nil map is a bound that grants nothing).
	Roles map[string]Permissions
	// MaxFunc returns a per-subject maximum. nil means no such bound. It is
	// called on every [Policy.Cap], including at key verification, so it
	// should be fast; an error it returns is returned as is.
	MaxFunc func(ctx context.Context, s Subject) (Permissions, error)
	// AllowClientPermissions lets clients choose a key's permissions (within
	// the cap). When false, every key gets Default cut to the cap, and a
	// request that names permissions is refused.
	AllowClientPermissions bool
	// AllowClientMetadata lets clients set a key's metadata (its "metadata"
	// field over HTTP). When false only the server sets it, through
	// keys.Manager, and a client request that names it is refused.
	// Metadata never takes part in an authorization decision.
	AllowClientMetadata bool
	// Default is what a key gets when the client names no permissions; it is
	// cut to the cap. With no bound configured at all, Default is the cap.
	Default Permissions

	// DefaultLifetime is the lifetime of a key whose client names none.
	// 0 means the key gets the longest lifetime allowed (none: no expiry).
	DefaultLifetime time.Duration
	// MaxLifetime bounds every key's lifetime. 0 means no bound.
	MaxLifetime time.Duration
	// MaxLifetimeFor bounds the lifetime of keys holding matching
	// permissions. Keys are "resource:action" patterns in which either side
	// may be "*", matching any name: {"*:delete": 30 * 24 * time.Hour}
	// bounds every key that may delete anything. This is the only place
	// where "*" is a wildcard: in permissions it is a literal ([Star]).
	// nil or empty: no such bound.
	MaxLifetimeFor map[string]time.Duration
	// IPAllowListFor names the permissions a key may hold only when it is
	// limited to IP ranges (keys' allowed_ips): "resource:action" patterns
	// in which either side may be "*", as in MaxLifetimeFor ("*:delete").
	// A key holding a matching permission without an allow-list is
	// refused at creation and on change with an [*AllowListError], and an
	// older one holds none of them at verification. nil or empty: no such
	// rule.
	IPAllowListFor []string

	// Records lets the app answer what a subject may do on one record, so
	// that keys limited to records ([Resources]) are checked against the
	// owner's live access to each of them at creation and at every request
	// a record guard admits, and so that pickers can list them. nil: keys
	// may still be limited to records (a restriction narrows, nothing
	// widens), but only their permissions and the restriction are checked.
	Records *Records

	// MaxKeys bounds how many live keys (neither revoked nor expired) one
	// owner may hold, keys created by keys included. nil means
	// [DefaultMaxKeys]; 0 means no limit: MaxKeys: new(20), or new(0).
	// A negative value is refused.
	MaxKeys *int

	// Members returns the rights user holds now in org, a subject with
	// [Subject].Organization set: the permissions the app gives them
	// there. Return [ErrNotMember] (or an error wrapping it) when user is
	// not a member. A member holding ManageKeys may create, list, change,
	// rotate and revoke the organization's keys, within its cap and their
	// rights in it. It is called on every such request, so it should be
	// fast; it is never called at key verification. nil: no user manages
	// any organization's keys.
	Members func(ctx context.Context, org Subject, user string) (Permissions, error)
	// ManageKeys is the permission, among a member's rights (Members), that
	// lets them manage the organization's keys, such as "keys:manage".
	// Required with Members.
	ManageKeys string

	// Templates are named presets of permissions ([Template]), listed to
	// clients in this order; a key may be created from one by name. They
	// need AllowClientPermissions. nil: none.
	Templates []Template
}

// DefaultMaxKeys is the number of live keys an owner may hold when
// [Config].MaxKeys is nil.
const DefaultMaxKeys = 100

// noPermissions is a shared, read-only empty cap.
var noPermissions = Permissions{}

// Policy decides what a subject may grant. Create one with [New]; it is
// immutable and safe for concurrent use.
type Policy struct {
	max, defaults   Permissions
	roles           map[string]Permissions
	maxFunc         func(context.Context, Subject) (Permissions, error)
	allowClient     bool
	clientMetadata  bool
	stars           Permissions            // the permissions naming the literal "*" ([Star]) the configuration declares
	roleCaps        map[string]Permissions // Max ∩ role, for the one-role fast path of Cap
	defaultLifetime time.Duration
	maxLifetime     time.Duration
	lifetimeRules   []lifetimeRule
	maxKeys         int // 0: no limit

	allowListRules []lifetimeRule // IPAllowListFor, with no lifetime

	recordResources map[string]bool // Records.Resources; nil without Records
	recordActions   func(context.Context, Subject, string, string) ([]string, error)
	recordList      func(context.Context, Subject, string, int) ([]Record, error)
	members         func(context.Context, Subject, string) (Permissions, error) // nil: no organization keys managed by users
	manageKeys      [2]string                                                   // resource and action of ManageKeys
	templates       []Template                                                  // Config.Templates, normalized
}

// New validates c and returns the Policy it describes. It refuses a
// configuration that lets clients choose permissions with no bound at all
// (no Max, Roles or MaxFunc): that would be "anything goes". Permissions in
// c must follow the grammar of [Normalize], except that they may name "*",
// which then becomes a literal permission of this policy.
func New(c Config) (*Policy, error) {
	if c.AllowClientPermissions && c.Max == nil && c.Roles == nil && c.MaxFunc == nil {
		return nil, errors.New("policy: AllowClientPermissions needs a bound: set Max, Roles or MaxFunc")
	}
	p := &Policy{
		maxFunc:         c.MaxFunc,
		allowClient:     c.AllowClientPermissions,
		clientMetadata:  c.AllowClientMetadata,
		defaultLifetime: c.DefaultLifetime,
		maxLifetime:     c.MaxLifetime,
		maxKeys:         DefaultMaxKeys,
	}
	if c.MaxKeys != nil {
		if *c.MaxKeys < 0 {
			return nil, fmt.Errorf("policy: MaxKeys is %d: give the live keys an owner may hold, 0 for no limit, or nil for %d", *c.MaxKeys, DefaultMaxKeys)
		}
		p.maxKeys = *c.MaxKeys
	}
	var err error
	if p.max, err = normalize(c.Max, true); err != nil {
		return nil, fmt.Errorf("policy: Max: %w", err)
	}
	if p.defaults, err = normalize(c.Default, true); err != nil {
		return nil, fmt.Errorf("policy: Default: %w", err)
	}
	declared := []Permissions{p.max, p.defaults}
	if c.Roles != nil {
		p.roles = make(map[string]Permissions, len(c.Roles))
		for name, perms := range c.Roles {
			if p.roles[name], err = normalize(perms, true); err != nil {
				return nil, fmt.Errorf("policy: Roles[%q]: %w", name, err)
			}
			declared = append(declared, p.roles[name])
		}
	}
	p.stars = starsIn(declared...)
	p.roleCaps = make(map[string]Permissions, len(p.roles))
	for name, perms := range p.roles {
		if p.max != nil {
			perms = Intersect(p.max, perms)
		}
		p.roleCaps[name] = perms
	}
	if err := p.setLifetimes(c); err != nil {
		return nil, err
	}
	if err := p.setAllowList(c); err != nil {
		return nil, err
	}
	if err := p.setTemplates(c); err != nil {
		return nil, err
	}
	if err := p.setMembers(c); err != nil {
		return nil, err
	}
	if err := p.setRecords(c); err != nil {
		return nil, err
	}
	return p, nil
}

// MustNew is like [New] but panics on a configuration error.
func MustNew(c Config) *Policy {
	p, err := New(c)
	if err != nil {
		panic(err)
	}
	return p
}

// MaxKeys returns how many live keys one owner may hold; 0 means no limit.
func (p *Policy) MaxKeys() int { return p.maxKeys }

// AllowsClientPermissions reports whether clients may choose permissions.
func (p *Policy) AllowsClientPermissions() bool { return p.allowClient }

// AllowsClientMetadata reports whether clients may set keys' metadata
// ([Config].AllowClientMetadata).
func (p *Policy) AllowsClientMetadata() bool { return p.clientMetadata }

// Cap returns what s may grant: the intersection of every configured bound
// and of extra bounds (such as the permissions of the API key making the
// request). With no bound configured the cap is Default. A disabled subject
// gets [ErrSubjectDisabled]. The result may be shared: do not modify it.
func (p *Policy) Cap(ctx context.Context, s Subject, bounds ...Permissions) (Permissions, error) {
	if s.Disabled {
		return nil, ErrSubjectDisabled
	}
	if p.maxFunc == nil && len(bounds) == 0 {
		// The common case at every key verification: precomputed, no
		// allocation. The result is shared and must not be modified.
		switch {
		case p.roles != nil && len(s.Roles) == 1:
			if c, ok := p.roleCaps[s.Roles[0]]; ok {
				return c, nil
			}
			return noPermissions, nil
		case p.roles == nil && p.max != nil:
			return p.max, nil
		}
	}
	var out Permissions
	bounded := false
	apply := func(b Permissions) {
		if bounded {
			out = Intersect(out, b)
		} else {
			out, bounded = b, true
		}
	}
	if p.max != nil {
		apply(p.max)
	}
	if p.roles != nil {
		apply(p.roleBound(s.Roles))
	}
	if p.maxFunc != nil {
		m, err := p.maxFunc(ctx, s)
		if err != nil {
			return nil, err
		}
		if m, err = normalize(m, true); err != nil {
			return nil, fmt.Errorf("policy: MaxFunc for %q: %w", s.ID, err)
		}
		apply(m)
	}
	if !bounded {
		apply(p.defaults)
	}
	for _, b := range bounds {
		apply(b)
	}
	if out == nil {
		out = Permissions{}
	}
	return out, nil
}

func (p *Policy) roleBound(roles []string) Permissions {
	if len(roles) == 1 { // the common case: no union to build
		if perms, ok := p.roles[roles[0]]; ok {
			return perms
		}
		return Permissions{}
	}
	sets := make([]Permissions, 0, len(roles))
	for _, r := range roles {
		sets = append(sets, p.roles[r])
	}
	return Union(sets...)
}

// Grant returns the normalized permissions to store on a key that s asks for
// with requested (nil: the client named none), within the cap and extra
// bounds. It returns an [*InvalidError] for malformed permissions, for
// permissions named where the policy does not allow clients to choose, or
// for an empty result; an [*ExceedsError] for anything beyond the cap; or an
// error from [Policy.Cap].
func (p *Policy) Grant(ctx context.Context, s Subject, requested Permissions, bounds ...Permissions) (Permissions, error) {
	if requested != nil && !p.allowClient {
		return nil, &InvalidError{Path: "permissions", Reason: "this app does not let clients choose permissions; leave them out"}
	}
	maximum, err := p.Cap(ctx, s, bounds...)
	if err != nil {
		return nil, err
	}
	var granted Permissions
	if requested == nil {
		granted = Intersect(p.defaults, maximum)
	} else {
		if granted, err = p.normalizeRequest(requested); err != nil {
			return nil, err
		}
		if excess := Excess(granted, maximum); !excess.IsEmpty() {
			// Cap may return the policy's own maps; the error goes to callers.
			return nil, &ExceedsError{Exceeded: excess, Maximum: maximum.Clone()}
		}
	}
	switch {
	case granted.IsEmpty() && requested == nil && p.allowClient:
		return nil, &InvalidError{Path: "permissions", Err: ErrEmpty,
			Reason: "send the permissions the key needs: new keys get none by default here (the policy's Default is empty or beyond your cap)"}
	case granted.IsEmpty():
		return nil, &InvalidError{Path: "permissions", Reason: "a key needs at least one permission you may grant", Err: ErrEmpty}
	}
	return granted, nil
}

// normalizeRequest normalizes client input, accepting the literal "*"
// ([Star]) only in the permissions the policy's configuration names.
func (p *Policy) normalizeRequest(requested Permissions) (Permissions, error) {
	n, err := normalize(requested, !p.stars.IsEmpty())
	if err != nil {
		return nil, err
	}
	// Paths name the offending action as the client sent it, like Normalize's.
	for r, actions := range requested {
		for i, a := range actions {
			if (r == Star || a == Star) && !p.stars.Has(r, a) {
				path := quote(r) + pathIndex(i)
				if r == Star && p.stars[r] == nil {
					path = quote(r)
				}
				return nil, &InvalidError{Path: path, Reason: fmt.Sprintf("%q is not a wildcard and this policy does not define %q", Star, r+":"+a)}
			}
		}
	}
	return n, nil
}

// starsIn returns the permissions of sets that name the literal "*" as
// resource or action.
func starsIn(sets ...Permissions) Permissions {
	out := Permissions{}
	for _, set := range sets {
		for r, actions := range set {
			for _, a := range actions {
				if r == Star || a == Star {
					out[r] = append(out[r], a)
				}
			}
		}
	}
	return Union(out)
}
