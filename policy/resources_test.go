package policy_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/policy"
)

func TestNormalizeResources(t *testing.T) {
	many := make([]string, 101)
	for i := range many {
		many[i] = "r" + strings.Repeat("x", i%5) + string(rune('a'+i%26)) + string(rune('a'+i/26))
	}
	tests := []struct {
		name string
		in   policy.Resources
		want policy.Resources
		path string // "" when valid
	}{
		{"nil", nil, nil, ""},
		{"empty is none", policy.Resources{}, nil, ""},
		{"sorted and unique", policy.Resources{"projects": {"2", "10", "2", "acme:7", "u@x"}}, policy.Resources{"projects": {"10", "2", "acme:7", "u@x"}}, ""},
		{"empty list", policy.Resources{"projects": {}}, nil, "resources.projects"},
		{"bad resource", policy.Resources{"Projects": {"1"}}, nil, `resources."Projects"`},
		{"slash", policy.Resources{"projects": {"1", "a/b"}}, nil, "resources.projects[1]"},
		{"space", policy.Resources{"projects": {"a b"}}, nil, "resources.projects[0]"},
		{"empty id", policy.Resources{"projects": {""}}, nil, "resources.projects[0]"},
		{"65 bytes", policy.Resources{"projects": {strings.Repeat("a", 65)}}, nil, "resources.projects[0]"},
		{"101 ids", policy.Resources{"projects": many}, nil, "resources.projects"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := policy.NormalizeResources(tt.in)
			if tt.path == "" {
				require.NoError(t, err)
				assert.Equal(t, tt.want, got)
				return
			}
			var invalid *policy.InvalidError
			require.ErrorAs(t, err, &invalid)
			assert.Equal(t, tt.path, invalid.Path)
			assert.NotEmpty(t, invalid.Reason)
		})
	}
	t.Run("201 in all", func(t *testing.T) {
		in := policy.Resources{}
		for _, r := range []string{"a", "b", "c"} {
			in[r] = many[:67]
		}
		_, err := policy.NormalizeResources(in)
		var invalid *policy.InvalidError
		require.ErrorAs(t, err, &invalid)
		assert.Equal(t, "resources", invalid.Path)
	})
}

func TestResourcesSets(t *testing.T) {
	a := policy.Resources{"projects": {"1", "2"}, "files": {"f"}}
	b := policy.Resources{"projects": {"2", "3"}, "orgs": {"o"}}
	assert.Equal(t, policy.Resources{"projects": {"2"}, "files": {"f"}, "orgs": {"o"}}, policy.IntersectResources(a, b))
	assert.Equal(t, policy.Resources{"projects": {}}, policy.IntersectResources(policy.Resources{"projects": {"1"}}, policy.Resources{"projects": {"2"}}))
	assert.Equal(t, a, policy.IntersectResources(a, nil))
	assert.Nil(t, policy.IntersectResources(nil, nil))

	assert.True(t, a.Allows("projects", "1"))
	assert.False(t, a.Allows("projects", "3"))
	assert.True(t, a.Allows("invoices", "anything"), "not limited")
	assert.False(t, policy.Resources{"projects": {}}.Allows("projects", "1"))

	assert.Equal(t, policy.Resources{"files": nil}, policy.OutsideResources(policy.Resources{"projects": {"2"}}, a), "files: every record, beyond a")
	assert.Nil(t, policy.OutsideResources(policy.Resources{"projects": {"2"}, "files": {"f"}}, a))
	assert.Equal(t, policy.Resources{"projects": {"3"}, "files": nil}, policy.OutsideResources(policy.Resources{"projects": {"1", "3"}}, a))
	assert.True(t, policy.Resources{}.Equal(nil))
	assert.False(t, a.Equal(b))
}

func TestGrantResources(t *testing.T) {
	ctx := context.Background()
	boom := errors.New("boom")
	pol := policy.MustNew(policy.Config{AllowClientPermissions: true, Max: policy.MustParse("projects:read", "projects:write", "files:read"),
		Records: &policy.Records{Resources: []string{"projects"}, Actions: func(_ context.Context, s policy.Subject, _, id string) ([]string, error) {
			switch {
			case id == "err":
				return nil, boom
			case id == "gone":
				return nil, policy.ErrNoRecord
			case s.ID == "alice" && (id == "1" || id == "2"):
				return []string{"read", "write"}, nil
			case s.ID == "alice" && id == "3":
				return []string{"read"}, nil
			}
			return nil, nil
		}}})
	alice := policy.Subject{ID: "alice"}
	read, rw := policy.MustParse("projects:read"), policy.MustParse("projects:read", "projects:write")

	got, err := pol.GrantResources(ctx, alice, rw, policy.Resources{"projects": {"2", "1"}}, nil)
	require.NoError(t, err)
	assert.Equal(t, policy.Resources{"projects": {"1", "2"}}, got)

	for _, tt := range []struct {
		name    string
		perms   policy.Permissions
		res     policy.Resources
		bound   policy.Resources
		records policy.Resources
		deleg   bool
	}{
		{"an action she may not do there", rw, policy.Resources{"projects": {"1", "3"}}, nil, policy.Resources{"projects": {"3"}}, false},
		{"another's project and one that does not exist", read, policy.Resources{"projects": {"4", "gone"}}, nil, policy.Resources{"projects": {"4", "gone"}}, false},
		{"outside the calling key's", read, policy.Resources{"projects": {"1", "2"}}, policy.Resources{"projects": {"1"}}, policy.Resources{"projects": {"2"}}, true},
		{"the calling key reaches none", read, nil, policy.Resources{"projects": {}}, policy.Resources{"projects": {}}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := pol.GrantResources(ctx, alice, tt.perms, tt.res, tt.bound)
			var re *policy.RecordsError
			require.ErrorAs(t, err, &re)
			assert.Equal(t, tt.records, re.Records)
			assert.Equal(t, tt.deleg, re.Delegation)
			assert.Equal(t, policy.Permissions{"projects": tt.perms["projects"]}, re.Exceeded)
		})
	}
	_, err = pol.GrantResources(ctx, alice, read, policy.Resources{"projects": {"err"}}, nil)
	assert.ErrorIs(t, err, boom)
	_, err = pol.GrantResources(ctx, alice, read, policy.Resources{"files": {"f1"}}, nil)
	var invalid *policy.InvalidError
	require.ErrorAs(t, err, &invalid, "no permission on files")
	assert.Equal(t, "resources.files", invalid.Path)

	got, err = pol.GrantResources(ctx, alice, policy.MustParse("projects:read", "files:read"), policy.Resources{"files": {"f1"}}, policy.Resources{"projects": {"1"}})
	require.NoError(t, err, "files are not checked against records, projects inherited")
	assert.Equal(t, policy.Resources{"files": {"f1"}, "projects": {"1"}}, got)

	_, err = policy.New(policy.Config{Records: &policy.Records{Resources: []string{"projects"}}})
	assert.Error(t, err, "Actions is required")
	_, err = policy.New(policy.Config{Records: &policy.Records{Actions: func(context.Context, policy.Subject, string, string) ([]string, error) { return nil, nil }}})
	assert.Error(t, err, "Resources is required")
}

func TestRecordAllowed(t *testing.T) {
	perms := policy.MustParse("projects:read")
	res := policy.Resources{"projects": {"1"}}
	assert.True(t, policy.RecordAllowed(perms, res, "projects", "read", "1", []string{"read"}, true))
	assert.False(t, policy.RecordAllowed(perms, res, "projects", "read", "2", []string{"read"}, true), "outside")
	assert.False(t, policy.RecordAllowed(perms, res, "projects", "write", "1", []string{"read", "write"}, true), "not held")
	assert.False(t, policy.RecordAllowed(perms, res, "projects", "read", "1", nil, true), "owner lost access")
	assert.True(t, policy.RecordAllowed(perms, nil, "projects", "read", "9", nil, false), "no Records: the restriction alone narrows")
}

func ExampleNormalizeResources() {
	r, _ := policy.NormalizeResources(policy.Resources{"projects": {"42", "7", "42"}})
	fmt.Println(r)
	// Output: map[projects:[42 7]]
}

// FuzzResources: whatever a client sends, NormalizeResources either
// refuses it with a path under "resources" or returns a restriction that
// is valid, normalized (normalizing again changes nothing), within the
// limits, and that lets through exactly the valid ids it was given; the
// intersection with another restriction lets through only what both do.
func FuzzResources(f *testing.F) {
	f.Add("projects", "1,2,2", "projects", "2,3", "2")
	f.Add("a", "", "b", "x@y:z", "x@y:z")
	f.Add("Projects", "1/2", "p", " ", "")
	f.Fuzz(func(t *testing.T, r1, ids1, r2, ids2, probe string) {
		in := policy.Resources{r1: strings.Split(ids1, ",")}
		other := policy.Resources{r2: strings.Split(ids2, ",")}
		got, err := policy.NormalizeResources(in)
		if err != nil {
			var invalid *policy.InvalidError
			if !errors.As(err, &invalid) || !strings.HasPrefix(invalid.Path, "resources") {
				t.Fatalf("error %v: want an InvalidError under resources", err)
			}
			return
		}
		again, err := policy.NormalizeResources(got)
		if err != nil || !again.Equal(got) {
			t.Fatalf("not normalized: %v, again %v (%v)", got, again, err)
		}
		for _, id := range got[r1] {
			if !policy.ValidRecordID(id) {
				t.Fatalf("invalid id %q kept", id)
			}
		}
		if got.Allows(r1, probe) != (policy.ValidRecordID(probe) && strings.Contains(","+ids1+",", ","+probe+",")) {
			t.Fatalf("Allows(%q, %q) = %v for %v", r1, probe, got.Allows(r1, probe), got)
		}
		o, err := policy.NormalizeResources(other)
		if err != nil {
			return
		}
		both := policy.IntersectResources(got, o)
		for _, res := range []string{r1, r2} {
			if both.Allows(res, probe) != (got.Allows(res, probe) && o.Allows(res, probe)) {
				t.Fatalf("intersection of %v and %v lets %s %q through: %v", got, o, res, probe, both.Allows(res, probe))
			}
		}
		if out := policy.OutsideResources(both, got); len(out) != 0 {
			t.Fatalf("the intersection %v lies outside %v: %v", both, got, out)
		}
	})
}
