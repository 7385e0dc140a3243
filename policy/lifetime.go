package policy

import (
	"fmt"
	"strings"
	"time"
)

// LifetimeError reports a requested key lifetime beyond what the policy
// allows for the key's permissions.
type LifetimeError struct {
	// Requested is the lifetime asked for (keys.Manager counts a change's
	// from the key's creation); 0 means no expiry at all.
	Requested time.Duration
	// Maximum is the longest lifetime the policy allows for the key's
	// permissions ([Policy.MaxLifetime]); always positive.
	Maximum time.Duration
}

// Error names both durations.
func (e *LifetimeError) Error() string {
	return fmt.Sprintf("requested lifetime %s exceeds the maximum %s", e.Requested, e.Maximum)
}

// anyName is the wildcard of a MaxLifetimeFor pattern: "*" matches any
// resource or action there, unlike [Star] in permissions.
const anyName = "*"

// lifetimeRule is one MaxLifetimeFor pattern and its bound.
type lifetimeRule struct {
	resource, action string // a name, or anyName
	max              time.Duration
}

func (p *Policy) setLifetimes(c Config) error {
	if c.DefaultLifetime < 0 || c.MaxLifetime < 0 {
		return fmt.Errorf("policy: DefaultLifetime and MaxLifetime must not be negative")
	}
	for pattern, limit := range c.MaxLifetimeFor {
		resource, action, ok := strings.Cut(pattern, ":")
		if !ok || checkName(resource, true) != "" || checkName(action, true) != "" {
			return fmt.Errorf("policy: MaxLifetimeFor[%q]: want a \"resource:action\" pattern, either side may be \"*\"", pattern)
		}
		if limit <= 0 {
			return fmt.Errorf("policy: MaxLifetimeFor[%q]: the lifetime must be positive", pattern)
		}
		p.lifetimeRules = append(p.lifetimeRules, lifetimeRule{resource, action, limit})
	}
	return nil
}

// MaxLifetime returns the longest lifetime a key holding perms may have:
// the smallest of MaxLifetime and every matching MaxLifetimeFor rule.
// 0 means no bound.
func (p *Policy) MaxLifetime(perms Permissions) time.Duration {
	longest := p.maxLifetime
	for _, rule := range p.lifetimeRules {
		if (longest == 0 || rule.max < longest) && rule.matches(perms) {
			longest = rule.max
		}
	}
	return longest
}

func (r lifetimeRule) matches(perms Permissions) bool {
	for resource, actions := range perms {
		if r.resource != anyName && r.resource != resource {
			continue
		}
		for _, a := range actions {
			if r.action == anyName || r.action == a {
				return true
			}
		}
	}
	return false
}

// Lifetime returns the lifetime to give a key holding perms whose client
// asked for requested (0: the client named none). The result 0 means the key
// never expires. A request beyond [Policy.MaxLifetime] is a
// [*LifetimeError]; a negative one an [*InvalidError].
func (p *Policy) Lifetime(perms Permissions, requested time.Duration) (time.Duration, error) {
	longest := p.MaxLifetime(perms)
	switch {
	case requested < 0:
		return 0, &InvalidError{Path: "expires_in", Reason: "a lifetime must be positive"}
	case requested > 0 && requested < time.Second:
		return 0, &InvalidError{Path: "expires_in", Reason: "a lifetime is at least 1 second"}
	case requested == 0:
		d := p.defaultLifetime
		if d == 0 || (longest > 0 && d > longest) {
			d = longest
		}
		return d, nil
	case longest > 0 && requested > longest:
		return 0, &LifetimeError{Requested: requested, Maximum: longest}
	}
	return requested, nil
}
