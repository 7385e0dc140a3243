package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"
)

const usage = `Usage: keycap [global flags] <command> [flags] [args]

Global flags (before the command):
  -dsn string      the database (default $DATABASE_URL): postgres://..., mysql://..., sqlite:///path
  -prefix string   the table prefix the app uses (default keycap_)
  -actor string    the operator recorded in the audit (default $USER)
  -json            print JSON instead of a table

Commands:
  migrate                                  create or update keycap's tables
  keys list -owner <user> [-all]           a user's keys (live ones; -all: every one)
  keys show <id>                           one key's record
  keys revoke <id> -reason <text>          revoke one key (and the keys created through it)
  keys revoke -owner <user> [-yes] [-reason <text>]
                                           offboarding: revoke every live key of a user
  keys disable <id> | keys enable <id>     turn a key off (as an operator) or back on
  prune [-revoked-older-than 90d] [-expired-older-than 90d]
                                           delete dead key records (-expired-older-than: at least 1h)
  audit prune -older-than 365d             delete old audit events
  secrets report                           live keys per server secret (KEYCAP_SECRETS or KEYCAP_SECRET)
  verify <key>|- [-use] [-key-prefix kc] [-kind <name>=<prefix>]... [-max-lifetime 90d]
                                           check a key (-: read it from stdin) as stored, without counting
                                           a use (-use: count one); the app's policy is not applied

"Now" is the database's clock, not this machine's. With -json, a command
that fails after changing something prints what it did with an "error".
Exit codes: 0 done, 1 failed, 2 bad usage, 3 no such key, 4 refused.
`

// usageError is a mistake in the command line: exit code 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// exitError carries an exit code other than 1 with its message.
type exitError struct {
	code int
	msg  string
}

func (e exitError) Error() string { return e.msg }

// run parses the global flags and runs one command; it returns the exit code.
func run(ctx context.Context, args []string, getenv env, stdin io.Reader, stdout, stderr io.Writer) int {
	c := &cli{stdin: stdin, stdout: stdout, stderr: stderr, getenv: getenv, now: time.Now}
	return c.run(ctx, args)
}

func (c *cli) run(ctx context.Context, args []string) int {
	getenv, stdout, stderr := c.getenv, c.stdout, c.stderr
	fs := flag.NewFlagSet("keycap", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&c.dsn, "dsn", getenv("DATABASE_URL"), "")
	fs.StringVar(&c.prefix, "prefix", "", "")
	fs.StringVar(&c.actor, "actor", getenv("USER"), "")
	fs.BoolVar(&c.json, "json", false, "")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, usage)
			return exitOK
		}
		return c.fail(usageError{err.Error()})
	}
	if fs.NArg() == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	if c.actor == "" {
		c.actor = "operator"
	}
	return c.fail(c.dispatch(ctx, fs.Args()))
}

func (c *cli) dispatch(ctx context.Context, args []string) error {
	cmd, rest := args[0], args[1:]
	if (cmd == "keys" || cmd == "audit" || cmd == "secrets") && len(rest) > 0 {
		cmd, rest = cmd+" "+rest[0], rest[1:]
	}
	commands := map[string]func(context.Context, []string) error{
		"migrate": c.migrate, "keys list": c.keysList, "keys show": c.keysShow, "keys revoke": c.keysRevoke,
		"keys disable": c.keysDisable(true), "keys enable": c.keysDisable(false),
		"prune": c.prune, "audit prune": c.auditPrune, "secrets report": c.secretsReport, "verify": c.verify,
	}
	f, ok := commands[cmd]
	if !ok {
		return usageError{fmt.Sprintf("unknown command %q: run keycap -h for the list", strings.TrimSpace(cmd))}
	}
	return f(ctx, rest)
}

// fail prints err (if any) and returns its exit code.
func (c *cli) fail(err error) int {
	if err == nil {
		return exitOK
	}
	fmt.Fprintln(c.stderr, "keycap:", err)
	var ue usageError
	var ee exitError
	switch {
	case errors.As(err, &ue):
		return exitUsage
	case errors.As(err, &ee):
		return ee.code
	}
	return exitFailed
}

// parse parses a command's flags, which may come before or after its
// arguments ("keys revoke ID -reason x"), and returns the arguments.
func parse(fs *flag.FlagSet, args []string, want int, what string) ([]string, error) {
	fs.SetOutput(io.Discard)
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, usageError{fs.Name() + ": " + err.Error()}
		}
		if fs.NArg() == 0 {
			break
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if want >= 0 && len(positional) != want {
		return nil, usageError{fmt.Sprintf("%s: want %s", fs.Name(), what)}
	}
	return positional, nil
}
