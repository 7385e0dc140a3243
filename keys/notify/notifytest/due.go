package notifytest

import (
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/audit"
	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/keys/notify"
)

// population stores keys on every edge of the queries of [queries] at t0
// and returns them by name.
func population(t *testing.T, s keys.Store) map[string]*keys.Key {
	t.Helper()
	admin, owner := audit.User("admin"), audit.User("u1")
	set := func(k *keys.Key, f func(k *keys.Key)) *keys.Key { f(k); return k }
	old := func(owner string) *keys.Key { return newKey(owner, t0.Add(-100*day)) }
	specs := map[string]*keys.Key{
		"expires in 6 days":          set(old("u1"), func(k *keys.Key) { k.ExpiresAt = t0.Add(6 * day) }),
		"expires in 7 days exactly":  set(old("u1"), func(k *keys.Key) { k.ExpiresAt = t0.Add(7 * day) }),
		"expires in 3 days exactly":  set(old("u1"), func(k *keys.Key) { k.ExpiresAt = t0.Add(3 * day) }),
		"expires in 2 days":          set(old("u1"), func(k *keys.Key) { k.ExpiresAt = t0.Add(2 * day) }),
		"expires in 2 days, of u2":   set(old("u2"), func(k *keys.Key) { k.ExpiresAt = t0.Add(2 * day) }),
		"expires in 12 hours":        set(old("ü ser"), func(k *keys.Key) { k.ExpiresAt = t0.Add(12 * time.Hour) }),
		"made for 2 days, yesterday": set(newKey("u1", t0.Add(-day)), func(k *keys.Key) { k.ExpiresAt = t0.Add(day + time.Hour) }),
		"made for 3 days exactly":    set(newKey("u1", t0.Add(-day)), func(k *keys.Key) { k.ExpiresAt = t0.Add(2 * day) }),
		"expired yesterday":          set(old("u1"), func(k *keys.Key) { k.ExpiresAt = t0.Add(-day) }),
		"expires now":                set(old("u1"), func(k *keys.Key) { k.ExpiresAt = t0 }),
		"expired a month ago":        set(old("u1"), func(k *keys.Key) { k.ExpiresAt = t0.Add(-30 * day) }),
		"revoked by an admin, expiring": set(old("u1"), func(k *keys.Key) {
			k.ExpiresAt, k.RevokedAt, k.RevokedBy, k.RevokedReason = t0.Add(2*day), t0.Add(-time.Hour), admin, "no longer needed"
		}),
		"revoked by its owner":     set(old("u1"), func(k *keys.Key) { k.RevokedAt, k.RevokedBy = t0.Add(-time.Hour), owner }),
		"revoked through a key":    set(old("u1"), func(k *keys.Key) { k.RevokedAt, k.RevokedBy = t0.Add(-time.Hour), audit.Key("0123456789abcdef") }),
		"revoked by nobody known":  set(old("u1"), func(k *keys.Key) { k.RevokedAt = t0.Add(-time.Hour) }),
		"revoked as leaked":        set(old("u1"), func(k *keys.Key) { k.RevokedAt, k.RevokedBy = t0, audit.System("secret-scanning") }),
		"revoked by an operator":   set(old("u2"), func(k *keys.Key) { k.RevokedAt, k.RevokedBy = t0.Add(-6*day), audit.Operator("ops") }),
		"revoked a month ago":      set(old("u1"), func(k *keys.Key) { k.RevokedAt, k.RevokedBy = t0.Add(-30*day), admin }),
		"revoked by user:u1 of u2": set(old("u2"), func(k *keys.Key) { k.RevokedAt, k.RevokedBy = t0.Add(-time.Hour), owner }),
		"disabled by an admin": set(old("u1"), func(k *keys.Key) {
			k.Disabled, k.DisabledBy, k.DisabledAt, k.ExpiresAt = true, admin, t0.Add(-time.Hour), t0.Add(2*day)
		}),
		"disabled by its owner":  set(old("u1"), func(k *keys.Key) { k.Disabled, k.DisabledBy, k.DisabledAt = true, owner, t0.Add(-time.Hour) }),
		"disabled for staleness": set(old("u1"), func(k *keys.Key) { k.Disabled, k.DisabledBy, k.DisabledAt = true, audit.System("staleness"), t0 }),
		"disabled a month ago":   set(old("u1"), func(k *keys.Key) { k.Disabled, k.DisabledBy, k.DisabledAt = true, admin, t0.Add(-30*day) }),
		"disabled, revoked later": set(old("u1"), func(k *keys.Key) {
			k.Disabled, k.DisabledBy, k.DisabledAt, k.RevokedAt = true, admin, t0.Add(-2*time.Hour), t0.Add(-time.Hour)
		}),
		"used an hour ago":             set(old("u1"), func(k *keys.Key) { k.LastUsedAt = t0.Add(-time.Hour) }),
		"used 35 days ago":             set(old("u1"), func(k *keys.Key) { k.LastUsedAt = t0.Add(-35 * day) }),
		"used 30 days ago exactly":     set(old("u1"), func(k *keys.Key) { k.LastUsedAt = t0.Add(-30 * day) }),
		"used 37 days ago exactly":     set(old("u1"), func(k *keys.Key) { k.LastUsedAt = t0.Add(-37 * day) }),
		"never used, made 33 days ago": newKey("u1", t0.Add(-33*day)),
		"unused 100 days":              old("u2"),
		"unused 100 days, renamed":     set(old("u1"), func(k *keys.Key) { k.UpdatedAt = t0.Add(-day) }),
		"unused 100 days, expired":     set(old("u1"), func(k *keys.Key) { k.ExpiresAt = t0.Add(-time.Hour) }),
		"used 95 days ago":             set(old("u1"), func(k *keys.Key) { k.LastUsedAt = t0.Add(-95 * day) }),
		"used 95 days ago, disabled": set(old("u1"), func(k *keys.Key) {
			k.LastUsedAt, k.Disabled, k.DisabledBy, k.DisabledAt = t0.Add(-95*day), true, owner, t0.Add(-90*day)
		}),
	}
	out := map[string]*keys.Key{}
	for name, k := range specs {
		k.Name = name
		out[name] = create(t, s, k)
	}
	return out
}

// queries are a Scheduler's queries at t0 with the default leads,
// StaleAfter 30 days, DisableAfter 90 days and a Lookback of 7 days.
func queries() []notify.Query {
	q := func(typ audit.Type, lead time.Duration, from, to time.Time) notify.Query {
		return notify.Query{Type: typ, Lead: lead, From: from, To: to, Now: t0, Lapsed: t0.Add(-time.Minute), Limit: 1000}
	}
	back := t0.Add(-7 * day)
	return []notify.Query{
		q(audit.Expiring, 7*day, t0.Add(3*day), t0.Add(7*day)),
		q(audit.Expiring, 3*day, t0.Add(day), t0.Add(3*day)),
		q(audit.Expiring, day, t0, t0.Add(day)),
		q(audit.Expired, 0, back, t0),
		q(audit.Stale, 0, back.Add(-30*day), t0.Add(-30*day)),
		q(notify.Unused, 0, time.Time{}, t0.Add(-90*day)),
		q(notify.Unused, 0, t0.Add(-97*day), t0.Add(-90*day)),
		q(audit.Revoked, 0, back, t0),
		q(audit.Disabled, 0, back, t0),
	}
}

// testDueMatches: each query's Due is exactly what Match selects, and a
// few selections the rules are about, named.
func testDueMatches(t *testing.T, s, _ Store) {
	keys := population(t, s)
	named := map[string][]string{
		"revoked":            {"revoked by an admin, expiring", "revoked as leaked", "revoked by an operator", "revoked by user:u1 of u2"},
		"disabled":           {"disabled by an admin", "disabled for staleness"},
		"expired":            {"expired yesterday", "expires now", "unused 100 days, expired"},
		"expiring 72h0m0s":   {"expires in 3 days exactly", "expires in 2 days", "expires in 2 days, of u2", "made for 3 days exactly"},
		"stale":              {"used 35 days ago", "used 30 days ago exactly", "never used, made 33 days ago"},
		"unused":             {"unused 100 days", "used 95 days ago"},
		"unused since 2320h": {"used 95 days ago"},
	}
	left := map[string][]string{
		"revoked":          {"revoked by its owner", "revoked through a key", "revoked by nobody known", "revoked a month ago"},
		"disabled":         {"disabled by its owner", "disabled a month ago", "disabled, revoked later"},
		"expired":          {"expired a month ago", "revoked by an admin, expiring", "expires in 12 hours"},
		"expiring 72h0m0s": {"made for 2 days, yesterday", "revoked by an admin, expiring", "disabled by an admin", "expires in 6 days"},
		"stale":            {"used 37 days ago exactly", "used an hour ago", "unused 100 days, expired", "used 95 days ago, disabled"},
		"unused":           {"unused 100 days, renamed", "unused 100 days, expired", "used 95 days ago, disabled", "used 35 days ago"},
	}
	for _, q := range queries() {
		name := string(q.Type)
		switch {
		case q.Lead > 0:
			name += " " + q.Lead.String()
		case q.Type == notify.Unused && !q.From.IsZero():
			name += " since " + t0.Sub(q.From).String()
		}
		t.Run(name, func(t *testing.T) {
			want := map[string]bool{}
			for _, k := range keys {
				if _, ok := q.Match(k); ok {
					want[k.ID] = true
				}
			}
			got, err := s.Due(t.Context(), q)
			require.NoError(t, err)
			assert.Equal(t, names(keys, want), names(keys, ids(got)))
			for _, name := range named[name] {
				assert.True(t, want[keys[name].ID], "%s is selected", name)
			}
			for _, name := range left[name] {
				assert.False(t, want[keys[name].ID], "%s is left out", name)
			}
			assert.Equal(t, len(got), len(ids(got)), "each record once")
		})
	}
}

// names returns the names of the keys whose ids are in set, sorted.
func names(keys map[string]*keys.Key, set map[string]bool) []string {
	var out []string
	for name, k := range keys {
		if set[k.ID] {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

func testDueLimit(t *testing.T, s, _ Store) {
	for i := range 5 {
		k := newKey("u1", t0.Add(-100*day+time.Duration(i)*time.Millisecond))
		k.ExpiresAt = t0.Add(-time.Hour)
		create(t, s, k)
	}
	q := queries()[3] // expired
	q.Limit = 3
	got, err := s.Due(t.Context(), q)
	require.NoError(t, err)
	assert.Len(t, got, 3)
}

// testDueLeavesClaimed: claimed notices are left out until their claim
// lapses, sent ones for good, and the moment each store computes is
// Match's: claiming every due notice empties every query.
func testDueLeavesClaimed(t *testing.T, s, other Store) {
	population(t, s)
	seen := map[notify.Query]bool{}
	for _, q := range queries() {
		typ := notify.Query{Type: q.Type, Lead: q.Lead}
		if seen[typ] {
			continue // the windowed Unused: its keys were claimed by the other
		}
		seen[typ] = true
		due, err := s.Due(t.Context(), q)
		require.NoError(t, err)
		for i, k := range due {
			c := claimOf(t, q, k, t0)
			won, err := s.Claim(t.Context(), c)
			require.NoError(t, err)
			require.True(t, won)
			if i%2 == 0 {
				require.NoError(t, s.Sent(t.Context(), c, t0))
			}
		}
		left, err := other.Due(t.Context(), q)
		require.NoError(t, err)
		assert.Empty(t, left, "%s %s: claimed notices are not due", q.Type, q.Lead)

		later := q
		later.Now, later.Lapsed = t0.Add(time.Hour), t0.Add(time.Minute)
		lapsed, err := other.Due(t.Context(), later)
		require.NoError(t, err)
		assert.Len(t, lapsed, len(due)/2, "%s %s: the unsent claims lapsed, the sent ones hold", q.Type, q.Lead)
	}
}
