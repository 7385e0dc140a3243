package storetest

import (
	"errors"
	"fmt"
	"testing"

	"github.com/keycaphq/keycap/keys"
)

// testRaceDescription: a change of a key's description races a rename of
// it, through a Manager, with no cache. Half the trials decide both on
// the version they read (IfVersion), so exactly one may land and the other
// answers ErrConflict with nothing written; the other half decide again on
// fresh state, so both land. Neither undoes the other, and a store that
// wrote back a whole record read earlier would lose one of them.
func testRaceDescription(t *testing.T, s keys.Store) {
	m := newManager(t, s, 0)
	n := trials(60, 10)
	var (
		c     tally
		wrong failures
	)
	for trial := range n {
		k, _ := createKey(t, m, "u-desc", 0)
		description := fmt.Sprintf("runs the nightly export\nfor trial %d ü", trial)
		name := fmt.Sprint("renamed ", trial)
		aligned := trial%2 == 0
		errs := make([]error, 2)
		together(2, func(i int) {
			u := keys.UpdateRequest{Ref: keys.Ref{Owner: "u-desc", ID: k.ID}}
			if aligned {
				u.IfVersion = k.Version
			}
			if i == 0 {
				u.Description = &description
			} else {
				u.Name = &name
			}
			_, errs[i] = m.Update(t.Context(), u)
		})
		got := get(t, s, k.ID)
		ok := 0
		for i, e := range errs {
			op := []string{"description", "rename"}[i]
			switch {
			case e == nil:
				ok++
				c.add(op + " ok")
			case errors.Is(e, keys.ErrConflict):
				c.add(op + " conflict")
			default:
				t.Errorf("update: %v", e)
			}
		}
		switch {
		case errs[0] == nil && got.Description != description:
			wrong.add(trial, fmt.Sprintf("the description change was undone: %q", got.Description))
		case errs[0] != nil && got.Description != "":
			wrong.add(trial, fmt.Sprintf("a refused description change was written: %q", got.Description))
		case errs[1] == nil && got.Name != name:
			wrong.add(trial, "the rename was undone: "+got.Name)
		case errs[1] != nil && got.Name != k.Name:
			wrong.add(trial, "a refused rename was written: "+got.Name)
		case got.Version != k.Version+int64(ok):
			wrong.add(trial, fmt.Sprintf("version %d after %d changes of version %d", got.Version, ok, k.Version))
		case aligned && ok != 1:
			wrong.add(trial, fmt.Sprintf("%d of 2 changes decided on one version landed, want 1", ok))
		case !aligned && ok != 2:
			wrong.add(trial, fmt.Sprintf("%d of 2 changes decided again on fresh state landed, want 2", ok))
		}
	}
	wrong.check(t, n, "description changes racing renames undone or wrongly counted", &c)
}
