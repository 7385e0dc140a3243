package session_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"

	"github.com/alexedwards/scs/v2"

	"github.com/keycaphq/keycap/session"
)

// ExampleSCS logs a visitor in, reads who is logged in, and logs them
// out. LogIn renews the session token, so a token known before the login
// (session fixation) is worth nothing after it.
func ExampleSCS() {
	sm := scs.New()
	sessions := session.SCS(sm, "userID") // also given to middleware.Options.Sessions
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		sm.Put(r.Context(), "theme", "dark") // an anonymous visitor's session
	})
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		// An app checks the password first.
		if err := sessions.LogIn(r.Context(), r.PostFormValue("user")); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
		}
	})
	mux.HandleFunc("GET /me", func(w http.ResponseWriter, r *http.Request) {
		id, err := sessions.UserID(r.Context()) // "" when nobody is logged in
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		fmt.Fprintf(w, "%q", id)
	})
	mux.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) {
		if err := sessions.LogOut(r.Context()); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	})
	srv := httptest.NewServer(sm.LoadAndSave(mux))
	defer srv.Close()

	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}
	token := func() string {
		u, _ := url.Parse(srv.URL)
		for _, c := range jar.Cookies(u) {
			if c.Name == sm.Cookie.Name {
				return c.Value
			}
		}
		return ""
	}
	me := func() string {
		resp, err := browser.Get(srv.URL + "/me")
		if err != nil {
			return err.Error()
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return string(body)
	}
	post := func(path string, form url.Values) {
		if resp, err := browser.PostForm(srv.URL+path, form); err == nil {
			resp.Body.Close()
		}
	}

	if resp, err := browser.Get(srv.URL); err == nil {
		resp.Body.Close()
	}
	before := token()
	fmt.Println("before login:", me(), "token:", before != "")
	post("/login", url.Values{"user": {"ada"}})
	fmt.Println("after login:", me(), "new token:", token() != before)
	post("/logout", nil)
	fmt.Println("after logout:", me())
	// Output:
	// before login: "" token: true
	// after login: "ada" new token: true
	// after logout: ""
}
