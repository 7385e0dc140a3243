package rediscache_test

import (
	"testing"

	"github.com/keycaphq/keycap/internal/testenv"
	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/keys/memstore"
	"github.com/keycaphq/keycap/keys/rediscache"
	"github.com/keycaphq/keycap/keys/storetest"
)

// The cache keeps the whole Store contract of what it wraps.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) keys.Store {
		rdb, prefix := testenv.Redis(t)
		return rediscache.New(memstore.New(), rdb, rediscache.Options{Prefix: prefix})
	})
}
