package rediscache_test

import (
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/keys/memstore"
	"github.com/keycaphq/keycap/keys/rediscache"
)

func TestNewRefusesBadConfiguration(t *testing.T) {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:0"}) // never dialled
	t.Cleanup(func() { _ = rdb.Close() })
	tests := []struct {
		name  string
		store keys.Store
		rdb   redis.UniversalClient
		o     rediscache.Options
		want  string
	}{
		{"no store", nil, rdb, rediscache.Options{Secret: newSecret()}, "store to cache is required"},
		{"no client", memstore.New(), nil, rediscache.Options{Secret: newSecret()}, "Redis client is required"},
		{"no secret", memstore.New(), rdb, rediscache.Options{}, "Secret must be at least 32 bytes"},
		{"a short secret", memstore.New(), rdb, rediscache.Options{Secret: newSecret()[:31]}, "Secret must be at least 32 bytes"},
		{"a negative TTL", memstore.New(), rdb, rediscache.Options{Secret: newSecret(), TTL: -1}, "TTL must not be negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := rediscache.New(tt.store, tt.rdb, tt.o)
			require.Error(t, err)
			assert.Nil(t, s)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
	s, err := rediscache.New(memstore.New(), rdb, rediscache.Options{Secret: newSecret()})
	require.NoError(t, err)
	assert.NotNil(t, s)
}
