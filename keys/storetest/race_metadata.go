package storetest

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"github.com/keycaphq/keycap/audit"
	"github.com/keycaphq/keycap/keys"
)

// testRaceMetadata: a member changing an organization key's metadata
// races another renaming it, through a Manager, with no cache: neither
// change undoes the other (both land, or the loser answers ErrConflict and
// wrote nothing), and the record says who changed it last.
func testRaceMetadata(t *testing.T, s keys.Store) {
	m, _ := newOrgManager(t, s, 0)
	n := trials(60, 10)
	var (
		c     tally
		wrong failures
	)
	for trial := range n {
		k, _, err := m.Create(t.Context(), keys.CreateRequest{Owner: "acme", Name: "k", Permissions: readOnly, Actor: audit.User("bob")})
		if err != nil {
			t.Fatal(err)
		}
		md := json.RawMessage(fmt.Sprintf(`{"trial":%d}`, trial))
		name := fmt.Sprint("renamed ", trial)
		errs := make([]error, 2)
		together(2, func(i int) {
			ref := keys.Ref{Owner: "acme", ID: k.ID}
			if i == 0 {
				_, errs[0] = m.Update(t.Context(), keys.UpdateRequest{Ref: ref, Actor: audit.User("bob"), Metadata: &md})
			} else {
				_, errs[1] = m.Update(t.Context(), keys.UpdateRequest{Ref: ref, Actor: audit.User("carol"), Name: &name})
			}
		})
		got, err := s.Get(t.Context(), k.ID)
		if err != nil {
			t.Fatal(err)
		}
		for i, e := range errs {
			switch {
			case e == nil:
				c.add([]string{"metadata", "rename"}[i] + " ok")
			case errors.Is(e, keys.ErrConflict):
				c.add([]string{"metadata", "rename"}[i] + " conflict")
			default:
				t.Errorf("update: %v", e)
			}
		}
		switch {
		case errs[0] == nil && string(got.Metadata) != string(md):
			wrong.add(trial, "the metadata change was undone: "+string(got.Metadata))
		case errs[1] == nil && got.Name != name:
			wrong.add(trial, "the rename was undone: "+got.Name)
		case errs[0] == nil && errs[1] == nil && got.Version != k.Version+2:
			wrong.add(trial, fmt.Sprintf("version %d after two changes of version %d", got.Version, k.Version))
		case got.ChangedBy != audit.User("bob") && got.ChangedBy != audit.User("carol"):
			wrong.add(trial, "changed by "+got.ChangedBy.String())
		}
	}
	wrong.check(t, n, "metadata changes racing renames undone", &c)
}
