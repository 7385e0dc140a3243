package keycaptest

import (
	"crypto/rand"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/alexedwards/scs/v2"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/keys/memstore"
	"github.com/keycaphq/keycap/middleware"
	"github.com/keycaphq/keycap/policy"
	"github.com/keycaphq/keycap/session"
)

// SessionKey is the scs key under which [App] stores the user id.
const SessionKey = "userID"

// App is a ready-made keycap app on a [Server]: scs sessions, a
// keys.Manager over a Store, the keys handler at /api-keys, a route GET
// /whoami answering the caller's principal as JSON, and the routes of
// [WithRoutes], served as Sessions.LoadAndSave(Keycap.Authenticate(Mux)).
// It is what keycap's own tests use, and serves to test a keys.Store, an
// Auditor or Options over HTTP; an app tests itself with [Start]. Create
// it with [NewApp]. The fields are set by NewApp; read them, and change
// only Users after the first request.
type App struct {
	// Server is the running app; [Server.LogIn] logs in through Sessions.
	*Server
	// Mux holds the routes, behind Sessions and Keycap.
	Mux *http.ServeMux
	// Users is the user directory of Manager: change it between requests
	// to demote, disable or delete users.
	Users *Users
	// Store holds the keys: a memstore unless [WithStore].
	Store keys.Store
	// Manager manages the keys; it is closed when the test ends.
	Manager *keys.Manager
	// Keycap is the HTTP side, its Sessions reading [SessionKey] in Sessions.
	Keycap *middleware.Keycap
	// Sessions is the scs manager of the app's sessions, with scs's
	// defaults (an in-memory store).
	Sessions *scs.SessionManager
}

// NewApp starts an [App]. By default: [DefaultPolicy], a memstore, and the
// users "alice" (member) and "bob" (owner).
func NewApp(t testing.TB, opts ...AppOption) *App {
	t.Helper()
	cfg := &appConfig{policy: DefaultPolicy()}
	for _, o := range opts {
		o(cfg)
	}
	if cfg.users == nil {
		cfg.users = map[string][]string{"alice": {"member"}, "bob": {"owner"}}
	}
	if cfg.store == nil {
		cfg.store = memstore.New()
	}
	a := &App{Mux: http.NewServeMux(), Users: NewUsers(), Store: cfg.store, Sessions: scs.New()}
	for id, roles := range cfg.users {
		a.Users.Set(id, roles...)
	}
	a.Manager = newManager(t, cfg, a.Users)
	sessions := session.SCS(a.Sessions, SessionKey)
	mopts := middleware.Options{Manager: a.Manager, Sessions: sessions}
	if cfg.options != nil {
		cfg.options(&mopts)
	}
	var err error
	a.Keycap, err = middleware.New(mopts)
	require.NoError(t, err)
	a.Keycap.Mount(a.Mux)
	a.Mux.HandleFunc("GET /whoami", whoami)
	if cfg.routes != nil {
		cfg.routes(a.Mux)
	}
	a.Server = Start(t, a.Sessions.LoadAndSave(a.Keycap.Authenticate(a.Mux)), WithSessions(sessions))
	return a
}

// newManager builds the Manager of cfg over users, closed when t ends
// (after the server, whose Close was registered later).
func newManager(t testing.TB, cfg *appConfig, users *Users) *keys.Manager {
	t.Helper()
	pol, err := policy.New(cfg.policy)
	require.NoError(t, err)
	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	kcfg := keys.Config{Store: cfg.store, Policy: pol, Subjects: users, Secret: secret}
	if cfg.manager != nil {
		cfg.manager(&kcfg)
	}
	m, err := keys.NewManager(kcfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = m.Close() })
	return m
}

// whoami answers the caller's principal as JSON, or 401 for nobody.
func whoami(w http.ResponseWriter, r *http.Request) {
	p, ok := middleware.PrincipalFrom(r.Context())
	if !ok {
		http.Error(w, "nobody", http.StatusUnauthorized)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]string{"owner_id": p.OwnerID(), "key_id": p.KeyID(), "permissions": p.Permissions().String()})
}
