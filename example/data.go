package main

import (
	"encoding/json"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/keycaphq/keycap"
	"github.com/keycaphq/keycap/middleware"
)

// item is a project or a file of the demo's in-memory data.
type item struct {
	ID        int       `json:"id"`
	Name      string    `json:"name"`
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
}

// collection is a mutex-guarded list of items served as JSON: GET lists,
// POST {"name"} creates, DELETE /{id} removes. Safe for concurrent use.
type collection struct {
	kind  string // "project" or "file", for messages; the plural keys the list
	mu    sync.Mutex
	next  int
	items []item
}

func newCollection(kind string, names ...string) *collection {
	c := &collection{kind: kind}
	created := time.Date(2025, 1, 6, 9, 0, 0, 0, time.UTC)
	for _, name := range names {
		c.next++
		c.items = append(c.items, item{ID: c.next, Name: name, CreatedBy: "bob", CreatedAt: created})
	}
	return c
}

func (c *collection) list(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	items := append([]item{}, c.items...)
	c.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{c.kind + "s": items})
}

func (c *collection) create(w http.ResponseWriter, r *http.Request) {
	name, err := decodeName(w, r)
	if err != nil {
		keycap.WriteError(w, r, err)
		return
	}
	p := middleware.MustPrincipal(r.Context()) // Require guarantees a caller
	c.mu.Lock()
	c.next++
	it := item{ID: c.next, Name: name, CreatedBy: p.OwnerID(), CreatedAt: time.Now().UTC().Truncate(time.Second)}
	c.items = append(c.items, it)
	c.mu.Unlock()
	w.Header().Set("Location", r.URL.Path+"/"+strconv.Itoa(it.ID))
	writeJSON(w, http.StatusCreated, it)
}

func (c *collection) remove(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.Atoi(r.PathValue("id"))
	c.mu.Lock()
	found := false
	for i, it := range c.items {
		if err == nil && it.ID == id {
			c.items = append(c.items[:i], c.items[i+1:]...)
			found = true
			break
		}
	}
	c.mu.Unlock()
	if !found {
		keycap.WriteError(w, r, keycap.New(keycap.CodeNotFound, "no "+c.kind+" with id "+strconv.Quote(r.PathValue("id"))))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// billing answers the demo's (static) billing summary.
func billing(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"plan": "Team", "seats": 5, "currency": "EUR", "monthly_total_cents": 4500, "next_invoice": "2026-01-01",
	})
}

// decodeName reads a JSON body {"name": "..."}.
func decodeName(w http.ResponseWriter, r *http.Request) (string, error) {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return "", invalidBody("set Content-Type: application/json", "")
	}
	var body struct {
		Name *string `json:"name"`
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		return "", invalidBody(`send a JSON object {"name": "..."}`, "")
	}
	if body.Name == nil {
		return "", invalidBody(`"name" is required`, "name")
	}
	name := strings.TrimSpace(*body.Name)
	if name == "" || utf8.RuneCountInString(name) > 100 {
		return "", invalidBody("name must be 1 to 100 characters", "name")
	}
	return name, nil
}

func invalidBody(reason, field string) error {
	return &keycap.Error{Code: keycap.CodeInvalidBody,
		Message: "invalid request body: " + reason, Details: &keycap.InvalidBodyDetails{Reason: reason, Field: field}}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v) // an error means the client went away
}
