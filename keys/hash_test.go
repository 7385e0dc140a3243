package keys_test

import (
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/keys"
)

func TestNewHasherRefusesShortSecrets(t *testing.T) {
	for _, n := range []int{0, 16, keys.MinSecretLength - 1} {
		h, err := keys.NewHasherForTest(make([]byte, n))
		assert.Error(t, err, "%d bytes", n)
		assert.Nil(t, h)
	}
}

func TestHasherSum(t *testing.T) {
	secret := append([]byte(nil), testSecret...)
	h, err := keys.NewHasherForTest(secret)
	require.NoError(t, err)
	secret[0] ^= 0xff // the hasher keeps its own copy

	for _, key := range []string{"", "kc_x", newToken(t, "kc").String(), string(make([]byte, 1000))} {
		d := h.Sum(key)
		assert.Equal(t, digest(key), d[:], "HMAC-SHA256 under the secret")
		assert.True(t, d.Equal(digest(key)))
		assert.Equal(t, d, h.Sum(key), "deterministic")
	}

	other, err := keys.NewHasherForTest(make([]byte, 32))
	require.NoError(t, err)
	d := h.Sum("kc_x")
	assert.NotEqual(t, d, other.Sum("kc_x"), "another secret, another digest")
	assert.False(t, d.Equal(d[:31]), "a shorter digest is not equal")
	assert.False(t, d.Equal(nil))
	assert.False(t, d.Equal(append(d[:], 0)))
}

// TestHasherConcurrent runs many Sums at once on one hasher: pooled MAC
// state must never leak between calls. Run with -race.
func TestHasherConcurrent(t *testing.T) {
	h, err := keys.NewHasherForTest(testSecret)
	require.NoError(t, err)
	inputs := make([]string, 64)
	want := make([][]byte, len(inputs))
	for i := range inputs {
		inputs[i] = newToken(t, "kc").String() + strconv.Itoa(i) // varied lengths too
		want[i] = digest(inputs[i])
	}
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			for n := range 500 {
				i := (g*7 + n) % len(inputs)
				d := h.Sum(inputs[i])
				if !d.Equal(want[i]) {
					t.Errorf("goroutine %d: wrong digest for input %d", g, i)
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestKeyState(t *testing.T) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name             string
		key              keys.Key
		expired, revoked bool
	}{
		{"fresh", keys.Key{}, false, false},
		{"expires later", keys.Key{ExpiresAt: now.Add(time.Nanosecond)}, false, false},
		{"expires now", keys.Key{ExpiresAt: now}, true, false},
		{"expired", keys.Key{ExpiresAt: now.Add(-time.Hour)}, true, false},
		{"revoked", keys.Key{RevokedAt: now.Add(-time.Hour)}, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.expired, tt.key.IsExpired(now))
			assert.Equal(t, tt.revoked, !tt.key.RevokedAt.IsZero())
		})
	}
}

func TestKeyClone(t *testing.T) {
	remaining := int64(10)
	k := &keys.Key{
		ID:           "id",
		Hash:         []byte{1, 2, 3},
		PreviousHash: []byte{4, 5},
		Permissions:  map[string][]string{"files": {"read"}},
		Remaining:    &remaining,
	}
	c := k.Clone()
	require.Equal(t, k, c)

	c.Hash[0] = 9
	c.PreviousHash[0] = 9
	c.Permissions["files"][0] = "write"
	*c.Remaining = 0
	assert.Equal(t, []byte{1, 2, 3}, k.Hash)
	assert.Equal(t, []byte{4, 5}, k.PreviousHash)
	assert.Equal(t, "read", k.Permissions["files"][0])
	assert.Equal(t, int64(10), *k.Remaining)

	bare := (&keys.Key{ID: "id"}).Clone()
	assert.Nil(t, bare.Hash)
	assert.Nil(t, bare.PreviousHash)
	assert.Nil(t, bare.Permissions)
	assert.Nil(t, bare.Remaining)
}
