package keys

import (
	"crypto/rand"
	"encoding/binary"
	"time"
)

const (
	base62Alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	// base32Alphabet is Crockford's, lower case; both alphabets are in ASCII
	// order, so fixed-width encodings sort like the numbers they encode.
	base32Alphabet = "0123456789abcdefghjkmnpqrstvwxyz"

	idLength       = 16 // base32 characters: 80 bits, 48 of time and 32 random
	secretLength   = 32 // base62 characters: 190 bits
	checksumLength = 6  // base62 characters: a CRC32
)

// newID returns a time-ordered id: 48 bits of Unix milliseconds and 32
// random bits, in 16 base32 characters. Ids sort by creation time, which
// keyset pagination relies on.
func newID(now time.Time) (string, error) {
	var b [10]byte
	binary.BigEndian.PutUint64(b[:8], uint64(now.UnixMilli())<<16)
	if _, err := rand.Read(b[6:]); err != nil {
		return "", err
	}
	var out [idLength]byte
	// 80 bits, 5 at a time from the top.
	hi := binary.BigEndian.Uint64(b[:8])
	lo := uint64(binary.BigEndian.Uint16(b[8:]))
	for i := idLength - 1; i >= 0; i-- {
		out[i] = base32Alphabet[lo&31]
		lo = lo>>5 | (hi&31)<<11
		hi >>= 5
	}
	return string(out[:]), nil
}

// newSecret returns secretLength base62 characters drawn uniformly with
// rejection sampling from crypto/rand.
func newSecret() (string, error) {
	out := make([]byte, 0, secretLength)
	var buf [64]byte
	for len(out) < secretLength {
		if _, err := rand.Read(buf[:]); err != nil {
			return "", err
		}
		for _, c := range buf {
			if c < 248 { // 248 = 4*62: keeps the draw uniform
				out = append(out, base62Alphabet[c%62])
				if len(out) == secretLength {
					break
				}
			}
		}
	}
	return string(out), nil
}

// encodeChecksum writes a CRC32 as checksumLength base62 characters.
func encodeChecksum(dst []byte, sum uint32) {
	v := uint64(sum)
	for i := checksumLength - 1; i >= 0; i-- {
		dst[i] = base62Alphabet[v%62]
		v /= 62
	}
}

// Character classes, as lookup tables: one load per byte when parsing.
var (
	base62Valid = table(base62Alphabet)
	base32Valid = table(base32Alphabet)
)

func table(alphabet string) (t [256]bool) {
	for i := 0; i < len(alphabet); i++ {
		t[alphabet[i]] = true
	}
	return t
}

func isBase62(s string) bool {
	for i := 0; i < len(s); i++ {
		if !base62Valid[s[i]] {
			return false
		}
	}
	return true
}

func isBase32(s string) bool {
	for i := 0; i < len(s); i++ {
		if !base32Valid[s[i]] {
			return false
		}
	}
	return true
}
