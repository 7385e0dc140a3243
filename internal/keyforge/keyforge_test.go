package keyforge_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/internal/keyforge"
	"github.com/keycaphq/keycap/keys"
)

// The forged keys are well formed by keys.Parse: the format is documented,
// and this is an independent implementation of it.
func TestKeyParses(t *testing.T) {
	for range 100 {
		id := keyforge.ID(time.Now())
		tok, err := keys.Parse(keyforge.Key("kc", id))
		require.NoError(t, err)
		require.Equal(t, id, tok.ID)
		require.Equal(t, "kc", tok.Prefix)
	}
}

func TestIDsSortByTime(t *testing.T) {
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 100 {
		a, b := keyforge.ID(t0.Add(time.Duration(i)*time.Millisecond)), keyforge.ID(t0.Add(time.Duration(i+1)*time.Millisecond))
		require.Less(t, a, b)
	}
}
