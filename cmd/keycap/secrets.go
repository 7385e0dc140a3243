package main

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/keycaphq/keycap/keys"
)

// secretsReport prints how many live keys each server secret hashes.
func (c *cli) secretsReport(ctx context.Context, args []string) error {
	if _, err := parse(flag.NewFlagSet("secrets report", flag.ContinueOnError), args, 0, "no arguments"); err != nil {
		return err
	}
	ring, err := c.keyring()
	if err != nil {
		return err
	}
	return c.with(ctx, true, func(b *backend) error {
		counts, err := b.store.CountBySecret(ctx, b.manager.Now())
		if err != nil {
			return err
		}
		type row struct {
			ID       string `json:"secret_id"`
			LiveKeys int    `json:"live_keys"`
			State    string `json:"state"` // newest, accepted, retired (not configured) or unknown (no secrets given)
		}
		ids := []string{}
		for id := range counts {
			ids = append(ids, id)
		}
		if ring.Secret != nil {
			for _, id := range append([]string{ring.ID}, keysOf(ring.Old)...) {
				if !slices.Contains(ids, id) {
					ids = append(ids, id)
				}
			}
		}
		slices.Sort(ids)
		rows := make([]row, len(ids))
		for i, id := range ids {
			rows[i] = row{ID: id, LiveKeys: counts[id], State: "unknown"}
			switch {
			case ring.Secret == nil:
			case id == ring.ID:
				rows[i].State = "newest"
			case ring.Old[id] != nil:
				rows[i].State = "accepted"
			default:
				rows[i].State = "retired"
			}
		}
		if c.json {
			return c.printJSON(rows)
		}
		tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "SECRET\tLIVE KEYS\tSTATE")
		for _, r := range rows {
			fmt.Fprintf(tw, "%s\t%d\t%s\n", r.ID, r.LiveKeys, r.State)
		}
		return tw.Flush()
	})
}

func keysOf(m map[string][]byte) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// verify checks a presented key (the argument, or with "-" a line of
// stdin) under the app's server secrets and prints
// the verdict and the key's permissions, without counting a use unless
// -use. The tool does not know the app's policy or users: the permissions
// shown are the stored ones, before the owner's cap at request time.
func (c *cli) verify(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	use := fs.Bool("use", false, "")
	raw, err := parse(fs, args, 1, "one key")
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
	return c.with(ctx, true, func(b *backend) error {
		check := b.manager.Inspect
		if *use {
			check = b.manager.Verify
		}
		v, checkErr := check(ctx, raw[0], "")
		if checkErr != nil && verdictReason(checkErr) == "" {
			return checkErr // the database, not the key
		}
		type verdict struct {
			Valid       bool                `json:"valid"`
			Reason      string              `json:"reason,omitempty"`
			Key         *keyJSON            `json:"key,omitempty"`
			Permissions map[string][]string `json:"permissions,omitempty"`
			Counted     bool                `json:"counted"`
		}
		out := verdict{Valid: checkErr == nil, Counted: *use && checkErr == nil}
		if checkErr != nil {
			out.Reason = verdictReason(checkErr)
		} else {
			j := toJSON(v.Key, b.manager.Now())
			out.Key, out.Permissions = &j, v.Key.Permissions // the app's policy is not known here
			if *use {
				if _, ok, cerr := b.manager.Consume(ctx, v); cerr != nil || !ok {
					out.Valid, out.Reason = false, "its request quota is spent"
				}
			}
		}
		var err error
		if c.json {
			err = c.printJSON(out)
		} else if out.Valid {
			fmt.Fprintf(c.stdout, "valid: %s (%s of %s), permissions as stored: %s\n", v.Key.ID, oneLine(v.Key.Name), v.Key.OwnerID, v.Key.Permissions)
		} else {
			fmt.Fprintln(c.stdout, "not valid:", out.Reason)
		}
		if err == nil && !out.Valid {
			return exitError{exitRefused, "the key does not verify"}
		}
		return err
	})
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
