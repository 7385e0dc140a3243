package keycaptest

import (
	"net/http"

	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/middleware"
	"github.com/keycaphq/keycap/policy"
)

type appConfig struct {
	policy  policy.Config
	store   keys.Store
	users   map[string][]string
	manager func(*keys.Config)
	options func(*middleware.Options)
	routes  func(*http.ServeMux)
}

// AppOption configures [NewApp]. Options apply in order; a later one of
// the same kind replaces an earlier one, except [WithUser], which adds.
type AppOption func(*appConfig)

// WithPolicy replaces the default policy ([DefaultPolicy]); a Config that
// policy.New refuses fails the test.
func WithPolicy(c policy.Config) AppOption { return func(cfg *appConfig) { cfg.policy = c } }

// WithCap makes limit, a static maximum, the only bound, with
// client-chosen permissions allowed and no roles.
func WithCap(limit policy.Permissions) AppOption {
	return WithPolicy(policy.Config{AllowClientPermissions: true, Max: limit})
}

// WithStore replaces the default in-memory store; nil keeps it.
func WithStore(s keys.Store) AppOption { return func(cfg *appConfig) { cfg.store = s } }

// WithUser adds user id with roles to the directory. Once any WithUser is
// given, the default users alice and bob are not added.
func WithUser(id string, roles ...string) AppOption {
	return func(cfg *appConfig) {
		if cfg.users == nil {
			cfg.users = map[string][]string{}
		}
		cfg.users[id] = roles
	}
}

// WithManager lets f change the keys.Config (Store, Policy, Subjects and
// a random Secret already set) before the Manager is built; nil changes
// nothing.
func WithManager(f func(*keys.Config)) AppOption { return func(cfg *appConfig) { cfg.manager = f } }

// WithMiddleware lets f change the middleware.Options (Manager and
// Sessions already set) before middleware.New; nil changes nothing.
func WithMiddleware(f func(*middleware.Options)) AppOption {
	return func(cfg *appConfig) { cfg.options = f }
}

// WithRoutes lets f register the app's own routes on [App.Mux], behind
// sessions and Authenticate; nil registers none.
func WithRoutes(f func(mux *http.ServeMux)) AppOption { return func(cfg *appConfig) { cfg.routes = f } }

// Roles of [DefaultPolicy], the example app's. Tests may read them; they
// must not change them.
var (
	// Member may read projects and read and write files.
	Member = policy.Permissions{"projects": {"read"}, "files": {"read", "write"}}
	// Owner may do everything with projects and files, and read billing.
	Owner = policy.Permissions{"projects": {"read", "write", "delete"}, "files": {"read", "write", "delete"}, "billing": {"read"}}
)

// DefaultPolicy lets clients choose permissions, capped by the [Owner]
// role's permissions and by the user's roles ("member": [Member], "owner":
// [Owner]). Each call returns a new Config
// holding copies of the roles, free to change.
func DefaultPolicy() policy.Config {
	return policy.Config{
		AllowClientPermissions: true,
		Max:                    policy.Union(Owner),
		Roles:                  map[string]policy.Permissions{"member": policy.Union(Member), "owner": policy.Union(Owner)},
	}
}
