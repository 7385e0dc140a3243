package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/alexedwards/scs/v2/memstore"

	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/keys/sqlstore"
	"github.com/keycaphq/keycap/ratelimit"
)

// backends are where the app keeps its state, chosen by the configuration:
//
//   - nothing set: keys in the SQLite file DBPath, cached in process
//     (SingleInstance: this process is the only one), sessions in memory,
//     the demo users in memory. One process.
//   - DatabaseURL (postgres://): keys, sessions and users in Postgres, the
//     in-process key cache off, so several processes can share it and a
//     change made through one is seen by the others at their next request.
//   - DatabaseURL and RedisURL: keys in Postgres behind the coherent Redis
//     cache (keys/rediscache), sessions and rate-limit counters in Redis.
type backends struct {
	store    keys.Store
	events   *sqlstore.Store // where audit events are kept: the database behind any cache
	cache    keys.CacheConfig
	users    userDirectory
	sessions scs.Store
	limiter  ratelimit.Limiter // nil: rate limits, if set, count in process
	secrets  keyring
	// wrap wraps the app's handler: with Postgres, withRequestStart, so
	// that a verification reads the key and its owner in one round trip.
	// nil: nothing.
	wrap    func(http.Handler) http.Handler
	where   string         // where keys live, for the welcome message
	closers []func() error // run in order by Close
}

// openBackends opens what cfg names and logs which backends are in use. On
// error it closes whatever it had opened.
func openBackends(cfg config, logger *slog.Logger) (*backends, error) {
	b := &backends{}
	var err error
	switch {
	case cfg.DatabaseURL == "" && cfg.RedisURL != "":
		err = errors.New("REDIS_URL is for several instances sharing a database: set DATABASE_URL too")
	case cfg.DatabaseURL == "":
		err = b.openSQLite(cfg, logger)
	default:
		err = b.openShared(cfg, logger)
	}
	if err != nil {
		return nil, errors.Join(err, b.close())
	}
	return b, nil
}

// openSQLite is the default: one process, no setup.
func (b *backends) openSQLite(cfg config, logger *slog.Logger) error {
	if cfg.DBPath == "" {
		return errors.New("config: DBPath is required")
	}
	users, err := newDirectory(cfg.BcryptCost)
	if err != nil {
		return err
	}
	b.users = users
	if b.secrets, err = serverSecrets(cfg.Secret, cfg.Secrets, cfg.DBPath+".secret", logger); err != nil {
		return err
	}
	store, closeStore, err := openStore(cfg.DBPath, cfg.TablePrefix, logger)
	if err != nil {
		return err
	}
	b.store, b.events, b.closers = store, store, append(b.closers, closeStore)
	b.cache = keys.CacheConfig{SingleInstance: true} // one process owns the SQLite file
	// Sessions live in memory: a restart logs everybody out (keys stay).
	// The store's cleanup goroutine is never stopped: its StopCleanup races
	// with the goroutine's start (scs v2.9.0), and it is one per process.
	b.sessions = memstore.New()
	b.where = cfg.DBPath
	cached := " (cached in process)"
	if cfg.NoCache {
		cached = " (not cached: a lookup per request)"
	}
	logger.Info("backends: one instance", "keys", "sqlite "+cfg.DBPath+cached,
		"sessions", "memory", "users", "memory", "rate_limit", describeRateLimit(cfg.RateLimit, "memory"))
	return nil
}

// openShared is for several instances: Postgres, and Redis when set.
func (b *backends) openShared(cfg config, logger *slog.Logger) error {
	if cfg.Secret == "" && cfg.Secrets == "" {
		return errors.New("DATABASE_URL is set but KEYCAP_SECRET is not: instances sharing a database " +
			"must share the server secret (make one with: openssl rand -hex 32), or KEYCAP_SECRETS")
	}
	var err error
	if b.secrets, err = serverSecrets(cfg.Secret, cfg.Secrets, "", logger); err != nil {
		return err
	}
	u, err := url.Parse(cfg.DatabaseURL)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return errors.New("DATABASE_URL: want postgres://user:password@host:5432/dbname (the example " +
			"runs on Postgres; keycap's sqlstore also supports MySQL)")
	}
	pg, err := openPostgres(cfg, logger)
	if err != nil {
		return err
	}
	b.closers = append(b.closers, pg.close)
	b.store, b.events, b.users, b.sessions = pg.store, pg.store, pg.users, pg.sessions
	b.wrap = withRequestStart // the key and its owner in one round trip: see owners.go
	// Another instance may change a record at any time: no in-process
	// cache, every verification reads the store (Redis or Postgres).
	b.cache = keys.CacheConfig{Disabled: true}
	b.where = "Postgres at " + u.Redacted()
	keysAt, sessionsAt, countedIn := "postgres (no cache: the key and its owner in one round trip per verification)", "postgres table "+pg.sessionsTable,
		"memory, per instance"
	if cfg.RedisURL != "" {
		r, err := openRedis(cfg.RedisURL, cfg.RedisPrefix, b.store, b.secrets.Secret, logger)
		if err != nil {
			return err
		}
		b.closers = append([]func() error{r.close}, b.closers...) // before the database closes
		b.store, b.sessions, b.limiter = r.store, r.sessions, r.limiter
		b.where += ", cached in Redis"
		keysAt = "postgres behind rediscache " + r.describe + " (one MGET per verification on a hit)"
		sessionsAt, countedIn = "redis "+r.describe, "redis"
	}
	logger.Info("backends: shared by every instance", "keys", keysAt, "sessions", sessionsAt,
		"users", "postgres table "+pg.usersTable+" (read with the key at every verification)",
		"rate_limit", describeRateLimit(cfg.RateLimit, countedIn), "database", u.Redacted())
	return nil
}

func (b *backends) close() error {
	var errs []error
	for _, c := range b.closers {
		errs = append(errs, c())
	}
	b.closers = nil
	return errors.Join(errs...)
}

// describeRateLimit says what limit is and where it is counted, for the log.
func describeRateLimit(limit ratelimit.Limit, countedIn string) string {
	if limit.IsZero() {
		return "none"
	}
	return fmt.Sprintf("%d per %s per key (sliding window, counted in %s)", limit.Requests, limit.Window, countedIn)
}

// parseRateLimit reads KEYCAP_RATE_LIMIT, "<requests>/<window>" such as
// "600/1m": the budget of each key. "" sets none.
func parseRateLimit(s string) (ratelimit.Limit, error) {
	if s == "" {
		return ratelimit.Limit{}, nil
	}
	n, window, ok := strings.Cut(s, "/")
	requests, errRequests := strconv.ParseInt(n, 10, 64)
	d, errWindow := time.ParseDuration(window)
	limit := ratelimit.Limit{Requests: requests, Window: d}
	if !ok || errRequests != nil || errWindow != nil || requests < 1 || limit.Validate() != nil {
		return ratelimit.Limit{}, fmt.Errorf(`KEYCAP_RATE_LIMIT %q: want "<requests>/<window>", both positive, such as "600/1m"`, s)
	}
	return limit, nil
}

// patterns reads a comma-separated list of permission patterns, such as
// KEYCAP_REQUIRE_IP_RANGES="*:delete,billing:*"; "" is none.
func patterns(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
