package middleware

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/keycaphq/keycap"
	"github.com/keycaphq/keycap/policy"
)

// RequireRecord returns middleware that lets a request through only if its
// caller may do permission ("resource:action") on the one record that
// record names in the request (say, the {id} of /projects/{id}): the
// caller holds permission (as for [Require]), a key's restriction to
// records ([keys.Key].Resources, cut to its ancestors') lets the record
// through, and its owner's live access to the record, as the policy's
// [policy.Records] answers now, allows the action. A logged-in user is
// checked against their own live access the same way. The policy is asked
// at most once per request and record, whatever guards and
// [Principal.Can] calls ask again.
//
// On an [http.ServeMux], name the path value with [PathValue]:
//
//	mux.Handle("DELETE /projects/{id}", keycap.Authenticate(middleware.RequireRecord("projects:delete", middleware.PathValue("id"))(h)))
//
// With chi, in a route's middleware, where the URL parameters are known:
//
//	r.With(middleware.RequireRecord("projects:delete", func(r *http.Request) string { return chi.URLParam(r, "id") })).Delete("/projects/{id}", h)
//
// Refusals are those of Require, and 403 INSUFFICIENT_PERMISSIONS naming
// permission in details.missing and X-Accepted-Permissions and the record
// in details.records ({"projects": ["42"]}); an empty record id (a route
// whose pattern names no such value) is 500 MISCONFIGURED. Spends a key's
// quota like Require. It panics at route setup if permission is not one
// "resource:action" or record is nil.
func RequireRecord(permission string, record func(*http.Request) string) func(http.Handler) http.Handler {
	if _, err := policy.Parse(permission); err != nil || strings.Contains(permission, " ") {
		panic("middleware.RequireRecord: name one permission \"resource:action\": " + permission)
	}
	if record == nil {
		panic("middleware.RequireRecord: record is nil: use PathValue(\"id\") or a func(*http.Request) string")
	}
	resource, action, _ := strings.Cut(permission, ":")
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			st, p, ok := guard(w, r, "RequireRecord")
			if !ok {
				return
			}
			kc := st.kc
			id := record(r)
			if id == "" {
				kc.fail(w, r, misconfigured("RequireRecord found no record id in the request: check the path value or parameter it reads", nil))
				return
			}
			allowed, err := p.can(r.Context(), resource, action, id)
			if err != nil {
				kc.fail(w, r, err)
				return
			}
			if !allowed {
				kc.fail(w, r, recordRefused(w.Header(), p, permission, resource, id))
				return
			}
			if p.kind == KindKey && !st.quotaSpent {
				if err := kc.consume(w, r, st); err != nil {
					kc.fail(w, r, err)
					return
				}
			}
			next.ServeHTTP(w, r)
		})
	}
}

// PathValue returns the function that reads the path value name of a
// request (r.PathValue(name)), for [RequireRecord] on an [http.ServeMux]
// pattern such as "GET /projects/{id}".
func PathValue(name string) func(*http.Request) string {
	return func(r *http.Request) string { return r.PathValue(name) }
}

// guard authenticates a guarded request as [Require] does: the caller,
// or a refusal already written (ok false).
func guard(w http.ResponseWriter, r *http.Request, name string) (*state, Principal, bool) {
	st := stateFrom(r.Context())
	if st == nil {
		slog.Default().Error("keycap: "+name+" needs Keycap.Authenticate in front of it", "path", r.URL.Path)
		keycap.WriteError(w, r, misconfigured(name+" needs Keycap.Authenticate in front of it", nil))
		return nil, Principal{}, false
	}
	kc := st.kc
	p, err := st.resolve(r.Context())
	if err != nil {
		kc.fail(w, r, err)
		return nil, Principal{}, false
	}
	if p.kind == 0 {
		kc.fail(w, r, unauthenticated())
		return nil, Principal{}, false
	}
	if p.kind == KindSession && !isSafe(r.Method) {
		if err := kc.csrf.Check(r); err != nil {
			kc.fail(w, r, csrfError(err))
			return nil, Principal{}, false
		}
	}
	return st, p, true
}

// recordRefused returns the refusal of p's request to do permission on
// the record id of resource, and sets the headers of [insufficient].
func recordRefused(h http.Header, p Principal, permission, resource, id string) *keycap.Error {
	e := insufficient(h, p.kind, []string{permission})
	shown := id
	if !policy.ValidRecordID(id) {
		shown = "(not a record id)"
	}
	e.Details.(*keycap.InsufficientDetails).Records = policy.Resources{resource: {shown}}
	switch {
	case !p.perms.Has(resource, strings.TrimPrefix(permission, resource+":")):
	case !p.restriction.Allows(resource, id):
		e.Message = "this key is limited to other records of " + resource + ": it may not " + permission + " on " + resource + " " + shown
	case p.kind == KindKey:
		e.Message = "the key's owner may not " + permission + " on " + resource + " " + shown + " (now)"
	default:
		e.Message = "you may not " + permission + " on " + resource + " " + shown
	}
	return e
}

// Can reports whether the principal may do permission ("resource:action")
// on the record id of that resource, as [RequireRecord] decides: the
// permission held, the key's restriction letting the record through, and
// the owner's live access allowing it (asked of the policy at most once
// per request and record). The zero Principal may do nothing. Errors are
// a malformed permission and the policy's [policy.Records] errors.
func (p Principal) Can(ctx context.Context, permission, record string) (bool, error) {
	resource, action, ok := strings.Cut(permission, ":")
	if !ok || resource == "" || action == "" {
		return false, errors.New("middleware: Principal.Can: want \"resource:action\", got " + permission)
	}
	if p.kind == 0 {
		return false, nil
	}
	return p.can(ctx, resource, action, record)
}

// Restricted returns the records of resource a key is limited to (a copy,
// sorted) and true, or nil and false when it may reach every record of
// resource its owner can: any record for a session user or a key with no
// restriction on it. A list handler shows at most these, each checked with
// [Principal.Can].
func (p Principal) Restricted(resource string) ([]string, bool) {
	ids, ok := p.restriction[resource]
	if !ok {
		return nil, false
	}
	return slices.Clone(ids), true
}

// can decides; the cheap checks come first, so that the policy is asked
// only about records the caller's key could reach.
func (p Principal) can(ctx context.Context, resource, action, id string) (bool, error) {
	if !p.perms.Has(resource, action) || !p.restriction.Allows(resource, id) || !policy.ValidRecordID(id) {
		return false, nil
	}
	if p.st == nil {
		return false, errors.New("middleware: Principal.Can needs the Principal of a request (PrincipalFrom)")
	}
	live, checked, err := p.st.answers().ask(ctx, p.st.kc.manager.Policy(), p.subject, resource, id)
	if err != nil {
		return false, err
	}
	return policy.RecordAllowed(p.perms, p.restriction, resource, action, id, live, checked), nil
}

// recordAnswers remembers the policy's answers about records for one
// request, so that it is asked at most once per record. The first answer
// needs no map: most requests are about one record.
type recordAnswers struct {
	mu    sync.Mutex
	first recordAnswer
	more  map[recordRef]recordAnswer
}

type recordRef struct{ resource, id string }

type recordAnswer struct {
	ref     recordRef
	live    []string
	checked bool
	set     bool
}

// ask returns the policy's answer for the record, asking it once. The lock
// is held while the policy answers, so that two goroutines of one request
// asking at once make one call.
func (a *recordAnswers) ask(ctx context.Context, pol *policy.Policy, s policy.Subject, resource, id string) ([]string, bool, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	ref := recordRef{resource, id}
	if a.first.set && a.first.ref == ref {
		return a.first.live, a.first.checked, nil
	}
	if got, ok := a.more[ref]; ok {
		return got.live, got.checked, nil
	}
	live, checked, err := pol.RecordActions(ctx, s, resource, id)
	if err != nil {
		return nil, false, err // not remembered: an error is no answer
	}
	answer := recordAnswer{ref: ref, live: live, checked: checked, set: true}
	if !a.first.set {
		a.first = answer
	} else {
		if a.more == nil {
			a.more = map[recordRef]recordAnswer{}
		}
		a.more[ref] = answer
	}
	return live, checked, nil
}
