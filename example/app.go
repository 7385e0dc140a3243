package main

import (
	"context"
	"embed"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/keycaphq/keycap/audit"
	"github.com/keycaphq/keycap/audit/promaudit"
	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/keys/notify"
	"github.com/keycaphq/keycap/leaks"
	"github.com/keycaphq/keycap/middleware"
	"github.com/keycaphq/keycap/policy"
	"github.com/keycaphq/keycap/ratelimit"
	"github.com/keycaphq/keycap/session"
	"github.com/keycaphq/keycap/ui"
)

//go:embed static templates
var assets embed.FS

// sessionKey is where the scs session holds the logged-in user's id.
const sessionKey = "userID"

// config is what newApp needs; main fills it from flags and the environment.
type config struct {
	DBPath string // SQLite database file; the server secret is kept beside it
	Secret string // KEYCAP_SECRET (hex or base64), the secret "1"; "" means KEYCAP_SECRETS or the file DBPath+".secret" (SQLite only)
	// Secrets is KEYCAP_SECRETS: "2:<hex>,1:<hex>", newest first (see the
	// README's "Rotating the server secret"); "" means Secret or the file.
	Secrets string
	// DatabaseURL (postgres://...) replaces SQLite and in-memory sessions
	// and users with Postgres, shared by every instance; RedisURL adds the
	// Redis cache, sessions and rate limits. See backends.
	DatabaseURL, RedisURL string
	TablePrefix           string // of every table; "" means keycap_
	RedisPrefix           string // of every Redis key; "" means keycap:
	// IPRangesFor are the permission patterns a key may hold only when
	// limited to IP ranges (KEYCAP_REQUIRE_IP_RANGES="*:delete"); nil: none.
	IPRangesFor []string
	// RateLimit is each key's budget (KEYCAP_RATE_LIMIT); zero means none.
	RateLimit ratelimit.Limit
	// BcryptCost hashes the demo passwords; 0 means bcrypt.DefaultCost.
	BcryptCost int
	// NoCache turns the in-process key cache off (KEYCAP_CACHE=off): every
	// verification reads the store, as the load test measures.
	NoCache bool
	// Metrics, when set (KEYCAP_METRICS_ADDR), registers keycap's metrics
	// (audit/promaudit) here; nil means none.
	Metrics prometheus.Registerer
	// IntrospectionSecret (KEYCAP_INTROSPECTION_SECRET, at least 32 bytes)
	// lets other services introspect keys at POST /api-keys/introspect with
	// "Authorization: Bearer <secret>"; "" leaves introspection off.
	IntrospectionSecret string
	// LastUsedInterval is how often a key's "last used" is written; 0 means 10 s.
	LastUsedInterval time.Duration
	Logger           *slog.Logger // nil means slog.Default()

	// GitHubKeysFile (KEYCAP_GITHUB_KEYS_FILE) holds GitHub's secret
	// scanning public keys: set, POST /github/secret-scanning revokes the
	// keys GitHub finds in public. "" serves no such route.
	GitHubKeysFile string
	// NoticeInterval (KEYCAP_NOTICE_INTERVAL) is how often the notices
	// scheduler runs; 0 means a minute.
	NoticeInterval time.Duration
	// DisableUnusedAfter (KEYCAP_DISABLE_UNUSED_AFTER) disables keys
	// neither used nor changed for this long; 0 means never.
	DisableUnusedAfter time.Duration
}

// app is the example: an http.Handler over keycap, sessions, the page and
// the demo API. Close it to flush key bookkeeping and close the database.
type app struct {
	handler   http.Handler
	logger    *slog.Logger
	users     userDirectory
	orgs      *organizations // Acme and its members
	where     string         // where keys live, for the welcome message
	sessions  *session.SCSSessions
	manager   *keys.Manager
	activity  audit.Log // nil: no activity panel
	templates *template.Template
	keysPage  *ui.Page // the key manager (package ui), inside templates/page.html
	closers   []func() error
	projects  *projects // the demo's projects and their members

	// scheduler sends the owners' notices (see notices.go); main runs it.
	scheduler   *notify.Scheduler
	noticeStore notify.Store  // where sent notices are listed: the database behind any cache
	github      *leaks.GitHub // POST /github/secret-scanning; nil: not served
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
	b, err := openBackends(cfg, a.logger)
	if err != nil {
		return err
	}
	a.closers = append(a.closers, b.close)
	a.users, a.where = b.users, b.where
	a.orgs = newOrganizations()
	a.projects = newProjects()
	orgRoles := map[string]policy.Permissions{"acme": acmeCap}
	for name, r := range roles {
		orgRoles[name] = r
	}
	pol, err := policy.New(policy.Config{AllowClientPermissions: true, Max: ownerRole, Roles: orgRoles, Templates: templates,
		IPAllowListFor: cfg.IPRangesFor, // such as "*:delete": a key that may delete must be limited to IP ranges
		// Acme's members manage its keys with keys:manage among their rights in it.
		Members: a.orgs.rights, ManageKeys: "keys:manage",
		// Keys may carry the app's own JSON; clients may set it.
		AllowClientMetadata: true,
		Records:             a.projects.records()}) // who may do what on each project: see projects.go
	if err != nil {
		return err
	}
	if cfg.NoCache {
		b.cache = keys.CacheConfig{Disabled: true}
	}
	interval := cfg.LastUsedInterval
	if interval == 0 {
		interval = 10 * time.Second
	}
	auditor, activity := auditors(b.events, a.logger)
	a.activity = activity
	var observer audit.Observer // nil: none
	if cfg.Metrics != nil {
		m, err := promaudit.New(cfg.Metrics, promaudit.Options{})
		if err != nil {
			return err
		}
		observer, auditor = m, audit.Tee(auditor, m) // every verification; every change and denial
	}
	kc := keys.Config{
		Store: b.store, Policy: pol, Subjects: withOrgs{a.users, a.orgs},
		Kinds:            kinds,   // live and test keys, besides the default kc_
		Cache:            b.cache, // in process for SQLite only: see backends
		LastUsedInterval: interval,
		Auditor:          auditor, // see page.go: the Activity panel lists a.activity
		Observer:         observer,
		Logger:           a.logger,
	}
	b.secrets.Apply(&kc) // the newest secret and the older ones still accepted
	if a.manager, err = keys.NewManager(kc); err != nil {
		return err
	}
	a.logSecrets()
	a.closers = append([]func() error{a.manager.Close}, a.closers...) // flush before the store closes
	if err := a.buildNotices(cfg, b.events); err != nil {
		return err
	}

	sm := scs.New()
	sm.Store = b.sessions // memory, Postgres or Redis: see backends
	sm.Lifetime = 12 * time.Hour
	sm.Cookie.Name = "keycap_session" // HttpOnly and SameSite=Lax by default
	// Behind HTTPS, also set sm.Cookie.Secure = true.
	a.sessions = session.SCS(sm, sessionKey)

	mw, err := middleware.New(middleware.Options{Manager: a.manager, Sessions: a.sessions, Activity: a.activity, Logger: a.logger,
		RateLimit: middleware.RateLimit{PerKey: cfg.RateLimit, Algorithm: ratelimit.SlidingWindow, Limiter: b.limiter},
		// For other services and gateways (see README.md): introspection
		// with the shared secret, when set; forward auth by the API's rules.
		Introspection: middleware.Introspection{Secret: cfg.IntrospectionSecret},
		ForwardAuth:   middleware.ForwardAuth{Rules: gatewayRules()}})
	if err != nil {
		return err
	}
	if a.keysPage, err = a.newKeysPage(); err != nil {
		return err
	}
	if a.templates, err = template.New("").Funcs(template.FuncMap{"describe": ui.Describe}).ParseFS(assets, "templates/*.html"); err != nil {
		return err
	}
	// Keys are checked first; sessions load around every route but the
	// demo API's, where only requests without a key load them (see routes).
	a.handler = securityHeaders(mw.Authenticate(a.routes(mw, sm.LoadAndSave)))
	if b.wrap != nil {
		a.handler = b.wrap(a.handler)
	}
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

// logSecrets logs how many live keys each server secret hashes: before a
// secret is retired, how many keys that would refuse (the Manager logs a
// line for each older secret).
func (a *app) logSecrets() {
	counts, err := a.manager.SecretCounts(context.Background())
	if err != nil {
		a.logger.Warn("could not count the keys of each server secret", "err", err)
		return
	}
	a.logger.Info("live keys by server secret", "counts", counts)
}
