package keycaptest

import (
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"
)

// Client makes requests to a server under test, as a browser or an API
// client would: with a cookie jar, optionally an API key and extra
// headers, never following redirects. Create one with [NewClient],
// [Server.Anonymous], [Server.LogIn] or [Server.LogInWithForm]; WithKey
// and WithHeader return copies that share its jar. Safe for concurrent
// use, as long as the fields are not changed.
type Client struct {
	// BaseURL is put before every path the methods are given, e.g.
	// "http://127.0.0.1:41234"; "" means paths are whole URLs.
	BaseURL string
	// HTTP sends the requests; nil means http.DefaultClient (no cookie
	// jar, redirects followed). NewClient sets one with a jar that answers
	// redirects instead of following them.
	HTTP   *http.Client
	key    string      // "": no Authorization header
	header http.Header // nil: no extra headers
}

// NewClient returns a client for baseURL with an empty cookie jar and no
// key. Use it for a server started without [Start].
func NewClient(t testing.TB, baseURL string) *Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	return &Client{
		BaseURL: baseURL,
		HTTP: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}},
	}
}

// AddCookie adds cookie to c's jar for BaseURL, as if the server had set
// it, and returns c. The jar is shared with the copies WithKey and
// WithHeader made. c must have a jar (as clients of [NewClient] do).
func (c *Client) AddCookie(t testing.TB, cookie *http.Cookie) *Client {
	t.Helper()
	return c.addCookies(t, cookie)
}

func (c *Client) addCookies(t testing.TB, cookies ...*http.Cookie) *Client {
	t.Helper()
	require.True(t, c.HTTP != nil && c.HTTP.Jar != nil, "keycaptest: the client has no cookie jar")
	u, err := url.Parse(c.BaseURL)
	require.NoError(t, err)
	c.HTTP.Jar.SetCookies(u, cookies)
	return c
}

// WithKey returns a copy of c that sends key as "Authorization: Bearer";
// "" sends none. The copy shares c's cookie jar; use [Client.KeyOnly] for
// a client with a key and no cookies.
func (c *Client) WithKey(key string) *Client {
	cp := *c
	cp.key = key
	return &cp
}

// KeyOnly returns a new client for c's BaseURL that sends key and no
// cookies: an API client, not a browser.
func (c *Client) KeyOnly(t testing.TB, key string) *Client {
	t.Helper()
	return NewClient(t, c.BaseURL).WithKey(key)
}

// WithHeader returns a copy of c that also sends header name: value, e.g.
// an Origin for cross-origin tests; "" sends the header empty.
func (c *Client) WithHeader(name, value string) *Client {
	cp := *c
	cp.header = c.header.Clone()
	if cp.header == nil {
		cp.header = http.Header{}
	}
	cp.header.Set(name, value)
	return &cp
}
