package keycaptest

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

// Response is an answer read whole, as the [Client] methods return it.
type Response struct {
	// Response is the answer: status, headers, cookies, and the request
	// that was sent. Its Body is read and closed; read the field Body.
	*http.Response
	// Body is the whole body of the answer; nil or empty for none.
	Body []byte
}

// ErrorBody is keycap's JSON error, as [keycap.WriteError] writes it.
type ErrorBody struct {
	// Code is the stable error code, e.g. "INSUFFICIENT_PERMISSIONS".
	Code string `json:"code"`
	// Message is for people; tests should not match it.
	Message string `json:"message"`
	// Details depend on the code, e.g. {"missing": [...]}; {} for none.
	Details json.RawMessage `json:"details"`
}

// Error decodes the body as keycap's JSON error; a body that is not JSON
// fails the test. [RequireCode] checks the code and status too.
func (r *Response) Error(t testing.TB) ErrorBody {
	t.Helper()
	var e ErrorBody
	require.NoError(t, json.Unmarshal(r.Body, &e), "body: %s", r.Body)
	return e
}

// JSON decodes the body into v; a body that does not decode fails the test.
func (r *Response) JSON(t testing.TB, v any) {
	t.Helper()
	require.NoError(t, json.Unmarshal(r.Body, v), "body: %s", r.Body)
}
