package keyforge_test

import (
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/internal/keyforge"
)

// The forged keys match the documented format; keys' own tests parse them.
func TestKeyForm(t *testing.T) {
	form := regexp.MustCompile(`^kc_[0-9a-hjkmnp-tv-z]{16}_[0-9A-Za-z]{32}_[0-9A-Za-z]{6}$`)
	for range 100 {
		require.Regexp(t, form, keyforge.Key("kc", keyforge.ID(time.Now())))
	}
}

func TestIDsSortByTime(t *testing.T) {
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 100 {
		a, b := keyforge.ID(t0.Add(time.Duration(i)*time.Millisecond)), keyforge.ID(t0.Add(time.Duration(i+1)*time.Millisecond))
		require.Less(t, a, b)
	}
}

// TestTypo: the typo always differs from the key, in its last character
// only, also for keys ending with the character it would write.
func TestTypo(t *testing.T) {
	for _, key := range []string{"acme_abc_x", "acme_abc_y", "acme_abc_Q", "x"} {
		typo := keyforge.Typo(key)
		require.NotEqual(t, key, typo)
		require.Len(t, typo, len(key))
		require.Equal(t, key[:len(key)-1], typo[:len(typo)-1])
	}
}
