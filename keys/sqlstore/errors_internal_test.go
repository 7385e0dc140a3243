package sqlstore

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"net"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/keycaphq/keycap/keys"
)

// Stand-ins for the drivers' error types, which this package must not
// import.
type pgError struct{ code string }

func (e *pgError) Error() string    { return "ERROR: something (SQLSTATE " + e.code + ")" }
func (e *pgError) SQLState() string { return e.code }

type sqliteError struct {
	code int
	msg  string
}

func (e *sqliteError) Error() string { return e.msg }
func (e *sqliteError) Code() int     { return e.code }

func TestWrapClassifies(t *testing.T) {
	tests := []struct {
		name    string
		dialect Dialect
		err     error
		want    error // nil: neither sentinel
	}{
		{"pg unique", Postgres, &pgError{"23505"}, keys.ErrConflict},
		{"pg unique wrapped", Postgres, fmt.Errorf("exec: %w", &pgError{"23505"}), keys.ErrConflict},
		{"pg not null", Postgres, &pgError{"23502"}, nil},
		{"pg connection failure", Postgres, &pgError{"08006"}, keys.ErrStoreUnavailable},
		{"pg shutting down", Postgres, &pgError{"57P01"}, keys.ErrStoreUnavailable},
		{"pg too many connections", Postgres, &pgError{"53300"}, keys.ErrStoreUnavailable},
		{"mysql duplicate", MySQL, errors.New("Error 1062 (23000): Duplicate entry 'x' for key 'hash'"), keys.ErrConflict},
		{"mysql duplicate, old format", MySQL, errors.New("Error 1062: Duplicate entry 'x' for key 'hash'"), keys.ErrConflict},
		{"mysql null", MySQL, errors.New("Error 1048 (23000): Column 'hash' cannot be null"), nil},
		{"mysql 10620 is not 1062", MySQL, errors.New("Error 10620: something"), nil},
		{"mysql invalid connection", MySQL, errors.New("invalid connection"), keys.ErrStoreUnavailable},
		{"mysql too many connections", MySQL, errors.New("Error 1040: Too many connections"), keys.ErrStoreUnavailable},
		{"sqlite unique (modernc)", SQLite, &sqliteError{2067, "constraint failed: UNIQUE constraint failed: keycap_keys.hash (2067)"}, keys.ErrConflict},
		{"sqlite primary key (modernc)", SQLite, &sqliteError{1555, "constraint failed"}, keys.ErrConflict},
		{"sqlite unique (by message)", SQLite, errors.New("UNIQUE constraint failed: keycap_keys.id"), keys.ErrConflict},
		{"sqlite not null", SQLite, &sqliteError{1299, "NOT NULL constraint failed: keycap_keys.hash"}, nil},
		{"sqlite busy", SQLite, &sqliteError{5, "database is locked (5)"}, keys.ErrStoreUnavailable},
		{"sqlite busy snapshot", SQLite, &sqliteError{517, "database is locked"}, keys.ErrStoreUnavailable},
		{"bad conn", Postgres, driver.ErrBadConn, keys.ErrStoreUnavailable},
		{"closed", SQLite, errors.New("sql: database is closed"), keys.ErrStoreUnavailable},
		{"refused", MySQL, &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}, keys.ErrStoreUnavailable},
		{"deadline", Postgres, fmt.Errorf("query: %w", context.DeadlineExceeded), keys.ErrStoreUnavailable},
		{"syntax", Postgres, &pgError{"42601"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &Store{dialect: tt.dialect}
			got := s.wrap(context.Background(), "op", tt.err)
			assert.ErrorIs(t, got, tt.err, "the cause is kept")
			for _, sentinel := range []error{keys.ErrConflict, keys.ErrStoreUnavailable} {
				assert.Equal(t, sentinel == tt.want, errors.Is(got, sentinel), "%v: errors.Is(%v)", got, sentinel)
			}
		})
	}
}
