package litepool

import (
	"database/sql"
	"errors"
	"fmt"
	"strconv"

	"zombiezen.com/go/sqlite"
)

// row is the current row of stmt on c, taken from p, until Scan reads it
// and gives c back; or err.
type row struct {
	p    *Pool
	c    *sqlite.Conn
	stmt *sqlite.Stmt
	err  error
}

var errScanned = errors.New("litepool: Scan called twice on one row")

// Scan assigns the row's columns to dest as database/sql's Row.Scan does
// for the destinations a sqlstore.Store passes: *string, *[]byte (a copy),
// *int64, *bool, *sql.NullInt64, *sql.NullString, and any [sql.Scanner],
// given int64, float64, string, []byte or nil. It gives the connection
// back to the pool, whatever happens; a second call fails.
func (r *row) Scan(dest ...any) error {
	if r.err != nil {
		return r.err
	}
	if r.c == nil {
		return errScanned
	}
	defer func() {
		r.p.put(r.c, r.stmt)
		r.c, r.stmt = nil, nil
	}()
	return stmtRow{r.stmt}.Scan(dest...)
}

// stmtRow is the current row of a statement, read by QueryRows's scan.
type stmtRow struct{ stmt *sqlite.Stmt }

// Scan assigns the row's columns to dest, as row.Scan does; it may be
// called more than once.
func (r stmtRow) Scan(dest ...any) error {
	if n := r.stmt.ColumnCount(); len(dest) != n {
		return fmt.Errorf("litepool: %d destinations for %d columns", len(dest), n)
	}
	for i, d := range dest {
		if err := assign(r.stmt, i, d); err != nil {
			return fmt.Errorf("litepool: column %d: %w", i, err)
		}
	}
	return nil
}

// assign reads column i of stmt's current row into dest.
func assign(stmt *sqlite.Stmt, i int, dest any) error {
	t := stmt.ColumnType(i)
	switch d := dest.(type) {
	case *string:
		switch t {
		case sqlite.TypeText, sqlite.TypeBlob:
			*d = stmt.ColumnText(i)
		case sqlite.TypeInteger:
			*d = strconv.FormatInt(stmt.ColumnInt64(i), 10)
		case sqlite.TypeFloat:
			*d = strconv.FormatFloat(stmt.ColumnFloat(i), 'g', -1, 64)
		default:
			return errors.New("cannot read NULL into a string")
		}
	case *[]byte:
		switch t {
		case sqlite.TypeNull:
			*d = nil
		case sqlite.TypeText, sqlite.TypeBlob:
			*d = make([]byte, stmt.ColumnLen(i))
			stmt.ColumnBytes(i, *d)
		default:
			return fmt.Errorf("cannot read %v into []byte", t)
		}
	case *int64:
		if t != sqlite.TypeInteger {
			return fmt.Errorf("cannot read %v into an int64", t)
		}
		*d = stmt.ColumnInt64(i)
	case *bool:
		if t != sqlite.TypeInteger {
			return fmt.Errorf("cannot read %v into a bool", t)
		}
		*d = stmt.ColumnInt64(i) != 0
	case *sql.NullInt64:
		switch t {
		case sqlite.TypeNull:
			*d = sql.NullInt64{}
		case sqlite.TypeInteger:
			*d = sql.NullInt64{Int64: stmt.ColumnInt64(i), Valid: true}
		default:
			return fmt.Errorf("cannot read %v into an int64", t)
		}
	case *sql.NullString:
		if t == sqlite.TypeNull {
			*d = sql.NullString{}
			return nil
		}
		var s string
		if err := assign(stmt, i, &s); err != nil {
			return err
		}
		*d = sql.NullString{String: s, Valid: true}
	case sql.Scanner:
		return d.Scan(value(stmt, i, t))
	default:
		return fmt.Errorf("cannot scan into %T", dest)
	}
	return nil
}

// value is column i (of type t) as database/sql's driver value: int64,
// float64, string, []byte (a copy) or nil.
func value(stmt *sqlite.Stmt, i int, t sqlite.ColumnType) any {
	switch t {
	case sqlite.TypeInteger:
		return stmt.ColumnInt64(i)
	case sqlite.TypeFloat:
		return stmt.ColumnFloat(i)
	case sqlite.TypeText:
		return stmt.ColumnText(i)
	case sqlite.TypeBlob:
		b := make([]byte, stmt.ColumnLen(i))
		stmt.ColumnBytes(i, b)
		return b
	}
	return nil
}
