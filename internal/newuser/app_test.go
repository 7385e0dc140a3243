// Command newuser is a throwaway app wired from keycap's README and go doc
// alone, kept as a test-only package: a chi router, scs sessions with a form
// login, keys in Postgres through keys/sqlstore, a two-role policy, two
// guarded routes, the keys API with an admin permission, and Prometheus
// metrics on a listener of their own.
package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"errors"
	"log"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/go-chi/chi/v5"
	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/keycaphq/keycap/audit"
	"github.com/keycaphq/keycap/audit/promaudit"
	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/keys/sqlstore"
	"github.com/keycaphq/keycap/middleware"
	"github.com/keycaphq/keycap/policy"
	"github.com/keycaphq/keycap/session"
)

// user is a row of the app's in-memory user table.
type user struct {
	password string
	role     string
}

// userTable is the app's user table: the login form checks it and keycap
// asks it who a key's owner is now, at every verification.
type userTable struct {
	mu    sync.RWMutex
	users map[string]user
}

func newUserTable() *userTable {
	return &userTable{users: map[string]user{
		"alice": {password: "alice-pw", role: "member"},
		"bob":   {password: "bob-pw", role: "admin"},
		"carol": {password: "carol-pw", role: "member"},
	}}
}

func (u *userTable) check(id, password string) bool {
	u.mu.RLock()
	defer u.mu.RUnlock()
	row, ok := u.users[id]
	return ok && row.password == password
}

// setRole changes a user's role: a demotion applies to their keys at their
// next request.
func (u *userTable) setRole(id, role string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	row := u.users[id]
	row.role = role
	u.users[id] = row
}

// Subject implements policy.Subjects.
func (u *userTable) Subject(_ context.Context, id string) (policy.Subject, error) {
	u.mu.RLock()
	defer u.mu.RUnlock()
	row, ok := u.users[id]
	if !ok {
		return policy.Subject{}, policy.ErrUnknownSubject
	}
	return policy.Subject{ID: id, Roles: []string{row.role}}, nil
}

// config is what the app reads from its environment.
type config struct {
	DatabaseURL string
	TablePrefix string
	Secret      []byte
	// SkipForKeys wires kc.SkipForKeys(sessions) inside Authenticate instead
	// of loading the session around everything.
	SkipForKeys bool
	// Registerer receives the metrics; nil means a new registry.
	Registerer prometheus.Registerer
	// Routes, if set, adds routes (the attack tests' probes) to the router.
	Routes func(r chi.Router, sm *scs.SessionManager)
	// Tweak, if set, changes the middleware options before middleware.New.
	Tweak func(*middleware.Options)
}

// app is the wired application.
type app struct {
	Handler  http.Handler
	Sessions *scs.SessionManager
	SCS      *session.SCSSessions
	Manager  *keys.Manager
	Keycap   *middleware.Keycap
	Users    *userTable
	Store    *sqlstore.Store
	DB       *sql.DB
	Metrics  http.Handler
}

// ---- wiring starts here (counted) ----

func newApp(ctx context.Context, cfg config) (*app, error) {
	db, err := sql.Open("pgx", cfg.DatabaseURL)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(10)
	store, err := sqlstore.New(db, sqlstore.Postgres, sqlstore.Options{TablePrefix: cfg.TablePrefix})
	if err != nil {
		return nil, err
	}
	if err := store.Migrate(ctx); err != nil {
		return nil, err
	}
	pol, err := policy.New(policy.Config{
		AllowClientPermissions: true,
		Max:                    policy.MustParse("notes:read", "notes:delete", "keys:admin"),
		Roles: map[string]policy.Permissions{
			"member": policy.MustParse("notes:read"),
			"admin":  policy.MustParse("notes:read", "notes:delete", "keys:admin"),
		},
		MaxLifetime: 90 * 24 * time.Hour,
	})
	if err != nil {
		return nil, err
	}
	reg := cfg.Registerer
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	metrics, err := promaudit.New(reg, promaudit.Options{})
	if err != nil {
		return nil, err
	}
	users := newUserTable()
	events := sqlstore.NewAuditor(store)
	mgr, err := keys.NewManager(keys.Config{
		Store:    store,
		Policy:   pol,
		Subjects: users,
		Secret:   cfg.Secret,
		Observer: metrics,
		Auditor:  audit.Tee(events, metrics),
	})
	if err != nil {
		return nil, err
	}
	sm := scs.New()
	sessions := session.SCS(sm, "userID")
	opts := middleware.Options{Manager: mgr, Sessions: sessions, AdminPermission: "keys:admin", Activity: events}
	if cfg.Tweak != nil {
		cfg.Tweak(&opts)
	}
	kc, err := middleware.New(opts)
	if err != nil {
		mgr.Close()
		return nil, err
	}

	r := chi.NewRouter()
	r.Post("/login", func(w http.ResponseWriter, r *http.Request) {
		id := r.PostFormValue("user")
		if !users.check(id, r.PostFormValue("password")) {
			http.Error(w, "wrong user or password", http.StatusUnauthorized)
			return
		}
		if err := sessions.LogIn(r.Context(), id); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		http.Redirect(w, r, "/", http.StatusSeeOther)
	})
	r.Post("/logout", func(w http.ResponseWriter, r *http.Request) {
		if err := sessions.LogOut(r.Context()); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		http.Redirect(w, r, "/", http.StatusSeeOther)
	})
	r.Mount("/api-keys", kc.KeysHandler())
	r.With(middleware.Require("notes:read")).Get("/api/notes", listNotes)
	r.With(middleware.Require("notes:delete")).Delete("/api/notes/{id}", deleteNote)
	r.With(middleware.Require("notes:read")).Get("/api/me", func(w http.ResponseWriter, r *http.Request) {
		sm.Put(r.Context(), "visits", sm.GetInt(r.Context(), "visits")+1) // reads and writes the session
		p, _ := middleware.PrincipalFrom(r.Context())
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"session_user": sm.GetString(r.Context(), "userID"),
			"visits": sm.GetInt(r.Context(), "visits"), "kind": int(p.Kind()), "owner": p.OwnerID(), "key": p.KeyID()})
	})
	if cfg.Routes != nil {
		cfg.Routes(r, sm)
	}

	var h http.Handler
	if cfg.SkipForKeys {
		h = kc.Authenticate(kc.SkipForKeys(sessions)(r))
	} else {
		h = sm.LoadAndSave(kc.Authenticate(r))
	}
	return &app{Handler: h, Sessions: sm, SCS: sessions, Manager: mgr, Keycap: kc, Users: users, Store: store, DB: db,
		Metrics: promhttp.HandlerFor(reg.(prometheus.Gatherer), promhttp.HandlerOpts{})}, nil
}

// ---- wiring ends here ----

func listNotes(w http.ResponseWriter, r *http.Request) {
	p := middleware.MustPrincipal(r.Context())
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"owner": p.OwnerID(), "notes": []string{"buy milk"}})
}

func deleteNote(w http.ResponseWriter, r *http.Request) {
	w.WriteHeader(http.StatusNoContent)
}

func main() {
	secret := []byte(os.Getenv("APP_SECRET"))
	if len(secret) == 0 {
		secret = []byte(rand.Text() + rand.Text())
	}
	dsn := os.Getenv("DATABASE_URL")
	if dsn == "" {
		dsn = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	}
	a, err := newApp(context.Background(), config{DatabaseURL: dsn, TablePrefix: "newuser_", Secret: secret})
	if err != nil {
		log.Fatal(err)
	}
	defer a.Manager.Close()
	go func() {
		log.Println(http.ListenAndServe("127.0.0.1:9090", a.Metrics)) // metrics, not on the public listener
	}()
	err = http.ListenAndServe("127.0.0.1:8080", a.Handler)
	if !errors.Is(err, http.ErrServerClosed) {
		log.Println(err)
	}
}
