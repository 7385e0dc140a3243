package leaks

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"strconv"

	"github.com/keycaphq/keycap/keys"
)

// match is one secret GitHub found.
type match struct {
	Token  string `json:"token"`  // what matched the pattern: perhaps one of our keys
	Type   string `json:"type"`   // the secret type the app registered
	URL    string `json:"url"`    // where it was found; may be empty
	Source string `json:"source"` // what GitHub scanned: content, commit, npm...
}

// answer is the protocol's feedback on one match.
type answer struct {
	TokenHash string `json:"token_hash"` // hex SHA-256 of the token: the key is never echoed
	TokenType string `json:"token_type"`
	Label     string `json:"label"` // "true_positive" or "false_positive"
}

// maxKeyBytes bounds what may be a key: longer tokens are not looked up.
const maxKeyBytes = 128

// parseReport reads a report: a JSON array of matches whose fields, when
// present, are strings. Fields the protocol may add later are ignored.
func parseReport(contentType string, body []byte) ([]match, error) {
	if mt, _, err := mime.ParseMediaType(contentType); err != nil || mt != "application/json" {
		return nil, invalidBody("set Content-Type: application/json", "")
	}
	if t := bytes.TrimSpace(body); len(t) == 0 || t[0] != '[' {
		return nil, invalidBody("the body must be a JSON array of matches", "")
	}
	var raw []json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, invalidBody("the body is not valid JSON", "")
	}
	matches := make([]match, len(raw))
	for i, m := range raw {
		if t := bytes.TrimSpace(m); len(t) == 0 || t[0] != '{' {
			return nil, invalidBody("match "+strconv.Itoa(i)+" is not a JSON object", "")
		}
		if err := json.Unmarshal(m, &matches[i]); err != nil {
			var typeErr *json.UnmarshalTypeError
			field := ""
			if errors.As(err, &typeErr) {
				field = typeErr.Field
			}
			return nil, invalidBody("match "+strconv.Itoa(i)+": token, type, url and source are strings", field)
		}
	}
	return matches, nil
}

// revoke revokes each match that is one of the Manager's keys and returns
// the answers. A store that cannot be asked ends the report with its
// error; what was revoked before stays revoked. Revocations go on if the
// client hangs up.
func (g *GitHub) revoke(ctx context.Context, matches []match) ([]answer, error) {
	out := make([]answer, len(matches))
	positive := map[string]bool{} // token → its label, once per report
	ours := 0
	ctx = context.WithoutCancel(ctx) // a revocation begun is finished, even if GitHub hangs up
	for i, m := range matches {
		sum := sha256.Sum256([]byte(m.Token))
		out[i] = answer{TokenHash: hex.EncodeToString(sum[:]), TokenType: m.Type, Label: "false_positive"}
		known, seen := positive[m.Token]
		if !seen && m.Token != "" && len(m.Token) <= maxKeyBytes {
			k, err := g.o.Manager.Revoke(ctx, keys.RevokeRequest{
				Presented: m.Token, Actor: g.o.Actor,
				Reason: "reported by GitHub secret scanning", Source: where(m),
			})
			switch {
			case err == nil:
				known = true
				ours++
				g.o.Logger.WarnContext(ctx, "leaks: revoked a key GitHub found in public",
					"key_id", k.ID, "owner", k.OwnerID, "url", m.URL, "source", m.Source)
			case !errors.Is(err, keys.ErrInvalid):
				return nil, err
			}
			positive[m.Token] = known
		}
		if known {
			out[i].Label = "true_positive"
		}
	}
	g.o.Logger.InfoContext(ctx, "leaks: a secret scanning report", "matches", len(matches), "ours", ours)
	return out, nil
}

// where says where m was found: its URL and what GitHub scanned.
func where(m match) string {
	switch {
	case m.URL == "":
		return "GitHub (" + m.Source + ")"
	case m.Source == "":
		return m.URL
	}
	return m.URL + " (" + m.Source + ")"
}

func writeJSON(w http.ResponseWriter, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	_ = json.NewEncoder(w).Encode(v)
}
