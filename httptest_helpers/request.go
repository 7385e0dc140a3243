package keycaptest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// Do sends req with c's key and headers (they replace req's own of the
// same name) and reads the answer whole. A transport error fails the
// test; any status is returned.
func (c *Client) Do(t testing.TB, req *http.Request) *Response {
	t.Helper()
	for name, values := range c.header {
		req.Header[name] = values
	}
	if c.key != "" {
		req.Header.Set("Authorization", "Bearer "+c.key)
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return &Response{Response: resp, Body: data}
}

// Get sends GET path.
func (c *Client) Get(t testing.TB, path string) *Response {
	t.Helper()
	return c.send(t, http.MethodGet, path, nil, "")
}

// DoJSON sends method path with body: nil sends none and no Content-Type;
// []byte or string is sent as is; anything else is encoded as JSON. A body
// goes with Content-Type application/json.
func (c *Client) DoJSON(t testing.TB, method, path string, body any) *Response {
	t.Helper()
	var data []byte
	switch b := body.(type) {
	case nil:
		return c.send(t, method, path, nil, "")
	case []byte:
		data = b
	case string:
		data = []byte(b)
	default:
		var err error
		data, err = json.Marshal(b)
		require.NoError(t, err)
	}
	return c.send(t, method, path, bytes.NewReader(data), "application/json")
}

// PostForm sends POST path with form URL-encoded, as a browser submits an
// HTML form. Cookies the answer sets stay in c's jar; a redirect is
// answered, not followed (see [Client.Follow]).
func (c *Client) PostForm(t testing.TB, path string, form url.Values) *Response {
	t.Helper()
	return c.send(t, http.MethodPost, path, strings.NewReader(form.Encode()), "application/x-www-form-urlencoded")
}

// Follow follows resp while it redirects with 301, 302 or 303, sending GET
// to its Location with c's cookies, key and headers, as a browser does
// after a form; it returns the first other answer. 307 and 308, which
// would repeat the request's method and body, are returned as they are.
// More than 10 redirects fail the test.
func (c *Client) Follow(t testing.TB, resp *Response) *Response {
	t.Helper()
	for range 10 {
		switch resp.StatusCode {
		case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther:
		default:
			return resp
		}
		loc, err := resp.Location()
		require.NoError(t, err, "keycaptest: a %d without a Location", resp.StatusCode)
		resp = c.send(t, http.MethodGet, loc.String(), nil, "")
	}
	require.FailNow(t, "keycaptest: more than 10 redirects")
	return nil
}

// send sends method to BaseURL+path, or to path if it is a whole http(s)
// URL, with body of contentType.
func (c *Client) send(t testing.TB, method, path string, body io.Reader, contentType string) *Response {
	t.Helper()
	target := path
	if !strings.HasPrefix(path, "http://") && !strings.HasPrefix(path, "https://") {
		target = c.BaseURL + path
	}
	req, err := http.NewRequest(method, target, body)
	require.NoError(t, err)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return c.Do(t, req)
}
