package keys

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/keycaphq/keycap/audit"
	"github.com/keycaphq/keycap/policy"
)

// CreateRequest describes a key to create, for [Manager.Create].
type CreateRequest struct {
	// Owner is the id of the subject the key belongs to and acts for, as the
	// Config's Subjects know it; the key is granted within their cap.
	Owner string
	Name  string // 1 to 100 printable characters; surrounding spaces are trimmed
	// Description is free text about the key ([Key].Description): at most
	// 500 characters, line breaks allowed, trimmed; "": none.
	Description string
	// Permissions asked for; nil means the policy's default.
	Permissions policy.Permissions
	// Template names a [policy.Template] to take the permissions from,
	// instead of Permissions (which must then be nil). The key is granted,
	// refused and audited as if its permissions had been asked for.
	Template string
	// Lifetime asked for; 0 means the policy's default.
	Lifetime time.Duration
	// Quota asked for; nil means the default (Config.Quota). It may only be
	// stricter than the default.
	Quota *Quota
	// AllowedIPs limits the key to these client address ranges
	// ([Key].AllowedIPs); nil or empty: from anywhere, unless the policy
	// requires a list for the key's permissions ([policy.AllowListError]).
	// A key created by a key limited to ranges stays within them, and gets
	// them when none are given.
	AllowedIPs []netip.Prefix
	// Resources limits the key to particular records ([Key].Resources);
	// nil or empty: every record its owner can reach. Each listed record
	// must be one the owner can do the key's actions on now, and name a
	// resource the key holds permissions on. A key created by a key
	// limited to records stays within them, and gets them for each
	// resource it names none of (a copy: the calling key widening later
	// does not widen it).
	Resources policy.Resources
	// Metadata is the app's JSON object about the key ([Key].Metadata): at
	// most 4 KiB compact, 4 levels deep and 64 keys in all ([*FieldError]
	// otherwise); stored re-encoded, members sorted. nil or {}: none.
	Metadata json.RawMessage
	// Kind names the kind of key ([Config].Kinds): its prefix and bounds.
	// "": the default kind. A key made by a key is of the calling key's
	// kind, whatever this says ([*FieldError] if it names another).
	Kind string
	// Caller is the key that authenticated the request, for delegation: the
	// new key stays within its permissions and expires no later. nil for a
	// request made by a person.
	Caller *Verified
	// Actor is who asks, for the record ([Key].CreatedBy) and the audit;
	// zero means the calling key, or the owner. Only the owner's side may
	// create a key: another user or an operator gets [ErrAdminChange].
	Actor audit.Actor
}

// Create grants the request's permissions through the policy and stores a
// new key. It returns the record and the key itself, which is shown once
// and never stored. On any refusal nothing is stored; the error is a
// [*policy.InvalidError], [*policy.ExceedsError], [*policy.LifetimeError],
// [*policy.AllowListError], [*policy.RecordsError], [*FieldError], [*DelegationError] (also for a
// calling key presented with its previous secret), [*policy.KeyLimitError],
// [policy.ErrUnknownSubject],
// [policy.ErrSubjectDisabled] or a Store error.
func (m *Manager) Create(ctx context.Context, r CreateRequest) (*Key, string, error) {
	name, err := checkName(r.Name)
	if err != nil {
		return nil, "", err
	}
	description, err := checkDescription(r.Description)
	if err != nil {
		return nil, "", err
	}
	if err := checkManager(r.Caller, r.Owner); err != nil {
		return nil, "", err
	}
	actor := actorFor(r.Actor, r.Caller, r.Owner) // after checkManager: a Caller without a record is refused there
	s, err := m.sideOf(ctx, actor, r.Owner)
	if err != nil {
		return nil, "", err
	}
	if !s.owner {
		// An admin or an operator stops keys; minting one would hand them a
		// secret that acts as the owner.
		return nil, "", s.sideRefusal()
	}
	if r.Lifetime < 0 || (r.Lifetime > 0 && r.Lifetime < time.Second) {
		return nil, "", &FieldError{Field: "expires_in", Reason: "at least 1 second; leave it out for the default"}
	}
	var ancestors []string
	var parentGeneration int64
	if c := r.Caller; c != nil {
		if len(c.rec.ancestors) >= maxDelegationDepth {
			return nil, "", &DelegationError{Reason: "a key may be created through at most " + strconv.Itoa(maxDelegationDepth) + " keys; create this one from a key closer to a person, or log in", MaxDepth: maxDelegationDepth}
		}
		ancestors = append(append(make([]string, 0, len(c.rec.ancestors)+1), c.rec.ancestors...), c.rec.id())
		parentGeneration = c.rec.generation
	}
	kc, err := m.kindFor(r.Kind, r.Caller)
	if err != nil {
		return nil, "", err
	}
	metadata, err := checkMetadata(r.Metadata)
	if err != nil {
		return nil, "", err
	}
	quota, err := m.quotaFor(r.Quota)
	if err != nil {
		return nil, "", err
	}
	requested, err := m.requested(r)
	if err != nil {
		return nil, "", err
	}
	granted, err := m.grantFor(ctx, r.Owner, requested, r.Caller, s, kc)
	if err == nil {
		r.Resources, err = m.grantResources(ctx, r.Owner, granted, r.Resources, r.Caller)
	}
	if err != nil {
		m.auditRefusal(ctx, actor, r.Owner, "", err)
		return nil, "", err
	}
	now := m.stamp()
	expiresAt, err := m.expiry(kc, granted, r.Lifetime, now, now, r.Caller)
	if err != nil {
		m.auditRefusal(ctx, actor, r.Owner, "", err)
		return nil, "", err
	}
	ips, err := m.allowListOf(r.AllowedIPs, r.Caller, granted)
	if err != nil {
		m.auditRefusal(ctx, actor, r.Owner, "", err)
		return nil, "", err
	}
	k := &Key{
		OwnerID:          r.Owner,
		Name:             name,
		Description:      description,
		Prefix:           kc.Prefix,
		Kind:             kc.name,
		Permissions:      granted,
		SecretID:         m.secrets.newestID,
		AllowedIPs:       ips,
		Metadata:         metadata,
		Resources:        r.Resources,
		Version:          1,
		CreatedAt:        now,
		UpdatedAt:        now,
		ExpiresAt:        expiresAt,
		CreatedBy:        actor,
		Ancestors:        ancestors,
		ParentGeneration: parentGeneration,
	}
	quota.apply(k)
	token, err := m.insert(ctx, k, now)
	if err != nil {
		return nil, "", err
	}
	m.audit(ctx, audit.Event{Type: audit.Created, Time: now, Actor: actor, OwnerID: k.OwnerID, KeyID: k.ID, After: granted, AfterResources: k.Resources,
		AfterDescription: k.Description})
	return k, token, nil
}

// requested returns the permissions r asks for: its Permissions, or those
// of its Template.
func (m *Manager) requested(r CreateRequest) (policy.Permissions, error) {
	if r.Template == "" {
		return r.Permissions, nil
	}
	if r.Permissions != nil {
		return nil, &FieldError{Field: "template", Reason: "give either permissions or a template, not both"}
	}
	t, ok := m.policy.Template(r.Template)
	if !ok {
		names := make([]string, 0, len(m.policy.Templates()))
		for _, t := range m.policy.Templates() {
			names = append(names, strconv.Quote(t.Name))
		}
		reason := "no template is named " + strconv.Quote(r.Template) + "; "
		if len(names) == 0 {
			return nil, &FieldError{Field: "template", Reason: reason + "this app defines none: give permissions instead"}
		}
		return nil, &FieldError{Field: "template", Reason: reason + "pick one of " + strings.Join(names, ", ")}
	}
	return t.Permissions, nil
}

// grantResources returns the restriction to records of a key of owner
// holding granted, asked for as requested through caller
// ([policy.Policy.GrantResources] for the owner as the Subjects say now).
func (m *Manager) grantResources(ctx context.Context, owner string, granted policy.Permissions, requested policy.Resources, caller *Verified) (policy.Resources, error) {
	subject, err := m.subjects.Subject(ctx, owner)
	if err != nil {
		return nil, err
	}
	return m.policy.GrantResources(ctx, subject, granted, requested, callerResources(caller))
}

// callerResources is the calling key's effective restriction to records:
// what a key it creates or changes stays within; nil for a person.
func callerResources(caller *Verified) policy.Resources {
	if caller == nil {
		return nil
	}
	return caller.Resources
}

// insert gives k a fresh id and secret and stores it, retrying on the
// (astronomically unlikely) collision of an id or a hash.
func (m *Manager) insert(ctx context.Context, k *Key, now time.Time) (string, error) {
	for attempt := 0; ; attempt++ {
		id, err := newID(now)
		if err != nil {
			return "", err
		}
		t, err := generate(k.Prefix, id)
		if err != nil {
			return "", err
		}
		d := m.hasher.Sum(t.String())
		k.ID, k.Hint, k.Hash = id, t.Hint(), d[:]
		err = m.store.Create(ctx, k, m.policy.MaxKeys())
		if err == nil {
			return t.String(), nil
		}
		if !errors.Is(err, ErrConflict) || attempt == 2 {
			return "", err
		}
	}
}

// expiry returns the expiry for a key with perms created at createdAt when
// the client asks for lifetime from now, within the policy and the caller.
func (m *Manager) expiry(kc *kind, perms policy.Permissions, lifetime time.Duration, createdAt, now time.Time, caller *Verified) (time.Time, error) {
	lifetime = cmp.Or(lifetime, kc.DefaultLifetime)
	maxAge := kc.maxLifetime(m.policy, perms)
	if maxAge > 0 && lifetime > maxAge {
		return time.Time{}, &policy.LifetimeError{Requested: lifetime, Maximum: maxAge}
	}
	d, err := m.policy.Lifetime(perms, lifetime)
	if err != nil {
		return time.Time{}, err
	}
	if d == 0 && kc.MaxLifetime > 0 {
		d = maxAge // no expiry is not within the kind's maximum
	}
	var expiresAt time.Time
	if d > 0 {
		expiresAt = now.Add(d)
	}
	if maxAge > 0 && expiresAt.After(createdAt.Add(maxAge)) {
		if lifetime == 0 { // the default, on an older key: cut, as the policy cuts it
			expiresAt = createdAt.Add(maxAge)
		} else {
			return time.Time{}, &policy.LifetimeError{Requested: expiresAt.Sub(createdAt), Maximum: maxAge}
		}
	}
	if caller != nil && caller.rec.expiresAt != 0 {
		limit := timeOf(caller.rec.expiresAt)
		switch {
		case expiresAt.IsZero() && lifetime == 0, expiresAt.After(limit) && lifetime == 0:
			expiresAt = limit // the default is cut to the calling key's expiry
		case expiresAt.IsZero() || expiresAt.After(limit):
			return time.Time{}, &DelegationError{Reason: "a key created by a key cannot expire after it", ExpiresAt: limit}
		}
	}
	return expiresAt, nil
}

func callerBounds(caller *Verified) []policy.Permissions {
	if caller == nil {
		return nil
	}
	return []policy.Permissions{caller.Permissions}
}

// auditRefusal audits a refusal the policy or delegation made: a request
// beyond a bound, which an owner's security review wants to see.
func (m *Manager) auditRefusal(ctx context.Context, actor audit.Actor, owner, keyID string, err error) {
	var exceeds *policy.ExceedsError
	var invalid *policy.InvalidError
	var lifetime *policy.LifetimeError
	var delegation *DelegationError
	var allowList *policy.AllowListError
	var records *policy.RecordsError
	if !errors.As(err, &exceeds) && !errors.As(err, &invalid) && !errors.As(err, &lifetime) && !errors.As(err, &delegation) &&
		!errors.As(err, &allowList) && !errors.As(err, &records) {
		return
	}
	e := audit.Event{Type: audit.Refused, Time: m.now(), Actor: actor, OwnerID: owner, KeyID: keyID, Reason: err.Error()}
	if exceeds != nil {
		e.After = exceeds.Exceeded
	}
	if records != nil {
		e.After, e.AfterResources = records.Exceeded, records.Records
	}
	m.audit(ctx, e)
}

// stamp returns now as records keep it: UTC, whole milliseconds.
func (m *Manager) stamp() time.Time { return m.now().UTC().Truncate(time.Millisecond) }

// kindFor returns the kind of a new key: the one named, or the calling
// key's, which a key made by a key keeps.
func (m *Manager) kindFor(name string, caller *Verified) (*kind, error) {
	if caller != nil {
		kc := m.kindOf(caller.rec)
		if name != "" && name != kc.name {
			return nil, &FieldError{Field: "kind", Reason: "a key made by a key is of its kind, " + strconv.Quote(kc.name) + "; leave kind out"}
		}
		return kc, nil
	}
	return m.kinds.named(name)
}
