package ui

import (
	"errors"
	"net/http"
	"slices"

	"github.com/keycaphq/keycap/policy"
)

// owners returns the organizations of Options.Owners whose keys user
// manages now, in the app's order, each with a name. An organization the
// user may not manage (not a member, no ManageKeys, unknown, disabled) is
// left out: the keys API would refuse every call about it.
func (p *Page) owners(r *http.Request, user string) ([]Owner, error) {
	if p.o.Owners == nil {
		return nil, nil
	}
	var out []Owner
	for _, o := range p.o.Owners(r) {
		if o.ID == "" || o.ID == user || slices.ContainsFunc(out, func(x Owner) bool { return x.ID == o.ID }) {
			continue
		}
		_, err := p.o.Manager.Manages(r.Context(), user, o.ID)
		var manage *policy.ManageError
		switch {
		case errors.Is(err, policy.ErrNotMember), errors.Is(err, policy.ErrSubjectDisabled), errors.As(err, &manage):
			continue
		case err != nil:
			return nil, err
		}
		if o.Name == "" {
			o.Name = o.ID
		}
		out = append(out, o)
	}
	return out, nil
}

// kinds returns the names of the kinds of keys besides the default one
// (keys.Config.Kinds), sorted; none when the app defines no other kind.
func (p *Page) kinds() []string {
	var names []string
	for name := range p.o.Manager.Kinds() {
		if name != "" {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}
