package policy_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/policy"
)

func TestTemplatesConfig(t *testing.T) {
	t.Parallel()
	base := func(ts ...policy.Template) policy.Config {
		return policy.Config{AllowClientPermissions: true, Max: policy.MustParse("files:read", "files:write"), Templates: ts}
	}
	read := policy.Template{Name: "Read files", Permissions: policy.MustParse("files:read")}
	for name, tc := range map[string]struct {
		cfg  policy.Config
		want string
	}{
		"no client choice": {policy.Config{Max: policy.MustParse("files:read"), Templates: []policy.Template{read}}, "need AllowClientPermissions"},
		"empty name":       {base(policy.Template{Permissions: policy.MustParse("files:read")}), "name of 1 to 100"},
		"spaces":           {base(policy.Template{Name: " x ", Permissions: policy.MustParse("files:read")}), "without surrounding spaces"},
		"twice":            {base(read, read), "used twice"},
		"no permissions":   {base(policy.Template{Name: "none"}), "needs permissions"},
		"bad permissions":  {base(policy.Template{Name: "bad", Permissions: policy.Permissions{"Files!": {"read"}}}), `Templates["bad"]`},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := policy.New(tc.cfg)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
	p, err := policy.New(base(read))
	require.NoError(t, err)
	got, ok := p.Template("Read files")
	require.True(t, ok)
	assert.Equal(t, policy.MustParse("files:read"), got.Permissions)
	_, ok = p.Template("read files")
	assert.False(t, ok, "names are exact")
}

// Choices lists every template, cut to the cap, with what is dropped.
func TestTemplateChoices(t *testing.T) {
	t.Parallel()
	p := policy.MustNew(policy.Config{AllowClientPermissions: true, Max: policy.MustParse("files:read", "files:write", "projects:read"),
		Templates: []policy.Template{
			{Name: "Read-only dashboard", Permissions: policy.MustParse("files:read", "projects:read")},
			{Name: "Uploader", Description: "writes files", Permissions: policy.MustParse("files:read", "files:write")},
		}})
	choices := p.Choices(policy.MustParse("files:read", "projects:read"))
	require.Len(t, choices, 2)
	assert.Equal(t, "Read-only dashboard", choices[0].Name, "in the configured order")
	assert.True(t, choices[0].Available())
	assert.Equal(t, policy.Permissions{}, choices[0].Dropped)
	assert.False(t, choices[1].Available())
	assert.Equal(t, policy.MustParse("files:read"), choices[1].Grantable)
	assert.Equal(t, policy.MustParse("files:write"), choices[1].Dropped)
	assert.Equal(t, "writes files", choices[1].Description)
}

func ExamplePolicy_Choices() {
	p := policy.MustNew(policy.Config{AllowClientPermissions: true, Max: policy.MustParse("files:read", "files:write"),
		Templates: []policy.Template{{Name: "Uploader", Permissions: policy.MustParse("files:read", "files:write")}}})
	for _, c := range p.Choices(policy.MustParse("files:read")) {
		fmt.Println(c.Name, c.Available(), "drops", c.Dropped)
	}
	// Output: Uploader false drops files:write
}
