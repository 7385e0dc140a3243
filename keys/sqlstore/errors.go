package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"regexp"
	"strings"
	"syscall"

	"github.com/keycaphq/keycap/keys"
)

// wrap maps a database error of operation op to the errors of [keys.Store]:
// a unique violation is [keys.ErrConflict]; the rest as [Store.wrapOther].
// Drivers are recognized by their error methods and messages, so none is
// imported.
func (s *Store) wrap(ctx context.Context, op string, err error) error {
	if err != nil && isUnique(s.dialect, err) {
		return fmt.Errorf("%w: %w", keys.ErrConflict, err)
	}
	return s.wrapOther(ctx, op, err)
}

// wrapOther wraps [keys.ErrStoreUnavailable] and the cause when the database
// could not be asked, and returns other errors with op for context.
func (s *Store) wrapOther(ctx context.Context, op string, err error) error {
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil || isUnavailable(s.dialect, err):
		return fmt.Errorf("%w: sqlstore: %s: %w", keys.ErrStoreUnavailable, op, err)
	}
	return fmt.Errorf("sqlstore: %s: %w", op, err)
}

// mysqlNumber reads the error number from go-sql-driver/mysql's message,
// "Error 1062 (23000): Duplicate entry ...": *mysql.MySQLError has a Number
// field but no method to read it through.
var mysqlNumber = regexp.MustCompile(`^Error (\d+)\b`)

func isUnique(d Dialect, err error) bool {
	switch d {
	case Postgres: // pgconn.PgError
		var e interface{ SQLState() string }
		return errors.As(err, &e) && e.SQLState() == "23505"
	case MySQL:
		var e interface{ Number() uint16 }
		if errors.As(err, &e) {
			return e.Number() == 1062 || e.Number() == 1586
		}
		m := mysqlNumber.FindStringSubmatch(err.Error())
		return m != nil && (m[1] == "1062" || m[1] == "1586")
	case SQLite: // modernc.org/sqlite's Code is the extended result code
		var e interface{ Code() int }
		if errors.As(err, &e) && (e.Code() == 2067 || e.Code() == 1555) { // CONSTRAINT_UNIQUE, _PRIMARYKEY
			return true
		}
		msg := err.Error()
		return strings.Contains(msg, "UNIQUE constraint failed") || strings.Contains(msg, "PRIMARY KEY constraint failed")
	}
	return false
}

// unavailableMessages are causes that mean "the database could not be
// asked" in the words of database/sql and the three drivers.
var unavailableMessages = []string{
	"sql: database is closed",
	"bad connection",
	"invalid connection", // mysql.ErrInvalidConn
	"connection refused",
	"connection reset",
	"broken pipe",
	"i/o timeout",
	"no such host",
	"failed to connect", // pgconn.ConnectError
	"conn closed",       // pgx
	"database is locked",
	"unable to open database file",
	"Too many connections",
}

func isUnavailable(d Dialect, err error) bool {
	if errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone) ||
		errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) {
		return true
	}
	var netErr net.Error
	if errors.As(err, &netErr) {
		return true
	}
	var state interface{ SQLState() string } // pgconn.PgError
	if d == Postgres && errors.As(err, &state) {
		switch s := state.SQLState(); {
		case strings.HasPrefix(s, "08"), // connection exception
			s == "53300",                             // too many connections
			s == "57P01", s == "57P02", s == "57P03", // shutting down, cannot connect now
			s == "25006": // read-only transaction: a standby, or a primary being failed over
			return true
		}
	}
	if d == MySQL {
		if m := mysqlNumber.FindStringSubmatch(err.Error()); m != nil && (m[1] == "1290" || m[1] == "1792") {
			return true // --read-only (a replica, or failover), read-only transaction
		}
	}
	var code interface{ Code() int } // modernc.org/sqlite's *Error
	if d == SQLite && errors.As(err, &code) {
		switch code.Code() & 0xff {
		case 5, 6, 8, 14: // BUSY, LOCKED, READONLY (read-only file or mount, file moved or deleted), CANTOPEN
			return true
		}
	}
	msg := err.Error()
	for _, m := range unavailableMessages {
		if strings.Contains(msg, m) {
			return true
		}
	}
	return false
}

// isRetryable reports an error that aborted a transaction to break a
// deadlock or a serialization conflict: running it again may succeed.
func isRetryable(d Dialect, err error) bool {
	switch d {
	case Postgres:
		var e interface{ SQLState() string }
		return errors.As(err, &e) && (e.SQLState() == "40001" || e.SQLState() == "40P01")
	case MySQL:
		// 1213: deadlock; 1020: a row changed since it was read (MariaDB's
		// snapshot isolation).
		m := mysqlNumber.FindStringSubmatch(err.Error())
		return m != nil && (m[1] == "1213" || m[1] == "1020")
	case SQLite:
		// SQLITE_BUSY (5, with its extended codes such as BUSY_SNAPSHOT,
		// 517): a deferred transaction that read and then wants to write
		// while another connection writes is refused at once, without the
		// busy handler (SQLite's deadlock avoidance); run from the start, it
		// takes the write lock in turn.
		var e interface{ Code() int }
		if errors.As(err, &e) {
			return e.Code()&0xff == 5
		}
		return strings.Contains(err.Error(), "(SQLITE_BUSY)")
	}
	return false
}
