package leaks

import (
	"cmp"
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/keycaphq/keycap"
	"github.com/keycaphq/keycap/audit"
	"github.com/keycaphq/keycap/keys"
)

// The headers of a signed report: which public key, and the signature
// (base64 of an ASN.1 ECDSA signature over the SHA-256 of the raw body).
const (
	KeyIdentifierHeader = "Github-Public-Key-Identifier"
	SignatureHeader     = "Github-Public-Key-Signature"
)

// GitHubOptions configure [NewGitHub]. Manager and Keys are required.
type GitHubOptions struct {
	// Manager is the app's keys.Manager: each reported key that is one of
	// its own is revoked through it.
	Manager *keys.Manager
	// Keys verify the reports' signatures; see [NewPublicKeys].
	Keys *PublicKeys
	// Actor is who revokes leaked keys, for the record; the zero Actor
	// means audit.System("secret-scanning").
	Actor audit.Actor
	// MaxBodyBytes bounds a report; 0 means 1 MiB (thousands of matches).
	MaxBodyBytes int64
	// Logger receives what the handler logs: each report's counts and the
	// ids of the keys it revoked, never a key. nil means slog.Default().
	Logger *slog.Logger
}

// GitHub is the endpoint of GitHub's secret scanning partner program. It
// is safe for concurrent use; create it with [NewGitHub].
type GitHub struct {
	o GitHubOptions
}

// NewGitHub returns the handler GitHub posts its reports to, at the URL
// the app registered with GitHub (with its keys' pattern, from
// keys.Manager.Pattern). Mount it for POST on a path of its own, outside
// session and CSRF middleware (GitHub has no session; the signature is
// the authentication).
func NewGitHub(o GitHubOptions) (*GitHub, error) {
	if o.Manager == nil || o.Keys == nil {
		return nil, errors.New("leaks: GitHubOptions.Manager and Keys are required")
	}
	if o.MaxBodyBytes < 0 {
		return nil, errors.New("leaks: GitHubOptions.MaxBodyBytes must not be negative")
	}
	if o.Actor.IsZero() {
		o.Actor = audit.System("secret-scanning")
	}
	o.MaxBodyBytes = cmp.Or(o.MaxBodyBytes, 1<<20)
	o.Logger = cmp.Or(o.Logger, slog.Default())
	return &GitHub{o: o}, nil
}

// ServeHTTP answers a report: POST with a JSON array of matches
// {"token", "type", "url", "source"}, signed. It checks, before reading
// anything of the body but its size, that the signature verifies with the
// public key the request names; then revokes each match that is one of
// the Manager's keys and answers the per-match labels the protocol
// defines, in the order of the matches:
//
//	[{"token_hash": "<hex SHA-256 of the token>", "token_type": "<type>", "label": "true_positive"}]
//
// true_positive: the key is the app's and is now revoked (also when it
// already was: a report sent twice changes nothing). false_positive:
// anything else, keys of other prefixes, unknown ids and wrong secrets
// alike. The key itself is never echoed.
//
// Refusals, with nothing revoked: 401 INVALID_SIGNATURE (a missing,
// malformed or wrong signature, or an unknown key identifier), 400
// INVALID_BODY (larger than MaxBodyBytes, not JSON, not an array of
// matches with string fields), 405 METHOD_NOT_ALLOWED; 503
// STORE_UNAVAILABLE when keys could not be looked up (GitHub sends the
// report again; revocations already made stand).
func (g *GitHub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		keycap.WriteError(w, r, keycap.New(keycap.CodeMethodNotAllowed, "send reports with POST"))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, g.o.MaxBodyBytes))
	if err != nil {
		reason := "the body could not be read"
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			reason = "the body is larger than " + strconv.FormatInt(g.o.MaxBodyBytes, 10) + " bytes: send fewer matches per report"
		}
		g.fail(w, r, invalidBody(reason, ""))
		return
	}
	if err := g.verify(r.Context(), r.Header, body); err != nil {
		g.fail(w, r, err)
		return
	}
	matches, err := parseReport(r.Header.Get("Content-Type"), body)
	if err != nil {
		g.fail(w, r, err)
		return
	}
	answers, err := g.revoke(r.Context(), matches)
	if err != nil {
		g.fail(w, r, err)
		return
	}
	writeJSON(w, answers)
}

// verify checks the report's signature: the named key, held (or fetched
// now), verifies the signature over the SHA-256 of body.
func (g *GitHub) verify(ctx context.Context, h http.Header, body []byte) error {
	id, sig64 := h.Get(KeyIdentifierHeader), h.Get(SignatureHeader)
	if id == "" || sig64 == "" {
		return badSignature("the report is not signed: it needs the headers "+KeyIdentifierHeader+" and "+SignatureHeader, id)
	}
	pub, err := g.o.Keys.key(ctx, id)
	if err != nil {
		return err
	}
	if pub == nil {
		return badSignature("no public key has this identifier: refresh the public keys (GitHub's /meta/public_keys/secret_scanning)", id)
	}
	sig, err := base64.StdEncoding.DecodeString(sig64)
	digest := sha256.Sum256(body)
	if err != nil || !ecdsa.VerifyASN1(pub, digest[:], sig) {
		return badSignature("the signature does not verify with this key over the raw body (it must be base64 of an ASN.1 ECDSA signature)", id)
	}
	return nil
}

// fail writes err; a 5xx's cause is logged first.
func (g *GitHub) fail(w http.ResponseWriter, r *http.Request, err error) {
	e := keycap.From(err)
	if e.Code.Status() >= 500 {
		g.o.Logger.ErrorContext(r.Context(), "leaks: a secret scanning report failed", "code", string(e.Code), "err", err)
	}
	if e.Code == keycap.CodeInvalidSignature {
		w.Header().Set("WWW-Authenticate", `Signature realm="secret-scanning"`)
	}
	keycap.WriteError(w, r, e)
}

func badSignature(reason, id string) error {
	return &keycap.Error{Code: keycap.CodeInvalidSignature, Message: reason, Details: &keycap.SignatureDetails{Reason: reason, KeyIdentifier: id}}
}

func invalidBody(reason, field string) error {
	return &keycap.Error{Code: keycap.CodeInvalidBody, Message: reason, Details: &keycap.InvalidBodyDetails{Reason: reason, Field: field}}
}
