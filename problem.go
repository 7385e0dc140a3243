package keycap

import (
	"encoding/json"
	"mime"
	"net/http"
	"strconv"
	"strings"
)

// ProblemType is the start of the "type" of keycap's RFC 9457 problems: the
// type of an error with code C is ProblemType + C, such as
// "https://github.com/keycaphq/keycap#KEY_INVALID", which leads to the
// README's table of error codes.
const ProblemType = "https://github.com/keycaphq/keycap#"

// WriteProblem writes err as an RFC 9457 problem, application/problem+json,
// with its code's status: {"type", "title", "status", "detail"} and
// keycap's "code" and "details" as extension members (details as in
// keycap's JSON: {} when there are none). "type" is [ProblemType] followed
// by the code; "title" names the code in words and never varies; "detail"
// is the error's message. Headers and logging are as for [WriteError].
func WriteProblem(w http.ResponseWriter, err error) {
	e, status, message := prepare(w, err)
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	body := struct {
		Type    string `json:"type"`
		Title   string `json:"title"`
		Status  int    `json:"status"`
		Detail  string `json:"detail"`
		Code    Code   `json:"code"`
		Details any    `json:"details"`
	}{ProblemType + string(e.Code), title(e.Code), status, message, e.Code, e.Details}
	if body.Details == nil {
		body.Details = struct{}{}
	}
	_ = json.NewEncoder(w).Encode(body)
}

// title names code in words: "KEY_INVALID" is "Key invalid".
func title(code Code) string {
	s := strings.ReplaceAll(strings.ToLower(string(code)), "_", " ")
	if s == "" {
		return "Internal"
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// PrefersProblem reports whether an Accept header in h ranks
// application/problem+json above application/json (RFC 9110 §12.5.1: the
// most specific range that matches a type gives its weight). With no
// Accept, or a tie, keycap's JSON is preferred.
func PrefersProblem(h http.Header) bool {
	accept := h.Values("Accept")
	if len(accept) == 0 {
		return false
	}
	problem, plain := weight(accept, "application/problem+json"), weight(accept, "application/json")
	return problem > plain
}

// weight returns the q of the most specific range in accept that matches
// mediaType ("type/subtype"), in thousandths; 0 when none does.
func weight(accept []string, mediaType string) int {
	major, _, _ := strings.Cut(mediaType, "/")
	best, q := -1, 0
	for _, line := range accept {
		for _, r := range strings.Split(line, ",") {
			rangeType, params, err := mime.ParseMediaType(strings.TrimSpace(r))
			if err != nil {
				continue
			}
			specificity := -1
			switch rangeType {
			case mediaType:
				specificity = 2
			case major + "/*":
				specificity = 1
			case "*/*":
				specificity = 0
			}
			if specificity > best {
				best, q = specificity, qvalue(params["q"])
			}
		}
	}
	return q
}

// qvalue parses an Accept weight ("0.5") in thousandths; a missing one is 1.
func qvalue(s string) int {
	if s == "" {
		return 1000
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < 0 || f > 1 {
		return 0
	}
	return int(f*1000 + 0.5)
}
