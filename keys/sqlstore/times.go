package sqlstore

import (
	"database/sql"
	"fmt"
	"time"
)

// mysqlTime is how times are written to MySQL: UTC text, so that neither
// the driver's loc nor the server's time zone can shift them.
const mysqlTime = "2006-01-02 15:04:05.000"

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
