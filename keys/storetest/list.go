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
	require.Equal(t, want, all, "whole records, newest first")

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
	want := createMany(t, s, "u1", t0, keys.DefaultPageLimit+3)
	for _, limit := range []int{0, -1} {
		got, err := s.List(t.Context(), "u1", keys.Page{Limit: limit})
		require.NoError(t, err)
		require.Equal(t, ids(want[:keys.DefaultPageLimit]), ids(got), "limit %d", limit)
	}
}

func testTouchForwardOnly(t *testing.T, s keys.Store) {
	k := create(t, s, newKey(t, "u1", t0))
	ctx := t.Context()
	t1 := t0.Add(time.Minute)

	require.NoError(t, s.Touch(ctx, k.ID, t1, "192.0.2.1"))
	k.LastUsedAt, k.LastUsedIP = t1, "192.0.2.1"
	requireStored(t, s, k)

	require.NoError(t, s.Touch(ctx, k.ID, t0.Add(time.Second), "192.0.2.2")) // earlier
	require.NoError(t, s.Touch(ctx, k.ID, t1, "192.0.2.3"))                  // the same time
	requireStored(t, s, k)

	t2 := t1.Add(time.Millisecond)
	require.NoError(t, s.Touch(ctx, k.ID, t2, "2001:db8::2"))
	k.LastUsedAt, k.LastUsedIP = t2, "2001:db8::2"
	requireStored(t, s, k)
}
