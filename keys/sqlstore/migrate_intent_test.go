package sqlstore_test

import (
	"database/sql"
	"testing"
	"time"

	"github.com/keycaphq/keycap/audit"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/keys/notify"
	"github.com/keycaphq/keycap/keys/sqlstore"
)

// TestMigrate0003 upgrades a database at version 2 holding records and
// events, on every dialect: actors become "kind:id" (a user id gets
// "user:", "key:<id>" and "" stay), ancestors are the parent, every record
// is at version 1 and generation 0; Migrate again changes nothing; the
// store then works on the upgraded tables.
func TestMigrate0003(t *testing.T) {
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			db := d.open(t)
			s, a := newStoreAt(t, db, d.dialect, 2)
			at := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
			root, child, plain := testKey(t, "alice"), testKey(t, "alice"), testKey(t, "bob")
			root.RevokedAt, root.RevokedReason = at, "leaked"
			child.Ancestors, child.Disabled = []string{root.ID}, true
			require.NoError(t, s.InsertV2(ctx, root, "alice", "admin-7", ""))
			require.NoError(t, s.InsertV2(ctx, child, "key:"+root.ID, "", "bob"))
			require.NoError(t, s.InsertV2(ctx, plain, "", "", ""))
			for _, actor := range []string{"alice", "", "key:" + root.ID, "Key:odd"} {
				require.NoError(t, a.AuditRaw(ctx, "alice", root.ID, actor, at))
			}

			require.NoError(t, s.Migrate(ctx))
			want := map[string]*keys.Key{root.ID: root.Clone(), child.ID: child.Clone(), plain.ID: plain.Clone()}
			want[root.ID].CreatedBy, want[root.ID].RevokedBy = audit.User("alice"), audit.User("admin-7")
			want[child.ID].CreatedBy, want[child.ID].DisabledBy = audit.Key(root.ID), audit.User("bob")
			want[plain.ID].CreatedBy = audit.Actor{}
			for _, w := range want {
				w.SecretID = "1" // 0005: the one server secret keycap had
			}
			for id, w := range want {
				got, err := s.Get(ctx, id)
				require.NoError(t, err)
				assert.Equal(t, w, got, "version 1, generation 0, typed actors, ancestors from parent_id")
			}
			wantEvents := []audit.Actor{{Kind: audit.KindUser, ID: "Key:odd"}, audit.Key(root.ID), {}, audit.User("alice")}
			requireEventActors(t, a, wantEvents)

			require.NoError(t, s.Migrate(ctx), "again")
			requireVersions(t, db, s, versions(d.dialect)...)
			for id, w := range want {
				got, err := s.Get(ctx, id)
				require.NoError(t, err)
				assert.Equal(t, w, got, "a second Migrate rewrites nothing")
			}
			requireEventActors(t, a, wantEvents)

			name := "renamed"
			got, err := s.Change(ctx, child.ID, keys.Change{Version: 1, At: at, Name: &name})
			require.NoError(t, err)
			assert.Equal(t, int64(2), got.Version)
			list, err := s.List(ctx, "alice", keys.Page{Within: root.ID})
			require.NoError(t, err)
			assert.ElementsMatch(t, []string{root.ID, child.ID}, idsOf(list))
		})
	}
}

// TestMigrate0003HalfApplied: a Migrate that stopped after adding some of
// the columns of 0003 (MySQL commits each schema statement) is completed
// by the next one, which rewrites the actors once.
func TestMigrate0003HalfApplied(t *testing.T) {
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			db := d.open(t)
			s, _ := newStoreAt(t, db, d.dialect, 2)
			k := testKey(t, "alice")
			require.NoError(t, s.InsertV2(ctx, k, "alice", "", ""))
			require.NoError(t, s.ApplyStatements(ctx, 3, 2)) // version and generation
			require.NoError(t, s.Migrate(ctx))
			requireVersions(t, db, s, versions(d.dialect)...)
			got, err := s.Get(ctx, k.ID)
			require.NoError(t, err)
			k.SecretID = "1" // 0005: the one server secret keycap had
			assert.Equal(t, k, got)
		})
	}
}

// TestMigrate0006HalfApplied: a Migrate that stopped after the first
// statements of 0006 (MySQL commits each schema statement; it has no
// CREATE INDEX IF NOT EXISTS) is completed by the next one; records of
// before keep their fields, with no disable time, and the notices table
// takes claims.
func TestMigrate0006HalfApplied(t *testing.T) {
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			db := d.open(t)
			s, _ := newStoreAt(t, db, d.dialect, 5)
			k := testKey(t, "alice")
			k.Disabled, k.DisabledBy = true, audit.User("admin")
			require.NoError(t, s.InsertV2(ctx, k, "user:alice", "", "user:admin"))
			require.NoError(t, s.ApplyStatements(ctx, 6, 3)) // disabled_at, the notices table, an index
			require.NoError(t, s.Migrate(ctx))
			require.NoError(t, s.Migrate(ctx), "again")
			requireVersions(t, db, s, versions(d.dialect)...)
			got, err := s.Get(ctx, k.ID)
			require.NoError(t, err)
			k.SecretID = "1" // 0005: the one server secret keycap had
			assert.Equal(t, k, got)
			won, err := s.Claim(ctx, notify.Claim{Type: audit.Disabled, KeyID: k.ID, OwnerID: "alice", At: k.CreatedAt, Token: "t", Now: k.CreatedAt})
			require.NoError(t, err)
			assert.True(t, won)
		})
	}
}

// TestUnparsableActor: a stored actor that is not "kind:id" is an error
// naming the key, never a zero Actor.
func TestUnparsableActor(t *testing.T) {
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			s := newStore(t, d.open(t), d.dialect)
			k := testKey(t, "alice")
			require.NoError(t, s.InsertV2(ctx, k, "no kind", "", ""))
			_, err := s.Get(ctx, k.ID)
			require.Error(t, err)
			assert.NotErrorIs(t, err, keys.ErrNotFound)
			assert.ErrorContains(t, err, k.ID)
			assert.ErrorContains(t, err, "created_by")
			_, err = s.List(ctx, "alice", keys.Page{})
			assert.ErrorContains(t, err, k.ID)

			a := sqlstore.NewAuditor(s)
			require.NoError(t, a.AuditRaw(ctx, "alice", k.ID, "nobody", time.Now()))
			_, err = a.Events(ctx, "alice", 10)
			assert.ErrorContains(t, err, k.ID)
		})
	}
}

// newStoreAt returns a Store on db, with a table prefix of its own, whose
// tables are at schema version v, and its Auditor.
func newStoreAt(t *testing.T, db *sql.DB, d sqlstore.Dialect, v int) (*sqlstore.Store, *sqlstore.Auditor) {
	t.Helper()
	prefix := randomName() + "_"
	s, err := sqlstore.New(db, d, sqlstore.Options{TablePrefix: prefix})
	require.NoError(t, err)
	t.Cleanup(func() { dropTables(t, db, prefix) })
	require.NoError(t, s.MigrateTo(t.Context(), v))
	return s, sqlstore.NewAuditor(s)
}

// versions are the versions of every migration of d.
func versions(d sqlstore.Dialect) []int {
	var out []int
	for _, m := range sqlstore.Migrations(d) {
		out = append(out, m.Version)
	}
	return out
}

func requireVersions(t *testing.T, db *sql.DB, s *sqlstore.Store, want ...int) {
	t.Helper()
	rows, err := db.QueryContext(t.Context(), "SELECT version FROM "+s.TablePrefix()+"schema_migrations ORDER BY version")
	require.NoError(t, err)
	defer rows.Close()
	var got []int
	for rows.Next() {
		var v int
		require.NoError(t, rows.Scan(&v))
		got = append(got, v)
	}
	require.NoError(t, rows.Err())
	require.Equal(t, want, got)
}

func requireEventActors(t *testing.T, a *sqlstore.Auditor, want []audit.Actor) {
	t.Helper()
	events, err := a.Events(t.Context(), "alice", 10)
	require.NoError(t, err)
	var got []audit.Actor
	for _, e := range events {
		got = append(got, e.Actor)
	}
	assert.Equal(t, want, got, "newest first")
}

// TestMigrate0009 upgrades an events table at version 8 on every dialect:
// its events read back with no quota (NULL is none), new events keep
// theirs, and a quota column that is not a quota is an error naming the
// key, never a zero quota.
func TestMigrate0009(t *testing.T) {
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			db := d.open(t)
			s, a := newStoreAt(t, db, d.dialect, 8)
			at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
			require.NoError(t, a.AuditRaw(ctx, "alice", "0123456789abcdef", "user:alice", at))
			require.NoError(t, s.Migrate(ctx))
			requireVersions(t, db, s, versions(d.dialect)...)

			q := &audit.Quota{Remaining: 20, RefillAmount: 100, RefillInterval: time.Hour}
			a.Audit(ctx, audit.Event{Type: audit.Updated, Time: at.Add(time.Second), Actor: audit.User("alice"), OwnerID: "alice",
				KeyID: "0123456789abcdef", BeforeQuota: &audit.Quota{Remaining: 40, RefillAmount: 100, RefillInterval: time.Hour}, AfterQuota: q})
			events, err := a.Events(ctx, "alice", 10)
			require.NoError(t, err)
			require.Len(t, events, 2)
			assert.Equal(t, q, events[0].AfterQuota)
			assert.Equal(t, int64(40), events[0].BeforeQuota.Remaining)
			assert.Nil(t, events[1].BeforeQuota, "an event of before 0009 has no quota")
			assert.Nil(t, events[1].AfterQuota, "an event of before 0009 has no quota")

			_, err = db.ExecContext(ctx, "UPDATE "+s.TablePrefix()+"events SET after_quota = 'forty'")
			require.NoError(t, err)
			_, err = a.Events(ctx, "alice", 10)
			assert.ErrorContains(t, err, "0123456789abcdef")
			assert.ErrorContains(t, err, "after_quota")
		})
	}
}
