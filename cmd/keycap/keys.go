package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"strconv"
	"strings"

	"github.com/keycaphq/keycap/keys"
)

// migrate creates or updates keycap's tables (keys, audit, notices).
func (c *cli) migrate(ctx context.Context, args []string) error {
	if _, err := parse(flag.NewFlagSet("migrate", flag.ContinueOnError), args, 0, "no arguments"); err != nil {
		return err
	}
	return c.with(ctx, false, func(b *backend) error {
		if err := b.store.Migrate(ctx); err != nil {
			return err
		}
		return c.report(map[string]any{"migrated": true, "dialect": b.store.Dialect(), "prefix": b.store.TablePrefix()},
			fmt.Sprintf("keycap's tables (%s…) are up to date on %s", b.store.TablePrefix(), b.store.Dialect()))
	})
}

// report prints a result: v as JSON, or the sentence.
func (c *cli) report(v any, sentence string) error {
	if c.json {
		return c.printJSON(v)
	}
	_, err := fmt.Fprintln(c.stdout, sentence)
	return err
}

// ownerKeys lists every key of owner, newest first, page by page.
func ownerKeys(ctx context.Context, s keys.Store, owner string) ([]*keys.Key, error) {
	var all []*keys.Key
	before := ""
	for {
		page, err := s.List(ctx, owner, keys.Page{Before: before, Limit: 500})
		if err != nil {
			return nil, err
		}
		all = append(all, page...)
		if len(page) < 500 {
			return all, nil
		}
		before = page[len(page)-1].ID
	}
}

func (c *cli) keysList(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("keys list", flag.ContinueOnError)
	owner := fs.String("owner", "", "")
	all := fs.Bool("all", false, "")
	if _, err := parse(fs, args, 0, "-owner <user> and no arguments"); err != nil {
		return err
	}
	if *owner == "" {
		return usageError{"keys list: give -owner <user>"}
	}
	return c.with(ctx, true, func(b *backend) error {
		list, err := ownerKeys(ctx, b.store, *owner)
		if err != nil {
			return err
		}
		now := b.manager.Now()
		shown := list[:0]
		for _, k := range list {
			if *all || status(k, now) == "active" || status(k, now) == "disabled" {
				shown = append(shown, k)
			}
		}
		return c.printKeys(shown, now)
	})
}

// get returns key id, or exit code 3.
func get(ctx context.Context, b *backend, id string) (*keys.Key, error) {
	k, err := b.store.Get(ctx, id)
	if errors.Is(err, keys.ErrNotFound) {
		return nil, exitError{exitNotFound, fmt.Sprintf("no key has the id %q", id)}
	}
	return k, err
}

func (c *cli) keysShow(ctx context.Context, args []string) error {
	ids, err := parse(flag.NewFlagSet("keys show", flag.ContinueOnError), args, 1, "one key id")
	if err != nil {
		return err
	}
	return c.with(ctx, true, func(b *backend) error {
		k, err := get(ctx, b, ids[0])
		if err != nil {
			return err
		}
		return c.printKey(k, b.manager.Now())
	})
}

func (c *cli) keysRevoke(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("keys revoke", flag.ContinueOnError)
	reason := fs.String("reason", "", "")
	owner := fs.String("owner", "", "")
	yes := fs.Bool("yes", false, "")
	ids, err := parse(fs, args, -1, "")
	if err != nil {
		return err
	}
	switch {
	case *owner != "" && len(ids) == 0:
		return c.offboard(ctx, *owner, *reason, *yes)
	case *owner == "" && len(ids) == 1 && *reason != "":
		return c.with(ctx, true, func(b *backend) error {
			k, err := get(ctx, b, ids[0])
			if err != nil {
				return err
			}
			k, err = b.manager.Revoke(ctx, keys.RevokeRequest{Ref: keys.Ref{Owner: k.OwnerID, ID: k.ID}, Actor: b.actor, Reason: *reason})
			if err != nil {
				return err
			}
			return c.report(toJSON(k, b.manager.Now()), fmt.Sprintf("revoked %s (%s of %s)", k.ID, oneLine(k.Name), k.OwnerID))
		})
	case *owner == "" && len(ids) == 1:
		return usageError{"keys revoke: give -reason <text>: it is kept on the record and in the audit"}
	}
	return usageError{"keys revoke: want <id> -reason <text>, or -owner <user> to revoke all of a user's keys"}
}

// offboardRounds bounds how many times offboard lists the user's keys
// again for keys created while it ran.
const offboardRounds = 10

// liveKeys lists the live (not revoked, not expired) keys of owner.
func liveKeys(ctx context.Context, b *backend, owner string) ([]*keys.Key, error) {
	list, err := ownerKeys(ctx, b.store, owner)
	if err != nil {
		return nil, err
	}
	now := b.manager.Now()
	var live []*keys.Key
	for _, k := range list {
		if k.RevokedAt.IsZero() && !k.IsExpired(now) {
			live = append(live, k)
		}
	}
	return live, nil
}

// offboard revokes every live key of owner, after a confirmation on stdin
// unless yes. Keys created while it runs (while the question waits, or
// between two revocations: the user may still be logged in, a script may
// still make keys) are revoked too: it lists the keys again after each
// round, until a listing finds none live, at most offboardRounds times.
func (c *cli) offboard(ctx context.Context, owner, reason string, yes bool) error {
	if reason == "" {
		reason = "offboarding"
	}
	return c.with(ctx, true, func(b *backend) error {
		live, err := liveKeys(ctx, b, owner)
		if err != nil {
			return err
		}
		if len(live) == 0 {
			return c.report(map[string]any{"owner": owner, "revoked": 0}, owner+" has no live keys: nothing to revoke")
		}
		if !yes {
			fmt.Fprintf(c.stderr, "Revoke %d live keys of %s? Scripts using them stop at once. [y/N] ", len(live), owner)
			answer, _ := bufio.NewReader(c.stdin).ReadString('\n')
			if a := strings.ToLower(strings.TrimSpace(answer)); a != "y" && a != "yes" {
				return exitError{exitRefused, "nothing revoked"}
			}
			if live, err = liveKeys(ctx, b, owner); err != nil { // the answer may have taken a while
				return err
			}
		}
		revoked := 0
		done := func() map[string]any { return map[string]any{"owner": owner, "revoked": revoked} }
		for round := 1; len(live) > 0; round++ {
			if round > offboardRounds {
				return c.partial(done(), fmt.Errorf("after revoking %d keys: %s keeps getting new keys (%d live after %d rounds): block their logins and run it again", revoked, owner, len(live), offboardRounds))
			}
			if round == 1 {
				fmt.Fprintf(c.stderr, "revoking %d live keys of %s\n", len(live), owner)
			} else {
				fmt.Fprintf(c.stderr, "revoking %d more live keys of %s, created meanwhile\n", len(live), owner)
			}
			p := newProgress(c.stderr, "revoked", len(live))
			for i, k := range live {
				if _, err := b.manager.Revoke(ctx, keys.RevokeRequest{Ref: keys.Ref{Owner: owner, ID: k.ID}, Actor: b.actor, Reason: reason}); err != nil {
					return c.partial(done(), fmt.Errorf("after revoking %d keys (%d of %d in this round): %w", revoked, i, len(live), err))
				}
				revoked++
				p.done(i+1, k.ID+" "+strconv.Quote(k.Name))
			}
			if live, err = liveKeys(ctx, b, owner); err != nil {
				return c.partial(done(), fmt.Errorf("after revoking %d keys: %w", revoked, err))
			}
		}
		return c.report(done(), fmt.Sprintf("revoked %d keys of %s", revoked, owner))
	})
}

// keysDisable turns a key off as the operator (the owner cannot turn it
// back on), or on again.
func (c *cli) keysDisable(off bool) func(context.Context, []string) error {
	name := map[bool]string{true: "keys disable", false: "keys enable"}[off]
	return func(ctx context.Context, args []string) error {
		ids, err := parse(flag.NewFlagSet(name, flag.ContinueOnError), args, 1, "one key id")
		if err != nil {
			return err
		}
		return c.with(ctx, true, func(b *backend) error {
			k, err := get(ctx, b, ids[0])
			if err != nil {
				return err
			}
			k, err = b.manager.Update(ctx, keys.UpdateRequest{Ref: keys.Ref{Owner: k.OwnerID, ID: k.ID}, Actor: b.actor, Disabled: &off})
			if err != nil {
				return err
			}
			return c.report(toJSON(k, b.manager.Now()), fmt.Sprintf("%s is %s", k.ID, status(k, b.manager.Now())))
		})
	}
}
