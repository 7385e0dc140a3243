package ui

import (
	"cmp"
	"errors"
	"html/template"
	"net/http"
	"strings"

	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/session"
)

// Options configure a [Page]. Manager and Sessions are required; every
// other zero value means the documented default.
type Options struct {
	// Manager is the app's key manager: the page shows the user's cap.
	Manager *keys.Manager
	// Sessions tells who is logged in (the same as middleware.Options.Sessions).
	Sessions session.Sessions
	// API is where the app mounted the keys API; "" means "/api-keys".
	API string
	// Assets is the URL path at which [Page.Assets] is served, ending in
	// "/"; "" means "assets/" below the page's own path (what
	// [Page.Mount] serves).
	Assets string
	// Labels are the page's words; zero fields keep the English defaults.
	Labels Labels
	// CapSource names whose limit the user's cap is, in the sentences that
	// explain a refusal: "your role (member)". nil means "your account".
	CapSource func(r *http.Request) string
	// Activity shows the Activity panel (GET <API>/activity): set it when
	// middleware.Options.Activity is set.
	Activity bool
	// Try lists API routes a new key can be tried on, as a curl line under
	// the shown-once key: the first route whose permission the key holds,
	// else the first. Empty: no curl line.
	Try []Route
	// Layout, when set, wraps the whole page served by [Page.ServeHTTP]
	// (layout mode): it is executed with a [View]. nil means a minimal
	// page of its own.
	Layout *template.Template
	// LoginURL is where [Page.ServeHTTP] sends a visitor who is not logged
	// in (303 See Other); "" answers 401 with a short page.
	LoginURL string
	// Owners lists the organizations whose keys the user logged in on r
	// may manage besides their own (the keys API's ?owner=), for the
	// page's "Keys of" choice: the app knows its memberships, keycap does
	// not. The page offers only those the user manages now
	// (keys.Manager.Manages: a member whose rights hold the policy's
	// ManageKeys) and drops the others. It is called once per page view,
	// maybe concurrently. nil: the page shows the user's own keys only.
	Owners func(r *http.Request) []Owner
}

// Owner is an organization whose keys the page may show.
type Owner struct {
	ID   string // the organization's subject id, sent as ?owner=: "org:acme"
	Name string // what the page calls it: "Acme"; "" shows ID
}

// Route is one route of the app's API for the page's curl line.
type Route struct {
	Permission string // "files:read"
	Path       string // "/api/files"
}

// check validates o once and fills the defaults.
func (o Options) check() (Options, error) {
	if o.Manager == nil {
		return o, errors.New("ui: Options.Manager is required")
	}
	if o.Sessions == nil {
		return o, errors.New("ui: Options.Sessions is required")
	}
	o.API = cmp.Or(o.API, "/api-keys")
	if !strings.HasPrefix(o.API, "/") || strings.HasSuffix(o.API, "/") || strings.HasPrefix(o.API, "//") || strings.Contains(o.API, `\`) {
		// "//host/..." and a backslash (read as "/" by browsers) name another host.
		return o, errors.New(`ui: Options.API must be a path on the app's origin: start with one "/", not end with one, no backslash, like "/api-keys"`)
	}
	if o.Assets != "" && !strings.HasSuffix(o.Assets, "/") {
		return o, errors.New(`ui: Options.Assets must end with "/", like "/static/keycap/"`)
	}
	for _, r := range o.Try {
		if !strings.Contains(r.Permission, ":") || !strings.HasPrefix(r.Path, "/") {
			return o, errors.New(`ui: each Options.Try route needs a permission "resource:action" and a path starting with "/"`)
		}
	}
	o.Labels = o.Labels.withDefaults()
	return o, nil
}
