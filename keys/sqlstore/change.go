package sqlstore

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/keycaphq/keycap/keys"
)

// Change implements [keys.Store] with one conditional UPDATE, built for c:
// it sets the columns of the fields c sets, updated_at, version = version
// + 1 (and generation = generation + 1 for a rotation, not a re-hash), where the id
// matches, the key is not revoked and, when c.Version is not 0, the
// version is c.Version. Columns c does not name (last use, quota, the
// other fields) keep whatever a concurrent writer put there; a lowering
// of the quota is computed in the UPDATE from the stored remaining (see
// quotaSet). Postgres and
// SQLite return the row as written (RETURNING); MySQL has no UPDATE ...
// RETURNING, so there the UPDATE and a read of the row run in one
// transaction, whose row lock makes the read see exactly the write.
//
// When no row matched, a read tells why: [keys.ErrNotFound],
// [keys.ErrAlreadyRevoked], or [keys.ErrConflict] when the version moved
// on. A rotation to a hash stored for another key is [keys.ErrConflict]
// (the unique index refuses it). In each case nothing is written. A
// revocation needs c.At: it becomes RevokedAt.
func (s *Store) Change(ctx context.Context, id string, c keys.Change) (*keys.Key, error) {
	set, args, err := s.changeSet(c)
	if err != nil {
		return nil, err
	}
	update := "UPDATE " + s.table + " SET " + set + " WHERE id = ? AND revoked_at IS NULL"
	args = append(args, id)
	if c.Version != 0 {
		update += " AND version = ?"
		args = append(args, c.Version)
	}
	var k *keys.Key
	if s.dialect == MySQL {
		k, err = s.changeMySQL(ctx, update, args, id)
	} else {
		update = rebind(s.dialect, update+" RETURNING "+strings.Join(columns, ", "))
		k, err = s.scanKey(s.db.QueryRowContext(ctx, update, args...))
		if errors.Is(err, sql.ErrNoRows) {
			k, err = nil, nil
		}
		err = s.wrap(ctx, "change", err)
	}
	if err != nil {
		return nil, err
	}
	if k == nil {
		return nil, s.unchanged(ctx, id)
	}
	return k, nil
}

// changeMySQL runs update and reads the row back in one transaction. It
// returns nil and no error when update matched no row. The version always
// changes, so a matched row is a changed row: RowsAffected is 1 whether
// or not the DSN sets clientFoundRows.
func (s *Store) changeMySQL(ctx context.Context, update string, args []any, id string) (*keys.Key, error) {
	var k *keys.Key
	err := s.inTx(ctx, "change", nil, func(tx *sql.Tx) (bool, error) {
		k = nil
		res, err := tx.ExecContext(ctx, update, args...)
		if err != nil {
			return false, err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return false, err
		}
		k, err = s.scanKey(tx.QueryRowContext(ctx, s.q.get+" FOR UPDATE", id))
		return err == nil, err
	})
	if err != nil {
		return nil, err
	}
	return k, nil
}

// unchanged tells why a Change matched no row.
func (s *Store) unchanged(ctx context.Context, id string) error {
	var version int64
	var revoked int
	err := s.db.QueryRowContext(ctx, s.q.state, id).Scan(&version, &revoked)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return keys.ErrNotFound
	case err != nil:
		return s.wrap(ctx, "change", err)
	case revoked != 0:
		return keys.ErrAlreadyRevoked
	}
	return keys.ErrConflict // the version moved on
}

// changeSet returns the SET list of c, with its arguments, before the
// dialect's placeholders.
func (s *Store) changeSet(c keys.Change) (string, []any, error) {
	var b strings.Builder
	var args []any
	set := func(column string, v any) {
		b.WriteString(column + " = ?, ")
		args = append(args, v)
	}
	if !c.By.IsZero() {
		set("changed_by", c.By.String())
	}
	if c.Metadata != nil {
		set("metadata", string(*c.Metadata))
	}
	if c.Name != nil {
		set("name", *c.Name)
	}
	if c.Description != nil {
		set("description", *c.Description)
	}
	if c.Permissions != nil {
		p, err := permissionsJSON(c.Permissions)
		if err != nil {
			return "", nil, err
		}
		set("permissions", p)
	}
	if c.ExpiresAt != nil {
		set("expires_at", s.timeArg(*c.ExpiresAt))
	}
	if d := c.Disabled; d != nil {
		by, at := "", any(nil)
		if *d {
			by, at = c.By.String(), s.timeArg(c.At)
		}
		set("disabled", *d)
		set("disabled_by", by)
		set("disabled_at", at)
	}
	if sec := c.Secret; sec != nil {
		if err := checkSecret(sec); err != nil {
			return "", nil, err
		}
		var previousExpiresAt any
		if len(sec.PreviousHash) > 0 {
			previousExpiresAt = s.timeArg(sec.PreviousExpiresAt)
		}
		set("hash", sec.Hash)
		set("hint", sec.Hint)
		set("previous_hash", bytesArg(sec.PreviousHash))
		set("previous_expires_at", previousExpiresAt)
		set("secret_id", sec.SecretID)
		if !sec.Rehash {
			b.WriteString("generation = generation + 1, ")
		}
	} else if c.EndGrace {
		set("previous_hash", nil)
		set("previous_expires_at", nil)
	}
	if c.AllowedIPs != nil {
		if err := checkAllowedIPs(*c.AllowedIPs); err != nil {
			return "", nil, err
		}
		set("allowed_ips", allowedIPsText(*c.AllowedIPs))
	}
	if c.Resources != nil {
		r, err := resourcesArg(*c.Resources)
		if err != nil {
			return "", nil, err
		}
		set("resources", r)
	}
	if c.Revoke {
		if c.At.IsZero() {
			return "", nil, errors.New("sqlstore: a revocation needs Change.At, its time")
		}
		set("revoked_at", s.timeArg(c.At))
		set("revoked_by", c.By.String())
		set("revoked_reason", c.RevokeReason)
	}
	s.quotaSet(&b, &args, c)
	set("updated_at", s.timeArg(c.At))
	b.WriteString("version = version + 1")
	return b.String(), args, nil
}

// quotaSet appends the quota assignments of c to b. A lowering is
// computed by the database, from the row as the UPDATE finds it under its
// lock: the lesser of the stored remaining (whatever Consume left) and
// the new one. last_refill_at is assigned before the refill columns:
// MySQL evaluates assignments left to right with the values already
// assigned, so it must compare the refill with the stored one first
// (SQLite and Postgres read the old row in every assignment).
func (s *Store) quotaSet(b *strings.Builder, args *[]any, c keys.Change) {
	if c.RemoveQuota {
		b.WriteString("remaining = NULL, refill_amount = 0, refill_interval_ms = 0, last_refill_at = NULL, ")
		return
	}
	if r := c.Remaining; r != nil {
		if c.RemainingExact {
			b.WriteString("remaining = ?, ")
			*args = append(*args, *r)
		} else {
			least := "LEAST"
			if s.dialect == SQLite {
				least = "MIN" // SQLite's scalar MIN of several arguments
			}
			b.WriteString("remaining = CASE WHEN remaining IS NULL THEN ? ELSE " + least + "(remaining, ?) END, ")
			*args = append(*args, *r, *r)
		}
	}
	if q := c.Refill; q != nil {
		ms := q.RefillInterval.Milliseconds()
		b.WriteString("last_refill_at = CASE WHEN refill_amount <> ? OR refill_interval_ms <> ? THEN " + timePlaceholder(s.dialect) +
			" ELSE last_refill_at END, refill_amount = ?, refill_interval_ms = ?, ")
		*args = append(*args, q.RefillAmount, ms, s.timeArg(c.At), q.RefillAmount, ms)
	}
}

// checkSecret refuses hashes the table cannot hold.
func checkSecret(sec *keys.Secret) error {
	switch {
	case len(sec.Hash) != sha256.Size:
		return fmt.Errorf("sqlstore: the new hash is %d bytes, want %d", len(sec.Hash), sha256.Size)
	case len(sec.PreviousHash) != 0 && len(sec.PreviousHash) != sha256.Size:
		return fmt.Errorf("sqlstore: the previous hash is %d bytes, want %d", len(sec.PreviousHash), sha256.Size)
	}
	return nil
}
