package rediscache

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func testSealer() *sealer { return newSealer([]byte("0123456789abcdef0123456789abcdef")) }

func TestSealOpens(t *testing.T) {
	s, k, now := testSealer(), sampleKey(), time.Now()
	env := s.seal("p:key:{a}", k, now.Add(time.Minute))
	got, err := s.open("p:key:{a}", string(env), now)
	require.NoError(t, err)
	assert.Equal(t, k, got)
}

func TestSealRefuses(t *testing.T) {
	s, k, now := testSealer(), sampleKey(), time.Now()
	env := string(s.seal("p:key:{a}", k, now.Add(time.Minute)))
	tests := []struct {
		name string
		s    *sealer
		rkey string
		env  string
		at   time.Time
		want error
	}{
		{"under another Redis key", s, "p:key:{b}", env, now, errTag},
		{"under another prefix", s, "q:key:{a}", env, now, errTag},
		{"under another secret", newSealer([]byte("another secret, of 32 bytes or more")), "p:key:{a}", env, now, errTag},
		{"at its expiry", s, "p:key:{a}", env, now.Add(time.Minute), errExpired},
		{"expiry pushed back", s, "p:key:{a}", env[:1+tagSize] + "\x7f" + env[1+tagSize+1:], now.Add(time.Minute), errTag},
		{"another format", s, "p:key:{a}", "\x07" + env[1:], now, errFormat},
		{"format 5, before records had Description", s, "p:key:{a}", "\x05" + env[1:], now, errFormat},
		{"format 4, before records had Resources", s, "p:key:{a}", "\x04" + env[1:], now, errFormat},
		{"format 2, before records had ChangedBy, Kind and Metadata", s, "p:key:{a}", "\x02" + env[1:], now, errFormat},
		{"format 1, before records had SecretID and AllowedIPs", s, "p:key:{a}", "\x01" + env[1:], now, errFormat},
		{"too short", s, "p:key:{a}", env[:headerSize-1], now, errFormat},
		{"empty", s, "p:key:{a}", "", now, errFormat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := tt.s.open(tt.rkey, tt.env, tt.at)
			assert.ErrorIs(t, err, tt.want)
			assert.Nil(t, k)
		})
	}
}

// No single changed byte, anywhere in the envelope, opens.
func TestSealRefusesEveryBitFlip(t *testing.T) {
	s, now := testSealer(), time.Now()
	env := s.seal("p:key:{a}", sampleKey(), now.Add(time.Minute))
	opened := 0
	for i := range env {
		for bit := range 8 {
			b := []byte(string(env))
			b[i] ^= 1 << bit
			if k, err := s.open("p:key:{a}", string(b), now); err == nil || k != nil {
				opened++
			}
		}
	}
	assert.Zero(t, opened, "%d of %d one-bit changes opened", opened, 8*len(env))
}
