package main

import (
	"embed"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/alexedwards/scs/v2/memstore"

	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/middleware"
	"github.com/keycaphq/keycap/policy"
	"github.com/keycaphq/keycap/session"
)

//go:embed static templates
var assets embed.FS

// sessionKey is where the scs session holds the logged-in user's id.
const sessionKey = "userID"

// config is what newApp needs; main fills it from flags and the environment.
type config struct {
	DBPath string // SQLite database file; the server secret is kept beside it
	Secret string // KEYCAP_SECRET (hex or base64); "" means the file DBPath+".secret"
	// BcryptCost hashes the demo passwords; 0 means bcrypt.DefaultCost.
	BcryptCost int
	// LastUsedInterval is how often a key's "last used" is written; 0 means 10 s.
	LastUsedInterval time.Duration
	Logger           *slog.Logger // nil means slog.Default()
}

// app is the example: an http.Handler over keycap, sessions, the page and
// the demo API. Close it to flush key bookkeeping and close the database.
type app struct {
	handler   http.Handler
	logger    *slog.Logger
	users     *directory
	sessions  *session.SCSSessions
	manager   *keys.Manager
	templates *template.Template
	closers   []func() error
}

// newApp builds the app: it opens (and migrates) the database, reads or
// creates the server secret, and wires keycap.
func newApp(cfg config) (*app, error) {
	a := &app{logger: cfg.Logger}
	if a.logger == nil {
		a.logger = slog.Default()
	}
	if err := a.build(cfg); err != nil {
		_ = a.Close()
		return nil, err
	}
	return a, nil
}

func (a *app) build(cfg config) (err error) {
	if cfg.DBPath == "" {
		return errors.New("config: DBPath is required")
	}
	if a.users, err = newDirectory(cfg.BcryptCost); err != nil {
		return err
	}
	secret, err := serverSecret(cfg.Secret, cfg.DBPath+".secret", a.logger)
	if err != nil {
		return err
	}
	store, closeStore, err := openStore(cfg.DBPath)
	if err != nil {
		return err
	}
	a.closers = append(a.closers, closeStore)
	pol, err := policy.New(policy.Config{AllowClientPermissions: true, Max: ownerRole, Roles: roles})
	if err != nil {
		return err
	}
	interval := cfg.LastUsedInterval
	if interval == 0 {
		interval = 10 * time.Second
	}
	a.manager, err = keys.NewManager(keys.Config{
		Store: store, Policy: pol, Subjects: a.users, Secret: secret,
		Cache:            keys.CacheConfig{SingleInstance: true}, // one process owns the SQLite file
		LastUsedInterval: interval,
	})
	if err != nil {
		return err
	}
	a.closers = append([]func() error{a.manager.Close}, a.closers...) // flush before the store closes

	// Sessions live in memory: a restart logs everybody out (keys stay).
	// The store's cleanup goroutine is never stopped: its StopCleanup races
	// with the goroutine's start (scs v2.9.0), and it is one per process.
	sm := scs.New()
	sm.Store = memstore.New()
	sm.Lifetime = 12 * time.Hour
	sm.Cookie.Name = "keycap_session" // HttpOnly and SameSite=Lax by default
	// Behind HTTPS, also set sm.Cookie.Secure = true.
	a.sessions = session.SCS(sm, sessionKey)

	kc, err := middleware.New(middleware.Options{Manager: a.manager, Sessions: a.sessions})
	if err != nil {
		return err
	}
	if a.templates, err = template.New("").Funcs(templateFuncs).ParseFS(assets, "templates/*.html"); err != nil {
		return err
	}
	a.handler = securityHeaders(sm.LoadAndSave(kc.Authenticate(a.routes(kc))))
	return nil
}

// ServeHTTP serves the app.
func (a *app) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.handler.ServeHTTP(w, r) }

// Close flushes the keys' last-used bookkeeping and closes the database.
func (a *app) Close() error {
	var errs []error
	for _, c := range a.closers {
		errs = append(errs, c())
	}
	a.closers = nil
	return errors.Join(errs...)
}
