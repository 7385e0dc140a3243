// Command keycap is keycap's operator tool: it migrates the key tables,
// lists, shows, revokes, disables and enables keys (offboarding a user in
// one command), prunes dead key records and old audit events, reports the
// live keys of each server secret and verifies a key, against the app's
// database (SQLite, Postgres, MySQL/MariaDB).
//
//	go run github.com/keycaphq/keycap/cmd/keycap@latest -dsn postgres://... keys list -owner alice
//
// The database comes from -dsn or DATABASE_URL: postgres://…, mysql://user:pass@tcp(host:3306)/db,
// sqlite:///path/to/app.db (or a plain file path). Every change is audited
// in the database's audit table with the operator (-actor, default
// $USER) as its actor; verify is a check, not a change, and audits
// nothing. "Now" (which keys are live, what prune deletes) is the
// database's clock, never the operator's. Output is a table, or JSON with
// -json; a command that fails after changing something (offboarding,
// prune) still prints its JSON, with what it did so far and an "error".
//
// Exit codes: 0 done; 1 the database failed or refused (the message says
// why); 2 bad usage; 3 no such key; 4 refused: a key that does not verify,
// or a confirmation answered no.
package main

import (
	"context"
	"io"
	"os"
	"os/signal"
	"time"
)

// Exit codes, documented in the package comment and the README.
const (
	exitOK       = 0
	exitFailed   = 1
	exitUsage    = 2
	exitNotFound = 3
	exitRefused  = 4
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// env is how run reads the environment (os.Getenv; a map in tests).
type env func(string) string

// cli is one run of the command: its streams and global options.
type cli struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         env
	dsn, prefix    string
	actor          string
	json           bool
	now            func() time.Time // time.Now; the tests' clock
}
