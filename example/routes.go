package main

import (
	"io/fs"
	"net/http"
	"strings"

	"github.com/keycaphq/keycap/middleware"
)

// routes registers the page, the login forms, the keys API, the notices,
// the secret scanning endpoint (when configured) and the demo API.
func (a *app) routes(kc *middleware.Keycap, sessions func(http.Handler) http.Handler) http.Handler {
	mux := http.NewServeMux()
	static, _ := fs.Sub(assets, "static")
	mux.Handle("GET /static/", http.StripPrefix("/static/", noCache(http.FileServerFS(static))))
	mux.Handle("GET /static/keycap/", a.keysPage.Assets()) // the key manager's script and stylesheet
	mux.HandleFunc("GET /{$}", a.page)

	// The forms change who is logged in: refuse them from other sites.
	forms := http.NewCrossOriginProtection()
	forms.SetDenyHandler(http.HandlerFunc(a.crossOriginRefused))
	mux.Handle("POST /login", forms.Handler(http.HandlerFunc(a.login)))
	mux.Handle("POST /logout", forms.Handler(http.HandlerFunc(a.logout)))

	kc.Mount(mux)
	mux.HandleFunc("GET /notices", a.notices)
	if a.github != nil { // signed by GitHub: no session, no CSRF check
		mux.Handle("POST /github/secret-scanning", a.github)
	}

	// The demo API: a request with a key loads no session there (an empty
	// one, never saved), which spares scs's work on every keyed request;
	// the page's own calls, with the session cookie, load it as everywhere.
	api := http.NewServeMux()
	projects := a.projects
	files := newCollection("file", "roadmap.pdf", "logo.svg", "budget.xlsx")
	handlers := map[string]http.HandlerFunc{
		"GET /api/projects": projects.listReadable, "GET /api/projects/{id}": projects.get,
		"POST /api/projects": projects.create, "DELETE /api/projects/{id}": projects.remove,
		"PUT /api/projects/{id}/members/{user}": projects.setMember, "DELETE /api/projects/{id}/members/{user}": projects.setMember,
		"GET /api/files": files.list, "POST /api/files": files.create, "DELETE /api/files/{id}": files.remove,
		"GET /api/billing": billing,
	}
	for _, route := range apiRoutes { // the table the page shows, and forward auth answers by
		pattern := route.Method + " " + route.Path
		guard := middleware.Require(route.Permission)
		if route.Record != "" { // the permission on that one project, as its owner may do it now
			guard = middleware.RequireRecord(route.Permission, middleware.PathValue(route.Record))
		}
		api.Handle(pattern, guard(handlers[pattern]))
	}
	top := http.NewServeMux()
	top.Handle("/api/", kc.SkipForKeys(a.sessions)(api))
	top.Handle("/", sessions(mux))
	return top
}

// gatewayRules are apiRoutes as middleware.ForwardAuth rules: a gateway
// in front of other services asks keycap with the demo API's permissions.
// Forward auth sees permissions, not records: routes about one project
// are left out (a gateway refuses them), since a key limited to some
// projects must not reach the others through it.
func gatewayRules() map[string][]string {
	rules := make(map[string][]string, len(apiRoutes))
	for _, route := range apiRoutes {
		if route.Record == "" {
			rules[route.Method+" "+route.Path] = []string{route.Permission}
		}
	}
	return rules
}

// bareRoutes is the demo API with no keycap in front: the load test's
// baseline, served only when KEYCAP_BARE_ADDR is set.
func bareRoutes() *http.ServeMux {
	mux := http.NewServeMux()
	projects := newCollection("project", "Website redesign", "Mobile app", "Annual report")
	files := newCollection("file", "roadmap.pdf", "logo.svg", "budget.xlsx")
	mux.HandleFunc("GET /api/projects", projects.list)
	mux.HandleFunc("GET /api/files", files.list)
	mux.HandleFunc("GET /api/billing", billing)
	return mux
}

// noCache makes browsers revalidate the embedded assets, which carry no
// modification time, and lists no directory.
func noCache(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "" || strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "no-cache")
		next.ServeHTTP(w, r)
	})
}
