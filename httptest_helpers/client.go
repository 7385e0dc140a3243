package keycaptest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/policy"
)

// Client makes requests to a server under test, with its own cookie jar
// and optionally an API key. Create one with [NewClient], [Server.LogIn] or
// [Server.Anonymous]; WithKey and WithHeader return modified copies.
type Client struct {
	BaseURL string
	HTTP    *http.Client
	key     string
	header  http.Header
}

// NewClient returns a client for baseURL with an empty cookie jar.
func NewClient(t testing.TB, baseURL string) *Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	return &Client{
		BaseURL: baseURL,
		HTTP: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}},
		header: http.Header{},
	}
}

// WithCookie adds c to the client's jar and returns the client.
func (c *Client) WithCookie(t testing.TB, cookie *http.Cookie) *Client {
	t.Helper()
	u, err := url.Parse(c.BaseURL)
	require.NoError(t, err)
	c.HTTP.Jar.SetCookies(u, []*http.Cookie{cookie})
	return c
}

// WithKey returns a copy of c that sends key as "Authorization: Bearer".
// The copy shares c's cookie jar; use [NewClient] for a key-only client.
func (c *Client) WithKey(key string) *Client {
	cp := *c
	cp.key = key
	return &cp
}

// KeyOnly returns a client that sends key and no cookies.
func (c *Client) KeyOnly(t testing.TB, key string) *Client {
	return NewClient(t, c.BaseURL).WithKey(key)
}

// WithHeader returns a copy of c that also sends header name: value, e.g.
// an Origin for cross-origin tests.
func (c *Client) WithHeader(name, value string) *Client {
	cp := *c
	cp.header = c.header.Clone()
	cp.header.Set(name, value)
	return &cp
}

// Response is an answer read whole.
type Response struct {
	*http.Response
	Body []byte
}

// ErrorBody is keycap's JSON error.
type ErrorBody struct {
	Code    string          `json:"code"`
	Message string          `json:"message"`
	Details json.RawMessage `json:"details"`
}

// Error decodes the body as keycap's JSON error.
func (r *Response) Error(t testing.TB) ErrorBody {
	t.Helper()
	var e ErrorBody
	require.NoError(t, json.Unmarshal(r.Body, &e), "body: %s", r.Body)
	return e
}

// JSON decodes the body into v.
func (r *Response) JSON(t testing.TB, v any) {
	t.Helper()
	require.NoError(t, json.Unmarshal(r.Body, v), "body: %s", r.Body)
}

// DoJSON sends body (nil: none; []byte or string: sent as is; anything
// else: encoded as JSON) with Content-Type application/json.
func (c *Client) DoJSON(t testing.TB, method, path string, body any) *Response {
	t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		r = bytes.NewReader(b)
	case string:
		r = bytes.NewReader([]byte(b))
	default:
		data, err := json.Marshal(b)
		require.NoError(t, err)
		r = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, c.BaseURL+path, r)
	require.NoError(t, err)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return c.Do(t, req)
}

// Do sends req with the client's key and headers and reads the answer.
func (c *Client) Do(t testing.TB, req *http.Request) *Response {
	t.Helper()
	for name, values := range c.header {
		req.Header[name] = values
	}
	if c.key != "" {
		req.Header.Set("Authorization", "Bearer "+c.key)
	}
	resp, err := c.HTTP.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return &Response{Response: resp, Body: data}
}

// CreatedKey is the answer of POST /api-keys.
type CreatedKey struct {
	ID          string             `json:"id"`
	Key         string             `json:"key"`
	Hint        string             `json:"hint"`
	Permissions policy.Permissions `json:"permissions"`
}

// CreateKey creates a key named name with perms through the keys handler
// at path (e.g. "/api-keys") and requires a 201.
func (c *Client) CreateKey(t testing.TB, path, name string, perms policy.Permissions) CreatedKey {
	t.Helper()
	body := map[string]any{"name": name}
	if perms != nil {
		body["permissions"] = perms
	}
	resp := c.DoJSON(t, http.MethodPost, path, body)
	require.Equal(t, http.StatusCreated, resp.StatusCode, "create key: %s", resp.Body)
	var k CreatedKey
	resp.JSON(t, &k)
	require.NotEmpty(t, k.Key)
	return k
}
