package memstore_test

import (
	"testing"

	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/keys/memstore"
	"github.com/keycaphq/keycap/keys/storetest"
)

// TestAttack14 runs the attacker's races of issue 14 (keys/storetest
// RunAttack14) on the memory store.
func TestAttack14(t *testing.T) {
	storetest.RunAttack14(t, func(*testing.T) keys.Store { return memstore.New() })
}
