package main

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/keycaphq/keycap"
	"github.com/keycaphq/keycap/middleware"
	"github.com/keycaphq/keycap/policy"
)

// projects are the demo's projects and who is a member of each: a user's
// role's project actions apply to the projects they are a member of, and
// to no other. Keys may be limited to some projects ("resources":
// {"projects": ["1"]}); keycap asks access (policy.Records) at every
// request a record guard admits, so taking a member off a project stops
// their keys on it at the next request. Safe for concurrent use.
type projects struct {
	*collection
	roles   map[string]policy.Permissions
	mu      sync.Mutex
	members map[int]map[string]bool // project id to its members
}

// newProjects holds projects 1 "Website redesign", 2 "Mobile app" and 3
// "Annual report"; alice is a member of 1 and 2, bob of all three.
func newProjects() *projects {
	p := &projects{collection: newCollection("project", "Website redesign", "Mobile app", "Annual report"), roles: roles,
		members: map[int]map[string]bool{
			1: {"alice": true, "bob": true},
			2: {"alice": true, "bob": true},
			3: {"bob": true},
		}}
	return p
}

// records is the policy's view of the projects.
func (p *projects) records() *policy.Records {
	return &policy.Records{Resources: []string{"projects"}, Actions: p.actions, List: p.reachable}
}

// actions implements policy.Records.Actions: the subject's role's project
// actions on a project they are a member of; none on another;
// policy.ErrNoRecord for a project that does not exist (a guarded route
// then answers 404 NOT_FOUND).
func (p *projects) actions(_ context.Context, s policy.Subject, resource, id string) ([]string, error) {
	n, err := strconv.Atoi(id)
	if err != nil || resource != "projects" || p.find(n) == nil {
		return nil, policy.ErrNoRecord
	}
	p.mu.Lock()
	member := p.members[n][s.ID]
	p.mu.Unlock()
	if !member {
		return nil, nil
	}
	return p.roleActions(s), nil
}

// roleActions are the project actions of s's roles.
func (p *projects) roleActions(s policy.Subject) []string {
	var out []string
	for _, r := range s.Roles {
		out = append(out, p.roles[r]["projects"]...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// reachable implements policy.Records.List: the projects s is a member of.
func (p *projects) reachable(_ context.Context, s policy.Subject, _ string, limit int) ([]policy.Record, error) {
	p.collection.mu.Lock()
	items := slices.Clone(p.items)
	p.collection.mu.Unlock()
	actions := p.roleActions(s)
	out := []policy.Record{}
	for _, it := range items {
		p.mu.Lock()
		member := p.members[it.ID][s.ID]
		p.mu.Unlock()
		if member && len(out) < limit {
			out = append(out, policy.Record{ID: strconv.Itoa(it.ID), Label: it.Name, Actions: actions})
		}
	}
	return out, nil
}

// find returns the project with id, or nil.
func (p *projects) find(id int) *item {
	p.collection.mu.Lock()
	defer p.collection.mu.Unlock()
	for _, it := range p.items {
		if it.ID == id {
			found := it
			return &found
		}
	}
	return nil
}

// listReadable serves GET /api/projects: the projects the caller may read
// (a key limited to some projects lists at most those).
func (p *projects) listReadable(w http.ResponseWriter, r *http.Request) {
	caller := middleware.MustPrincipal(r.Context())
	p.collection.mu.Lock()
	items := slices.Clone(p.items)
	p.collection.mu.Unlock()
	if ids, limited := caller.Restricted("projects"); limited {
		items = slices.DeleteFunc(items, func(it item) bool { return !slices.Contains(ids, strconv.Itoa(it.ID)) })
	}
	out := []item{}
	for _, it := range items {
		ok, err := caller.Can(r.Context(), "projects:read", strconv.Itoa(it.ID))
		if err != nil {
			keycap.WriteError(w, r, err)
			return
		}
		if ok {
			out = append(out, it)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"projects": out})
}

// get serves GET /api/projects/{id}, behind a record guard.
func (p *projects) get(w http.ResponseWriter, r *http.Request) {
	id, _ := strconv.Atoi(r.PathValue("id"))
	it := p.find(id)
	if it == nil {
		keycap.WriteError(w, r, keycap.New(keycap.CodeNotFound, "no project with id "+strconv.Quote(r.PathValue("id"))))
		return
	}
	writeJSON(w, http.StatusOK, it)
}

// create serves POST /api/projects: its creator becomes a member.
func (p *projects) create(w http.ResponseWriter, r *http.Request) {
	rec := &statusRecorder{ResponseWriter: w}
	p.collection.create(rec, r)
	if rec.status == http.StatusCreated {
		loc := rec.Header().Get("Location")
		id, _ := strconv.Atoi(loc[strings.LastIndexByte(loc, '/')+1:])
		p.mu.Lock()
		p.members[id] = map[string]bool{middleware.MustPrincipal(r.Context()).OwnerID(): true}
		p.mu.Unlock()
	}
}

// setMember serves PUT (add) and DELETE (remove)
// /api/projects/{id}/members/{user}, behind a record guard of
// projects:write on the project: an owner's way to take a member off a
// project while the app runs, and to put them back.
func (p *projects) setMember(w http.ResponseWriter, r *http.Request) {
	id, _ := strconv.Atoi(r.PathValue("id"))
	user := r.PathValue("user")
	if user != "alice" && user != "bob" {
		keycap.WriteError(w, r, keycap.New(keycap.CodeNotFound, "no user "+strconv.Quote(user)))
		return
	}
	p.mu.Lock()
	if p.members[id] == nil {
		p.members[id] = map[string]bool{}
	}
	p.members[id][user] = r.Method == http.MethodPut
	p.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// statusRecorder remembers the status a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(status int) {
	s.status = status
	s.ResponseWriter.WriteHeader(status)
}
