package keycap

import (
	"bytes"
	"cmp"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
)

// FuzzAppendJSONString checks the hand-written JSON string against
// encoding/json's, byte for byte.
func FuzzAppendJSONString(f *testing.F) {
	for _, s := range []string{"", "plain", `q"b\s`, "<a href='x'>&amp;</a>", "\b\f\n\r\t\x00\x1f\x7f", "é ünï 字", "\u2028\u2029", "\xff\xfe bad", "\xed\xa0\x80"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendJSONString(nil, s); !bytes.Equal(got, want) {
			t.Fatalf("%q: wrote %s, encoding/json %s", s, got, want)
		}
	})
}

// TestWriteErrorBody checks that an error without details is written as
// encoding/json writes the same body, whatever its message holds.
func TestWriteErrorBody(t *testing.T) {
	for _, e := range []*Error{New(CodeKeyInvalid, "the API key is not valid"), New(CodeInvalidField, "name: <script>\"x\"\n\u2028 \xff"),
		New(CodeUnauthenticated, ""), {Code: CodeInternal, Message: "internal error", Err: errTest}} {
		w := httptest.NewRecorder()
		WriteError(w, nil, e)
		var want bytes.Buffer
		_ = json.NewEncoder(&want).Encode(struct {
			Code    Code   `json:"code"`
			Message string `json:"message"`
			Details any    `json:"details"`
		}{e.Code, cmpOr(e.Message, e.Code), struct{}{}})
		if w.Body.String() != want.String() {
			t.Errorf("%s: wrote %q, want %q", e.Code, w.Body.String(), want.String())
		}
	}
}

var errTest = New(CodeInternal, "cause")

// cmpOr is the message WriteError sends: the status text when empty.
func cmpOr(message string, code Code) string {
	return cmp.Or(message, http.StatusText(code.Status()))
}
