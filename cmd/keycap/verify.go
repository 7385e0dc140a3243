package main

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/keycaphq/keycap/keys"
)

// defaultKeyPrefix is keys.Config.Prefix when an app sets none.
const defaultKeyPrefix = "kc"

// verdict is what verify prints with -json.
type verdict struct {
	Valid  bool   `json:"valid"`
	Reason string `json:"reason,omitempty"`
	// Scope says what "valid" means here: always "as stored, the app's
	// policy not applied" when valid.
	Scope       string              `json:"scope,omitempty"`
	NotApplied  []string            `json:"not_applied,omitempty"` // what the app checks and this tool did not
	Key         *keyJSON            `json:"key,omitempty"`
	Kind        string              `json:"kind,omitempty"`        // the key's kind, "" the default
	Permissions map[string][]string `json:"permissions,omitempty"` // as stored
	ExpiresAt   *time.Time          `json:"expires_at,omitempty"`  // its own expiry, with -max-lifetime applied
	Counted     bool                `json:"counted"`
}

// verify checks a presented key (the argument, or with "-" a line of
// stdin) under the app's server secrets and prints the verdict and the
// key's permissions, without counting a use unless -use. It never writes
// an audit event. The tool does not know the app's policy or users: a
// valid key is valid as stored, and the output says what was not applied.
func (c *cli) verify(ctx context.Context, args []string) error {
	var f verifyFlags
	raw, err := parse(c.verifyFlagSet(&f), args, 1, "one key")
	if err != nil {
		return err
	}
	if raw[0] == "-" {
		// From stdin: a key given as an argument is in the shell's history
		// and in every local user's ps while the command runs.
		line, _ := bufio.NewReader(c.stdin).ReadString('\n')
		if raw[0] = strings.TrimSpace(line); raw[0] == "" {
			return usageError{"verify: no key on stdin (verify - reads it from there)"}
		}
	}
	ring, err := c.keyring()
	if err != nil {
		return err
	}
	if ring.Secret == nil {
		return usageError{"verify: set KEYCAP_SECRETS or KEYCAP_SECRET to the app's server secrets"}
	}
	return c.withConfig(ctx, true, f.apply, func(b *backend) error {
		if err := unknownPrefix(ctx, b, raw[0], &f); err != nil {
			return err
		}
		return c.check(ctx, b, raw[0], &f)
	})
}

// check verifies raw and prints the verdict.
func (c *cli) check(ctx context.Context, b *backend, raw string, f *verifyFlags) error {
	check := b.manager.Inspect
	if f.use {
		check = b.manager.Verify
	}
	v, checkErr := check(ctx, raw, "")
	if checkErr != nil && verdictReason(checkErr) == "" {
		return checkErr // the database, not the key
	}
	out := verdict{Valid: checkErr == nil, Counted: f.use && checkErr == nil}
	var k *keys.Key // the record, read after the verdict: a Verified holds none
	if checkErr != nil {
		out.Reason = verdictReason(checkErr)
	} else {
		var err error
		if k, err = b.manager.Get(ctx, keys.Ref{Owner: v.OwnerID, ID: v.ID}); err != nil {
			return err
		}
		j := toJSON(k, b.manager.Now())
		out.Key, out.Kind, out.Permissions, out.ExpiresAt = &j, v.Kind, k.Permissions, timePtr(v.ExpiresAt)
		out.Scope, out.NotApplied = "as stored, the app's policy not applied", f.notApplied()
		if f.use {
			if _, ok, cerr := b.manager.Consume(ctx, v); cerr != nil || !ok {
				out.Valid, out.Reason, out.Scope, out.NotApplied = false, "its request quota is spent", "", nil
			}
		}
	}
	var err error
	switch {
	case c.json:
		err = c.printJSON(out)
	case out.Valid:
		_, err = fmt.Fprintf(c.stdout, "valid as stored, the app's policy not applied: %s (%s of %s%s), permissions as stored: %s, expires: %s\nnot applied here:\n  - %s\n",
			k.ID, oneLine(k.Name), k.OwnerID, kindSuffix(v.Kind), k.Permissions, cmp.Or(stamp(v.ExpiresAt), "never"), strings.Join(out.NotApplied, "\n  - "))
	default:
		_, err = fmt.Fprintln(c.stdout, "not valid:", out.Reason)
	}
	if err == nil && !out.Valid {
		return exitError{exitRefused, "the key does not verify"}
	}
	return err
}

func kindSuffix(kind string) string {
	if kind == "" {
		return ""
	}
	return ", kind " + kind
}

// unknownPrefix refuses, as bad usage, a key whose prefix is none the
// flags name but whose id is a stored key's: it may be of one of the
// app's kinds, which the tool cannot know; calling it malformed would be
// wrong. The message names the flag to give. A key whose id no record has
// is left to the check (not valid: unknown id).
func unknownPrefix(ctx context.Context, b *backend, raw string, f *verifyFlags) error {
	prefix, rest, ok := strings.Cut(raw, "_")
	if !ok || slices.Contains(f.prefixes(), prefix) || len(rest) < 17 || rest[16] != '_' {
		return nil
	}
	k, err := b.store.Get(ctx, rest[:16])
	if errors.Is(err, keys.ErrNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	give := "-key-prefix " + prefix
	if k.Kind != "" {
		give = "-kind " + k.Kind + "=" + prefix
	}
	return usageError{fmt.Sprintf("verify: the key's prefix %q is none of those this command was told of (%s), and its id is that of a key of kind %q: if the app configures that prefix, give %s",
		prefix, strings.Join(f.prefixes(), ", "), cmp.Or(k.Kind, "default"), give)}
}

// verdictReason says why a key was refused, as an operator needs it;
// "" for an error that is not about the key.
func verdictReason(err error) string {
	switch {
	case errors.Is(err, keys.ErrExpired):
		return "expired"
	case errors.Is(err, keys.ErrInvalid):
		// An operator may know which: malformed (not a key of this app),
		// unknown id, wrong secret, revoked, disabled, owner gone.
		detail := strings.TrimPrefix(strings.TrimPrefix(err.Error(), keys.ErrInvalid.Error()), ": ")
		return cmp.Or(detail, "invalid") + " (see keys show)"
	case errors.Is(err, keys.ErrIPNotAllowed):
		return "limited to IP ranges"
	}
	return ""
}
