package main

import (
	"context"
	"flag"
	"fmt"
	"slices"
	"text/tabwriter"
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
