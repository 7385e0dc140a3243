package sqlstore

import (
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/keycaphq/keycap/audit"

	"github.com/keycaphq/keycap/keys"
)

// columns of the keys table, in the order of [Store.args] and [scanKey].
var columns = []string{
	"id", "owner_id", "name", "prefix", "hint", "hash", "permissions",
	"created_at", "updated_at", "expires_at", "created_by", "parent_id",
	"previous_hash", "previous_expires_at", "last_used_at", "last_used_ip",
	"revoked_at", "revoked_by", "revoked_reason", "disabled", "disabled_by",
	"remaining", "refill_amount", "refill_interval_ms", "last_refill_at",
	"version", "generation", "ancestors", "parent_generation", "disabled_at",
	"secret_id", "allowed_ips", "changed_by", "kind", "metadata", "resources",
	"description",
}

// check refuses records the table cannot hold faithfully.
func check(k *keys.Key) error {
	switch {
	case k.ID == "":
		return errors.New("sqlstore: the key has no id")
	case len(k.Hash) != sha256.Size:
		return fmt.Errorf("sqlstore: the key's hash is %d bytes, want %d", len(k.Hash), sha256.Size)
	case len(k.PreviousHash) != 0 && len(k.PreviousHash) != sha256.Size:
		return fmt.Errorf("sqlstore: the key's previous hash is %d bytes, want %d", len(k.PreviousHash), sha256.Size)
	}
	if err := checkAllowedIPs(k.AllowedIPs); err != nil {
		return err
	}
	for _, id := range k.Ancestors {
		if id == "" || strings.ContainsAny(id, " \t\r\n") {
			return fmt.Errorf("sqlstore: the key's ancestor %q is not a key id", id)
		}
	}
	return nil
}

// args returns k's column values in the order of [columns], with version
// 1: the record as Create stores it.
func (s *Store) args(k *keys.Key) ([]any, error) {
	permissions, err := permissionsJSON(k.Permissions)
	if err != nil {
		return nil, err
	}
	resources, err := resourcesArg(k.Resources)
	if err != nil {
		return nil, err
	}
	var remaining any
	if k.Remaining != nil {
		remaining = *k.Remaining
	}
	return []any{
		k.ID, k.OwnerID, k.Name, k.Prefix, k.Hint, k.Hash, permissions,
		s.timeArg(k.CreatedAt), s.timeArg(k.UpdatedAt), s.timeArg(k.ExpiresAt), k.CreatedBy.String(), parentID(k),
		bytesArg(k.PreviousHash), s.timeArg(k.PreviousExpiresAt), s.timeArg(k.LastUsedAt), k.LastUsedIP,
		s.timeArg(k.RevokedAt), k.RevokedBy.String(), k.RevokedReason, k.Disabled, k.DisabledBy.String(),
		remaining, k.RefillAmount, k.RefillInterval.Milliseconds(), s.timeArg(k.LastRefillAt),
		int64(1), k.Generation, strings.Join(k.Ancestors, " "), k.ParentGeneration, s.timeArg(k.DisabledAt),
		k.SecretID, allowedIPsText(k.AllowedIPs), k.ChangedBy.String(), k.Kind, string(k.Metadata), resources,
		k.Description,
	}, nil
}

// permissionsJSON is p as stored: JSON text, resources sorted; nil is "null".
func permissionsJSON(p any) (string, error) {
	b, err := json.Marshal(p)
	if err != nil {
		return "", fmt.Errorf("sqlstore: permissions: %w", err)
	}
	return string(b), nil
}

// bytesArg is b, or NULL when it is empty.
func bytesArg(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}

// scanKey reads a row of [columns].
func (s *Store) scanKey(row interface{ Scan(...any) error }) (*keys.Key, error) {
	// One allocation holds every destination: each variable whose address
	// went to Scan would otherwise be one of its own, and each time
	// destination a boxed scanner.
	sc := &scanned{}
	k := new(keys.Key)
	for i := range sc.times {
		sc.times[i].d = s.dialect
	}
	t := func(i int, to *time.Time) sql.Scanner { sc.times[i].t = to; return &sc.times[i] }
	err := row.Scan(
		&k.ID, &k.OwnerID, &k.Name, &k.Prefix, &k.Hint, &k.Hash, &sc.permissions,
		t(0, &k.CreatedAt), t(1, &k.UpdatedAt), t(2, &k.ExpiresAt), &sc.createdBy, &sc.parentID,
		&k.PreviousHash, t(3, &k.PreviousExpiresAt), t(4, &k.LastUsedAt), &k.LastUsedIP,
		t(5, &k.RevokedAt), &sc.revokedBy, &k.RevokedReason, &k.Disabled, &sc.disabledBy,
		&sc.remaining, &k.RefillAmount, &sc.intervalMS, t(6, &k.LastRefillAt),
		&k.Version, &k.Generation, &sc.ancestors, &k.ParentGeneration, t(7, &k.DisabledAt),
		&k.SecretID, &sc.allowedIPs, &sc.changedBy, &k.Kind, &sc.metadata, &sc.resources,
		&k.Description,
	)
	if err != nil {
		return nil, err
	}
	permissions, resources, metadata := sc.permissions, sc.resources, sc.metadata
	createdBy, revokedBy, disabledBy, changedBy := sc.createdBy, sc.revokedBy, sc.disabledBy, sc.changedBy
	parentID, ancestors, allowedIPs := sc.parentID, sc.ancestors, sc.allowedIPs
	if k.Permissions, err = decodePermissions(permissions); err != nil {
		return nil, fmt.Errorf("sqlstore: key %s: permissions: %w", k.ID, err)
	}
	for _, a := range []struct {
		column, text string
		to           *audit.Actor
	}{{"created_by", createdBy, &k.CreatedBy}, {"revoked_by", revokedBy, &k.RevokedBy}, {"disabled_by", disabledBy, &k.DisabledBy},
		{"changed_by", changedBy, &k.ChangedBy}} {
		if err := a.to.UnmarshalText([]byte(a.text)); err != nil {
			return nil, fmt.Errorf("sqlstore: key %s: %s %q: %w", k.ID, a.column, a.text, err)
		}
	}
	switch {
	case ancestors != "":
		k.Ancestors = strings.Fields(ancestors)
	case parentID != "": // written by a release before 0003 after the migration (a rolling upgrade): its
		// parent is known, and verification follows each record's own parent up the chain
		k.Ancestors = []string{parentID}
	}
	if len(k.PreviousHash) == 0 {
		k.PreviousHash = nil
	}
	if metadata != "" {
		k.Metadata = json.RawMessage(metadata)
	}
	if k.AllowedIPs, err = parseAllowedIPs(allowedIPs); err != nil {
		return nil, fmt.Errorf("sqlstore: key %s: allowed_ips: %w", k.ID, err)
	}
	if k.Resources, err = parseResources(resources); err != nil {
		return nil, fmt.Errorf("sqlstore: key %s: resources: %w", k.ID, err)
	}
	if sc.remaining.Valid {
		n := sc.remaining.Int64
		k.Remaining = &n
	}
	k.RefillInterval = time.Duration(sc.intervalMS) * time.Millisecond
	return k, nil
}

// scanned is a record being read by scanKey, with the columns it reads
// into something else first.
type scanned struct {
	permissions, resources           []byte
	createdBy, revokedBy, disabledBy string
	changedBy, metadata              string
	parentID, ancestors, allowedIPs  string
	remaining                        sql.NullInt64
	intervalMS                       int64
	times                            [8]timeScanner
}

// parentID is the key that created k (the last of its ancestors), or "".
func parentID(k *keys.Key) string {
	if len(k.Ancestors) == 0 {
		return ""
	}
	return k.Ancestors[len(k.Ancestors)-1]
}
