package keys_test

import (
	"hash/crc32"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/keycaphq/keycap/internal/keyforge"
	"github.com/keycaphq/keycap/policy"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/keys"
)

const (
	base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	base32 = "0123456789abcdefghjkmnpqrstvwxyz" // Crockford's, lower case
)

// anchored matches exactly one whole key, with the documented pattern.
var anchored = regexp.MustCompile(`^(?:` + keys.PatternForTest.String() + `)$`)

func newToken(t testing.TB, prefix string) keys.TokenForTest {
	t.Helper()
	id, err := keys.NewIDForTest(time.Now())
	require.NoError(t, err)
	tok, err := keys.GenerateForTest(prefix, id)
	require.NoError(t, err)
	return tok
}

// encodeBase62 is the documented checksum encoding: a CRC32 in six base62
// digits, most significant first. Recomputed here, independently.
func encodeBase62(v uint32) string {
	out := make([]byte, 6)
	n := uint64(v)
	for i := 5; i >= 0; i-- {
		out[i] = base62[n%62]
		n /= 62
	}
	return string(out)
}

func TestGenerate(t *testing.T) {
	for _, prefix := range []string{"kc", "k", "acme2", "abcdefghijklmnop"} {
		t.Run(prefix, func(t *testing.T) {
			id, err := keys.NewIDForTest(time.Now())
			require.NoError(t, err)
			tok, err := keys.GenerateForTest(prefix, id)
			require.NoError(t, err)
			s := tok.String()

			parts := strings.Split(s, "_")
			require.Len(t, parts, 4, "prefix_id_secret_checksum")
			assert.Equal(t, prefix, parts[0])
			assert.Equal(t, id, parts[1])
			assert.Len(t, parts[2], 32, "32 base62 characters: about 190 random bits")
			assert.Empty(t, strings.Trim(parts[2], base62))
			assert.Equal(t, encodeBase62(crc32.ChecksumIEEE([]byte(prefix+"_"+id+"_"+parts[2]))), parts[3], "CRC32 of the rest")

			assert.Equal(t, prefix, tok.Prefix)
			assert.Equal(t, id, tok.ID)
			assert.True(t, anchored.MatchString(s), "keys.PatternForTest matches %q", s)
			assert.Equal(t, prefix+"_"+id+"_…"+s[len(s)-4:], tok.Hint())
			assert.NotContains(t, tok.Hint(), parts[2], "the hint does not show the secret")

			parsed, err := keys.ParseForTest(s)
			require.NoError(t, err)
			assert.Equal(t, tok, parsed)
		})
	}
}

func TestGenerateIsRandom(t *testing.T) {
	id, err := keys.NewIDForTest(time.Now())
	require.NoError(t, err)
	seen := map[string]bool{}
	counts := map[rune]int{}
	const n = 2000
	for range n {
		tok, err := keys.GenerateForTest("kc", id)
		require.NoError(t, err)
		secret := strings.Split(tok.String(), "_")[2]
		require.False(t, seen[secret], "a secret repeated")
		seen[secret] = true
		for _, c := range secret {
			counts[c]++
		}
	}
	// Every base62 character shows up, none wildly more than the others
	// (expected 1032 each; a biased draw such as c%62 over 256 values gives
	// 25% more to the first 8 characters).
	require.Len(t, counts, 62)
	for c, k := range counts {
		assert.InDelta(t, n*32/62, k, 200, "character %q", c)
	}
}

func TestGenerateRefuses(t *testing.T) {
	id, err := keys.NewIDForTest(time.Now())
	require.NoError(t, err)
	tests := []struct{ name, prefix, id string }{
		{"empty prefix", "", id},
		{"upper-case prefix", "KC", id},
		{"prefix starting with a digit", "1kc", id},
		{"prefix with underscore", "k_c", id},
		{"17-byte prefix", strings.Repeat("k", 17), id},
		{"short id", "kc", id[:15]},
		{"long id", "kc", id + "0"},
		{"id outside Crockford base32", "kc", "u" + id[1:]},
		{"upper-case id", "kc", strings.ToUpper(id)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := keys.GenerateForTest(tt.prefix, tt.id)
			assert.ErrorIs(t, err, keys.ErrInvalid)
			assert.Equal(t, keys.TokenForTest{}, tok)
		})
	}
}

func TestNewID(t *testing.T) {
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	var prev string
	for i := range 100 {
		id, err := keys.NewIDForTest(t0.Add(time.Duration(i) * time.Millisecond))
		require.NoError(t, err)
		require.Len(t, id, 16)
		require.Empty(t, strings.Trim(id, base32))
		require.Greater(t, id, prev, "ids sort by creation time")
		prev = id
	}
	a, err := keys.NewIDForTest(t0)
	require.NoError(t, err)
	b, err := keys.NewIDForTest(t0)
	require.NoError(t, err)
	assert.NotEqual(t, a, b, "ids made in the same millisecond differ")
	assert.Equal(t, a[:9], b[:9], "the first 45 bits are the time")
}

func TestValidPrefix(t *testing.T) {
	for _, ok := range []string{"k", "kc", "acme", "a1", "abcdefghijklmnop"} {
		assert.True(t, keys.ValidPrefixForTest(ok), ok)
	}
	for _, bad := range []string{"", "K", "1k", "k-c", "k_c", "kç", "abcdefghijklmnopq", " kc"} {
		assert.False(t, keys.ValidPrefixForTest(bad), bad)
	}
}

func TestParse(t *testing.T) {
	good := newToken(t, "kc").String()
	other := newToken(t, "acme").String()
	flip := func(s string, i int) string { // a different character of the same class
		b := []byte(s)
		switch c := b[i]; {
		case c == '9':
			b[i] = '8'
		default:
			b[i] = '9'
		}
		return string(b)
	}
	tests := []struct {
		name string
		in   string
		ok   bool
	}{
		{"generated", good, true},
		{"other prefix", other, true},
		{"empty", "", false},
		{"prefix only", "kc_", false},
		{"truncated", good[:len(good)-1], false},
		{"extended", good + "0", false},
		{"leading space", " " + good, false},
		{"trailing newline", good + "\n", false},
		{"bearer scheme left in", "Bearer " + good, false},
		{"typo in the prefix", "kd" + good[2:], false},
		{"typo in the id", flip(good, 5), false},
		{"typo in the secret", flip(good, 30), false},
		{"typo in the checksum", flip(good, len(good)-1), false},
		{"upper-cased", strings.ToUpper(good), false},
		{"dash for underscore", strings.Replace(good, "_", "-", 1), false},
		{"17-byte prefix", strings.Repeat("k", 17) + good[2:], false},
		{"non-ASCII", good[:10] + "é" + good[12:], false},
		{"all zero", "kc_" + strings.Repeat("0", 16) + "_" + strings.Repeat("0", 32) + "_000000", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := keys.ParseForTest(tt.in)
			if !tt.ok {
				assert.ErrorIs(t, err, keys.ErrInvalid)
				assert.Equal(t, keys.TokenForTest{}, tok)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.in, tok.String())
		})
	}
}

// TestParseRejectsEveryTypo changes each character of a key to every other
// character a key may hold, and swaps each pair of neighbours: the CRC32
// must catch them all, with no storage.
func TestParseRejectsEveryTypo(t *testing.T) {
	good := newToken(t, "kc").String()
	alphabet := base62 + "_-"
	for i := range len(good) {
		for _, c := range []byte(alphabet) {
			if c == good[i] {
				continue
			}
			typo := good[:i] + string(c) + good[i+1:]
			_, err := keys.ParseForTest(typo)
			require.ErrorIs(t, err, keys.ErrInvalid, "substitution at %d accepted: %q", i, typo)
		}
		if i+1 < len(good) && good[i] != good[i+1] {
			swapped := good[:i] + string(good[i+1]) + string(good[i]) + good[i+2:]
			_, err := keys.ParseForTest(swapped)
			require.ErrorIs(t, err, keys.ErrInvalid, "transposition at %d accepted: %q", i, swapped)
		}
	}
}

func TestPattern(t *testing.T) {
	a, b := newToken(t, "kc").String(), newToken(t, "acme").String()
	text := "export KEY=" + a + "\ncurl -H 'Authorization: Bearer " + b + "' https://example.com\nnot a key: kc_" + strings.Repeat("0", 16)
	assert.Equal(t, []string{a, b}, keys.PatternForTest.FindAllString(text, -1))

	// The expression the documentation gives for the default prefix.
	documented := regexp.MustCompile(`\bkc_[0-9a-hjkmnp-tv-z]{16}_[0-9A-Za-z]{32}_[0-9A-Za-z]{6}\b`)
	assert.Equal(t, []string{a}, documented.FindAllString(text, -1))
}

func FuzzParse(f *testing.F) {
	f.Add("kc_01jd8x3q9w2v5n7m_3bT9xQk2LmN8pR4sV6wY1zA5cE7gH9jK_1aZ9bQ")
	f.Add(newToken(f, "kc").String())
	f.Add(newToken(f, "abcdefghijklmnop").String())
	f.Add("kc_0000000000000000_00000000000000000000000000000000_000000")
	f.Add("")
	f.Add("_")
	f.Add("kc__")
	f.Add(strings.Repeat("_", 58))
	f.Add("é" + strings.Repeat("a", 56))
	f.Fuzz(func(t *testing.T, s string) {
		tok, err := keys.ParseForTest(s) // must never panic
		if err != nil {
			require.ErrorIs(t, err, keys.ErrInvalid)
			return
		}
		require.Equal(t, s, tok.String(), "round trip")
		require.True(t, anchored.MatchString(s), "Pattern matches every key Parse accepts: %q", s)
		require.True(t, strings.HasPrefix(s, tok.Prefix+"_"+tok.ID+"_"))
		require.True(t, keys.ValidPrefixForTest(tok.Prefix))
		again, err := keys.GenerateForTest(tok.Prefix, tok.ID)
		require.NoError(t, err, "a parsed prefix and id are valid for Generate")
		require.Equal(t, tok.ID, again.ID)
		require.NotEmpty(t, tok.Hint())
	})
}

// Ids made in the same millisecond still sort in creation order.
func TestIDsIncreaseWithinAMillisecond(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	prev := ""
	for i := range 1000 {
		id, err := keys.NewIDForTest(now)
		require.NoError(t, err)
		require.Greater(t, id, prev, "id %d", i)
		prev = id
	}
	earlier, err := keys.NewIDForTest(now.Add(-time.Hour)) // the clock stepped back
	require.NoError(t, err)
	assert.Greater(t, earlier, prev)
}

// TestParseKnownKey: a documented key parses to its prefix and id, its
// hint is what the record keeps, and a typo fails the checksum, before any
// storage is asked.
func TestParseKnownKey(t *testing.T) {
	tok, err := keys.ParseForTest("kc_06we154rh3v7a04w_4I4XyPWN1Q07hkvr9d9A2jmNAG3UcFHG_0dfvIV")
	require.NoError(t, err)
	assert.Equal(t, "kc", tok.Prefix)
	assert.Equal(t, "06we154rh3v7a04w", tok.ID)
	assert.Equal(t, "kc_06we154rh3v7a04w_…fvIV", tok.Hint())
	_, err = keys.ParseForTest("kc_06we154rh3v7a04w_4I4XyPWN1Q07hkvr9d9A2jmNAG3UcFHh_0dfvIV")
	assert.ErrorIs(t, err, keys.ErrInvalid)

	k, key, err := exampleManager().Create(t.Context(), keys.CreateRequest{Owner: "u1", Name: "CI", Permissions: policy.MustParse("files:read")})
	require.NoError(t, err)
	parsed, err := keys.ParseForTest(key)
	require.NoError(t, err)
	assert.Equal(t, key, parsed.String())
	assert.Equal(t, k.ID, parsed.ID)
	assert.Equal(t, k.Hint, parsed.Hint())
}

// TestForgedKeysParse cross-checks internal/keyforge, which tests use to
// forge keys, against the parser.
func TestForgedKeysParse(t *testing.T) {
	for range 100 {
		id := keyforge.ID(time.Now())
		tok, err := keys.ParseForTest(keyforge.Key("kc", id))
		require.NoError(t, err)
		assert.Equal(t, id, tok.ID)
	}
}
