package sqlstore

import "strings"

// columns of the keys table, in the order of [Store.args] and [scanKey].
var columns = []string{
	"id", "owner_id", "name", "prefix", "hint", "hash", "permissions",
	"created_at", "updated_at", "expires_at", "created_by", "parent_id",
	"previous_hash", "previous_expires_at", "last_used_at", "last_used_ip",
	"revoked_at", "revoked_by", "revoked_reason", "disabled", "disabled_by",
	"remaining", "refill_amount", "refill_interval_ms", "last_refill_at",
}

// queries are the statements of a Store, built once for its dialect and
// table.
type queries struct {
	insert, get, list, listBefore, update, exists, touch, consume, remaining string
}

func newQueries(d Dialect, table string) queries {
	cols := strings.Join(columns, ", ")
	marks := strings.TrimSuffix(strings.Repeat("?, ", len(columns)), ", ")
	sets := strings.Join(columns[1:], " = ?, ") + " = ?"
	t := timePlaceholder(d)
	// MariaDB, asked for whole rows, may read the index by owner_id alone
	// and filter id, so a deep page reads every row before it: name the
	// index so that the cursor bounds the range.
	listFrom := table
	if d == MySQL {
		listFrom = table + " FORCE INDEX (" + table + "_owner_id_id)"
	}
	q := queries{
		insert:     "INSERT INTO " + table + " (" + cols + ") VALUES (" + marks + ")",
		get:        "SELECT " + cols + " FROM " + table + " WHERE id = ?",
		list:       "SELECT " + cols + " FROM " + listFrom + " WHERE owner_id = ? ORDER BY id DESC LIMIT ?",
		listBefore: "SELECT " + cols + " FROM " + listFrom + " WHERE owner_id = ? AND id < ? ORDER BY id DESC LIMIT ?",
		update:     "UPDATE " + table + " SET " + sets + " WHERE id = ?",
		exists:     "SELECT 1 FROM " + table + " WHERE id = ?",
		touch: "UPDATE " + table + " SET last_used_at = ?, last_used_ip = ?" +
			" WHERE id = ? AND (last_used_at IS NULL OR last_used_at < " + t + ")",
		remaining: "SELECT remaining FROM " + table + " WHERE id = ?",
	}
	// due is true when the quota is reset before this request is counted:
	// the refill clock starts at last_refill_at, or created_at.
	var due string
	switch d {
	case SQLite:
		due = "COALESCE(last_refill_at, created_at, 0) + refill_interval_ms <= ?"
	case Postgres:
		due = "COALESCE(last_refill_at, created_at, TIMESTAMPTZ 'epoch') + refill_interval_ms * INTERVAL '1 millisecond' <= ?"
	case MySQL:
		due = "TIMESTAMPADD(MICROSECOND, refill_interval_ms * 1000, COALESCE(last_refill_at, created_at, TIMESTAMP '1970-01-01 00:00:00')) <= " + t
	}
	due = "(refill_interval_ms > 0 AND refill_amount > 0 AND " + due + ")"
	spend := "CASE WHEN " + due + " THEN refill_amount - 1 ELSE remaining - 1 END"
	if d == MySQL {
		// MySQL has no UPDATE ... RETURNING: LAST_INSERT_ID(expr) hands
		// the new value back in the statement's result (LastInsertId).
		// MySQL assigns left to right, so due still sees the old
		// last_refill_at when the second assignment is made.
		spend = "LAST_INSERT_ID(" + spend + ")"
	}
	// Arguments: now, now, now, id, now. A single statement: the row lock
	// (or SQLite's write lock) makes the check and the decrement one step.
	q.consume = "UPDATE " + table + " SET remaining = " + spend +
		", last_refill_at = CASE WHEN " + due + " THEN " + t + " ELSE last_refill_at END" +
		" WHERE id = ? AND remaining IS NOT NULL AND (remaining > 0 OR " + due + ")"
	if d != MySQL {
		q.consume += " RETURNING remaining"
	}
	for _, p := range []*string{&q.insert, &q.get, &q.list, &q.listBefore, &q.update, &q.exists, &q.touch, &q.consume, &q.remaining} {
		*p = rebind(d, *p)
	}
	return q
}

// timePlaceholder is the placeholder of a time compared in SQL: MySQL gets
// times as UTC text (see timeArg) and compares them as DATETIME(3).
func timePlaceholder(d Dialect) string {
	if d == MySQL {
		return "CAST(? AS DATETIME(3))"
	}
	return "?"
}
