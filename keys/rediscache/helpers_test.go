package rediscache_test

import (
	"crypto/rand"
	"log/slog"
	"testing"
	"time"

	"github.com/keycaphq/keycap/internal/keyforge"

	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/internal/testenv"
	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/keys/memstore"
	"github.com/keycaphq/keycap/keys/rediscache"
	"github.com/keycaphq/keycap/policy"
)

var t0 = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

// newSecret returns a fresh server secret.
func newSecret() []byte {
	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	return secret
}

// hidden hides memstore's Local method: the store stands for a shared one.
type hidden struct{ *memstore.Store }

// newCache returns a cache over store under prefix, with its own Redis
// connection, as one app instance would have.
func newCache(t testing.TB, store keys.Store, prefix string, secret []byte, logger *slog.Logger) *rediscache.Store {
	t.Helper()
	rdb, _ := testenv.Redis(t)
	s, err := rediscache.New(store, rdb, rediscache.Options{Prefix: prefix, Secret: secret, Logger: logger})
	require.NoError(t, err)
	return s
}

// newRecord returns a record of owner with a unique id and hash.
func newRecord(t testing.TB, owner string, perms ...string) *keys.Key {
	t.Helper()
	id := keyforge.ID(t0)
	hash := make([]byte, 32)
	_, _ = rand.Read(hash)
	return &keys.Key{
		ID: id, OwnerID: owner, Name: "k", Prefix: "kc", Hash: hash,
		Permissions: policy.MustParse(perms...), CreatedAt: t0, UpdatedAt: t0, Version: 1,
	}
}
