package keys_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/audit"
	"github.com/keycaphq/keycap/keys"
)

// TestDescriptions: a description is free text shown to people: line
// breaks are kept, everything a name refuses for being invisible or
// reordering what is shown is refused, and so is more than 500 characters;
// a refusal writes nothing, on create and on update.
func TestDescriptions(t *testing.T) {
	ctx := context.Background()
	refused := map[string]string{
		"right-to-left override": "runs the \u202Eexport",
		"zero-width space":       "runs\u200Bthe export",
		"tab":                    "runs\tthe export",
		"bell":                   "runs\athe export",
		"carriage return alone":  "runs\rthe export",
		"NUL":                    "runs\x00",
		"line separator":         "runs\u2028the export",
		"Hangul filler":          "\u3164",
		"invalid UTF-8":          "runs \xff",
		"501 characters":         strings.Repeat("é", 501),
		"nothing visible":        "\u0301\n\u0301",
	}
	for name, s := range refused {
		t.Run("refused/"+name, func(t *testing.T) {
			f := newFixture(t)
			k, token, err := f.m.Create(ctx, keys.CreateRequest{Owner: "bob", Name: "ci", Description: s})
			badField("description")(t, err)
			assert.Nil(t, k)
			assert.Empty(t, token)
			assert.Zero(t, f.store.writes(), "nothing written")

			existing, _ := f.create(t, "bob")
			events := f.audit.len()
			_, err = f.m.Update(ctx, keys.UpdateRequest{Ref: ref("bob", existing.ID), Description: ptr(s), Name: ptr("renamed")})
			badField("description")(t, err)
			assert.Equal(t, existing, f.record(t, existing.ID), "nothing written, the rename neither")
			assert.Equal(t, events, f.audit.len(), "nothing audited as changed")
		})
	}
	accepted := map[string][2]string{
		"plain":                {"runs the nightly export", "runs the nightly export"},
		"line breaks":          {"runs the export\r\nowned by ops\n", "runs the export\nowned by ops"},
		"trimmed":              {"  ops  ", "ops"},
		"emoji and scripts":    {"部署 👩‍💻 déploiement مفتاح", "部署 👩‍💻 déploiement مفتاح"},
		"500 characters":       {strings.Repeat("é", 500), strings.Repeat("é", 500)},
		"spaces only are none": {"  \n ", ""},
	}
	for name, c := range accepted {
		t.Run("accepted/"+name, func(t *testing.T) {
			f := newFixture(t)
			k, _, err := f.m.Create(ctx, keys.CreateRequest{Owner: "bob", Name: "ci", Description: c[0]})
			require.NoError(t, err)
			assert.Equal(t, c[1], k.Description)
			assert.Equal(t, c[1], f.record(t, k.ID).Description, "stored")
			assert.Equal(t, c[1], f.audit.last(t).AfterDescription, "audited with the new key")
		})
	}
}

// TestDescriptionUpdate: changing the description is one audited change
// (before and after), removing it is "", and the same description again
// writes nothing.
func TestDescriptionUpdate(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	k, _, err := f.m.Create(ctx, keys.CreateRequest{Owner: "bob", Name: "ci", Description: "old text"})
	require.NoError(t, err)

	got, err := f.m.Update(ctx, keys.UpdateRequest{Ref: ref("bob", k.ID), Description: ptr("new text\nline two")})
	require.NoError(t, err)
	assert.Equal(t, "new text\nline two", got.Description)
	assert.Equal(t, k.Version+1, got.Version)
	e := f.audit.last(t)
	assert.Equal(t, audit.Updated, e.Type)
	assert.Equal(t, "old text", e.BeforeDescription)
	assert.Equal(t, "new text\nline two", e.AfterDescription)

	writes, events := f.store.writes(), f.audit.len()
	same, err := f.m.Update(ctx, keys.UpdateRequest{Ref: ref("bob", k.ID), Description: ptr(" new text\r\nline two ")})
	require.NoError(t, err)
	assert.Equal(t, got.Version, same.Version, "the same description: nothing to change")
	assert.Equal(t, writes, f.store.writes(), "nothing written")
	assert.Equal(t, events, f.audit.len(), "nothing audited")

	renamed, err := f.m.Update(ctx, keys.UpdateRequest{Ref: ref("bob", k.ID), Name: ptr("ci 2")})
	require.NoError(t, err)
	assert.Equal(t, "new text\nline two", renamed.Description, "a rename keeps the description")
	e = f.audit.last(t)
	assert.Empty(t, e.BeforeDescription+e.AfterDescription, "a rename leaves the description out of the event")

	cleared, err := f.m.Update(ctx, keys.UpdateRequest{Ref: ref("bob", k.ID), Description: ptr("")})
	require.NoError(t, err)
	assert.Empty(t, cleared.Description)
	e = f.audit.last(t)
	assert.Equal(t, "new text\nline two", e.BeforeDescription)
	assert.Empty(t, e.AfterDescription)

	_, err = f.m.Update(ctx, keys.UpdateRequest{Ref: ref("bob", k.ID), Actor: audit.User("admin"), Description: ptr("x")})
	require.ErrorIs(t, err, keys.ErrAdminChange, "another user may not describe the owner's key")
}
