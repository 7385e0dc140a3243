package sqlstore

import (
	"strings"

	"github.com/keycaphq/keycap/audit"
	"github.com/keycaphq/keycap/keys/notify"
)

// noticeQueries are the statements of the notify.Store of a Store, built
// once for its dialect and tables.
type noticeQueries struct {
	// due[type]: the keys whose notice of that type is due and unclaimed.
	// Arguments: those of the type's condition (see noticeConditions),
	// then type, lead_ms, lapsed and the limit.
	due                                      map[audit.Type]noticeCondition // where: the whole statement
	claim, steal, sent, release, list, prune string
}

// noticeCondition selects a type's keys (alias k) and says the moment
// the notice is about; args names the Query fields its placeholders take.
type noticeCondition struct {
	where, at string
	args      []string // "from", "to", "now", "lead"
}

func noticeConditions(d Dialect) map[audit.Type]noticeCondition {
	t := timePlaceholder(d)
	live := "k.revoked_at IS NULL AND k.disabled = FALSE AND "
	unexpired := "(k.expires_at IS NULL OR k.expires_at > " + t + ") AND "
	owner, lessLead, latest := "'user:' || k.owner_id", "k.expires_at - ?", "max"
	switch d {
	case Postgres:
		owner = `('user:' || k.owner_id) COLLATE "C"`
		lessLead, latest = "k.expires_at - CAST(? AS BIGINT) * INTERVAL '1 millisecond'", "GREATEST"
	case MySQL:
		owner = "CONCAT('user:', k.owner_id)"
		lessLead, latest = "TIMESTAMPADD(MICROSECOND, -1000 * ?, k.expires_at)", "GREATEST"
	}
	// notOwner: someone other than the owner and the owner's keys acted.
	notOwner := func(col string) string {
		return " AND " + col + " <> '' AND " + col + " NOT LIKE 'key:%' AND " + col + " <> " + owner
	}
	within := func(col string) string { return col + " > " + t + " AND " + col + " <= " + t }
	// stale: a live key last used (or, never used, created) within.
	stale := live + unexpired + "((" + within("k.last_used_at") + ") OR (k.last_used_at IS NULL AND " + within("k.created_at") + "))"
	return map[audit.Type]noticeCondition{
		audit.Expiring: {live + within("k.expires_at") + " AND k.created_at <= " + lessLead, "k.expires_at", []string{"from", "to", "lead"}},
		audit.Expired:  {live + within("k.expires_at"), "k.expires_at", []string{"from", "to"}},
		audit.Stale:    {stale, "COALESCE(k.last_used_at, k.created_at)", []string{"now", "from", "to", "from", "to"}},
		notify.Unused: {stale + " AND COALESCE(k.updated_at, k.created_at) <= " + t,
			latest + "(COALESCE(k.last_used_at, k.created_at), COALESCE(k.updated_at, k.created_at))", []string{"now", "from", "to", "from", "to", "to"}},
		audit.Revoked: {within("k.revoked_at") + notOwner("k.revoked_by"), "k.revoked_at", []string{"from", "to"}},
		audit.Disabled: {"k.revoked_at IS NULL AND k.disabled = TRUE AND " + within("k.disabled_at") + notOwner("k.disabled_by"),
			"k.disabled_at", []string{"from", "to"}},
	}
}

func newNoticeQueries(d Dialect, prefix string) noticeQueries {
	keysTable, notices := prefix+"keys", prefix+"notices"
	t := timePlaceholder(d)
	cols := "k." + strings.Join(columns, ", k.")
	notice := " WHERE key_id = ? AND type = ? AND lead_ms = ? AND event_at = " + t
	q := noticeQueries{due: map[audit.Type]noticeCondition{}}
	for typ, c := range noticeConditions(d) {
		c.where = "SELECT " + cols + " FROM " + keysTable + " k WHERE " + c.where +
			" AND NOT EXISTS (SELECT 1 FROM " + notices + " n WHERE n.key_id = k.id AND n.type = ? AND n.lead_ms = ?" +
			" AND n.event_at = " + c.at + " AND (n.sent_at IS NOT NULL OR n.claimed_at > " + t + ")) LIMIT ?"
		c.where = rebind(d, c.where)
		q.due[typ] = c
	}
	insert := "INSERT INTO " + notices + " (key_id, type, lead_ms, event_at, owner_id, claim, claimed_at) VALUES (?, ?, ?, " + t + ", ?, ?, " + t + ")"
	if d == MySQL {
		q.claim = strings.Replace(insert, "INSERT INTO", "INSERT IGNORE INTO", 1)
	} else {
		q.claim = insert + " ON CONFLICT DO NOTHING"
	}
	q.steal = "UPDATE " + notices + " SET claim = ?, claimed_at = " + t + ", owner_id = ?" + notice +
		" AND sent_at IS NULL AND claimed_at <= " + t
	q.sent = "UPDATE " + notices + " SET sent_at = " + t + notice + " AND claim = ?"
	q.release = "DELETE FROM " + notices + notice + " AND claim = ? AND sent_at IS NULL"
	q.list = "SELECT n.type, n.lead_ms, n.event_at, n.sent_at, " + cols + " FROM " + notices + " n JOIN " + keysTable +
		" k ON k.id = n.key_id WHERE n.owner_id = ? AND n.sent_at IS NOT NULL AND n.type <> '" + string(notify.Unused) + "' ORDER BY n.sent_at DESC LIMIT ?"
	q.prune = "DELETE FROM " + notices + " WHERE claimed_at < " + t
	for _, p := range []*string{&q.claim, &q.steal, &q.sent, &q.release, &q.list, &q.prune} {
		*p = rebind(d, *p)
	}
	return q
}
