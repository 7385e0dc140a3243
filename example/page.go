package main

import (
	"bytes"
	"log/slog"
	"net/http"
	"strings"

	"github.com/keycaphq/keycap/audit"
	"github.com/keycaphq/keycap/keys/sqlstore"
	"github.com/keycaphq/keycap/policy"
	"github.com/keycaphq/keycap/ui"
)

// pageData is what templates/page.html renders.
type pageData struct {
	User     *demoUser
	Error    string // the login error, if any
	Username string // to fill the form again after an error
	Users    []demoUser
	Roles    map[string]policy.Permissions
	Routes   []apiRoute
	Keys     ui.View // the key manager (package ui), for the logged-in user
	// Org is the organization whose keys the user manages (Acme, for its
	// admins); nil for everyone else. OrgCap is what they may grant on
	// its keys: its cap within their rights in it.
	Org    *orgView
	OrgCap policy.Permissions
}

// orgView is an organization on the page.
type orgView struct{ ID, Name string }

// apiRoute documents one route of the demo API on the page. Record names
// the path value of the project a record guard checks the permission on
// ("id"); "" for a route guarded by the permission alone.
type apiRoute struct{ Method, Path, Permission, Record string }

var apiRoutes = []apiRoute{
	{"GET", "/api/projects", "projects:read", ""}, // lists only the projects the caller may read
	{"GET", "/api/projects/{id}", "projects:read", "id"},
	{"POST", "/api/projects", "projects:write", ""},
	{"DELETE", "/api/projects/{id}", "projects:delete", "id"},
	{"PUT", "/api/projects/{id}/members/{user}", "projects:write", "id"},
	{"DELETE", "/api/projects/{id}/members/{user}", "projects:write", "id"},
	{"GET", "/api/files", "files:read", ""},
	{"POST", "/api/files", "files:write", ""},
	{"DELETE", "/api/files/{id}", "files:delete", ""},
	{"GET", "/api/billing", "billing:read", ""},
}

// newKeysPage is the key manager of package ui, rendered inside the
// example's own page (fragment mode): its assets at /static/keycap/, its
// refusals naming the user's role, its curl line on the demo API, and
// Acme's keys for those who manage them.
func (a *app) newKeysPage() (*ui.Page, error) {
	return ui.New(ui.Options{Manager: a.manager, Sessions: a.sessions, Assets: "/static/keycap/",
		Activity: a.activity != nil, Try: tryRoutes, CapSource: a.capSource, Owners: a.owners})
}

// owners lists the organizations the logged-in user belongs to, for the
// key page's "Keys of" choice: Acme for its admins (bob), whose keys it
// then lists and creates with ?owner=org:acme.
func (a *app) owners(r *http.Request) []ui.Owner {
	id, _ := a.sessions.UserID(r.Context())
	return a.orgs.owners(id)
}

// tryRoutes are the demo API's read routes, for the new key's curl line.
var tryRoutes = []ui.Route{{Permission: "files:read", Path: "/api/files"},
	{Permission: "projects:read", Path: "/api/projects"}, {Permission: "billing:read", Path: "/api/billing"}}

// capSource names the limit of the logged-in user's cap: their role.
func (a *app) capSource(r *http.Request) string {
	id, _ := a.sessions.UserID(r.Context())
	if u, ok := a.users.lookup(id); ok {
		return "your role (" + u.Role + ")"
	}
	return "your account"
}

// page serves GET /: the login form, or the logged-in user's key manager.
func (a *app) page(w http.ResponseWriter, r *http.Request) {
	a.render(w, r, http.StatusOK, "", "")
}

// render writes the page with status, and a login error if there is one.
func (a *app) render(w http.ResponseWriter, r *http.Request, status int, loginError, username string) {
	data := pageData{Error: loginError, Username: username, Users: a.users.sorted(), Roles: roles, Routes: apiRoutes}
	if id, err := a.sessions.UserID(r.Context()); err == nil && id != "" {
		if u, ok := a.users.lookup(id); ok {
			data.User = &u
			var err error
			if data.Keys, _, err = a.keysPage.Render(r); err != nil {
				a.logger.Error("rendering the key page", "err", err)
				http.Error(w, "internal error", http.StatusInternalServerError)
				return
			}
			if rights, err := a.manager.Manages(r.Context(), id, acmeID); err == nil {
				data.Org = &orgView{ID: acmeID, Name: orgNames[acmeID]}
				if org, err := a.manager.Subject(r.Context(), acmeID); err == nil {
					data.OrgCap, _ = a.manager.Policy().Cap(r.Context(), org, rights)
				}
			}
		}
	}
	var buf bytes.Buffer
	if err := a.templates.ExecuteTemplate(&buf, "page.html", data); err != nil {
		a.logger.Error("rendering the page", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}

// login serves POST /login with the form fields username and password.
func (a *app) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	if err := r.ParseForm(); err != nil {
		a.render(w, r, http.StatusBadRequest, "The form could not be read. Please try again.", "")
		return
	}
	username := strings.TrimSpace(r.PostForm.Get("username"))
	u, ok := a.users.authenticate(username, r.PostForm.Get("password"))
	if !ok {
		a.logger.Info("login refused", "username", username)
		a.render(w, r, http.StatusUnauthorized, "That user name and password do not match. Try alice / alice or bob / bob.", username)
		return
	}
	if err := a.sessions.LogIn(r.Context(), u.ID); err != nil { // renews the session token
		a.logger.Error("logging in", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// logout serves POST /logout.
func (a *app) logout(w http.ResponseWriter, r *http.Request) {
	if err := a.sessions.LogOut(r.Context()); err != nil {
		a.logger.Error("logging out", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// crossOriginRefused answers a login or logout form posted from another site.
func (a *app) crossOriginRefused(w http.ResponseWriter, r *http.Request) {
	a.render(w, r, http.StatusForbidden, "That form was sent from another site, so it was refused. Log in from this page.", "")
}

// securityHeaders sets the headers every answer gets: only the app's own
// scripts and styles, no framing, no referrer to other sites.
func securityHeaders(next http.Handler) http.Handler {
	const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
		"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
		next.ServeHTTP(w, r)
	})
}

// auditors returns the app's audit.Auditor and, when keys live in a SQL
// database (behind the Redis cache or not), the activity log it also
// writes to: its events table, which the page's Activity panel lists (GET
// /api-keys/activity). Every event is logged too.
func auditors(events *sqlstore.Store, logger *slog.Logger) (audit.Auditor, audit.Log) {
	logged := audit.Slog(logger)
	if events == nil {
		return logged, nil
	}
	table := sqlstore.NewAuditor(events)
	return audit.Tee(table, logged), table
}
