package ui

import (
	"bytes"
	"net/http"
)

// ServeHTTP serves the whole page for the logged-in user: inside
// Options.Layout when set, else in a minimal page of its own. A visitor
// who is not logged in is sent to Options.LoginURL, or answered 401. The
// page may be framed only by the app's own pages (X-Frame-Options:
// SAMEORIGIN, unless the app set that header already).
func (p *Page) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	v, ok, err := p.Render(r)
	if err != nil {
		http.Error(w, "The key page could not be shown. Try again in a moment.", http.StatusInternalServerError)
		return
	}
	if !ok {
		if p.o.LoginURL != "" {
			http.Redirect(w, r, p.o.LoginURL, http.StatusSeeOther)
			return
		}
		http.Error(w, "Log in to manage your API keys.", http.StatusUnauthorized)
		return
	}
	var buf bytes.Buffer
	if p.o.Layout != nil {
		err = p.o.Layout.Execute(&buf, v)
	} else {
		err = templates.ExecuteTemplate(&buf, "standalone", v)
	}
	if err != nil {
		http.Error(w, "The key page could not be shown. Try again in a moment.", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	if h.Get("X-Frame-Options") == "" {
		// Not framed by another site: "Turn off" is one click.
		h.Set("X-Frame-Options", "SAMEORIGIN")
	}
	_, _ = buf.WriteTo(w)
}
