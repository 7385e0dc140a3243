// Command example is a small web app that uses keycap: its users log in
// and create their own API keys, with the permissions they choose within
// their role, to call the app's JSON API.
//
//	go run ./example            # http://localhost:8080, SQLite in ./keycap.db
//
// Environment: PORT (or the -addr flag) picks the address, KEYCAP_DB the
// SQLite file, and KEYCAP_SECRET (hex or base64, at least 32 bytes) the
// server secret; without it a secret is generated once and kept in the
// file KEYCAP_DB.secret.
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
	defaultAddr := ":8080"
	if port := getenv("PORT"); port != "" {
		defaultAddr = ":" + port
	}
	defaultDB := getenv("KEYCAP_DB")
	if defaultDB == "" {
		defaultDB = "keycap.db"
	}
	flags := flag.NewFlagSet("example", flag.ContinueOnError)
	addr := flags.String("addr", defaultAddr, "address to listen on (default :$PORT, or :8080)")
	dbPath := flags.String("db", defaultDB, "SQLite database file (default $KEYCAP_DB, or keycap.db)")
	if err := flags.Parse(args); err != nil {
		return err
	}

	a, err := newApp(config{DBPath: *dbPath, Secret: getenv("KEYCAP_SECRET"), Logger: logger})
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
	printWelcome(out, a, baseURL(ln.Addr()), *dbPath)

	srv := &http.Server{
		Handler:           a,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
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

func printWelcome(out io.Writer, a *app, url, dbPath string) {
	fmt.Fprintf(out, "keycap example on %s (keys in %s)\n", url, dbPath)
	fmt.Fprintln(out, "demo users (the password is the user name):")
	for _, u := range a.users.sorted() {
		fmt.Fprintf(out, "  %-6s password %-6s role %-7s may grant: %s\n", u.ID, u.ID, u.Role, roles[u.Role])
	}
	fmt.Fprintf(out, "try: curl -H \"Authorization: Bearer <key>\" %s/api/files\n", url)
}
