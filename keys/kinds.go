package keys

import (
	"errors"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/keycaphq/keycap/policy"
)

// Kind is a kind of key an app defines besides the default one, such as
// Stripe's "live" and "test" keys: its own prefix, which verification
// reads to pick the kind with no lookup, and bounds of its own on top of
// the policy's. A key's kind is chosen at creation ([CreateRequest].Kind)
// and never changes.
type Kind struct {
	// Prefix starts the keys of this kind, as [Config].Prefix: 1 to 16
	// lower-case letters and digits, starting with a letter, distinct from
	// every other kind's and from Config.Prefix. Required.
	Prefix string
	// Max bounds what keys of this kind may hold, within the owner's cap,
	// at creation, on change and at every verification. nil: no bound but
	// the policy's.
	Max policy.Permissions
	// DefaultLifetime is the lifetime of a key of this kind whose client
	// names none; 0: the policy's default.
	DefaultLifetime time.Duration
	// MaxLifetime bounds the lifetime of keys of this kind, counted from
	// creation, on top of the policy's maximum; 0: the policy's only.
	MaxLifetime time.Duration
}

// kinds holds the configured kinds by name ("" the default) and prefix.
type kinds struct {
	byName   map[string]*kind
	byPrefix map[string]*kind
}

// kind is a configured Kind with its name.
type kind struct {
	Kind
	name string
}

// newKinds checks c.Kinds and adds the default kind, of prefix.
func newKinds(c Config, prefix string) (kinds, error) {
	ks := kinds{byName: map[string]*kind{}, byPrefix: map[string]*kind{}}
	def := &kind{Kind: Kind{Prefix: prefix}}
	ks.byName[""], ks.byPrefix[prefix] = def, def
	for name, k := range c.Kinds {
		switch {
		case !validKindName(name):
			return ks, errors.New("keys: Config.Kinds: a kind's name is 1 to 32 lower-case letters, digits, '_' or '-': " + strconv.Quote(name))
		case !validPrefix(k.Prefix):
			return ks, errors.New("keys: Config.Kinds[" + strconv.Quote(name) + "].Prefix must be 1 to 16 lower-case letters and digits, starting with a letter")
		case ks.byPrefix[k.Prefix] != nil:
			return ks, errors.New("keys: Config.Kinds[" + strconv.Quote(name) + "].Prefix " + strconv.Quote(k.Prefix) + " is another kind's prefix")
		case k.DefaultLifetime < 0 || k.MaxLifetime < 0 || (k.MaxLifetime > 0 && k.DefaultLifetime > k.MaxLifetime):
			return ks, errors.New("keys: Config.Kinds[" + strconv.Quote(name) + "]: lifetimes must not be negative, and DefaultLifetime at most MaxLifetime")
		}
		kc := &kind{Kind: k, name: name}
		if k.Max != nil {
			bound, err := policy.Normalize(k.Max)
			if err != nil {
				return ks, errors.New("keys: Config.Kinds[" + strconv.Quote(name) + "].Max: " + err.Error())
			}
			kc.Max = bound
		}
		ks.byName[name], ks.byPrefix[k.Prefix] = kc, kc
	}
	return ks, nil
}

// pattern matches the keys of every kind and nothing else of their form.
func (ks kinds) pattern() *regexp.Regexp {
	if len(ks.byPrefix) == 1 {
		return pattern(ks.byName[""].Prefix)
	}
	prefixes := make([]string, 0, len(ks.byPrefix))
	for p := range ks.byPrefix {
		prefixes = append(prefixes, regexp.QuoteMeta(p))
	}
	slices.Sort(prefixes)
	return patternOf(`(?:` + strings.Join(prefixes, "|") + `)`)
}

// named returns the kind called name, or a [*FieldError].
func (ks kinds) named(name string) (*kind, error) {
	if k, ok := ks.byName[name]; ok {
		return k, nil
	}
	names := make([]string, 0, len(ks.byName))
	for n := range ks.byName {
		if n != "" {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	reason := "this app has no other kind of key; leave kind out"
	if len(names) > 0 {
		reason = "kind is one of " + strings.Join(names, ", ") + ", or left out for the default"
	}
	return nil, &FieldError{Field: "kind", Reason: reason}
}

// of returns the kind of k: its record's, the default when the kind is no
// longer configured (such a key is refused at verification).
func (ks kinds) of(k *Key) *kind {
	if kc, ok := ks.byName[k.Kind]; ok {
		return kc
	}
	return ks.byName[""]
}

// bounds returns the kind's bound on permissions, as extra bounds of a cap.
func (kc *kind) bounds() []policy.Permissions {
	if kc.Max == nil {
		return nil
	}
	return []policy.Permissions{kc.Max}
}

// maxLifetime is the longest a key of kind kc holding perms may live under
// p: the shorter of the policy's maximum and the kind's; 0 for no bound.
func (kc *kind) maxLifetime(p *policy.Policy, perms policy.Permissions) time.Duration {
	d := p.MaxLifetime(perms)
	if kc.MaxLifetime > 0 && (d == 0 || kc.MaxLifetime < d) {
		d = kc.MaxLifetime
	}
	return d
}

// Kinds returns the kinds of keys this Manager creates and accepts, by
// name: Config.Kinds and the default kind under "" (with Config.Prefix).
// The map is the caller's; the Permissions in it are shared: do not modify
// them.
func (m *Manager) Kinds() map[string]Kind {
	out := make(map[string]Kind, len(m.kinds.byName))
	for name, k := range m.kinds.byName {
		out[name] = k.Kind
	}
	return out
}

func validKindName(s string) bool {
	if len(s) < 1 || len(s) > 32 {
		return false
	}
	for _, r := range s {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '_' && r != '-' {
			return false
		}
	}
	return true
}
