package sqlstore_test

import (
	"testing"
	"time"

	"github.com/keycaphq/keycap/internal/keyforge"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/keys"
)

// TestListWithin lists the keys a key reaches (itself and the keys created
// through it, at any depth) on every dialect, newest first, by pages, and
// never another owner's.
func TestListWithin(t *testing.T) {
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			s := newStore(t, d.open(t), d.dialect)
			at := t1
			key := func(owner string, ancestors ...string) string {
				at = at.Add(time.Second)
				k := testKey(t, owner)
				id := keyforge.ID(at)
				k.ID, k.CreatedAt, k.Ancestors = id, at, ancestors
				require.NoError(t, s.Create(ctx, k, 0))
				return k.ID
			}
			root := key("u1")
			a := key("u1", root)
			other := key("u1")
			b := key("u1", root, a)
			c := key("u1", root)
			d1 := key("u1", other)
			foreign := key("u2", root) // another owner's record naming root
			e := key("u1", root, a, b)

			tests := []struct {
				name string
				page keys.Page
				want []string
			}{
				{"everything", keys.Page{}, []string{e, d1, c, b, other, a, root}},
				{"within the root", keys.Page{Within: root}, []string{e, c, b, a, root}},
				{"within a child", keys.Page{Within: a}, []string{e, b, a}},
				{"within a leaf", keys.Page{Within: e}, []string{e}},
				{"within another root", keys.Page{Within: other}, []string{d1, other}},
				{"within an unknown key", keys.Page{Within: "0000000000000000"}, nil},
				{"first page", keys.Page{Within: root, Limit: 2}, []string{e, c}},
				{"next page", keys.Page{Within: root, Before: c, Limit: 2}, []string{b, a}},
				{"last page", keys.Page{Within: root, Before: a, Limit: 2}, []string{root}},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					list, err := s.List(ctx, "u1", tt.page)
					require.NoError(t, err)
					assert.Equal(t, tt.want, idsOrNil(list))
				})
			}
			list, err := s.List(ctx, "u2", keys.Page{Within: root})
			require.NoError(t, err)
			assert.Equal(t, []string{foreign}, idsOf(list), "an owner's own keys only")
		})
	}
}

func idsOrNil(list []*keys.Key) []string {
	if len(list) == 0 {
		return nil
	}
	return idsOf(list)
}
