package sqlstore_test

import (
	"testing"

	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/keys/storetest"
)

// TestAttack14 runs the attacker's races of issue 14 (keys/storetest
// RunAttack14: leak reports racing moves to the newest server secret,
// policy-required allow-lists lifted while a reserved permission is
// granted, moves racing an admin's disable and a narrowed allow-list) on
// every dialect.
func TestAttack14(t *testing.T) {
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			if d.dialect != "sqlite" {
				db := d.open(t)
				storetest.RunAttack14(t, func(t *testing.T) keys.Store { return newStore(t, db, d.dialect) })
				return
			}
			storetest.RunAttack14(t, func(t *testing.T) keys.Store { return newStore(t, d.open(t), d.dialect) })
		})
	}
}
