package policy

import (
	"fmt"
	"strings"
)

// AllowListError reports a key that would hold permissions the policy
// grants only to keys limited to IP ranges ([Config].IPAllowListFor),
// without such a list.
type AllowListError struct {
	// Permissions are the key's permissions that need an allow-list;
	// never empty. The error's own: the caller may keep and change them.
	Permissions Permissions
}

// Error names the permissions that need an allow-list.
func (e *AllowListError) Error() string {
	return "a key that may " + e.Permissions.String() + " must be limited to IP ranges"
}

// setAllowList reads Config.IPAllowListFor.
func (p *Policy) setAllowList(c Config) error {
	for _, pattern := range c.IPAllowListFor {
		resource, action, ok := strings.Cut(pattern, ":")
		if !ok || checkName(resource, true) != "" || checkName(action, true) != "" {
			return fmt.Errorf("policy: IPAllowListFor %q: want a \"resource:action\" pattern, either side may be \"*\"", pattern)
		}
		p.allowListRules = append(p.allowListRules, lifetimeRule{resource: resource, action: action})
	}
	return nil
}

// NeedsAllowList returns the permissions of perms that a key may hold only
// when limited to IP ranges ([Config].IPAllowListFor), in a new set; nil
// when there are none, as always when the policy has no such rule.
func (p *Policy) NeedsAllowList(perms Permissions) Permissions {
	if len(p.allowListRules) == 0 {
		return nil
	}
	var out Permissions
	for resource, actions := range perms {
		for _, a := range actions {
			for _, rule := range p.allowListRules {
				if (rule.resource == anyName || rule.resource == resource) && (rule.action == anyName || rule.action == a) {
					if out == nil {
						out = Permissions{}
					}
					out[resource] = append(out[resource], a)
					break
				}
			}
		}
	}
	return out
}
