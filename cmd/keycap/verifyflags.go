package main

import (
	"cmp"
	"flag"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/policy"
)

// verifyFlags are what verify is told of the app's configuration.
type verifyFlags struct {
	use         bool
	keyPrefix   string
	kinds       map[string]keys.Kind
	maxLifetime time.Duration
}

// prefixes lists every key prefix the flags name.
func (f *verifyFlags) prefixes() []string {
	out := []string{cmp.Or(f.keyPrefix, defaultKeyPrefix)}
	for _, k := range f.kinds {
		out = append(out, k.Prefix)
	}
	slices.Sort(out)
	return out
}

// apply configures the Manager as the app's as far as the flags tell, and
// with no Auditor: an operator's check is not a request of the owner's and
// never shows in their activity as a refused one.
func (f *verifyFlags) apply(cfg *keys.Config) error {
	cfg.Auditor = nil
	cfg.Prefix, cfg.Kinds = f.keyPrefix, f.kinds
	p, err := policy.New(policy.Config{MaxLifetime: f.maxLifetime})
	if err != nil {
		return usageError{"verify: -max-lifetime: " + err.Error()}
	}
	cfg.Policy = p
	return nil
}

// notApplied says what the app checks at every request that this tool,
// which knows neither its policy nor its users, did not.
func (f *verifyFlags) notApplied() []string {
	lifetime := "lifetime: the policy's and the kind's maximum lifetime counted from creation (give -max-lifetime to apply one); expiry is the key's own, as stored"
	if f.maxLifetime > 0 {
		lifetime = "lifetime: the policy's rules per permission and the kind's maximum lifetime; only -max-lifetime " + f.maxLifetime.String() + " and the key's own expiry were applied"
	}
	return []string{
		"owner: whether the app still knows the owner and lets them use keys",
		"permissions: the owner's current cap and the kind's bound; the permissions shown are as stored, the app may grant fewer",
		lifetime,
	}
}

func (c *cli) verifyFlagSet(f *verifyFlags) *flag.FlagSet {
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	fs.BoolVar(&f.use, "use", false, "")
	fs.StringVar(&f.keyPrefix, "key-prefix", "", "")
	fs.Func("kind", "", func(v string) error {
		name, prefix, ok := strings.Cut(v, "=")
		if !ok || name == "" || prefix == "" {
			return fmt.Errorf("want <name>=<prefix>, such as live=sk, got %q", v)
		}
		if f.kinds == nil {
			f.kinds = map[string]keys.Kind{}
		}
		f.kinds[name] = keys.Kind{Prefix: prefix}
		return nil
	})
	fs.Func("max-lifetime", "", func(v string) (err error) {
		f.maxLifetime, err = age("max-lifetime", v)
		return err
	})
	return fs
}
