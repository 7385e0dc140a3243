package rediscache_test

import (
	"log"
	"os"

	"github.com/redis/go-redis/v9"

	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/keys/memstore"
	"github.com/keycaphq/keycap/keys/rediscache"
	"github.com/keycaphq/keycap/policy"
)

// Several app instances share one database (here a memstore stands in for
// it) and one Redis; each wraps the database in a rediscache Store and
// turns the Manager's in-process cache off. The cache seals records with
// the same server secret the Manager hashes keys with.
func ExampleNew() {
	secret := []byte(os.Getenv("KEYCAP_SECRET")) // at least 32 random bytes
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
	store, err := rediscache.New(memstore.New(), rdb, rediscache.Options{Secret: secret})
	if err != nil {
		log.Fatal(err)
	}
	mgr, err := keys.NewManager(keys.Config{
		Store:    store,
		Policy:   policy.MustNew(policy.Config{Max: policy.MustParse("files:read")}),
		Subjects: mySubjects,
		Secret:   secret,
		Cache:    keys.CacheConfig{Disabled: true}, // Redis is the cache, coherent across instances
	})
	if err != nil {
		log.Fatal(err)
	}
	_ = mgr
}

var mySubjects policy.Subjects
