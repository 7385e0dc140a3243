package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/keycaphq/keycap/keys"
)

// keyJSON is a key record as -json prints it; never the hash.
type keyJSON struct {
	ID            string              `json:"id"`
	Owner         string              `json:"owner"`
	Name          string              `json:"name"`
	Description   string              `json:"description,omitempty"`
	Status        string              `json:"status"`
	Permissions   map[string][]string `json:"permissions"`
	AllowedIPs    []string            `json:"allowed_ips,omitempty"`
	CreatedAt     time.Time           `json:"created_at"`
	CreatedBy     string              `json:"created_by,omitempty"`
	ExpiresAt     *time.Time          `json:"expires_at,omitempty"`
	LastUsedAt    *time.Time          `json:"last_used_at,omitempty"`
	LastUsedIP    string              `json:"last_used_ip,omitempty"`
	RevokedAt     *time.Time          `json:"revoked_at,omitempty"`
	RevokedBy     string              `json:"revoked_by,omitempty"`
	RevokedReason string              `json:"revoked_reason,omitempty"`
	DisabledBy    string              `json:"disabled_by,omitempty"`
	Remaining     *int64              `json:"remaining,omitempty"`
	RefillAmount  int64               `json:"refill_amount,omitempty"`           // with a refill: Remaining goes back to it
	RefillEvery   int64               `json:"refill_interval_seconds,omitempty"` // every this many seconds
	LastRefillAt  *time.Time          `json:"last_refill_at,omitempty"`
	SecretID      string              `json:"secret_id"`
	Ancestors     []string            `json:"ancestors,omitempty"`
}

// status is what a key is at now: active, disabled, expired or revoked.
func status(k *keys.Key, now time.Time) string {
	switch {
	case !k.RevokedAt.IsZero():
		return "revoked"
	case k.IsExpired(now):
		return "expired"
	case k.Disabled:
		return "disabled"
	}
	return "active"
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func actorString(a interface{ IsZero() bool }, s string) string {
	if a.IsZero() {
		return ""
	}
	return s
}

func toJSON(k *keys.Key, now time.Time) keyJSON {
	j := keyJSON{ID: k.ID, Owner: k.OwnerID, Name: k.Name, Description: k.Description, Status: status(k, now), Permissions: k.Permissions,
		CreatedAt: k.CreatedAt, CreatedBy: actorString(k.CreatedBy, k.CreatedBy.String()),
		ExpiresAt: timePtr(k.ExpiresAt), LastUsedAt: timePtr(k.LastUsedAt), LastUsedIP: k.LastUsedIP,
		RevokedAt: timePtr(k.RevokedAt), RevokedBy: actorString(k.RevokedBy, k.RevokedBy.String()), RevokedReason: k.RevokedReason,
		DisabledBy: actorString(k.DisabledBy, k.DisabledBy.String()), Remaining: k.Remaining, SecretID: k.SecretID, Ancestors: k.Ancestors}
	if j.Permissions == nil {
		j.Permissions = map[string][]string{}
	}
	if k.RefillAmount > 0 && k.RefillInterval > 0 {
		j.RefillAmount, j.RefillEvery, j.LastRefillAt = k.RefillAmount, int64(k.RefillInterval/time.Second), timePtr(k.LastRefillAt)
	}
	for _, p := range k.AllowedIPs {
		j.AllowedIPs = append(j.AllowedIPs, p.String())
	}
	return j
}

// partial reports a command that failed after it changed something: with
// -json, result (what was done so far) with an "error" field on stdout, so
// that a script learns what to redo; in both cases err, on stderr, and its
// exit code. A command that fails before changing anything prints nothing
// on stdout.
func (c *cli) partial(result map[string]any, err error) error {
	if c.json {
		result["error"] = err.Error()
		if perr := c.printJSON(result); perr != nil {
			return errors.Join(err, perr)
		}
	}
	return err
}

// printJSON prints v indented.
func (c *cli) printJSON(v any) error {
	enc := json.NewEncoder(c.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// printKeys prints keys as a table or a JSON array.
func (c *cli) printKeys(list []*keys.Key, now time.Time) error {
	if c.json {
		out := make([]keyJSON, len(list))
		for i, k := range list {
			out[i] = toJSON(k, now)
		}
		return c.printJSON(out)
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tOWNER\tNAME\tSTATUS\tPERMISSIONS\tCREATED\tEXPIRES\tLAST USED")
	for _, k := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.OwnerID, oneLine(k.Name), status(k, now),
			k.Permissions.String(), day(k.CreatedAt, ""), day(k.ExpiresAt, "never"), day(k.LastUsedAt, "never"))
	}
	return tw.Flush()
}

// printKey prints one record, a field a line.
func (c *cli) printKey(k *keys.Key, now time.Time) error {
	j := toJSON(k, now)
	if c.json {
		return c.printJSON(j)
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	row := func(name, value string) {
		if value != "" {
			fmt.Fprintf(tw, "%s\t%s\n", name, value)
		}
	}
	row("id", k.ID)
	row("owner", k.OwnerID)
	row("name", oneLine(k.Name))
	row("description", oneLine(k.Description))
	row("status", j.Status)
	row("permissions", k.Permissions.String())
	row("allowed ips", strings.Join(j.AllowedIPs, " "))
	row("created", stamp(k.CreatedAt)+" by "+j.CreatedBy)
	row("expires", stamp(k.ExpiresAt))
	row("last used", strings.TrimSpace(stamp(k.LastUsedAt)+" "+k.LastUsedIP))
	if !k.RevokedAt.IsZero() {
		row("revoked", stamp(k.RevokedAt)+" by "+j.RevokedBy+reasonSuffix(k.RevokedReason))
	}
	row("disabled by", j.DisabledBy)
	if k.Remaining != nil {
		row("remaining", fmt.Sprint(*k.Remaining))
	}
	if j.RefillAmount > 0 {
		refill := fmt.Sprintf("to %d every %s", k.RefillAmount, k.RefillInterval)
		if !k.LastRefillAt.IsZero() {
			refill += " (last " + stamp(k.LastRefillAt) + ")"
		}
		row("refill", refill)
	}
	row("secret id", k.SecretID)
	row("created through", strings.Join(k.Ancestors, " → "))
	return tw.Flush()
}

func reasonSuffix(r string) string {
	if r == "" {
		return ""
	}
	return ": " + oneLine(r)
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05Z")
}

func day(t time.Time, zero string) string {
	if t.IsZero() {
		return zero
	}
	return t.UTC().Format("2006-01-02")
}

// oneLine keeps a name or reason on one table line.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
