package keycaptest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/alexedwards/scs/v2"
	"github.com/stretchr/testify/assert"

	keycaptest "github.com/keycaphq/keycap/httptest_helpers"
)

// echo answers what it received.
func echo(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"method": r.Method, "body": string(body), "content_type": r.Header.Get("Content-Type"),
		"authorization": r.Header.Get("Authorization"), "origin": r.Header.Get("Origin"), "cookies": len(r.Cookies()),
	})
}

func TestClient(t *testing.T) {
	t.Parallel()
	server := httptest.NewServer(http.HandlerFunc(echo))
	t.Cleanup(server.Close)
	c := keycaptest.NewClient(t, server.URL)
	got := func(resp *keycaptest.Response) map[string]any {
		var m map[string]any
		resp.JSON(t, &m)
		return m
	}

	m := got(c.DoJSON(t, http.MethodGet, "/", nil))
	assert.Equal(t, "", m["body"])
	assert.Equal(t, "", m["content_type"], "no body, no Content-Type")

	for _, body := range []any{[]byte(`{"a":1}`), `{"a":1}`, map[string]int{"a": 1}} {
		m = got(c.DoJSON(t, http.MethodPost, "/", body))
		assert.JSONEq(t, `{"a":1}`, m["body"].(string))
		assert.Equal(t, "application/json", m["content_type"])
	}

	withKey := c.WithKey("kc_k")
	withOrigin := withKey.WithHeader("Origin", "https://evil.example")
	assert.Equal(t, "Bearer kc_k", got(withOrigin.DoJSON(t, http.MethodGet, "/", nil))["authorization"])
	assert.Equal(t, "https://evil.example", got(withOrigin.DoJSON(t, http.MethodGet, "/", nil))["origin"])
	m = got(withKey.DoJSON(t, http.MethodGet, "/", nil))
	assert.Equal(t, "", m["origin"], "WithHeader returns a copy")
	assert.Equal(t, "", got(c.DoJSON(t, http.MethodGet, "/", nil))["authorization"], "WithKey returns a copy")

	// Cookies: WithKey shares the jar, KeyOnly has none.
	c.AddCookie(t, &http.Cookie{Name: "session", Value: "v", Path: "/"})
	assert.Equal(t, float64(1), got(withKey.DoJSON(t, http.MethodGet, "/", nil))["cookies"])
	assert.Equal(t, float64(0), got(c.KeyOnly(t, "kc_k").DoJSON(t, http.MethodGet, "/", nil))["cookies"])

	// Redirects are answered, not followed.
	redirect := httptest.NewServer(http.RedirectHandler("/elsewhere", http.StatusFound))
	t.Cleanup(redirect.Close)
	assert.Equal(t, http.StatusFound, keycaptest.NewClient(t, redirect.URL).DoJSON(t, http.MethodGet, "/", nil).StatusCode)
}

// TestSessionCookie logs in to an scs app that knows nothing of keycap.
func TestSessionCookie(t *testing.T) {
	t.Parallel()
	sm := scs.New()
	server := httptest.NewServer(sm.LoadAndSave(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, sm.GetString(r.Context(), "user"))
	})))
	t.Cleanup(server.Close)
	c := keycaptest.NewClient(t, server.URL).AddCookie(t, keycaptest.SessionCookie(t, sm, "user", "alice"))
	assert.Equal(t, "alice", string(c.DoJSON(t, http.MethodGet, "/", nil).Body))
	assert.Equal(t, "", string(keycaptest.NewClient(t, server.URL).DoJSON(t, http.MethodGet, "/", nil).Body))
}

// TestClientFormsAndRedirects: PostForm sends a browser's form, the jar
// keeps what the answer set, and Follow follows 301, 302 and 303 with GET
// and nothing else.
func TestClientFormsAndRedirects(t *testing.T) {
	t.Parallel()
	mux := http.NewServeMux()
	mux.HandleFunc("POST /form", func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "seen", Value: r.PostFormValue("name"), Path: "/"})
		http.Redirect(w, r, "/hop", http.StatusSeeOther)
	})
	mux.HandleFunc("/hop", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/done", http.StatusFound) })
	mux.HandleFunc("/done", func(w http.ResponseWriter, r *http.Request) {
		c, _ := r.Cookie("seen")
		_, _ = io.WriteString(w, r.Method+" "+c.Value+" "+r.Header.Get("Authorization"))
	})
	mux.HandleFunc("/keep", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/done", http.StatusTemporaryRedirect)
	})
	mux.HandleFunc("/loop", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/loop", http.StatusFound) })
	mux.HandleFunc("/echo", echo)
	server := httptest.NewServer(mux)
	t.Cleanup(server.Close)
	c := keycaptest.NewClient(t, server.URL).WithKey("kc_k")

	resp := c.PostForm(t, "/form", url.Values{"name": {"a&b=c"}})
	assert.Equal(t, http.StatusSeeOther, resp.StatusCode, "not followed")
	assert.Equal(t, "/hop", resp.Header.Get("Location"))
	resp = c.Follow(t, resp)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "GET a&b=c Bearer kc_k", string(resp.Body), "two hops, with the jar's cookie and the key")
	assert.Same(t, resp, c.Follow(t, resp), "not a redirect: returned as is")

	kept := c.Get(t, "/keep")
	assert.Same(t, kept, c.Follow(t, kept), "a 307 would repeat the method and body: not followed")
	assert.True(t, fails(t, func(t testing.TB) { c.Follow(t, c.Get(t, "/loop")) }), "more than 10 redirects")

	var m map[string]any
	c.PostForm(t, "/echo", url.Values{"a": {"1"}}).JSON(t, &m)
	assert.Equal(t, "a=1", m["body"])
	assert.Equal(t, "application/x-www-form-urlencoded", m["content_type"])
	c.Get(t, server.URL+"/echo").JSON(t, &m)
	assert.Equal(t, "", m["body"], "a whole URL is used as is")

	// The zero Client sends whole URLs with http.DefaultClient.
	var zero keycaptest.Client
	zero.WithHeader("Origin", "https://a.example").Get(t, server.URL+"/echo").JSON(t, &m)
	assert.Equal(t, "https://a.example", m["origin"])
	assert.True(t, fails(t, func(t testing.TB) { zero.AddCookie(t, &http.Cookie{Name: "a", Value: "b"}) }), "no jar")
}
