package sqlstore_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keycaphq/keycap/audit"
	"github.com/keycaphq/keycap/middleware"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	keycaptest "github.com/keycaphq/keycap/httptest_helpers"
	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/keys/sqlstore"
	"github.com/keycaphq/keycap/policy"
)

// TestAuditor records events of two owners and lists them back, on every
// dialect: newest first, within the limit, each owner only their own,
// every field as it was (times to the millisecond, in UTC).
func TestAuditor(t *testing.T) {
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			a := sqlstore.NewAuditor(newStore(t, d.open(t), d.dialect))
			ctx := t.Context()
			base := time.Date(2026, 3, 1, 12, 0, 0, 123_456_789, time.FixedZone("CET", 3600))
			read := policy.MustParse("files:read")
			readWrite := policy.MustParse("files:read", "files:write")
			want := []audit.Event{
				{Type: audit.Created, Time: base, Actor: audit.User("alice"), OwnerID: "alice", KeyID: "0123456789abcdef", After: read},
				{Type: audit.Updated, Time: base.Add(time.Second), Actor: audit.User("alice"), OwnerID: "alice", KeyID: "0123456789abcdef", Before: read, After: readWrite},
				{Type: audit.Refused, Time: base.Add(2 * time.Second), Actor: audit.Key("0123456789abcdef"), OwnerID: "alice",
					After: policy.MustParse("billing:read"), Reason: "requested permissions exceed your maximum"},
				{Type: audit.Rotated, Time: base.Add(3 * time.Second), Actor: audit.User("alice"), OwnerID: "alice", KeyID: "0123456789abcdef", Before: readWrite, After: readWrite},
				{Type: audit.Revoked, Time: base.Add(4 * time.Second), Actor: audit.Actor{Kind: audit.KindOperator, ID: "admin: on call"}, OwnerID: "alice", KeyID: "0123456789abcdef", Before: readWrite, Reason: "leaked – in a “gist”"},
				{Type: audit.VerificationDenied, Time: base.Add(5 * time.Second), OwnerID: "alice", KeyID: "0123456789abcdef",
					Before: readWrite, Reason: "key revoked", IP: "2001:db8::1"},
				{Type: audit.Created, Time: base.Add(6 * time.Second), Actor: audit.User("alice"), OwnerID: "alice", KeyID: "fedcba9876543210", After: policy.Permissions{}},
				// Quotas (0009): added, lowered with a refill set, removed; nil is none.
				{Type: audit.Updated, Time: base.Add(7 * time.Second), Actor: audit.User("alice"), OwnerID: "alice", KeyID: "fedcba9876543210",
					Before: policy.Permissions{}, After: policy.Permissions{}, AfterQuota: &audit.Quota{Remaining: 100}},
				{Type: audit.Updated, Time: base.Add(8 * time.Second), Actor: audit.Key("0123456789abcdef"), OwnerID: "alice", KeyID: "fedcba9876543210",
					Before: policy.Permissions{}, After: policy.Permissions{}, BeforeQuota: &audit.Quota{Remaining: 100},
					AfterQuota: &audit.Quota{Remaining: 0, RefillAmount: 50, RefillInterval: 90 * time.Minute}},
				{Type: audit.Updated, Time: base.Add(9 * time.Second), Actor: audit.User("alice"), OwnerID: "alice", KeyID: "fedcba9876543210",
					Before: policy.Permissions{}, After: policy.Permissions{}, BeforeQuota: &audit.Quota{Remaining: 1<<62 + 1, RefillAmount: 1 << 40, RefillInterval: 24 * 365 * time.Hour}},
			}
			for i, e := range want {
				a.Audit(ctx, e)
				if i == 2 {
					a.Audit(ctx, audit.Event{Type: audit.Created, Time: base, Actor: audit.User("bob"), OwnerID: "bob", KeyID: "bbbbbbbbbbbbbbbb", After: read})
				}
			}
			a.Audit(ctx, audit.Event{Type: audit.VerificationDenied, Time: base, Reason: "unknown key", KeyID: "zzzzzzzzzzzzzzzz"}) // no owner: not kept

			got, err := a.Events(ctx, "alice", 100)
			require.NoError(t, err)
			require.Len(t, got, len(want))
			for i, e := range got {
				w := want[len(want)-1-i]
				w.Time = w.Time.UTC().Truncate(time.Millisecond)
				assert.Equal(t, w, e, "event %d, newest first", i)
			}
			assert.Equal(t, time.UTC, got[0].Time.Location())
			assert.Nil(t, got[4].After, "no permissions stay nil")
			assert.Equal(t, policy.Permissions{}, got[3].After, "empty permissions stay empty")
			assert.Nil(t, got[2].BeforeQuota, "no quota before stays nil")
			assert.Nil(t, got[0].AfterQuota, "no quota after stays nil")
			assert.Equal(t, &audit.Quota{Remaining: 0, RefillAmount: 50, RefillInterval: 90 * time.Minute}, got[1].AfterQuota, "a spent quota is 0, not none")

			got, err = a.Events(ctx, "alice", 5)
			require.NoError(t, err)
			require.Len(t, got, 5)
			assert.Equal(t, audit.VerificationDenied, got[4].Type)

			got, err = a.Events(ctx, "bob", 100)
			require.NoError(t, err)
			require.Len(t, got, 1)
			assert.Equal(t, "bbbbbbbbbbbbbbbb", got[0].KeyID)

			got, err = a.Events(ctx, "", 100)
			require.NoError(t, err)
			assert.Empty(t, got, "events without an owner are not kept")
			got, err = a.Events(ctx, "ALICE", 100)
			require.NoError(t, err)
			assert.Empty(t, got, "owners compare byte-wise")
		})
	}
}

// TestAuditorStoresWhatItIsGiven: free text that a database would refuse
// is made storable, and a zero time is the time of the insert.
func TestAuditorStoresWhatItIsGiven(t *testing.T) {
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			a := sqlstore.NewAuditor(newStore(t, d.open(t), d.dialect))
			before := time.Now().Add(-time.Second)
			a.Audit(t.Context(), audit.Event{Type: audit.Revoked, OwnerID: "u1", KeyID: "0123456789abcdef",
				Reason: "bad\x00byte \xff and " + strings.Repeat("é", 5000), IP: strings.Repeat("1", 100)})
			got, err := a.Events(t.Context(), "u1", 1)
			require.NoError(t, err)
			require.Len(t, got, 1)
			assert.WithinRange(t, got[0].Time, before, time.Now().Add(time.Second))
			assert.True(t, strings.HasPrefix(got[0].Reason, "badbyte \uFFFD and éé"), got[0].Reason[:20])
			assert.LessOrEqual(t, len(got[0].Reason), 4096)
			assert.True(t, strings.HasSuffix(got[0].Reason, "é"), "cut at a character boundary")
			assert.Len(t, got[0].IP, 64)
		})
	}
}

// TestAuditorOverHTTP runs the lifecycle through the handler on a SQL
// store with its Auditor: every change, refusal and denial is listed at GET
// /api-keys/activity, newest first, and neither the keys nor their hashes
// are anywhere in the events table.
func TestAuditorOverHTTP(t *testing.T) {
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			db := d.open(t)
			store := newStore(t, db, d.dialect)
			srv := keycaptest.NewApp(t, keycaptest.WithStore(store),
				keycaptest.WithManager(func(c *keys.Config) { c.Auditor = sqlstore.NewAuditor(store) }),
				keycaptest.WithMiddleware(func(o *middleware.Options) { o.Activity = sqlstore.NewAuditor(store) }))
			alice := srv.LogIn(t, "alice")
			k := alice.CreateKey(t, "/api-keys", "ci", policy.MustParse("files:read"))
			resp := alice.DoJSON(t, "POST", "/api-keys", map[string]any{"name": "x", "permissions": map[string][]string{"files": {"delete"}}})
			require.Equal(t, 403, resp.StatusCode)
			require.Equal(t, 200, alice.DoJSON(t, "PATCH", "/api-keys/"+k.ID, map[string]any{"name": "ci-2"}).StatusCode)
			resp = alice.DoJSON(t, "POST", "/api-keys/"+k.ID+"/rotate", map[string]any{})
			require.Equal(t, 200, resp.StatusCode)
			var rotated keycaptest.CreatedKey
			resp.JSON(t, &rotated)
			require.Equal(t, 200, alice.DoJSON(t, "DELETE", "/api-keys/"+k.ID, map[string]any{"reason": "leaked"}).StatusCode)
			require.Equal(t, 401, srv.Anonymous(t).WithKey(rotated.Key).DoJSON(t, "GET", "/whoami", nil).StatusCode)

			resp = alice.DoJSON(t, "GET", "/api-keys/activity", nil)
			require.Equal(t, 200, resp.StatusCode, string(resp.Body))
			var body struct {
				Events []struct {
					Type   string              `json:"type"`
					Time   time.Time           `json:"time"`
					Actor  string              `json:"actor"`
					KeyID  string              `json:"key_id"`
					After  map[string][]string `json:"after"`
					Reason string              `json:"reason"`
				} `json:"events"`
			}
			resp.JSON(t, &body)
			var types []string
			for _, e := range body.Events {
				types = append(types, e.Type)
				assert.WithinDuration(t, time.Now(), e.Time, time.Minute)
			}
			assert.Equal(t, []string{"verification_denied", "revoked", "rotated", "updated", "refused", "created"}, types)
			assert.Equal(t, map[string][]string{"files": {"delete"}}, body.Events[4].After, "the refusal names what was beyond the cap")
			assert.Equal(t, "leaked", body.Events[1].Reason)
			assert.Equal(t, k.ID, body.Events[0].KeyID)
			assert.Equal(t, "alice", body.Events[5].Actor)

			resp = srv.LogIn(t, "bob").DoJSON(t, "GET", "/api-keys/activity", nil)
			assert.JSONEq(t, `{"events":[]}`, string(resp.Body), "bob sees none of it")

			// Nothing secret in any column: read every row as text.
			stored, err := store.Get(t.Context(), k.ID)
			require.NoError(t, err)
			dump := dumpTable(t, db, store.TablePrefix()+"events")
			assert.Contains(t, dump, k.ID)
			for _, secret := range []string{k.Key, rotated.Key, keyPart(k.Key), keyPart(rotated.Key),
				hex.EncodeToString(stored.Hash), string(stored.Hash)} {
				assert.NotContains(t, dump, secret)
			}
		})
	}
}

// TestAuditorQuotaOverHTTP: quota changes by PATCH, through the handler on
// a SQL store with its Auditor, are listed at GET /api-keys/activity with
// the quota before and after (before_quota, after_quota; left out where
// the key had or has none), on every dialect.
func TestAuditorQuotaOverHTTP(t *testing.T) {
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			store := newStore(t, d.open(t), d.dialect)
			srv := keycaptest.NewApp(t, keycaptest.WithStore(store),
				keycaptest.WithManager(func(c *keys.Config) { c.Auditor = sqlstore.NewAuditor(store) }),
				keycaptest.WithMiddleware(func(o *middleware.Options) { o.Activity = sqlstore.NewAuditor(store) }))
			alice := srv.LogIn(t, "alice")
			k := alice.CreateKey(t, "/api-keys", "ci", policy.MustParse("files:read"))
			for _, patch := range []map[string]any{
				{"remaining": 50},
				{"remaining": 20, "refill_amount": 100, "refill_interval_seconds": 3600},
				{"remaining": nil},
			} {
				resp := alice.DoJSON(t, "PATCH", "/api-keys/"+k.ID, patch)
				require.Equal(t, 200, resp.StatusCode, "%v: %s", patch, resp.Body)
			}

			resp := alice.DoJSON(t, "GET", "/api-keys/activity", nil)
			require.Equal(t, 200, resp.StatusCode, string(resp.Body))
			var body struct {
				Events []struct {
					Type        string          `json:"type"`
					BeforeQuota json.RawMessage `json:"before_quota"`
					AfterQuota  json.RawMessage `json:"after_quota"`
				} `json:"events"`
			}
			resp.JSON(t, &body)
			require.Len(t, body.Events, 4, string(resp.Body))
			for i, w := range []struct{ typ, before, after string }{
				{"updated", `{"remaining":20,"refill_amount":100,"refill_interval_seconds":3600}`, ""},
				{"updated", `{"remaining":50}`, `{"remaining":20,"refill_amount":100,"refill_interval_seconds":3600}`},
				{"updated", "", `{"remaining":50}`},
				{"created", "", ""},
			} {
				e := body.Events[i]
				assert.Equal(t, w.typ, e.Type, "event %d", i)
				assert.Equal(t, w.before, string(e.BeforeQuota), "event %d: before_quota", i)
				assert.Equal(t, w.after, string(e.AfterQuota), "event %d: after_quota", i)
			}
		})
	}
}

// keyPart is the secret part of a key: prefix_id_secret_checksum.
func keyPart(key string) string { return strings.Split(key, "_")[2] }

// dumpTable returns every value of every row of table as text.
func dumpTable(t *testing.T, db *sql.DB, table string) string {
	rows, err := db.QueryContext(t.Context(), "SELECT * FROM "+table)
	require.NoError(t, err)
	defer rows.Close()
	columns, err := rows.Columns()
	require.NoError(t, err)
	var b strings.Builder
	for rows.Next() {
		values := make([]any, len(columns))
		for i := range values {
			values[i] = new(any)
		}
		require.NoError(t, rows.Scan(values...))
		for _, v := range values {
			switch v := (*v.(*any)).(type) {
			case []byte:
				fmt.Fprintf(&b, "%s|%x|", v, v)
			default:
				fmt.Fprintf(&b, "%v|", v)
			}
		}
		b.WriteString("\n")
	}
	require.NoError(t, rows.Err())
	return b.String()
}

// TestAuditorOutlivesTheRequest: an event is recorded even when the
// request's context has ended.
func TestAuditorOutlivesTheRequest(t *testing.T) {
	a := sqlstore.NewAuditor(newStore(t, openSQLiteMemory(t), sqlstore.SQLite))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	a.Audit(ctx, audit.Event{Type: audit.Revoked, OwnerID: "u1", KeyID: "0123456789abcdef"})
	got, err := a.Events(t.Context(), "u1", 10)
	require.NoError(t, err)
	assert.Len(t, got, 1)
}

// TestAuditorFailsQuietly: when the database cannot take the event, Audit
// logs why (without a key) to the Store's Options.Logger, never to
// slog.Default, and returns within AuditTimeout; Events returns the error.
// Not parallel: it swaps the default logger, to see that nothing reaches it.
func TestAuditorFailsQuietly(t *testing.T) {
	var (
		mu              sync.Mutex
		buf, defaultBuf bytes.Buffer
	)
	previous := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&lockedWriter{mu: &mu, w: &defaultBuf}, nil)))
	t.Cleanup(func() { slog.SetDefault(previous) })
	logger := slog.New(slog.NewTextHandler(&lockedWriter{mu: &mu, w: &buf}, nil))
	logged := func() string {
		mu.Lock()
		defer mu.Unlock()
		return buf.String()
	}
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		assert.Empty(t, defaultBuf.String(), "Options.Logger given: nothing goes to slog.Default")
	})

	t.Run("no table", func(t *testing.T) {
		s, err := sqlstore.New(openSQLiteMemory(t), sqlstore.SQLite, sqlstore.Options{Logger: logger}) // not migrated
		require.NoError(t, err)
		a := sqlstore.NewAuditor(s)
		a.Audit(t.Context(), audit.Event{Type: audit.Created, OwnerID: "u1", KeyID: "0123456789abcdef"})
		assert.Contains(t, logged(), "recording an audit event failed")
		assert.Contains(t, logged(), "key_id=0123456789abcdef")
		_, err = a.Events(t.Context(), "u1", 10)
		assert.Error(t, err)
	})

	t.Run("locked", func(t *testing.T) {
		// Another process holds SQLite's write lock; the busy timeout
		// (5 s) is longer than AuditTimeout.
		db := openSQLiteFile(t)
		prefix := randomName() + "_"
		s, err := sqlstore.New(db, sqlstore.SQLite, sqlstore.Options{TablePrefix: prefix, Logger: logger})
		require.NoError(t, err)
		require.NoError(t, s.Migrate(t.Context()))
		t.Cleanup(func() { dropTables(t, db, prefix) })
		a := sqlstore.NewAuditor(s)
		conn, err := db.Conn(t.Context())
		require.NoError(t, err)
		defer conn.Close()
		_, err = conn.ExecContext(t.Context(), "BEGIN IMMEDIATE")
		require.NoError(t, err)
		defer func() { _, _ = conn.ExecContext(context.Background(), "ROLLBACK") }()
		start := time.Now()
		a.Audit(t.Context(), audit.Event{Type: audit.Revoked, OwnerID: "u2", KeyID: "fedcba9876543210"})
		assert.Less(t, time.Since(start), sqlstore.AuditTimeout+time.Second)
		assert.Contains(t, logged(), "key_id=fedcba9876543210")
	})

	t.Run("closed", func(t *testing.T) {
		db := openSQLiteMemory(t)
		s, err := sqlstore.New(db, sqlstore.SQLite, sqlstore.Options{Logger: logger})
		require.NoError(t, err)
		require.NoError(t, s.Migrate(t.Context()))
		a := sqlstore.NewAuditor(s)
		require.NoError(t, db.Close())
		a.Audit(t.Context(), audit.Event{Type: audit.Updated, OwnerID: "u3", KeyID: "aaaaaaaaaaaaaaaa"})
		assert.Contains(t, logged(), "key_id=aaaaaaaaaaaaaaaa")
		_, err = a.Events(t.Context(), "u3", 10)
		assert.ErrorIs(t, err, keys.ErrStoreUnavailable)
	})
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// TestMigrateUpgrades: a database migrated before 0002_audit existed gets
// the events table from Migrate, which records it once; the keys stay.
func TestMigrateUpgrades(t *testing.T) {
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			ms := sqlstore.Migrations(d.dialect)
			assert.Equal(t, "audit", ms[1].Name)
			db := d.open(t)
			s := newStore(t, db, d.dialect)
			k := testKey(t, "u1")
			require.NoError(t, s.Create(t.Context(), k, 0))
			// Without the events table and its records, as a database from before
			// 0002 (with the columns of 0003 and 0005, which do not need it; 0004,
			// 0008 and 0009 add columns to the events table, so they are not
			// recorded either, and their columns of the keys table are there
			// already).
			_, err := db.ExecContext(t.Context(), "DROP TABLE "+s.TablePrefix()+"events")
			require.NoError(t, err)
			_, err = db.ExecContext(t.Context(), "DELETE FROM "+s.TablePrefix()+"schema_migrations WHERE version IN (2, 4, 8, 9)")
			require.NoError(t, err)

			for range 2 {
				require.NoError(t, s.Migrate(t.Context()))
			}
			requireVersions(t, db, s, versions(d.dialect)...)
			got, err := s.Get(t.Context(), k.ID)
			require.NoError(t, err)
			assert.Equal(t, k, got)
			a := sqlstore.NewAuditor(s)
			a.Audit(t.Context(), audit.Event{Type: audit.Created, OwnerID: "u1", KeyID: k.ID})
			events, err := a.Events(t.Context(), "u1", 10)
			require.NoError(t, err)
			assert.Len(t, events, 1)
		})
	}
}

// TestAuditorPrune deletes what is older than the cut-off, on every dialect.
func TestAuditorPrune(t *testing.T) {
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			a := sqlstore.NewAuditor(newStore(t, d.open(t), d.dialect))
			base := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
			for i := range 5 {
				a.Audit(t.Context(), audit.Event{Type: audit.Created, Time: base.Add(time.Duration(i) * 24 * time.Hour), OwnerID: "alice", KeyID: "k"})
			}
			n, err := a.Prune(t.Context(), base.Add(2*24*time.Hour))
			require.NoError(t, err)
			assert.Equal(t, int64(2), n)
			left, err := a.Events(t.Context(), "alice", 10)
			require.NoError(t, err)
			require.Len(t, left, 3)
			assert.Equal(t, base.Add(2*24*time.Hour), left[2].Time, "the event at the cut-off stays")
		})
	}
}
