package sqlstore_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/keycaphq/keycap/audit"
	"github.com/keycaphq/keycap/internal/keyforge"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/keys/sqlstore"
	"github.com/keycaphq/keycap/policy"
)

func TestNewValidates(t *testing.T) {
	db := openSQLiteMemory(t)
	tests := []struct {
		name    string
		db      *sql.DB
		dialect sqlstore.Dialect
		prefix  string
		wantErr string // "" means success
	}{
		{"defaults", db, sqlstore.SQLite, "", ""},
		{"custom prefix", db, sqlstore.Postgres, "app_keycap_", ""},
		{"underscore first", db, sqlstore.MySQL, "_k", ""},
		{"nil db", nil, sqlstore.SQLite, "", "db is nil"},
		{"unknown dialect", db, "oracle", "", "unknown dialect"},
		{"empty dialect", db, "", "", "unknown dialect"},
		{"upper case", db, sqlstore.SQLite, "Keycap_", "table prefix"},
		{"digit first", db, sqlstore.SQLite, "1k_", "table prefix"},
		{"quote", db, sqlstore.SQLite, `k"; DROP TABLE x; --`, "table prefix"},
		{"schema dot", db, sqlstore.SQLite, "public.k_", "table prefix"},
		{"too long", db, sqlstore.SQLite, strings.Repeat("k", 33), "table prefix"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := sqlstore.New(tt.db, tt.dialect, sqlstore.Options{TablePrefix: tt.prefix})
			if tt.wantErr == "" {
				require.NoError(t, err)
				require.NotNil(t, s)
				return
			}
			require.ErrorContains(t, err, tt.wantErr)
			require.Nil(t, s)
		})
	}
}

// testKey returns a valid record of owner.
func testKey(t testing.TB, owner string) *keys.Key {
	id := keyforge.ID(time.Now())
	return &keys.Key{
		ID: id, OwnerID: owner, Name: "k", Prefix: "kc", Hint: "kc_" + id + "_…abcd",
		Hash: []byte(rand.Text() + "012345"), Permissions: policy.Permissions{"invoices": {"read"}},
		Version: 1, CreatedAt: time.Now().UTC().Truncate(time.Millisecond), CreatedBy: audit.User(owner),
	}
}

func TestRefusesRecordsItCannotHold(t *testing.T) {
	s := newStore(t, openSQLiteMemory(t), sqlstore.SQLite)
	ctx := t.Context()
	for name, mutate := range map[string]func(*keys.Key){
		"no id":               func(k *keys.Key) { k.ID = "" },
		"no hash":             func(k *keys.Key) { k.Hash = nil },
		"short hash":          func(k *keys.Key) { k.Hash = k.Hash[:31] },
		"short previous hash": func(k *keys.Key) { k.PreviousHash = k.Hash[:16] },
		"empty ancestor":      func(k *keys.Key) { k.Ancestors = []string{""} },
		"ancestor with space": func(k *keys.Key) { k.Ancestors = []string{"a b"} },
		"an invalid range":    func(k *keys.Key) { k.AllowedIPs = []netip.Prefix{{}} },
		"ranges beyond the allowed_ips column": func(k *keys.Key) {
			for i := range 80 {
				k.AllowedIPs = append(k.AllowedIPs, netip.MustParsePrefix(fmt.Sprintf("2001:db8:ffff:ffff:ffff:ffff:ffff:%x/128", 0xff00+i)))
			}
		},
	} {
		k := testKey(t, "u1")
		mutate(k)
		assert.Error(t, s.Create(ctx, k, 0), name)
		if k.ID != "" {
			_, err := s.Get(ctx, k.ID)
			assert.ErrorIs(t, err, keys.ErrNotFound, name)
		}
	}
	k := testKey(t, "u1")
	require.NoError(t, s.Create(ctx, k, 0))
	for name, c := range map[string]keys.Change{
		"no hash":             {Version: 1, At: time.Now(), Secret: &keys.Secret{}},
		"short hash":          {Version: 1, At: time.Now(), Secret: &keys.Secret{Hash: k.Hash[:31]}},
		"short previous hash": {Version: 1, At: time.Now(), Secret: &keys.Secret{Hash: testKey(t, "u1").Hash, PreviousHash: k.Hash[:16]}},
		"revoked at no time":  {Version: 1, Revoke: true, By: audit.User("u1")},
		"an invalid range":    {Version: 1, At: time.Now(), AllowedIPs: &[]netip.Prefix{netip.MustParsePrefix("192.0.2.0/24"), {}}},
	} {
		_, err := s.Change(ctx, k.ID, c)
		assert.Error(t, err, name)
	}
	got, err := s.Get(ctx, k.ID)
	require.NoError(t, err)
	assert.Equal(t, k, got, "nothing written")
}

func TestUnavailable(t *testing.T) {
	unreachable := []struct {
		name, driver, dsn string
		dialect           sqlstore.Dialect
	}{
		{"Postgres", "pgx", "postgres://postgres@127.0.0.1:1/test?sslmode=disable&connect_timeout=2", sqlstore.Postgres},
		{"MySQL", "mysql", "root@tcp(127.0.0.1:1)/test?timeout=2s", sqlstore.MySQL},
		{"SQLite", "sqlite", "file:/nonexistent/dir/keycap.db", sqlstore.SQLite},
	}
	for _, tt := range unreachable {
		t.Run(tt.name+"Unreachable", func(t *testing.T) {
			db, err := sql.Open(tt.driver, tt.dsn)
			require.NoError(t, err)
			defer db.Close()
			s, err := sqlstore.New(db, tt.dialect, sqlstore.Options{})
			require.NoError(t, err)
			requireUnavailable(t, s)
			require.ErrorIs(t, s.Migrate(t.Context()), keys.ErrStoreUnavailable)
		})
	}
	t.Run("Closed", func(t *testing.T) {
		db := openSQLiteFile(t)
		s, err := sqlstore.New(db, sqlstore.SQLite, sqlstore.Options{})
		require.NoError(t, err)
		require.NoError(t, s.Migrate(t.Context()))
		require.NoError(t, db.Close())
		requireUnavailable(t, s)
	})
	for _, d := range dialects {
		t.Run(d.name+"Canceled", func(t *testing.T) {
			s := newStore(t, d.open(t), d.dialect)
			ctx, cancel := context.WithCancel(t.Context())
			cancel()
			_, err := s.Get(ctx, testKey(t, "u1").ID)
			require.ErrorIs(t, err, keys.ErrStoreUnavailable)
			require.ErrorIs(t, err, context.Canceled, "the cause is kept")
		})
	}
}

// requireUnavailable checks that every method of s reports the store
// unavailable.
func requireUnavailable(t *testing.T, s *sqlstore.Store) {
	t.Helper()
	ctx := t.Context()
	k := testKey(t, "u1")
	_, err := s.Get(ctx, k.ID)
	require.ErrorIs(t, err, keys.ErrStoreUnavailable)
	require.ErrorIs(t, s.Create(ctx, k, 0), keys.ErrStoreUnavailable)
	require.ErrorIs(t, s.Create(ctx, k, 10), keys.ErrStoreUnavailable)
	name := "n"
	_, err = s.Change(ctx, k.ID, keys.Change{Version: 1, At: time.Now(), Name: &name})
	require.ErrorIs(t, err, keys.ErrStoreUnavailable)
	require.ErrorIs(t, s.Touch(ctx, k.ID, time.Now(), ""), keys.ErrStoreUnavailable)
	_, err = s.List(ctx, "u1", keys.Page{})
	require.ErrorIs(t, err, keys.ErrStoreUnavailable)
	_, _, err = s.Consume(ctx, []string{k.ID}, time.Now())
	require.ErrorIs(t, err, keys.ErrStoreUnavailable)
	_, _, err = s.Consume(ctx, []string{k.ID, k.ID}, time.Now())
	require.ErrorIs(t, err, keys.ErrStoreUnavailable)
}
