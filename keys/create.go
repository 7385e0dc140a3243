package keys

import (
	"context"
	"errors"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/keycaphq/keycap/policy"
)

// MaxNameLength is the longest key name, in characters.
const MaxNameLength = 100

// CreateRequest describes a key to create.
type CreateRequest struct {
	OwnerID string
	Name    string // 1 to 100 printable characters
	// Permissions asked for; nil means the policy's default.
	Permissions policy.Permissions
	// Lifetime asked for; 0 means the policy's default.
	Lifetime time.Duration
	// Caller is the key that authenticated the request, for delegation: the
	// new key stays within its permissions and expires no later. nil for a
	// request authenticated by a session.
	Caller *Verified
	// Actor is who asks, for the audit; "" means OwnerID.
	Actor string
	// Quota asked for; nil means the default (Config.Quota). It may only be
	// stricter than the default.
	Quota *Quota
}

// Create grants the request's permissions through the policy and stores a
// new key. It returns the record and the key itself, which is shown once
// and never stored. On any refusal nothing is stored; the error is a
// [*policy.InvalidError], [*policy.ExceedsError], [*policy.LifetimeError],
// [*FieldError], [*DelegationError], [ErrUnknownSubject],
// [policy.ErrSubjectDisabled] or a Store error.
func (m *Manager) Create(ctx context.Context, r CreateRequest) (*Key, string, error) {
	actor := r.Actor
	if actor == "" {
		actor = r.OwnerID
	}
	name, err := checkName(r.Name)
	if err != nil {
		return nil, "", err
	}
	if err := checkCaller(r.Caller, r.OwnerID); err != nil {
		return nil, "", err
	}
	subject, err := m.subjects.Subject(ctx, r.OwnerID)
	if err != nil {
		return nil, "", err
	}
	quota, err := m.quotaFor(r.Quota)
	if err != nil {
		return nil, "", err
	}
	if !quota.IsZero() {
		if _, ok := m.store.(QuotaStore); !ok {
			return nil, "", errors.New("keys: quotas need a Store that implements QuotaStore")
		}
	}
	granted, err := m.policy.Grant(ctx, subject, r.Permissions, callerBounds(r.Caller)...)
	if err != nil {
		m.auditRefusal(ctx, actor, r.OwnerID, "", err)
		return nil, "", err
	}
	now := m.now().UTC().Truncate(time.Millisecond)
	expiresAt, err := m.expiry(granted, r.Lifetime, now, now, r.Caller)
	if err != nil {
		m.auditRefusal(ctx, actor, r.OwnerID, "", err)
		return nil, "", err
	}
	k := &Key{
		OwnerID:     r.OwnerID,
		Name:        name,
		Prefix:      m.prefix,
		Permissions: granted,
		CreatedAt:   now,
		UpdatedAt:   now,
		ExpiresAt:   expiresAt,
		CreatedBy:   actor,
	}
	if r.Caller != nil {
		k.ParentID = r.Caller.Key.ID
	}
	quota.apply(k)
	token, err := m.insert(ctx, k, now)
	if err != nil {
		return nil, "", err
	}
	m.audit(ctx, Event{Type: EventCreated, Time: now, Actor: actor, OwnerID: k.OwnerID, KeyID: k.ID, After: granted})
	return k, token, nil
}

// insert gives k a fresh id and secret and stores it, retrying on the
// (astronomically unlikely) collision of an id or a hash.
func (m *Manager) insert(ctx context.Context, k *Key, now time.Time) (string, error) {
	for attempt := 0; ; attempt++ {
		id, err := newID(now)
		if err != nil {
			return "", err
		}
		t, err := Generate(m.prefix, id)
		if err != nil {
			return "", err
		}
		d := m.hasher.Sum(t.String())
		k.ID, k.Hint, k.Hash = id, t.Hint(), d[:]
		err = m.store.Create(ctx, k)
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
func (m *Manager) expiry(perms policy.Permissions, lifetime time.Duration, createdAt, now time.Time, caller *Verified) (time.Time, error) {
	d, err := m.policy.Lifetime(perms, lifetime)
	if err != nil {
		return time.Time{}, err
	}
	var expiresAt time.Time
	if d > 0 {
		expiresAt = now.Add(d)
	}
	if max := m.policy.MaxLifetime(perms); max > 0 && expiresAt.After(createdAt.Add(max)) {
		if lifetime == 0 { // the default, on an older key: cut, as the policy cuts it
			expiresAt = createdAt.Add(max)
		} else {
			return time.Time{}, &policy.LifetimeError{Requested: expiresAt.Sub(createdAt), Maximum: max}
		}
	}
	if caller != nil && !caller.Key.ExpiresAt.IsZero() {
		limit := caller.Key.ExpiresAt
		switch {
		case expiresAt.IsZero() && lifetime == 0, expiresAt.After(limit) && lifetime == 0:
			expiresAt = limit // the default is cut to the calling key's expiry
		case expiresAt.IsZero() || expiresAt.After(limit):
			return time.Time{}, &DelegationError{Reason: "a key created by a key cannot expire after it", ExpiresAt: limit}
		}
	}
	return expiresAt, nil
}

// checkCaller refuses a calling key that belongs to another owner.
func checkCaller(caller *Verified, owner string) error {
	if caller != nil && (caller.Key == nil || caller.Key.OwnerID != owner) {
		return &DelegationError{Reason: "a key may only manage its own owner's keys"}
	}
	return nil
}

func callerBounds(caller *Verified) []policy.Permissions {
	if caller == nil {
		return nil
	}
	return []policy.Permissions{caller.Permissions}
}

func checkName(name string) (string, error) {
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		return "", &FieldError{Field: "name", Reason: "give the key a name"}
	case !utf8.ValidString(name):
		return "", &FieldError{Field: "name", Reason: "the name must be valid UTF-8"}
	case utf8.RuneCountInString(name) > MaxNameLength:
		return "", &FieldError{Field: "name", Reason: "the name is at most 100 characters"}
	case strings.IndexFunc(name, unicode.IsControl) >= 0:
		return "", &FieldError{Field: "name", Reason: "the name must not contain control characters"}
	}
	return name, nil
}

func (m *Manager) auditRefusal(ctx context.Context, actor, owner, keyID string, err error) {
	e := Event{Type: EventRefused, Time: m.now(), Actor: actor, OwnerID: owner, KeyID: keyID, Reason: err.Error()}
	var exceeds *policy.ExceedsError
	if errors.As(err, &exceeds) {
		e.After = exceeds.Exceeded
	}
	m.audit(ctx, e)
}
