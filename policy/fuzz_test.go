package policy_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/policy"
)

// decodeRaw turns fuzz input into Permissions that may break every rule:
// "files:read,write notes:" is {"files": ["read", "write"], "notes": [""]}.
func decodeRaw(s string) policy.Permissions {
	p := policy.Permissions{}
	for _, field := range strings.Split(s, " ") {
		resource, actions, _ := strings.Cut(field, ":")
		p[resource] = append(p[resource], strings.Split(actions, ",")...)
	}
	return p
}

// Small vocabularies make random sets overlap, so subset and intersection
// laws are exercised on interesting inputs rather than disjoint ones.
var (
	fuzzResources = []string{"files", "invoices", "notes", "admin"}
	fuzzActions   = []string{"read", "write", "delete", "list", "x", "read.all"}
)

// decodeValid turns fuzz input into normalized Permissions: each byte picks
// a resource and an action.
func decodeValid(t *testing.T, b []byte) policy.Permissions {
	raw := policy.Permissions{}
	for _, c := range b {
		r := fuzzResources[int(c>>4)%len(fuzzResources)]
		a := fuzzActions[int(c&0xf)%len(fuzzActions)]
		if !slices.Contains(raw[r], a) { // Normalize counts duplicates against MaxActions
			raw[r] = append(raw[r], a)
		}
	}
	p, err := policy.Normalize(raw)
	require.NoError(t, err)
	return p
}

// requireNormalized checks the invariants Normalize promises. A policy's
// values may also hold "*", where its configuration declares it.
func requireNormalized(t *testing.T, p policy.Permissions) {
	t.Helper()
	require.LessOrEqual(t, len(p), policy.MaxResources)
	for r, actions := range p {
		require.NotEmpty(t, actions, "resource %q has no action", r)
		require.LessOrEqual(t, len(actions), policy.MaxActions)
		require.True(t, slices.IsSorted(actions), "%q: %q not sorted", r, actions)
		require.Equal(t, len(actions), len(slices.Compact(slices.Clone(actions))), "%q: %q has duplicates", r, actions)
		for _, name := range append([]string{r}, actions...) {
			require.True(t, validName(name) || name == policy.Star, "%q breaks the grammar", name)
		}
	}
}

func validName(s string) bool {
	if len(s) < 1 || len(s) > policy.MaxNameLength {
		return false
	}
	for _, c := range []byte(s) {
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

// sameSet reports whether a and b hold the same resource:action pairs,
// whatever their order or duplicates.
func sameSet(a, b policy.Permissions) bool {
	return policy.Subset(a, b) && policy.Subset(b, a)
}

func FuzzNormalize(f *testing.F) {
	for _, seed := range []string{
		"files:read,write invoices:read",
		"files:write,read,read",
		"files: notes:read",
		"Files:read",
		"files:*",
		"*:read",
		"a-z_0.9:x-y_z.1",
		"fi\x00les:read",
		"files:\xff",
		":",
		"",
		strings.Repeat("r", 65) + ":read",
		"files:" + strings.Repeat("a,", 40),
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		raw := decodeRaw(s)
		got, err := policy.Normalize(raw) // must never panic
		if err != nil {
			var invalid *policy.InvalidError
			require.ErrorAs(t, err, &invalid)
			require.NotEmpty(t, invalid.Path)
			require.NotEmpty(t, invalid.Reason)
			require.Nil(t, got)
			return
		}
		requireNormalized(t, got)
		require.NotContains(t, got.String(), policy.Star, "Normalize refuses \"*\"")
		require.True(t, sameSet(raw, got), "Normalize changed the set: %q → %q", raw, got)
		again, err := policy.Normalize(got)
		require.NoError(t, err)
		require.Equal(t, got, again, "Normalize is idempotent")
	})
}

func FuzzNormalizeIdempotent(f *testing.F) {
	f.Add([]byte{0x00, 0x11, 0x11, 0x22, 0x10})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		checkNormalizeIdempotent(t, decodeValid(t, b))
	})
}

func FuzzSubsetReflexiveTransitive(f *testing.F) {
	f.Add([]byte{0x00}, []byte{0x00, 0x01}, []byte{0x00, 0x01, 0x12})
	f.Add([]byte{0x01}, []byte{}, []byte{0x33})
	f.Add([]byte{}, []byte{}, []byte{})
	f.Fuzz(func(t *testing.T, a, b, c []byte) {
		checkSubsetLaws(t, decodeValid(t, a), decodeValid(t, b), decodeValid(t, c))
	})
}

func FuzzIntersectWithinBoth(f *testing.F) {
	f.Add([]byte{0x00, 0x01, 0x12}, []byte{0x01, 0x12, 0x23})
	f.Add([]byte{0x00}, []byte{0x31})
	f.Add([]byte{}, []byte{0x00})
	f.Fuzz(func(t *testing.T, a, b []byte) {
		checkIntersectLaws(t, decodeValid(t, a), decodeValid(t, b))
	})
}

func FuzzExcessIffSubset(f *testing.F) {
	f.Add([]byte{0x00, 0x01}, []byte{0x00, 0x01, 0x02})
	f.Add([]byte{0x00, 0x01, 0x02}, []byte{0x00, 0x01})
	f.Add([]byte{}, []byte{})
	f.Fuzz(func(t *testing.T, a, b []byte) {
		checkExcessLaws(t, decodeValid(t, a), decodeValid(t, b))
	})
}

func checkNormalizeIdempotent(t *testing.T, p policy.Permissions) {
	once, err := policy.Normalize(p)
	require.NoError(t, err)
	twice, err := policy.Normalize(once)
	require.NoError(t, err)
	require.Equal(t, once, twice)
}

func checkSubsetLaws(t *testing.T, a, b, c policy.Permissions) {
	require.True(t, policy.Subset(a, a), "reflexive: %v", a)
	require.True(t, policy.Subset(nil, a), "the empty set is a subset of everything")
	if policy.Subset(a, b) && policy.Subset(b, c) {
		require.True(t, policy.Subset(a, c), "transitive: %v ⊆ %v ⊆ %v", a, b, c)
	}
	// Random sets rarely form a chain; unions always do.
	ab := policy.Union(a, b)
	abc := policy.Union(ab, c)
	require.True(t, policy.Subset(a, ab))
	require.True(t, policy.Subset(ab, abc))
	require.True(t, policy.Subset(a, abc), "transitive: %v ⊆ %v ⊆ %v", a, ab, abc)
	if policy.Subset(a, b) && policy.Subset(b, a) {
		require.Equal(t, a, b, "antisymmetric on normalized sets")
	}
	require.True(t, policy.Satisfies(abc, a.Strings()...))
}

func checkIntersectLaws(t *testing.T, a, b policy.Permissions) {
	i := policy.Intersect(a, b)
	requireNormalized(t, i)
	require.True(t, policy.Subset(i, a), "%v ∩ %v = %v ⊄ a", a, b, i)
	require.True(t, policy.Subset(i, b), "%v ∩ %v = %v ⊄ b", a, b, i)
	require.Equal(t, i, policy.Intersect(b, a), "commutative")
	require.Equal(t, i, policy.Intersect(i, a), "idempotent")
	// Everything in both is kept.
	for r, actions := range a {
		for _, action := range actions {
			require.Equal(t, b.Has(r, action), i.Has(r, action))
		}
	}
}

func checkExcessLaws(t *testing.T, requested, maximum policy.Permissions) {
	excess := policy.Excess(requested, maximum)
	requireNormalized(t, excess)
	require.Equal(t, policy.Subset(requested, maximum), excess.IsEmpty(), "Excess(%v, %v) = %v", requested, maximum, excess)
	require.True(t, policy.Subset(excess, requested))
	require.True(t, policy.Intersect(excess, maximum).IsEmpty(), "the excess is beyond the cap")
	require.Equal(t, requested, policy.Union(policy.Intersect(requested, maximum), excess), "within ∪ excess = requested")
}

// TestSetLawsRandom checks the laws on seeded random sets, so they are
// exercised on many inputs by a plain go test too.
func TestSetLawsRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	randomBytes := func() []byte {
		b := make([]byte, rng.IntN(12))
		for i := range b {
			b[i] = byte(rng.UintN(256))
		}
		return b
	}
	for range 2000 {
		a, b, c := decodeValid(t, randomBytes()), decodeValid(t, randomBytes()), decodeValid(t, randomBytes())
		checkNormalizeIdempotent(t, a)
		checkSubsetLaws(t, a, b, c)
		checkIntersectLaws(t, a, b)
		checkExcessLaws(t, a, b)
	}
}

func FuzzGrant(f *testing.F) {
	f.Add("files:read", byte(0b001), true, false, false)
	f.Add("files:read,delete", byte(0b010), true, false, false)
	f.Add("files:read invoices:write", byte(0b011), true, true, false)
	f.Add("admin:*", byte(0b100), true, false, false)
	f.Add("admin:* files:*", byte(0b100), true, false, false)
	f.Add("*:read", byte(0b111), true, true, false)
	f.Add("", byte(0b001), false, false, false)
	f.Add("", byte(0b001), false, true, true)
	f.Add("files:read", byte(0b001), true, false, true)
	f.Add("files:read", byte(0x81), true, false, false)
	f.Add("Files:READ", byte(0b001), true, false, false)
	f.Add("files:", byte(0b001), true, false, false)

	ctx := context.Background()
	config := policy.Config{
		Roles: map[string]policy.Permissions{
			"admin":  roles["admin"],
			"editor": roles["editor"],
			"root":   {"admin": {"*"}, "files": {"read"}},
		},
		Default: readOnly,
	}
	fixed := policy.MustNew(config)
	config.AllowClientPermissions = true
	clientChooses := policy.MustNew(config)
	caller := policy.MustParse("files:read", "invoices:read", "notes:read")

	f.Fuzz(func(t *testing.T, requestedText string, who byte, named, withCaller, useFixed bool) {
		p := clientChooses
		if useFixed {
			p = fixed
		}
		var s policy.Subject
		for i, role := range []string{"admin", "editor", "root"} {
			if who&(1<<i) != 0 {
				s.Roles = append(s.Roles, role)
			}
		}
		s.Disabled = who&0x80 != 0
		var requested policy.Permissions
		if named {
			requested = decodeRaw(requestedText)
		}
		var bounds []policy.Permissions
		if withCaller {
			bounds = append(bounds, caller)
		}
		before := requested.Clone()

		got, err := p.Grant(ctx, s, requested, bounds...) // must never panic
		assert.Equal(t, before, requested, "Grant does not modify its input")

		maximum, capErr := p.Cap(ctx, s, bounds...)
		var exceeds *policy.ExceedsError
		var invalid *policy.InvalidError
		switch {
		case err == nil:
			require.NoError(t, capErr)
			requireNormalized(t, got)
			require.False(t, got.IsEmpty())
			require.True(t, policy.Subset(got, maximum), "granted %v beyond the cap %v", got, maximum)
			if named {
				require.True(t, sameSet(got, requested), "granted %v, asked for %v", got, requested)
			} else {
				require.Equal(t, policy.Intersect(readOnly, maximum), got, "Default cut to the cap")
			}
		case errors.As(err, &exceeds):
			require.NoError(t, capErr)
			require.True(t, named)
			normalized, nerr := policy.Normalize(requested)
			if nerr != nil { // only declared wildcards pass Grant but not Normalize
				require.True(t, strings.Contains(requestedText, "*"))
				normalized = requested
			}
			requireNormalized(t, exceeds.Exceeded)
			require.False(t, exceeds.Exceeded.IsEmpty())
			require.Equal(t, maximum, exceeds.Maximum)
			require.True(t, policy.Subset(exceeds.Exceeded, normalized))
			require.True(t, policy.Intersect(exceeds.Exceeded, maximum).IsEmpty())
			require.Nil(t, got)
		case errors.As(err, &invalid):
			require.NotEmpty(t, invalid.Path)
			require.NotEmpty(t, invalid.Reason)
			require.Nil(t, got)
		case errors.Is(err, policy.ErrSubjectDisabled):
			require.True(t, s.Disabled)
			require.Nil(t, got)
		default:
			t.Fatalf("unexpected error %T: %v", err, err)
		}
	})
}
