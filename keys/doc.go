// Package keys creates, stores and verifies API keys.
//
// A key looks like
//
//	kc_06we154rh3v7a04w_4I4XyPWN1Q07hkvr9d9A2jmNAG3UcFHG_0dfvIV
//
// that is: a prefix, the key's id (16 lower-case Crockford base32
// characters, time-ordered, used for a direct lookup), a secret of 32 base62
// characters (190 random bits from crypto/rand) and a CRC32 checksum in 6
// base62 characters that lets [Manager.Verify] reject typos and guesses
// without any storage access. [Manager.Pattern] is a regular expression
// secret scanners can use.
//
// Only an HMAC-SHA256 of the key under a server secret is stored, never the
// key; it is compared in constant time. A [Manager] creates keys through a
// [policy.Policy] and verifies them on every request, re-checking the owner's
// current cap each time, so a demoted user's keys lose power at once.
//
// The server secret is a keyring ([Config].Secret, SecretID, OldSecrets):
// each record names the secret that hashed it, and keys move to the newest
// as they are used, so the secret can be rotated without invalidating
// every key. A key may be limited to client IP ranges ([Key].AllowedIPs).
//
// The package does not import net/http or any database driver.
package keys
