package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/keys"
)

// createMany stores n keys of owner, one millisecond apart from start, and
// returns them newest first.
func createMany(t *testing.T, s keys.Store, owner string, start time.Time, n int) []*keys.Key {
	t.Helper()
	out := make([]*keys.Key, n)
	for i := range n {
		out[n-1-i] = create(t, s, newKey(t, owner, start.Add(time.Duration(i)*time.Millisecond)))
	}
	return out
}

func ids(list []*keys.Key) []string {
	out := make([]string, len(list))
	for i, k := range list {
		out[i] = k.ID
	}
	return out
}

func testListOrderAndPages(t *testing.T, s keys.Store) {
	want := createMany(t, s, "u1", t0, 7)

	all, err := s.List(t.Context(), "u1", keys.Page{})
	require.NoError(t, err)
	require.Len(t, all, len(want))
	for i := range want {
		requireSame(t, want[i], all[i], "whole records, newest first")
	}

	var pages [][]string
	before := ""
	for range 5 {
		page, err := s.List(t.Context(), "u1", keys.Page{Before: before, Limit: 3})
		require.NoError(t, err)
		pages = append(pages, ids(page))
		if len(page) == 0 {
			break
		}
		before = page[len(page)-1].ID
	}
	w := ids(want)
	require.Equal(t, [][]string{w[0:3], w[3:6], w[6:7], {}}, pages)

	after, err := s.List(t.Context(), "u1", keys.Page{Before: "zzzzzzzzzzzzzzzz", Limit: 2})
	require.NoError(t, err)
	require.Equal(t, w[:2], ids(after), "a cursor that is not a stored id")
	none, err := s.List(t.Context(), "u1", keys.Page{Before: "0000000000000000"})
	require.NoError(t, err)
	require.Empty(t, none)
}

func testListOwnerIsolation(t *testing.T, s keys.Store) {
	mine := createMany(t, s, "u1", t0, 3)
	// Interleaved in time with owners whose ids are close to "u1".
	for i, owner := range []string{"u2", "U1", "u1 ", "u10", " u1", ""} {
		create(t, s, newKey(t, owner, t0.Add(time.Duration(i%3)*time.Millisecond)))
	}
	got, err := s.List(t.Context(), "u1", keys.Page{Limit: 100})
	require.NoError(t, err)
	require.Equal(t, ids(mine), ids(got))

	got, err = s.List(t.Context(), "U1", keys.Page{})
	require.NoError(t, err)
	require.Len(t, got, 1)
	require.Equal(t, "U1", got[0].OwnerID)

	got, err = s.List(t.Context(), "nobody", keys.Page{})
	require.NoError(t, err)
	require.Empty(t, got)
}

func testListDefaultLimit(t *testing.T, s keys.Store) {
	want := createMany(t, s, "u1", t0, 50+3)
	for _, limit := range []int{0, -1} {
		got, err := s.List(t.Context(), "u1", keys.Page{Limit: limit})
		require.NoError(t, err)
		require.Equal(t, ids(want[:50]), ids(got), "limit %d", limit)
	}
}

// testListWithin: a key reaches itself and the keys created through it,
// at any depth, and no other: not its parent, its siblings, or another
// owner's records that name it.
func testListWithin(t *testing.T, s keys.Store) {
	at := func(i int) time.Time { return t0.Add(time.Duration(i) * time.Millisecond) }
	parent := create(t, s, newKey(t, "u1", at(0)))
	k := create(t, s, childOf(t, parent, at(1)))
	sibling := create(t, s, childOf(t, parent, at(2)))
	child := create(t, s, childOf(t, k, at(3)))
	create(t, s, childOf(t, sibling, at(4))) // a nephew
	grandchild := create(t, s, childOf(t, child, at(5)))
	child2 := create(t, s, childOf(t, k, at(6)))
	create(t, s, newKey(t, "u1", at(7))) // unrelated
	stranger := childOf(t, k, at(8))
	stranger.OwnerID = "u2"
	create(t, s, stranger)

	reach := func(id string, page keys.Page) []string {
		page.Within = id
		list, err := s.List(t.Context(), "u1", page)
		require.NoError(t, err)
		return ids(list)
	}
	require.Equal(t, ids([]*keys.Key{child2, grandchild, child, k}), reach(k.ID, keys.Page{}))
	require.Equal(t, ids([]*keys.Key{grandchild, child}), reach(child.ID, keys.Page{}))
	require.Equal(t, []string{grandchild.ID}, reach(grandchild.ID, keys.Page{}))
	require.Len(t, reach(parent.ID, keys.Page{}), 7, "the root reaches all its descendants")
	require.Empty(t, reach("0000000000000000", keys.Page{}), "an unknown key reaches nothing")
	require.Empty(t, reach(stranger.ID, keys.Page{}), "another owner's key")

	var pages [][]string
	before := ""
	for range 4 {
		page := reach(k.ID, keys.Page{Before: before, Limit: 3})
		pages = append(pages, page)
		if len(page) < 3 {
			break
		}
		before = page[len(page)-1]
	}
	require.Equal(t, [][]string{{child2.ID, grandchild.ID, child.ID}, {k.ID}}, pages, "pages of a reach")
	require.Equal(t, []string{child.ID}, reach(k.ID, keys.Page{Before: grandchild.ID, Limit: 1}))
}
