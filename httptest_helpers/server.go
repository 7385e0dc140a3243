package keycaptest

import (
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/alexedwards/scs/v2"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/keys/memstore"
	"github.com/keycaphq/keycap/middleware"
	"github.com/keycaphq/keycap/policy"
	"github.com/keycaphq/keycap/session"
)

// SessionKey is the scs key under which [Server] stores the user id.
const SessionKey = "userID"

// Server is a running test app: scs sessions, a keys.Manager over a Store,
// the keys handler at /api-keys and Authenticate around Mux. Close is
// registered with t.Cleanup.
type Server struct {
	*httptest.Server
	Mux      *http.ServeMux
	Users    *Users
	Store    keys.Store
	Manager  *keys.Manager
	Keycap   *middleware.Keycap
	Sessions *scs.SessionManager
}

type config struct {
	policy  policy.Config
	store   keys.Store
	users   map[string][]string
	manager func(*keys.Config)
	options func(*middleware.Options)
	routes  func(*http.ServeMux)
}

// Option configures [NewServer].
type Option func(*config)

// WithPolicy replaces the default policy (see [DefaultPolicy]).
func WithPolicy(c policy.Config) Option { return func(cfg *config) { cfg.policy = c } }

// WithCap sets a static maximum as the only bound, with client-chosen
// permissions allowed.
func WithCap(max policy.Permissions) Option {
	return WithPolicy(policy.Config{AllowClientPermissions: true, Max: max})
}

// WithStore replaces the default in-memory store.
func WithStore(s keys.Store) Option { return func(cfg *config) { cfg.store = s } }

// WithUser adds user id with roles to the directory (replacing the default
// users alice and bob once any WithUser is given).
func WithUser(id string, roles ...string) Option {
	return func(cfg *config) {
		if cfg.users == nil {
			cfg.users = map[string][]string{}
		}
		cfg.users[id] = roles
	}
}

// WithManager changes the keys.Config before the Manager is built.
func WithManager(f func(*keys.Config)) Option { return func(cfg *config) { cfg.manager = f } }

// WithMiddleware changes the middleware.Options before New.
func WithMiddleware(f func(*middleware.Options)) Option { return func(cfg *config) { cfg.options = f } }

// WithRoutes registers the app's own routes on the mux.
func WithRoutes(f func(mux *http.ServeMux)) Option { return func(cfg *config) { cfg.routes = f } }

// Roles of the default policy: the example app's.
var (
	Member = policy.Permissions{"projects": {"read"}, "files": {"read", "write"}}
	Owner  = policy.Permissions{"projects": {"read", "write", "delete"}, "files": {"read", "write", "delete"}, "billing": {"read"}}
)

// DefaultPolicy lets clients choose permissions, capped by the owner
// role's permissions and by the user's roles ("member" and "owner").
func DefaultPolicy() policy.Config {
	return policy.Config{
		AllowClientPermissions: true,
		Max:                    Owner,
		Roles:                  map[string]policy.Permissions{"member": Member, "owner": Owner},
	}
}

// NewServer starts a test app. By default: [DefaultPolicy], a memstore,
// users "alice" (member) and "bob" (owner), and a route GET /whoami that
// answers the caller's principal as JSON.
func NewServer(t testing.TB, opts ...Option) *Server {
	t.Helper()
	cfg := &config{policy: DefaultPolicy()}
	for _, o := range opts {
		o(cfg)
	}
	if cfg.users == nil {
		cfg.users = map[string][]string{"alice": {"member"}, "bob": {"owner"}}
	}
	if cfg.store == nil {
		cfg.store = memstore.New()
	}
	s := &Server{Mux: http.NewServeMux(), Users: NewUsers(), Store: cfg.store, Sessions: scs.New()}
	for id, roles := range cfg.users {
		s.Users.Set(id, roles...)
	}
	pol, err := policy.New(cfg.policy)
	require.NoError(t, err)
	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	kcfg := keys.Config{Store: cfg.store, Policy: pol, Subjects: s.Users, Secret: secret}
	if cfg.manager != nil {
		cfg.manager(&kcfg)
	}
	s.Manager, err = keys.NewManager(kcfg)
	require.NoError(t, err)
	mopts := middleware.Options{Manager: s.Manager, Sessions: session.SCS(s.Sessions, SessionKey)}
	if cfg.options != nil {
		cfg.options(&mopts)
	}
	s.Keycap, err = middleware.New(mopts)
	require.NoError(t, err)
	path := strings.TrimSuffix(mopts.Path, "/") // as middleware.New reads it
	if path == "" {
		path = "/api-keys"
	}
	s.Mux.Handle(path, s.Keycap.KeysHandler())
	s.Mux.Handle(path+"/", s.Keycap.KeysHandler())
	s.Mux.HandleFunc("GET /whoami", func(w http.ResponseWriter, r *http.Request) {
		p, ok := middleware.PrincipalFrom(r.Context())
		if !ok {
			http.Error(w, "nobody", http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"owner_id": p.OwnerID, "key_id": p.KeyID, "permissions": p.Permissions.String()})
	})
	if cfg.routes != nil {
		cfg.routes(s.Mux)
	}
	s.Server = httptest.NewServer(s.Sessions.LoadAndSave(s.Keycap.Authenticate(s.Mux)))
	t.Cleanup(func() {
		s.Server.Close()
		_ = s.Manager.Close()
	})
	return s
}

// LogIn returns a client logged in as userID (with a fresh cookie jar).
func (s *Server) LogIn(t testing.TB, userID string) *Client {
	t.Helper()
	return NewClient(t, s.URL).WithCookie(t, SessionCookie(t, s.Sessions, SessionKey, userID))
}

// Anonymous returns a client with no session and no key.
func (s *Server) Anonymous(t testing.TB) *Client {
	t.Helper()
	return NewClient(t, s.URL)
}
