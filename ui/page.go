package ui

import (
	"bytes"
	"embed"
	"encoding/json"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strings"

	"github.com/keycaphq/keycap/policy"
)

//go:embed assets templates
var files embed.FS

var templates = template.Must(template.New("").Funcs(template.FuncMap{"describe": Describe}).
	ParseFS(files, "templates/*.html"))

// Page is the key-management page. It is immutable and safe for
// concurrent use.
type Page struct {
	o Options
}

// New validates o and returns the page; bad options fail here, never per
// request.
func New(o Options) (*Page, error) {
	o, err := o.check()
	if err != nil {
		return nil, err
	}
	return &Page{o: o}, nil
}

// Mount serves the whole page at prefix+"/" and its assets at
// prefix+"/assets/" on mux: page.Mount(mux, "/keys"). prefix is a path
// without a trailing slash ("" mounts at the root).
func (p *Page) Mount(mux interface{ Handle(string, http.Handler) }, prefix string) {
	mux.Handle("GET "+prefix+"/{$}", p)
	mux.Handle("GET "+prefix+"/assets/", p.Assets())
}

// View is the page in pieces, for the app's own template (fragment mode)
// or Options.Layout (layout mode).
type View struct {
	Title string        // Labels.Title
	Head  template.HTML // the stylesheet and script tags, for <head>
	// Attrs are the attributes of the element that holds Body (a <main>,
	// say): the script finds the page by them.
	Attrs template.HTMLAttr
	Body  template.HTML // the page itself
}

// Render returns the page for the user logged in on r, or ok false when
// nobody is. Assets are referenced at Options.Assets, else at "assets/"
// below r's path.
func (p *Page) Render(r *http.Request) (v View, ok bool, err error) {
	id, err := p.o.Sessions.UserID(r.Context())
	if err != nil || id == "" {
		return View{}, false, err
	}
	subject, err := p.o.Manager.Subject(r.Context(), id)
	if err != nil {
		return View{}, false, err
	}
	cp, err := p.o.Manager.Policy().Cap(r.Context(), subject)
	if err != nil {
		return View{}, false, err
	}
	capSource := "your account"
	if p.o.CapSource != nil {
		capSource = p.o.CapSource(r)
	}
	try := make([][2]string, len(p.o.Try))
	for i, t := range p.o.Try {
		try[i] = [2]string{t.Permission, t.Path}
	}
	tryJSON, _ := json.Marshal(try)
	owners, err := p.owners(r, id)
	if err != nil {
		return View{}, false, err
	}
	data := fragmentData{L: p.o.Labels, Cap: cp, Activity: p.o.Activity, User: id, API: p.o.API,
		CapSource: capSource, Try: string(tryJSON), Assets: p.assetsURL(r), Owners: owners,
		Kinds: p.kinds(), Metadata: p.o.Manager.Policy().AllowsClientMetadata()}
	var head, attrs, body bytes.Buffer
	for name, buf := range map[string]*bytes.Buffer{"head": &head, "attrs": &attrs, "body": &body} {
		if err := templates.ExecuteTemplate(buf, name, data); err != nil {
			return View{}, false, err
		}
	}
	return View{Title: p.o.Labels.Title, Head: template.HTML(head.String()), // #nosec: rendered by html/template
		Attrs: template.HTMLAttr(strings.TrimSpace(attrs.String())), Body: template.HTML(body.String())}, true, nil
}

// fragmentData is what templates/page.html renders.
type fragmentData struct {
	L                    Labels
	Cap                  policy.Permissions
	Activity             bool
	User, API, CapSource string
	Try                  string // JSON: [[permission, path], ...]
	Assets               string
	Owners               []Owner  // the organizations whose keys the user manages
	Kinds                []string // the kinds besides the default, sorted
	Metadata             bool     // the policy lets clients set metadata
}

// assetsURL is Options.Assets, else "assets/" below r's directory,
// cleaned: the request's path is the visitor's to choose, and one that
// starts with "//" (https://app//evil.example/keys/, through a router
// that does not clean paths) would make "//evil.example/keys/assets/" a
// script from another host.
func (p *Page) assetsURL(r *http.Request) string {
	if p.o.Assets != "" {
		return p.o.Assets
	}
	dir := r.URL.Path
	if !strings.HasSuffix(dir, "/") {
		dir = path.Dir(dir)
	}
	dir = path.Clean("/" + dir) // one leading slash, no "." or ".."
	return strings.TrimSuffix(dir, "/") + "/assets/"
}

// Assets serves the page's script and stylesheet by their file name
// (keycap.js, keycap-manage.js, keycap.css) under whatever path it is mounted at; anything
// else is 404. Browsers revalidate them (Cache-Control: no-cache) and
// take them for what they are (X-Content-Type-Options: nosniff).
func (p *Page) Assets() http.Handler {
	sub, _ := fs.Sub(files, "assets")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := path.Base(r.URL.Path)
		if strings.HasSuffix(r.URL.Path, "/") || (name != "keycap.js" && name != "keycap-manage.js" && name != "keycap.css") {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		http.ServeFileFS(w, r, sub, name)
	})
}
