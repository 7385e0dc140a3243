package keys_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/keys"
)

// TestNames: a name is shown to people, so characters that are invisible
// or reorder what is shown are refused (they used to be stored); ordinary
// text in any script, and emoji, are kept as given.
func TestNames(t *testing.T) {
	ctx := context.Background()
	refused := map[string]string{
		"right-to-left override":      "invoice\u202Efdp.exe",
		"left-to-right isolate":       "ci\u2066deploy",
		"right-to-left isolate":       "ci\u2067deploy",
		"first strong isolate":        "ci\u2068deploy",
		"pop directional isolate":     "ci\u2069deploy",
		"zero-width space":            "ci\u200Bdeploy",
		"byte-order mark":             "ci\uFEFFdeploy",
		"line separator":              "ci\u2028deploy",
		"paragraph separator":         "ci\u2029deploy",
		"private use":                 "ci\uE000deploy",
		"private use, plane 15":       "ci\U000F0000deploy",
		"unassigned":                  "ci\u0378deploy",
		"noncharacter":                "ci\uFFFFdeploy",
		"soft hyphen":                 "ci\u00ADdeploy",
		"a joiner between Latin":      "ci\u200Ddeploy",
		"a non-joiner between Latin":  "ci\u200Cdeploy",
		"a joiner at the end":         "deploy 🚀\u200D",
		"a joiner between two spaces": "ci \u200D deploy",
		"a language tag":              "ci\U000E0065deploy",
		"Hangul filler alone":         "\u3164",
		"Hangul choseong filler":      "ci\u115Fdeploy",
		"halfwidth Hangul filler":     "ci\uFFA0deploy",
		"blank braille":               "\u2800",
		"grapheme joiner":             "pro\u034Fd",
		"variation selector 1":        "prod\uFE00",
		"emoji selector after Latin":  "prod\uFE0F",
		"Mongolian selector":          "pro\u180Bd",
		"marks only":                  "\u0301\u0301",
		"NUL":                         "ci\x00deploy",
		"newline":                     "ci\ndeploy",
		"carriage return":             "ci\rdeploy",
		"tab":                         "ci\tdeploy",
		"escape sequence":             "ci\x1b[31mdeploy",
		"delete":                      "ci\x7fdeploy",
		"C1 next line":                "ci\u0085deploy",
	}
	for name, s := range refused {
		t.Run("refused/"+name, func(t *testing.T) {
			f := newFixture(t)
			k, token, err := f.m.Create(ctx, keys.CreateRequest{Owner: "bob", Name: s})
			badField("name")(t, err)
			assert.Nil(t, k)
			assert.Empty(t, token)
			assert.Zero(t, f.store.writes(), "nothing written")

			existing, _ := f.create(t, "bob")
			_, err = f.m.Update(ctx, keys.UpdateRequest{Ref: ref("bob", existing.ID), Name: ptr(s)})
			badField("name")(t, err)
			assert.Equal(t, existing, f.record(t, existing.ID), "nothing written")
		})
	}
	accepted := map[string]string{
		"emoji":                 "deploy 🚀",
		"emoji with skin tone":  "👍🏽 ok",
		"flag":                  "🇫🇷 prod",
		"emoji presentation":    "❤️ prod",
		"keycap":                "1️⃣ first",
		"emoji ZWJ sequence":    "👩‍💻 laptop",
		"rainbow flag":          "🏳️‍🌈",
		"accents":               "Clé de déploiement — équipe",
		"decomposed accents":    "Cle\u0301",
		"CJK":                   "部署キー 배포",
		"Arabic":                "مفتاح النشر",
		"Persian with ZWNJ":     "می\u200Cخواهم",
		"Devanagari with a ZWJ": "क्\u200Dष",
		"Greek and Cyrillic":    "κλειδί ключ",
	}
	for name, s := range accepted {
		t.Run("accepted/"+name, func(t *testing.T) {
			f := newFixture(t)
			k, _, err := f.m.Create(ctx, keys.CreateRequest{Owner: "bob", Name: s})
			require.NoError(t, err)
			assert.Equal(t, s, k.Name, "kept as given")
			got, err := f.m.Update(ctx, keys.UpdateRequest{Ref: ref("bob", k.ID), Name: ptr(s + " 2")})
			require.NoError(t, err)
			assert.Equal(t, s+" 2", got.Name)
		})
	}
}
