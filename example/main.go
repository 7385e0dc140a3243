// Command example is a small web app that uses keycap: its users log in
// and create their own API keys, with the permissions they choose within
// their role, to call the app's JSON API.
//
//	go run ./example            # http://localhost:8080, SQLite in ./keycap.db
//
// It listens on 127.0.0.1:8080 (the demo users' passwords are public);
// ADDR (or the -addr flag) picks another address, and PORT, as platforms
// set it, listens on that port on every interface. KEYCAP_DB picks the
// SQLite file, and KEYCAP_SECRET (hex or base64, at least 32 bytes) the
// server secret, or KEYCAP_SECRETS a keyring of them ("2:<hex>,1:<hex>",
// newest first, to rotate it); without either a secret is generated once
// and kept in the file KEYCAP_DB.secret, which may hold a keyring too
// ("id:hex" lines, newest first). KEYCAP_REQUIRE_IP_RANGES lists the
// permissions a key may hold only when limited to IP ranges ("*:delete";
// default none).
//
// For several instances sharing one database:
//
//	DATABASE_URL=postgres://...   keys, sessions and users in Postgres (KEYCAP_SECRET or KEYCAP_SECRETS required)
//	REDIS_URL=redis://...         and the coherent Redis cache, sessions and rate limits
//	KEYCAP_TABLE_PREFIX           of every table (default keycap_)
//	KEYCAP_REDIS_PREFIX           of every Redis key (default keycap:)
//	KEYCAP_RATE_LIMIT=600/1m      each key's budget, a sliding window (default none)
//
// Notices: a scheduler tells owners (here: logs, and lists on the page at
// GET /notices) that a key expires soon or has expired, has not been used
// for 30 days, or was revoked or disabled by someone else, once each,
// whatever the number of instances:
//
//	KEYCAP_NOTICE_INTERVAL=1m         how often it runs (default 1m)
//	KEYCAP_DISABLE_UNUSED_AFTER=2160h disable keys neither used nor changed for that long (default never)
//
// KEYCAP_GITHUB_KEYS_FILE=github-keys.json serves GitHub's secret scanning
// partner endpoint at POST /github/secret-scanning: the keys GitHub finds
// in public are revoked. The file holds GitHub's public keys, from
// https://api.github.com/meta/public_keys/secret_scanning; unset, the
// route is not served.
//
// KEYCAP_METRICS_ADDR=127.0.0.1:9090 serves Prometheus metrics (keycap's
// verifications and key events, from audit/promaudit, and the Go runtime's)
// at GET /metrics on that address, a listener of its own, never the app's;
// unset, there are no metrics and no second listener.
//
// For scripts/loadtest.sh: KEYCAP_CACHE=off turns the in-process key cache
// off, and KEYCAP_BARE_ADDR=127.0.0.1:18081 also serves the demo API with
// no keycap (and no authentication) in front, as the baseline.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

func main() {
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if err := run(os.Args[1:], os.Getenv, os.Stdout, logger); err != nil {
		logger.Error("example: " + err.Error())
		os.Exit(1)
	}
}

// run parses flags and environment, serves until SIGINT or SIGTERM, then
// shuts down gracefully.
func run(args []string, getenv func(string) string, out io.Writer, logger *slog.Logger) error {
	defaultAddr := listenAddr(getenv)
	defaultDB := getenv("KEYCAP_DB")
	if defaultDB == "" {
		defaultDB = "keycap.db"
	}
	flags := flag.NewFlagSet("example", flag.ContinueOnError)
	addr := flags.String("addr", defaultAddr, "address to listen on (default $ADDR, or :$PORT, or 127.0.0.1:8080)")
	dbPath := flags.String("db", defaultDB, "SQLite database file (default $KEYCAP_DB, or keycap.db)")
	if err := flags.Parse(args); err != nil {
		return err
	}

	rateLimit, err := parseRateLimit(getenv("KEYCAP_RATE_LIMIT"))
	if err != nil {
		return err
	}
	cfg := config{
		DBPath: *dbPath, Secret: getenv("KEYCAP_SECRET"), Secrets: getenv("KEYCAP_SECRETS"), Logger: logger,
		DatabaseURL: getenv("DATABASE_URL"), RedisURL: getenv("REDIS_URL"),
		TablePrefix: getenv("KEYCAP_TABLE_PREFIX"), RedisPrefix: getenv("KEYCAP_REDIS_PREFIX"),
		RateLimit: rateLimit, NoCache: getenv("KEYCAP_CACHE") == "off",
		IntrospectionSecret: getenv("KEYCAP_INTROSPECTION_SECRET"),
		GitHubKeysFile:      getenv("KEYCAP_GITHUB_KEYS_FILE"),
		IPRangesFor:         patterns(getenv("KEYCAP_REQUIRE_IP_RANGES")),
	}
	if err := noticeSettings(getenv, &cfg); err != nil {
		return err
	}
	metricsAddr := getenv("KEYCAP_METRICS_ADDR")
	var metrics *prometheus.Registry // nil: no metrics, no listener
	if metricsAddr != "" {
		metrics = newMetricsRegistry()
		cfg.Metrics = metrics
	}
	a, err := newApp(cfg)
	if err != nil {
		return err
	}
	defer func() {
		if err := a.Close(); err != nil {
			logger.Error("closing", "err", err)
		}
	}()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	if bare := getenv("KEYCAP_BARE_ADDR"); bare != "" {
		// For the load test only: the demo API with everything but keycap in
		// front (the same handlers and security headers), the baseline keycap
		// is compared with. No authentication: never expose.
		bareLn, err := net.Listen("tcp", bare)
		if err != nil {
			return err
		}
		logger.Warn("serving the demo API WITHOUT authentication for load tests", "addr", bareLn.Addr().String())
		bareSrv := newServer(securityHeaders(bareRoutes()), logger) // configured as the app's, for a fair comparison
		go func() { _ = bareSrv.Serve(bareLn) }()
		defer bareSrv.Close()
	}
	if metrics != nil {
		metricsSrv, err := serveMetrics(metricsAddr, metrics, logger)
		if err != nil {
			return err
		}
		defer metricsSrv.Close()
	}
	printWelcome(out, a, baseURL(ln.Addr()))
	defer a.runNotices()() // stopped before the app closes

	srv := newServer(a, logger)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
		stop() // a second signal ends the process at once
	}
	logger.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// listenAddr is where the app listens by default: ADDR, or every
// interface on PORT as platforms set it, or loopback only (the demo users'
// passwords are public).
func listenAddr(getenv func(string) string) string {
	switch addr, port := getenv("ADDR"), getenv("PORT"); {
	case addr != "":
		return addr
	case port != "":
		return ":" + port
	}
	return "127.0.0.1:8080"
}

// baseURL is how a person on this machine reaches addr.
func baseURL(addr net.Addr) string {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok {
		return "http://" + addr.String()
	}
	if tcp.IP.IsUnspecified() || tcp.IP.IsLoopback() {
		return fmt.Sprintf("http://localhost:%d", tcp.Port)
	}
	return "http://" + tcp.String()
}

func printWelcome(out io.Writer, a *app, url string) {
	fmt.Fprintf(out, "keycap example on %s (keys in %s)\n", url, a.where)
	fmt.Fprintln(out, "demo users (the password is the user name):")
	for _, u := range a.users.sorted() {
		fmt.Fprintf(out, "  %-6s password %-6s role %-7s may grant: %s\n", u.ID, u.ID, u.Role, roles[u.Role])
	}
	fmt.Fprintf(out, "try: curl -H \"Authorization: Bearer <key>\" %s/api/files\n", url)
}

// newServer returns the example's server of h: the app's and the load
// test's bare baseline are configured alike.
func newServer(h http.Handler, logger *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}
