package middleware

import (
	"net/http"
	"strconv"
	"time"

	"github.com/keycaphq/keycap"
	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/policy"
)

func (kc *Keycap) create(w http.ResponseWriter, r *http.Request, p Principal) error {
	if err := kc.ownOnly(r, p); err != nil {
		return err
	}
	var name *string
	var perms policy.Permissions
	var expiresIn, remaining, refillAmount, refillInterval *int64
	err := kc.decodeObject(w, r, false, map[string]fieldDecoder{
		"name":                    stringField("name", &name),
		"permissions":             permissionsField(&perms),
		"expires_in":              secondsField("expires_in", &expiresIn),
		"remaining":               countField("remaining", &remaining),
		"refill_amount":           countField("refill_amount", &refillAmount),
		"refill_interval_seconds": secondsField("refill_interval_seconds", &refillInterval),
	})
	if err != nil {
		return err
	}
	if name == nil {
		return invalidBody(`"name" is required: give the key a name`, "name")
	}
	req := keys.CreateRequest{OwnerID: p.OwnerID, Name: *name, Permissions: perms, Caller: p.Key, Actor: actor(p)}
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
		if *expiresIn == 0 {
			return invalidBody("expires_in must be at least 1 second; leave it out for the default", "expires_in")
		}
		req.Lifetime = time.Duration(*expiresIn) * time.Second
	}
	k, token, err := kc.manager.Create(r.Context(), req)
	if err != nil {
		return err
	}
	j := toJSON(k, time.Now())
	j.Key = token
	w.Header().Set("Location", kc.path+"/"+k.ID)
	writeJSON(w, http.StatusCreated, j)
	return nil
}

func (kc *Keycap) list(w http.ResponseWriter, r *http.Request, p Principal) error {
	owner, err := kc.owner(r, p)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	limit, err := pageLimit(r, 0)
	if err != nil {
		return err
	}
	page := keys.Page{Before: q.Get("cursor"), Limit: limit}
	list, next, err := kc.manager.List(r.Context(), owner, page)
	if err != nil {
		return err
	}
	list = kc.scoped(r, p, list)
	now := time.Now()
	out := make([]keyJSON, len(list))
	for i, k := range list {
		out[i] = toJSON(k, now)
	}
	writeJSON(w, http.StatusOK, map[string]any{"keys": out, "next_cursor": next})
	return nil
}

func (kc *Keycap) grantable(w http.ResponseWriter, r *http.Request, p Principal) error {
	if err := kc.ownOnly(r, p); err != nil {
		return err
	}
	var bounds []policy.Permissions
	if p.Key != nil {
		bounds = append(bounds, p.Key.Permissions)
	}
	cap, err := kc.manager.Cap(r.Context(), p.OwnerID, bounds...)
	if err != nil {
		return err
	}
	pol := kc.manager.Policy()
	writeJSON(w, http.StatusOK, map[string]any{
		"permissions":              cap,
		"known":                    pol.Known(),
		"allow_client_permissions": pol.AllowsClientPermissions(),
		"max_lifetime_seconds":     int64(pol.MaxLifetime(cap).Seconds()),
	})
	return nil
}

func (kc *Keycap) get(w http.ResponseWriter, r *http.Request, p Principal) error {
	owner, err := kc.keyOwner(r, p)
	if err != nil {
		return err
	}
	k, err := kc.manager.Get(r.Context(), owner, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toJSON(k, time.Now()))
	return nil
}

func (kc *Keycap) update(w http.ResponseWriter, r *http.Request, p Principal) error {
	owner, err := kc.keyOwner(r, p)
	if err != nil {
		return err
	}
	var u keys.UpdateRequest
	var expiresIn *int64
	var disabled *bool
	err = kc.decodeObject(w, r, false, map[string]fieldDecoder{
		"name":        stringField("name", &u.Name),
		"permissions": permissionsField(&u.Permissions),
		"expires_in":  secondsField("expires_in", &expiresIn),
		"disabled":    boolField("disabled", &disabled),
	})
	if err != nil {
		return err
	}
	if owner != p.OwnerID && (u.Name != nil || u.Permissions != nil || expiresIn != nil) {
		return keycap.New(keycap.CodeForbidden, http.StatusForbidden, "admins may only disable or enable another user's key")
	}
	id := r.PathValue("id")
	if _, err := kc.manager.Get(r.Context(), owner, id); err != nil {
		return err // not found answers before any other refusal
	}
	u.Caller, u.Actor = p.Key, actor(p)
	if expiresIn != nil {
		d := time.Duration(*expiresIn) * time.Second
		u.Lifetime = &d
	}
	var k *keys.Key
	if u.Name != nil || u.Permissions != nil || u.Lifetime != nil {
		if k, err = kc.manager.Update(r.Context(), owner, id, u); err != nil {
			return err
		}
	}
	if disabled != nil {
		if k, err = kc.manager.SetDisabled(r.Context(), owner, id, *disabled, actor(p)); err != nil {
			return err
		}
	}
	if k == nil {
		return invalidBody("nothing to change: send name, permissions, expires_in or disabled", "")
	}
	writeJSON(w, http.StatusOK, toJSON(k, time.Now()))
	return nil
}

func (kc *Keycap) revoke(w http.ResponseWriter, r *http.Request, p Principal) error {
	owner, err := kc.keyOwner(r, p)
	if err != nil {
		return err
	}
	var reason *string
	if err := kc.decodeObject(w, r, true, map[string]fieldDecoder{"reason": stringField("reason", &reason)}); err != nil {
		return err
	}
	req := keys.RevokeRequest{Actor: actor(p)}
	if reason != nil {
		req.Reason = *reason
	}
	k, err := kc.manager.Revoke(r.Context(), owner, r.PathValue("id"), req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toJSON(k, time.Now()))
	return nil
}

func (kc *Keycap) rotate(w http.ResponseWriter, r *http.Request, p Principal) error {
	if err := kc.ownOnly(r, p); err != nil {
		return err
	}
	if err := kc.inScope(r, p, p.OwnerID); err != nil {
		return err
	}
	var grace *int64
	if err := kc.decodeObject(w, r, true, map[string]fieldDecoder{"grace_seconds": secondsField("grace_seconds", &grace)}); err != nil {
		return err
	}
	var d time.Duration
	if grace != nil {
		d = time.Duration(*grace) * time.Second
	}
	k, token, err := kc.manager.Rotate(r.Context(), p.OwnerID, r.PathValue("id"), d, p.Key, actor(p))
	if err != nil {
		return err
	}
	j := toJSON(k, time.Now())
	j.Key = token
	writeJSON(w, http.StatusOK, j)
	return nil
}

// keyOwner returns the owner of the key the request names, refusing what
// is out of the caller's reach (see owner and inScope).
func (kc *Keycap) keyOwner(r *http.Request, p Principal) (string, error) {
	owner, err := kc.owner(r, p)
	if err != nil {
		return "", err
	}
	return owner, kc.inScope(r, p, owner)
}

// pageLimit reads ?limit= (1 to keys.MaxPageLimit), or returns fallback.
func pageLimit(r *http.Request, fallback int) (int, error) {
	s := r.URL.Query().Get("limit")
	if s == "" {
		return fallback, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > keys.MaxPageLimit {
		return 0, fieldError("limit", "limit must be a whole number from 1 to "+strconv.Itoa(keys.MaxPageLimit))
	}
	return n, nil
}

// owner returns whose keys the request is about: the caller's, or with
// ?owner= another user's, which needs Options.AdminPermission.
func (kc *Keycap) owner(r *http.Request, p Principal) (string, error) {
	owner := r.URL.Query().Get("owner")
	if owner == "" || owner == p.OwnerID {
		return p.OwnerID, nil
	}
	if kc.admin == "" || !p.Has(kc.admin) {
		return "", keycap.New(keycap.CodeForbidden, http.StatusForbidden, "managing another user's keys needs the admin permission")
	}
	return owner, nil
}

// ownOnly refuses ?owner= naming another user where admins have no power.
func (kc *Keycap) ownOnly(r *http.Request, p Principal) error {
	if owner := r.URL.Query().Get("owner"); owner != "" && owner != p.OwnerID {
		return keycap.New(keycap.CodeForbidden, http.StatusForbidden, "this works only on your own keys")
	}
	return nil
}

func actor(p Principal) string {
	if p.Kind == KindKey {
		return "key:" + p.KeyID
	}
	return p.OwnerID
}

func fieldError(field, reason string) *keycap.Error {
	return &keycap.Error{Code: keycap.CodeInvalidField, Status: http.StatusBadRequest,
		Message: field + ": " + reason, Details: &keycap.InvalidFieldDetails{Field: field, Reason: reason}}
}
