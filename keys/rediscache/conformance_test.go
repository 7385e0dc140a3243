package rediscache_test

import (
	"testing"

	"github.com/keycaphq/keycap/internal/testenv"
	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/keys/memstore"
	"github.com/keycaphq/keycap/keys/storetest"
)

// The cache keeps the whole Store contract of what it wraps.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) keys.Store {
		_, prefix := testenv.Redis(t)
		return newCache(t, memstore.New(), prefix, newSecret(), nil)
	})
}

// The cache in front of Postgres, as deployed with several instances,
// keeps the whole contract too, its races included: the cache must never
// put back a record a change replaced.
func TestConformanceOverPostgres(t *testing.T) {
	storetest.Run(t, overPostgres(t))
}
