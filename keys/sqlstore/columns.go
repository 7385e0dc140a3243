package sqlstore

import (
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/keycaphq/keycap/keys"
)

// mysqlTime is how times are written to MySQL: UTC text, so that neither
// the driver's loc nor the server's time zone can shift them.
const mysqlTime = "2006-01-02 15:04:05.000"

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
	return nil
}

// args returns k's column values in the order of [columns].
func (s *Store) args(k *keys.Key) ([]any, error) {
	permissions, err := json.Marshal(k.Permissions) // resources sorted; nil is "null"
	if err != nil {
		return nil, fmt.Errorf("sqlstore: permissions: %w", err)
	}
	var remaining any
	if k.Remaining != nil {
		remaining = *k.Remaining
	}
	var previous any
	if len(k.PreviousHash) > 0 {
		previous = k.PreviousHash
	}
	return []any{
		k.ID, k.OwnerID, k.Name, k.Prefix, k.Hint, k.Hash, string(permissions),
		s.timeArg(k.CreatedAt), s.timeArg(k.UpdatedAt), s.timeArg(k.ExpiresAt), k.CreatedBy, k.ParentID,
		previous, s.timeArg(k.PreviousExpiresAt), s.timeArg(k.LastUsedAt), k.LastUsedIP,
		s.timeArg(k.RevokedAt), k.RevokedBy, k.RevokedReason, k.Disabled, k.DisabledBy,
		remaining, k.RefillAmount, k.RefillInterval.Milliseconds(), s.timeArg(k.LastRefillAt),
	}, nil
}

// timeArg returns t as the dialect stores it, in UTC with millisecond
// precision (truncated); the zero time is NULL.
func (s *Store) timeArg(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	t = t.UTC().Truncate(time.Millisecond)
	switch s.dialect {
	case SQLite:
		return t.UnixMilli()
	case MySQL:
		return t.Format(mysqlTime)
	}
	return t
}

// scanKey reads a row of [columns].
func (s *Store) scanKey(row interface{ Scan(...any) error }) (*keys.Key, error) {
	var (
		k           keys.Key
		permissions []byte
		remaining   sql.NullInt64
		intervalMS  int64
	)
	err := row.Scan(
		&k.ID, &k.OwnerID, &k.Name, &k.Prefix, &k.Hint, &k.Hash, &permissions,
		s.timeDest(&k.CreatedAt), s.timeDest(&k.UpdatedAt), s.timeDest(&k.ExpiresAt), &k.CreatedBy, &k.ParentID,
		&k.PreviousHash, s.timeDest(&k.PreviousExpiresAt), s.timeDest(&k.LastUsedAt), &k.LastUsedIP,
		s.timeDest(&k.RevokedAt), &k.RevokedBy, &k.RevokedReason, &k.Disabled, &k.DisabledBy,
		&remaining, &k.RefillAmount, &intervalMS, s.timeDest(&k.LastRefillAt),
	)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(permissions, &k.Permissions); err != nil {
		return nil, fmt.Errorf("sqlstore: key %s: permissions: %w", k.ID, err)
	}
	if len(k.PreviousHash) == 0 {
		k.PreviousHash = nil
	}
	if remaining.Valid {
		k.Remaining = &remaining.Int64
	}
	k.RefillInterval = time.Duration(intervalMS) * time.Millisecond
	return &k, nil
}

func (s *Store) timeDest(t *time.Time) sql.Scanner { return timeScanner{t, s.dialect} }

// timeScanner reads a time column of any dialect into a UTC time.Time.
type timeScanner struct {
	t *time.Time
	d Dialect
}

func (ts timeScanner) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*ts.t = time.Time{}
	case int64: // SQLite: Unix milliseconds
		*ts.t = time.UnixMilli(v).UTC()
	case time.Time:
		if ts.d == MySQL {
			// DATETIME has no zone: the driver read our UTC wall clock in
			// its loc. Keep the wall clock, in UTC.
			v = time.Date(v.Year(), v.Month(), v.Day(), v.Hour(), v.Minute(), v.Second(), v.Nanosecond(), time.UTC)
		}
		*ts.t = v.UTC()
	case []byte:
		return ts.parse(string(v))
	case string:
		return ts.parse(v)
	default:
		return fmt.Errorf("sqlstore: cannot read a time from %T", src)
	}
	return nil
}

// parse reads MySQL's DATETIME text, as the driver returns it without
// parseTime=true.
func (ts timeScanner) parse(s string) error {
	t, err := time.ParseInLocation("2006-01-02 15:04:05.999999999", s, time.UTC)
	if err != nil {
		return fmt.Errorf("sqlstore: reading a time: %w", err)
	}
	*ts.t = t
	return nil
}
