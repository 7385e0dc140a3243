package middleware

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/netip"
	"strconv"
	"time"

	"github.com/keycaphq/keycap/audit"

	"github.com/keycaphq/keycap"
	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/policy"
)

// create serves POST /: a new key for the caller, shown once, with its
// Location.
func (kc *Keycap) create(w http.ResponseWriter, r *http.Request, p Principal) error {
	owner, _, err := kc.managed(r, p)
	if err != nil {
		return err
	}
	var name, template, description *string
	var perms policy.Permissions
	var expiresIn, remaining, refillAmount, refillInterval *int64
	var ranges *[]netip.Prefix
	var metadata *json.RawMessage
	var kind *string
	var resources *policy.Resources
	err = kc.decodeObject(w, r, false, map[string]fieldDecoder{
		"kind":                    stringField("kind", &kind),
		"name":                    stringField("name", &name),
		"description":             stringField("description", &description),
		"permissions":             permissionsField(&perms),
		"template":                stringField("template", &template),
		"expires_in":              lifetimeField(&expiresIn),
		"remaining":               countField("remaining", &remaining),
		"refill_amount":           countField("refill_amount", &refillAmount),
		"refill_interval_seconds": secondsField("refill_interval_seconds", &refillInterval),
		"allowed_ips":             rangesField(&ranges),
		"metadata":                kc.metadataField(&metadata),
		"resources":               resourcesField(&resources),
	})
	if err != nil {
		return err
	}
	if name == nil {
		return invalidBody(`"name" is required: give the key a name`, "name")
	}
	req := keys.CreateRequest{Owner: owner, Name: *name, Permissions: perms, Caller: p.key, Actor: actor(p)}
	if template != nil {
		if perms != nil {
			return invalidBody(`give either "permissions" or "template", not both`, "template")
		}
		req.Template = *template
	}
	if metadata != nil {
		req.Metadata = *metadata
	}
	if description != nil {
		req.Description = *description
	}
	if kind != nil {
		req.Kind = *kind
	}
	if ranges != nil {
		req.AllowedIPs = *ranges
	}
	if resources != nil {
		req.Resources = *resources
	}
	if remaining != nil {
		req.Quota = &keys.Quota{Remaining: *remaining}
		if refillAmount != nil {
			req.Quota.RefillAmount = *refillAmount
		}
		if refillInterval != nil {
			req.Quota.RefillInterval = time.Duration(*refillInterval) * time.Second
		}
	} else if refillAmount != nil || refillInterval != nil {
		return invalidBody("a refill needs a quota: set remaining too", "remaining")
	}
	if expiresIn != nil {
		req.Lifetime = time.Duration(*expiresIn) * time.Second
	}
	k, token, err := kc.manager.Create(r.Context(), req)
	if err != nil {
		return err
	}
	j := kc.toJSON(k, kc.manager.Now())
	j.Key = token
	w.Header().Set("Location", kc.path+"/"+k.ID)
	writeJSON(w, http.StatusCreated, j)
	return nil
}

// list serves GET /: a page of the caller's keys (or, for an admin, of
// ?owner=), newest first, and the cursor of the next page.
func (kc *Keycap) list(w http.ResponseWriter, r *http.Request, p Principal) error {
	owner, err := kc.owner(r, p)
	if err != nil {
		return err
	}
	limit, err := pageLimit(r, 0)
	if err != nil {
		return err
	}
	list, next, err := kc.manager.List(r.Context(), keys.ListRequest{
		Owner: owner, Before: r.URL.Query().Get("cursor"), Limit: limit, Caller: p.key})
	if err != nil {
		return err
	}
	now := kc.manager.Now()
	out := make([]keyJSON, len(list))
	for i, k := range list {
		out[i] = kc.toJSON(k, now)
	}
	writeJSON(w, http.StatusOK, map[string]any{"keys": out, "next_cursor": next})
	return nil
}

// grantable serves GET /grantable: what the caller may put on a key now,
// what the policy knows of, and the longest lifetime.
func (kc *Keycap) grantable(w http.ResponseWriter, r *http.Request, p Principal) error {
	owner, rights, err := kc.managed(r, p)
	if err != nil {
		return err
	}
	var bounds []policy.Permissions
	if p.key != nil {
		bounds = append(bounds, p.key.Permissions)
	}
	if rights != nil {
		bounds = append(bounds, rights)
	}
	kindName := r.URL.Query().Get("kind")
	if p.key != nil {
		kindName = p.key.Kind // a key makes keys of its own kind
	}
	kind, ok := kc.manager.Kinds()[kindName]
	if !ok {
		return fieldError("kind", "no such kind of key here; leave kind out for the default")
	}
	if kind.Max != nil {
		bounds = append(bounds, kind.Max)
	}
	subject, err := kc.manager.Subject(r.Context(), owner)
	if err != nil {
		return err
	}
	allowed, err := kc.manager.Policy().Cap(r.Context(), subject, bounds...)
	if err != nil {
		return err
	}
	records, err := kc.pickable(r.Context(), p, owner, allowed)
	if err != nil {
		return err
	}
	pol := kc.manager.Policy()
	maxLifetime := pol.MaxLifetime(allowed)
	if kind.MaxLifetime > 0 && (maxLifetime == 0 || kind.MaxLifetime < maxLifetime) {
		maxLifetime = kind.MaxLifetime
	}
	needsList := pol.NeedsAllowList(allowed)
	if needsList == nil {
		needsList = policy.Permissions{}
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"permissions":              allowed,
		"known":                    pol.Known(),
		"allow_client_permissions": pol.AllowsClientPermissions(),
		"max_lifetime_seconds":     int64(maxLifetime.Seconds()),
		"allow_list_required":      needsList,
		"templates":                templatesJSON(pol.Choices(allowed)),
		"records":                  records,
	})
	return nil
}

// templateJSON is one policy template as the caller sees it: listed even
// when it is beyond their cap, with what would be dropped, so that a page
// can show it greyed out with the reason. Creating from one that is not
// available is refused (PERMISSIONS_EXCEED_MAXIMUM), never cut.
type templateJSON struct {
	Name        string             `json:"name"`
	Description string             `json:"description,omitempty"`
	Permissions policy.Permissions `json:"permissions"` // what the template holds
	Grantable   policy.Permissions `json:"grantable"`   // the part within the caller's cap
	Dropped     policy.Permissions `json:"dropped"`     // the part beyond it
	Available   bool               `json:"available"`   // nothing dropped: a key may be created from it
}

func templatesJSON(choices []policy.TemplateChoice) []templateJSON {
	out := make([]templateJSON, len(choices))
	for i, c := range choices {
		out[i] = templateJSON{Name: c.Name, Description: c.Description, Permissions: c.Permissions,
			Grantable: c.Grantable, Dropped: c.Dropped, Available: c.Available()}
	}
	return out
}

// get serves GET /{id}: one key within the caller's reach.
func (kc *Keycap) get(w http.ResponseWriter, r *http.Request, p Principal) error {
	ref, err := kc.ref(r, p)
	if err != nil {
		return err
	}
	k, err := kc.manager.Get(r.Context(), ref)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, kc.toJSON(k, kc.manager.Now()))
	return nil
}

// update serves PATCH: every field in one Manager.Update, so that the
// change is decided whole and written once, or refused with nothing written.
func (kc *Keycap) update(w http.ResponseWriter, r *http.Request, p Principal) error {
	ref, err := kc.ref(r, p)
	if err != nil {
		return err
	}
	u := keys.UpdateRequest{Ref: ref, Actor: actor(p)}
	var expiresIn, remaining, refillAmount, refillInterval *int64
	var removeQuota, amountNull, intervalNull bool
	err = kc.decodeObject(w, r, false, map[string]fieldDecoder{
		"remaining":               nullable(countField("remaining", &remaining), &removeQuota),
		"refill_amount":           nullable(countField("refill_amount", &refillAmount), &amountNull),
		"refill_interval_seconds": nullable(secondsField("refill_interval_seconds", &refillInterval), &intervalNull),
		"name":                    stringField("name", &u.Name),
		"description":             stringField("description", &u.Description),
		"permissions":             permissionsField(&u.Permissions),
		"expires_in":              lifetimeField(&expiresIn),
		"disabled":                boolField("disabled", &u.Disabled),
		"allowed_ips":             rangesField(&u.AllowedIPs),
		"metadata":                kc.metadataField(&u.Metadata),
		"kind": func(json.RawMessage) error {
			return fieldError("kind", "a key's kind cannot change; create a key of the other kind")
		},
		"resources": resourcesField(&u.Resources),
	})
	if err != nil {
		return err
	}
	if expiresIn != nil {
		d := time.Duration(*expiresIn) * time.Second
		u.Lifetime = &d
	}
	refillGiven := refillAmount != nil || refillInterval != nil || amountNull || intervalNull
	if err := quotaUpdate(&u, remaining, refillAmount, refillInterval, removeQuota, refillGiven); err != nil {
		return err
	}
	if u.Name == nil && u.Description == nil && u.Permissions == nil && u.Lifetime == nil && u.Disabled == nil && u.AllowedIPs == nil && u.Metadata == nil && u.Resources == nil &&
		u.Remaining == nil && u.Refill == nil && !u.RemoveQuota {
		return invalidBody("nothing to change: send name, description, permissions, expires_in, disabled, allowed_ips, metadata, resources, remaining or a refill", "")
	}
	k, err := kc.manager.Update(r.Context(), u)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, kc.toJSON(k, kc.manager.Now()))
	return nil
}

// revoke serves DELETE /{id}: revokes the key, with an optional reason,
// and answers with the revoked record.
func (kc *Keycap) revoke(w http.ResponseWriter, r *http.Request, p Principal) error {
	ref, err := kc.ref(r, p)
	if err != nil {
		return err
	}
	var reason *string
	if err := kc.decodeObject(w, r, true, map[string]fieldDecoder{"reason": stringField("reason", &reason)}); err != nil {
		return err
	}
	req := keys.RevokeRequest{Ref: ref, Actor: actor(p)}
	if reason != nil {
		req.Reason = *reason
	}
	k, err := kc.manager.Revoke(r.Context(), req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, kc.toJSON(k, kc.manager.Now()))
	return nil
}

// rotate serves POST /{id}/rotate: a new secret for one of the caller's
// own keys, shown once.
func (kc *Keycap) rotate(w http.ResponseWriter, r *http.Request, p Principal) error {
	owner, _, err := kc.managed(r, p)
	if err != nil {
		return err
	}
	var grace *int64
	if err := kc.decodeObject(w, r, true, map[string]fieldDecoder{"grace_seconds": secondsField("grace_seconds", &grace)}); err != nil {
		return err
	}
	req := keys.RotateRequest{Ref: keys.Ref{Owner: owner, ID: r.PathValue("id"), Caller: p.key}, Actor: actor(p)}
	if grace != nil {
		req.Grace = time.Duration(*grace) * time.Second
	}
	k, token, err := kc.manager.Rotate(r.Context(), req)
	if err != nil {
		return err
	}
	j := kc.toJSON(k, kc.manager.Now())
	j.Key = token
	writeJSON(w, http.StatusOK, j)
	return nil
}

// ref names the key of the request: the caller's own, or with ?owner=
// (and the admin permission) another user's.
func (kc *Keycap) ref(r *http.Request, p Principal) (keys.Ref, error) {
	owner, err := kc.owner(r, p)
	if err != nil {
		return keys.Ref{}, err
	}
	return keys.Ref{Owner: owner, ID: r.PathValue("id"), Caller: p.key}, nil
}

// maxPageLimit is the largest ?limit=, a keys.Manager's too.
const maxPageLimit = 200

// pageLimit reads ?limit= (1 to maxPageLimit), or returns fallback.
func pageLimit(r *http.Request, fallback int) (int, error) {
	s := r.URL.Query().Get("limit")
	if s == "" {
		return fallback, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > maxPageLimit {
		return 0, fieldError("limit", "limit must be a whole number from 1 to "+strconv.Itoa(maxPageLimit))
	}
	return n, nil
}

// owner returns whose keys the request is about: the caller's, with
// ?owner= an organization's whose keys the session user manages (see
// managed), or another user's, which needs Options.AdminPermission and a
// session: a key acts only for its own owner.
func (kc *Keycap) owner(r *http.Request, p Principal) (string, error) {
	owner, _, err := kc.managed(r, p)
	if err == nil {
		return owner, nil
	}
	if kc.admin == "" || !p.Has(kc.admin) || p.kind != KindSession {
		return "", err
	}
	return r.URL.Query().Get("owner"), nil // the admin view: list, read, disable, enable, revoke
}

// managed returns whose keys the request manages: the caller's own, or
// with ?owner= an organization the session user manages the keys of now
// (keys.Manager.Manages), with the user's rights in it. A member who may
// not manage its keys gets 403 CANNOT_MANAGE_KEYS; anyone else 403
// FORBIDDEN, whether or not the owner exists: no answer tells
// organizations one does not belong to apart from users or nobody.
func (kc *Keycap) managed(r *http.Request, p Principal) (string, policy.Permissions, error) {
	owner := r.URL.Query().Get("owner")
	if owner == "" || owner == p.ownerID {
		return p.ownerID, nil, nil
	}
	forbidden := keycap.New(keycap.CodeForbidden,
		"?owner= names an organization whose keys you manage, as a logged-in user; managing another user's keys needs the admin permission")
	if p.kind != KindSession {
		return "", nil, forbidden
	}
	rights, err := kc.manager.Manages(r.Context(), p.ownerID, owner)
	switch {
	case errors.Is(err, policy.ErrNotMember):
		return "", nil, forbidden
	case err != nil:
		return "", nil, err
	}
	return owner, rights, nil
}

// metadataField decodes "metadata", a JSON object, where the policy lets
// clients set it.
func (kc *Keycap) metadataField(to **json.RawMessage) fieldDecoder {
	return func(raw json.RawMessage) error {
		if !kc.manager.Policy().AllowsClientMetadata() {
			return fieldError("metadata", "this app sets keys' metadata itself; leave it out")
		}
		m := append(json.RawMessage{}, raw...)
		*to = &m
		return nil
	}
}

// actor is who acts for the record: the calling key, or the session user.
func actor(p Principal) audit.Actor {
	if p.kind == KindKey {
		return audit.Key(p.keyID)
	}
	return audit.User(p.ownerID)
}

func fieldError(field, reason string) *keycap.Error {
	return &keycap.Error{Code: keycap.CodeInvalidField,
		Message: field + ": " + reason, Details: &keycap.InvalidFieldDetails{Field: field, Reason: reason}}
}
