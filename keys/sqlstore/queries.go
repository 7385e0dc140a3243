package sqlstore

import "strings"

// queries are the statements of a Store, built once for its dialect and
// table. Change builds its UPDATE per call from the fields it sets.
type queries struct {
	insert, get, touch, consume, remaining, state string
	// list[before][within]: a page of an owner's keys, with a cursor and
	// confined to a key and the keys created through it.
	list [2][2]string
	// Create with a key limit: insertLimited (SQLite) inserts only while
	// the owner has fewer live keys; countLive, lockOwner and ensureOwner
	// serve the transaction of Postgres and MySQL (see create.go).
	insertLimited, countLive, lockOwner, ensureOwner string
}

func newQueries(d Dialect, table, prefix string) queries {
	cols := strings.Join(columns, ", ")
	marks := strings.TrimSuffix(strings.Repeat("?, ", len(columns)), ", ")
	t := timePlaceholder(d)
	live := "SELECT COUNT(*) FROM " + table + " WHERE owner_id = ? AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > " + t + ")"
	q := queries{
		insert:        "INSERT INTO " + table + " (" + cols + ") VALUES (" + marks + ")",
		insertLimited: "INSERT INTO " + table + " (" + cols + ") SELECT " + marks + " WHERE (" + live + ") < ?",
		countLive:     live,
		get:           "SELECT " + cols + " FROM " + table + " WHERE id = ?",
		touch: "UPDATE " + table + " SET last_used_at = ?, last_used_ip = ?" +
			" WHERE id = ? AND (last_used_at IS NULL OR last_used_at < " + t + ")",
		remaining: "SELECT remaining FROM " + table + " WHERE id = ?",
		state:     "SELECT version, CASE WHEN revoked_at IS NULL THEN 0 ELSE 1 END FROM " + table + " WHERE id = ?",
		consume:   consumeQuery(d, table),
	}
	switch d {
	case Postgres:
		// One advisory lock per table and owner, held until commit.
		q.lockOwner = "SELECT pg_advisory_xact_lock(hashtextextended(CAST(? AS TEXT), 0))"
	case MySQL:
		owners := prefix + "key_owners"
		q.ensureOwner = "INSERT IGNORE INTO " + owners + " (owner_id) VALUES (?)"
		q.lockOwner = "SELECT owner_id FROM " + owners + " WHERE owner_id = ? FOR UPDATE"
	}
	// MariaDB, asked for whole rows, may read the index by owner_id alone
	// and filter id, so a deep page reads every row before it: name the
	// index so that the cursor bounds the range.
	listFrom := table
	if d == MySQL {
		listFrom = table + " FORCE INDEX (" + table + "_owner_id_id)"
	}
	// ids are 16 base32 characters separated by spaces in ancestors: no
	// LIKE wildcard in them, and no id is found inside another.
	within := map[Dialect]string{
		SQLite:   " AND (id = ? OR ancestors LIKE '%' || ? || '%')",
		Postgres: " AND (id = ? OR ancestors LIKE '%' || CAST(? AS TEXT) || '%')",
		MySQL:    " AND (id = ? OR ancestors LIKE CONCAT('%', ?, '%'))",
	}[d]
	for before, cursor := range []string{"", " AND id < ?"} {
		for in, confine := range []string{"", within} {
			q.list[before][in] = "SELECT " + cols + " FROM " + listFrom + " WHERE owner_id = ?" + cursor + confine + " ORDER BY id DESC LIMIT ?"
		}
	}
	for _, p := range []*string{&q.insert, &q.insertLimited, &q.countLive, &q.get, &q.touch, &q.remaining, &q.state,
		&q.consume, &q.lockOwner, &q.ensureOwner, &q.list[0][0], &q.list[0][1], &q.list[1][0], &q.list[1][1]} {
		*p = rebind(d, *p)
	}
	return q
}

// consumeQuery spends one unit of a key's quota, refilling it first when
// due, in one conditional UPDATE that writes only remaining and
// last_refill_at. Arguments: now, now, now, id, now. The row lock (or
// SQLite's write lock) makes the check and the decrement one step. It
// returns the new remaining (RETURNING; on MySQL, LastInsertId).
func consumeQuery(d Dialect, table string) string {
	t := timePlaceholder(d)
	due := refillDue(d)
	spend := "CASE WHEN " + due + " THEN refill_amount - 1 ELSE remaining - 1 END"
	if d == MySQL {
		// MySQL has no UPDATE ... RETURNING: LAST_INSERT_ID(expr) hands
		// the new value back in the statement's result (LastInsertId).
		// MySQL assigns left to right, so due still sees the old
		// last_refill_at when the second assignment is made.
		spend = "LAST_INSERT_ID(" + spend + ")"
	}
	q := "UPDATE " + table + " SET remaining = " + spend +
		", last_refill_at = CASE WHEN " + due + " THEN " + t + " ELSE last_refill_at END" +
		" WHERE id = ? AND remaining IS NOT NULL AND (remaining > 0 OR " + due + ")"
	if d != MySQL {
		q += " RETURNING remaining"
	}
	return q
}

// refillDue is the condition, on the row as stored, that its refill is due
// at the time of its one placeholder: RefillInterval and RefillAmount > 0
// and that time at least LastRefillAt (or CreatedAt) + RefillInterval, as
// [keys.Store] defines it. Consume and Change both use it.
func refillDue(d Dialect) string {
	var due string
	switch d {
	case SQLite:
		due = "COALESCE(last_refill_at, created_at, 0) + refill_interval_ms <= ?"
	case Postgres:
		due = "COALESCE(last_refill_at, created_at, TIMESTAMPTZ 'epoch') + refill_interval_ms * INTERVAL '1 millisecond' <= ?"
	case MySQL:
		due = "TIMESTAMPADD(MICROSECOND, refill_interval_ms * 1000, COALESCE(last_refill_at, created_at, TIMESTAMP '1970-01-01 00:00:00')) <= " + timePlaceholder(d)
	}
	return "(refill_interval_ms > 0 AND refill_amount > 0 AND " + due + ")"
}

// timePlaceholder is the placeholder of a time compared in SQL: MySQL gets
// times as UTC text (see timeArg) and compares them as DATETIME(3).
func timePlaceholder(d Dialect) string {
	if d == MySQL {
		return "CAST(? AS DATETIME(3))"
	}
	return "?"
}
