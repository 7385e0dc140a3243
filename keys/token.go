package keys

import (
	"hash/crc32"
	"regexp"
	"unsafe"
)

// defaultPrefix is the prefix of keys when none is configured.
const defaultPrefix = "kc"

// pattern is the regular expression of a key with prefix, for secret
// scanners.
func pattern(prefix string) *regexp.Regexp { return patternOf(regexp.QuoteMeta(prefix)) }

// patternOf is the regular expression of a key whose prefix matches expr.
func patternOf(expr string) *regexp.Regexp {
	return regexp.MustCompile(`\b` + expr + `_[0-9a-hjkmnp-tv-z]{16}_[0-9A-Za-z]{32}_[0-9A-Za-z]{6}\b`)
}

// token is a parsed key: what a client presents. Its String form is the key.
type token struct {
	Prefix string // 1–16 lower-case letters and digits, starting with a letter
	ID     string // the key record's id
	secret string
	raw    string
}

// String returns the whole key. Treat it as a secret.
func (t token) String() string { return t.raw }

// Hint returns what may be shown of the key again after creation: the
// prefix, the id and the last four characters, e.g. "kc_01jd…_…Zq9b".
func (t token) Hint() string {
	return t.Prefix + "_" + t.ID + "_…" + t.raw[len(t.raw)-4:]
}

// validPrefix reports whether s may be a key prefix: 1 to 16 lower-case
// letters and digits, starting with a letter.
func validPrefix(s string) bool {
	if len(s) == 0 || len(s) > 16 || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !('a' <= c && c <= 'z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

// generate returns a new random key with prefix and id. It fails only if
// the prefix is invalid or crypto/rand fails.
func generate(prefix, id string) (token, error) {
	if !validPrefix(prefix) {
		return token{}, errMalformed
	}
	if len(id) != idLength || !isBase32(id) {
		return token{}, errMalformed
	}
	secret, err := newSecret()
	if err != nil {
		return token{}, err
	}
	body := prefix + "_" + id + "_" + secret
	buf := make([]byte, len(body)+1+checksumLength)
	copy(buf, body)
	buf[len(body)] = '_'
	encodeChecksum(buf[len(body)+1:], checksum(body))
	return token{Prefix: prefix, ID: id, secret: secret, raw: string(buf)}, nil
}

// parse checks the form and checksum of s and returns the token. It
// touches no storage, never panics, and returns [ErrInvalid] for anything
// that is not a well-formed key (including a bad checksum).
func parse(s string) (token, error) {
	// prefix _ id(16) _ secret(32) _ checksum(6)
	const tail = 1 + idLength + 1 + secretLength + 1 + checksumLength
	n := len(s) - tail
	if n < 1 || n > 16 {
		return token{}, errMalformed
	}
	prefix := s[:n]
	rest := s[n:]
	if rest[0] != '_' || rest[1+idLength] != '_' || rest[2+idLength+secretLength] != '_' {
		return token{}, errMalformed
	}
	id := rest[1 : 1+idLength]
	secret := rest[2+idLength : 2+idLength+secretLength]
	sum := rest[len(rest)-checksumLength:]
	if !validPrefix(prefix) || !isBase32(id) || !isBase62(secret) || !isBase62(sum) {
		return token{}, errMalformed
	}
	var want [checksumLength]byte
	encodeChecksum(want[:], checksum(s[:len(s)-checksumLength-1]))
	if string(want[:]) != sum {
		return token{}, errMalformed
	}
	return token{Prefix: prefix, ID: id, secret: secret, raw: s}, nil
}

// checksum is crc32.ChecksumIEEE (hardware-accelerated where the CPU can)
// over a string, without copying it: a []byte conversion would allocate on
// the verification path. The checksum function only reads the bytes.
func checksum(s string) uint32 {
	return crc32.ChecksumIEEE(unsafe.Slice(unsafe.StringData(s), len(s)))
}
