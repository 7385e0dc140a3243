package rediscache_test

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/audit"
	"github.com/keycaphq/keycap/internal/testenv"
	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/keys/memstore"
	"github.com/keycaphq/keycap/keys/rediscache"
	"github.com/keycaphq/keycap/policy"
)

// A party that can write to Redis writes records of its own making; none
// is served, the wrapped store's record is, and the refusal is logged
// once, without the record's hash.
func TestForgedRecordIsNotServed(t *testing.T) {
	tests := []struct {
		name   string
		forge  func(t *testing.T, genuine *keys.Key, envelope, prefix string) string
		reason string
	}{
		{"plain JSON with another owner and permissions", func(t *testing.T, genuine *keys.Key, _, _ string) string {
			f := genuine.Clone()
			f.OwnerID, f.Permissions = "mallory", policy.MustParse("admin:write")
			data, err := json.Marshal(f)
			require.NoError(t, err)
			return string(data)
		}, "unknown record format"},
		{"sealed under another secret", func(t *testing.T, genuine *keys.Key, _, prefix string) string {
			f := genuine.Clone()
			f.OwnerID, f.Permissions = "mallory", policy.MustParse("admin:write")
			theirs := memstore.New()
			require.NoError(t, theirs.Create(t.Context(), f, 0))
			forger := newCache(t, theirs, prefix+"forger:", newSecret(), nil)
			_, err := forger.Get(t.Context(), f.ID)
			require.NoError(t, err)
			rdb, _ := testenv.Redis(t)
			data, err := rdb.Get(t.Context(), forger.RecordKey(f.ID)).Result()
			require.NoError(t, err)
			return data
		}, "MAC does not verify"},
		{"a valid envelope with the owner changed", func(t *testing.T, _ *keys.Key, envelope, _ string) string {
			require.Contains(t, envelope, "alice")
			return strings.Replace(envelope, "alice", "carol", 1)
		}, "MAC does not verify"},
		{"a valid envelope cut short", func(_ *testing.T, _ *keys.Key, envelope, _ string) string {
			return envelope[:len(envelope)-1]
		}, "MAC does not verify"},
		{"garbage", func(*testing.T, *keys.Key, string, string) string { return "x" }, "unknown record format"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rdb, prefix := testenv.Redis(t)
			var logs bytes.Buffer
			logger := slog.New(slog.NewTextHandler(&logs, nil))
			store := memstore.New()
			s := newCache(t, store, prefix, newSecret(), logger)
			genuine := newRecord(t, "alice", "files:read")
			require.NoError(t, s.Create(t.Context(), genuine, 0))
			_, err := s.Get(t.Context(), genuine.ID) // cached
			require.NoError(t, err)
			envelope, err := rdb.Get(t.Context(), s.RecordKey(genuine.ID)).Result()
			require.NoError(t, err)
			forged := tt.forge(t, genuine, envelope, prefix)

			for round := range 2 {
				require.NoError(t, rdb.Set(t.Context(), s.RecordKey(genuine.ID), forged, time.Minute).Err())
				got, err := s.Get(t.Context(), genuine.ID)
				require.NoError(t, err)
				assert.Equal(t, "alice", got.OwnerID, "round %d", round)
				assert.Equal(t, policy.MustParse("files:read"), got.Permissions, "round %d", round)
				cached, err := rdb.Get(t.Context(), s.RecordKey(genuine.ID)).Result()
				require.NoError(t, err)
				assert.NotEqual(t, forged, cached, "round %d: the forged record was not replaced by the store's", round)
				assert.Len(t, cached, len(envelope), "round %d: the store's record, sealed again", round)
			}
			out := logs.String()
			assert.Equal(t, 1, strings.Count(out, "level=WARN"), "logged once per id per minute: %s", out)
			assert.Contains(t, out, genuine.ID)
			assert.Contains(t, out, tt.reason)
			for _, h := range []string{string(genuine.Hash), hex.EncodeToString(genuine.Hash), base64.StdEncoding.EncodeToString(genuine.Hash), base64.RawURLEncoding.EncodeToString(genuine.Hash)} {
				assert.NotContains(t, out, h, "the log holds the key's hash")
			}
		})
	}
}

// A valid sealed record copied under another id's Redis key is not served
// for that id.
func TestRecordCopiedUnderAnotherIDIsNotServed(t *testing.T) {
	rdb, prefix := testenv.Redis(t)
	var logs bytes.Buffer
	s := newCache(t, memstore.New(), prefix, newSecret(), slog.New(slog.NewTextHandler(&logs, nil)))
	alice, admin := newRecord(t, "alice", "files:read"), newRecord(t, "admin", "admin:write", "files:write")
	for _, k := range []*keys.Key{alice, admin} {
		require.NoError(t, s.Create(t.Context(), k, 0))
		_, err := s.Get(t.Context(), k.ID)
		require.NoError(t, err)
	}
	adminEnvelope, err := rdb.Get(t.Context(), s.RecordKey(admin.ID)).Result()
	require.NoError(t, err)
	require.NoError(t, rdb.Set(t.Context(), s.RecordKey(alice.ID), adminEnvelope, time.Minute).Err())

	got, err := s.Get(t.Context(), alice.ID)
	require.NoError(t, err)
	assert.Equal(t, alice.ID, got.ID)
	assert.Equal(t, "alice", got.OwnerID)
	assert.Equal(t, policy.MustParse("files:read"), got.Permissions)
	assert.Contains(t, logs.String(), "MAC does not verify")
	got, err = s.Get(t.Context(), admin.ID)
	require.NoError(t, err)
	assert.Equal(t, "admin", got.OwnerID, "the original is still served for its own id")
}

// A sealed record saved before a revocation and written back, without
// expiry, after its sealed expiry is not served: replay is bounded by TTL.
func TestReplayBoundedBySealedExpiry(t *testing.T) {
	rdb, prefix := testenv.Redis(t)
	const ttl = 300 * time.Millisecond
	s, err := rediscache.New(memstore.New(), rdb, rediscache.Options{Prefix: prefix, Secret: newSecret(), TTL: ttl})
	require.NoError(t, err)
	k := newRecord(t, "alice", "files:read")
	require.NoError(t, s.Create(t.Context(), k, 0))
	_, err = s.Get(t.Context(), k.ID)
	require.NoError(t, err)
	saved, err := rdb.Get(t.Context(), s.RecordKey(k.ID)).Result()
	require.NoError(t, err)
	_, err = s.Change(t.Context(), k.ID, keys.Change{At: t0, Revoke: true, By: audit.User("alice")})
	require.NoError(t, err)

	time.Sleep(ttl + 50*time.Millisecond)
	require.NoError(t, rdb.Set(t.Context(), s.RecordKey(k.ID), saved, 0).Err())
	got, err := s.Get(t.Context(), k.ID)
	require.NoError(t, err)
	assert.True(t, !got.RevokedAt.IsZero(), "a replayed record past its sealed expiry was served")
}
