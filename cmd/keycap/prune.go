package main

import (
	"context"
	"flag"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// maxAgeDays is the longest age in days a time.Duration holds (about 292
// years).
const maxAgeDays = int64(math.MaxInt64 / int64(24*time.Hour))

// age reads "90d", "12h" or any time.ParseDuration text; an age a
// time.Duration cannot hold is refused, never wrapped around.
func age(flagName, text string) (time.Duration, error) {
	if text == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(text)
	if n, ok := strings.CutSuffix(text, "d"); ok {
		var days int64
		days, err = strconv.ParseInt(n, 10, 64)
		if days > maxAgeDays {
			days = -1 // a time.Duration would wrap around: 213504d would be 25 minutes
		}
		d = time.Duration(days) * 24 * time.Hour
	}
	if err != nil || d <= 0 {
		return 0, usageError{fmt.Sprintf("-%s: want a positive age of at most %dd, such as 90d or 36h, got %q", flagName, maxAgeDays, text)}
	}
	return d, nil
}

// minExpiredAge is the least -expired-older-than prune accepts: "now" is
// the database's clock, but a key's expiry is read by each app server's
// clock, and those may differ from the database's by seconds or minutes.
// Revoked keys need no floor: revocation is terminal, whatever the clocks.
const (
	minExpiredAge     = time.Hour
	minExpiredAgeText = "1h"
)

// prune deletes the records of keys revoked or expired longer ago than
// the ages given.
func (c *cli) prune(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("prune", flag.ContinueOnError)
	revoked := fs.String("revoked-older-than", "", "")
	expired := fs.String("expired-older-than", "", "")
	if _, err := parse(fs, args, 0, "no arguments"); err != nil {
		return err
	}
	rAge, err := age("revoked-older-than", *revoked)
	if err != nil {
		return err
	}
	eAge, err := age("expired-older-than", *expired)
	if err != nil {
		return err
	}
	if rAge == 0 && eAge == 0 {
		return usageError{"prune: give -revoked-older-than, -expired-older-than or both (such as 90d)"}
	}
	if eAge > 0 && eAge < minExpiredAge {
		return usageError{fmt.Sprintf("prune: -expired-older-than must be at least %s, got %q: the app's servers count expiry by their own clocks, which may run behind the database's; a key that expired just now by one clock may still be live by another", minExpiredAgeText, *expired)}
	}
	return c.with(ctx, true, func(b *backend) error {
		now := b.manager.Now()
		var rBefore, eBefore time.Time
		if rAge > 0 {
			rBefore = now.Add(-rAge)
		}
		if eAge > 0 {
			eBefore = now.Add(-eAge)
		}
		var rules []string
		if !rBefore.IsZero() {
			rules = append(rules, "revoked before "+rBefore.UTC().Format(time.RFC3339))
		}
		if !eBefore.IsZero() {
			rules = append(rules, "expired before "+eBefore.UTC().Format(time.RFC3339))
		}
		// Progress goes to stderr, also with -json: a line per batch deleted
		// (500 keys), however few, then the total on stdout.
		fmt.Fprintf(c.stderr, "pruning keys %s\n", strings.Join(rules, " or "))
		batches := 0
		n, err := b.manager.Prune(ctx, rBefore, eBefore, b.actor, func(total int) {
			batches++
			fmt.Fprintf(c.stderr, "pruned %d so far (batch %d)\n", total, batches)
		})
		if err != nil {
			return c.partial(map[string]any{"pruned": n}, fmt.Errorf("after pruning %d keys: %w", n, err))
		}
		return c.report(map[string]any{"pruned": n}, fmt.Sprintf("pruned %d dead keys", n))
	})
}

// auditPrune deletes audit events older than -older-than.
func (c *cli) auditPrune(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("audit prune", flag.ContinueOnError)
	older := fs.String("older-than", "", "")
	if _, err := parse(fs, args, 0, "no arguments"); err != nil {
		return err
	}
	d, err := age("older-than", *older)
	if err != nil {
		return err
	}
	if d == 0 {
		return usageError{"audit prune: give -older-than (such as 365d)"}
	}
	return c.with(ctx, false, func(b *backend) error {
		n, err := b.auditor.Prune(ctx, b.now().Add(-d))
		if err != nil {
			return err
		}
		return c.report(map[string]any{"pruned": n}, fmt.Sprintf("pruned %d audit events", n))
	})
}
