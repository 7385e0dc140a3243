package main

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/keycaphq/keycap/keys/sqlstore"
)

// dbClockQuery asks each dialect for the database's current time in Unix
// microseconds: an integer, whatever the driver's parseTime and loc or the
// session's time zone (UTC_TIMESTAMP is UTC; EXTRACT(EPOCH) of a
// timestamptz is zone-free). SQLite has no server: its clock is the clock
// of the machine the command runs on, which reads the file.
var dbClockQuery = map[sqlstore.Dialect]string{
	sqlstore.SQLite:   "SELECT CAST(ROUND((julianday('now') - 2440587.5) * 86400000000.0) AS INTEGER)",
	sqlstore.Postgres: "SELECT CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000000 AS BIGINT)",
	sqlstore.MySQL:    "SELECT TIMESTAMPDIFF(MICROSECOND, '1970-01-01 00:00:00', UTC_TIMESTAMP(6))",
}

// dbClock returns a clock that reads the database's time once, now, and
// then advances with local, the operator's clock (time.Now), by the
// elapsed time only: the operator's wall clock, however wrong, never
// decides which key is dead. Every command takes "now" from it: which
// keys are live, what prune deletes, the times it audits.
func dbClock(ctx context.Context, db *sql.DB, d sqlstore.Dialect, local func() time.Time) (func() time.Time, error) {
	var micros int64
	if err := db.QueryRowContext(ctx, dbClockQuery[d]).Scan(&micros); err != nil {
		return nil, fmt.Errorf("reading the database's clock: %w", err)
	}
	at, start := time.UnixMicro(micros).UTC(), local()
	return func() time.Time { return at.Add(local().Sub(start)) }, nil
}
