package keys_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/keys"
)

// TestListForCaller: a calling key lists itself and the keys created
// through it, scoped before paging: among 50 keys of its owner, a key with
// 3 descendants pages through exactly those 4, every page full, every
// cursor a key it reaches. (Scoping a page of all the owner's keys left
// pages short or empty, with cursors naming keys out of reach.)
func TestListForCaller(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	var caller *keys.Verified
	reach := map[string]bool{}
	var child *keys.Verified
	for i := range 46 {
		f.create(t, "bob")
		switch i {
		case 10: // the caller, then its children and a grandchild among later keys
			_, token := f.create(t, "bob", "files:read")
			caller = f.verify(t, token)
			reach[caller.ID] = true
		case 20:
			k, token := f.delegate(t, caller)
			child = f.verify(t, token)
			reach[k.ID] = true
		case 30:
			k, _ := f.delegate(t, caller)
			reach[k.ID] = true
		case 40:
			k, _ := f.delegate(t, child)
			reach[k.ID] = true
		}
	}
	require.Len(t, f.stored(t, "bob"), 50)
	require.Len(t, reach, 4)

	for _, limit := range []int{1, 2, 3, 4, 5} {
		listed := map[string]int{}
		var sizes []int
		cursor, prev := "", ""
		for page := 0; ; page++ {
			require.Less(t, page, 10, "pagination terminates")
			list, next, err := f.m.List(ctx, keys.ListRequest{Owner: "bob", Before: cursor, Limit: limit, Caller: caller})
			require.NoError(t, err)
			sizes = append(sizes, len(list))
			for _, k := range list {
				assert.True(t, reach[k.ID], "limit %d: %s is out of reach", limit, k.ID)
				if prev != "" {
					assert.Less(t, k.ID, prev, "newest first")
				}
				prev = k.ID
				listed[k.ID]++
			}
			if next == "" {
				break
			}
			assert.True(t, reach[next], "limit %d: the cursor %s names a key out of reach", limit, next)
			assert.Len(t, list, limit, "limit %d: a page before the last is full", limit)
			cursor = next
		}
		assert.Len(t, listed, 4, "limit %d: every key in reach", limit)
		for id, n := range listed {
			assert.Equal(t, 1, n, "limit %d: %s listed %d times", limit, id, n)
		}
		pages := (4 + limit - 1) / limit
		assert.Len(t, sizes, pages, "limit %d: %v", limit, sizes)
		assert.Equal(t, caller.ID, f.store.lastPage.Within, "the Store scopes the listing")
	}

	// The child reaches itself and its own child only.
	list, next, err := f.m.List(ctx, keys.ListRequest{Owner: "bob", Caller: child})
	require.NoError(t, err)
	assert.Empty(t, next)
	require.Len(t, list, 2)
	assert.Equal(t, child.ID, list[1].ID)
	assert.Equal(t, child.ID, list[0].Ancestors[len(list[0].Ancestors)-1])
}
