package storetest_test

import (
	"testing"

	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/keys/memstore"
	"github.com/keycaphq/keycap/keys/storetest"
)

func TestMemstore(t *testing.T) {
	storetest.Run(t, func(*testing.T) keys.Store { return memstore.New() })
}
