package memstore_test

import (
	"testing"

	"github.com/keycaphq/keycap/keys/memstore"
	"github.com/keycaphq/keycap/keys/notify/notifytest"
)

// TestNotices runs the notify.Store contract; two instances of an app
// share one memstore only within one process.
func TestNotices(t *testing.T) {
	notifytest.Run(t, func(t *testing.T) (notifytest.Store, notifytest.Store) {
		s := memstore.New()
		return s, s
	})
}
