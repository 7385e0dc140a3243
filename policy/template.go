package policy

import (
	"errors"
	"fmt"
	"strings"
)

// Template is a named preset of permissions a user may pick instead of
// choosing permissions one by one ("Read-only dashboard": files:read
// projects:read), like Cloudflare's token templates.
type Template struct {
	Name        string      // unique, 1 to 100 characters: what the user picks
	Description string      // optional, for humans
	Permissions Permissions // what a key created from it holds
}

// TemplateChoice is a [Template] as one subject sees it: what of it they
// may grant and what they may not.
type TemplateChoice struct {
	Template // the template itself, as configured
	// Grantable is the part of Permissions within the subject's cap.
	Grantable Permissions
	// Dropped is the part beyond the cap; empty when the template is
	// available. A key is never created from a cut template: asking for
	// one is refused as asking for its permissions would be.
	Dropped Permissions
}

// Available reports whether the subject may create a key from the
// template: nothing of it is beyond their cap.
func (c TemplateChoice) Available() bool { return c.Dropped.IsEmpty() }

// setTemplates validates c.Templates: names unique and not empty,
// permissions well formed, and a policy that lets clients choose.
func (p *Policy) setTemplates(c Config) error {
	if len(c.Templates) > 0 && !c.AllowClientPermissions {
		return errors.New("policy: Templates need AllowClientPermissions: a template is a client's choice of permissions")
	}
	seen := make(map[string]bool, len(c.Templates))
	for i, t := range c.Templates {
		name := strings.TrimSpace(t.Name)
		if name == "" || len(name) > 100 || name != t.Name {
			return fmt.Errorf("policy: Templates[%d]: a name of 1 to 100 characters without surrounding spaces is required", i)
		}
		if seen[name] {
			return fmt.Errorf("policy: Templates[%d]: the name %q is used twice", i, name)
		}
		seen[name] = true
		perms, err := normalize(t.Permissions, true)
		if err != nil {
			return fmt.Errorf("policy: Templates[%q]: %w", name, err)
		}
		if perms.IsEmpty() {
			return fmt.Errorf("policy: Templates[%q]: a template needs permissions", name)
		}
		p.templates = append(p.templates, Template{Name: name, Description: t.Description, Permissions: perms})
	}
	return nil
}

// Templates returns the configured templates, in their order. The result
// is shared: do not modify it.
func (p *Policy) Templates() []Template { return p.templates }

// Template returns the template named name, if there is one.
func (p *Policy) Template(name string) (Template, bool) {
	for _, t := range p.templates {
		if t.Name == name {
			return t, true
		}
	}
	return Template{}, false
}

// Choices returns every template as a subject whose cap is allowed sees
// it: what they may grant of it and what would be dropped. Templates the subject cannot
// fully grant are listed, not hidden, so a page can say why they are off.
func (p *Policy) Choices(allowed Permissions) []TemplateChoice {
	out := make([]TemplateChoice, len(p.templates))
	for i, t := range p.templates {
		out[i] = TemplateChoice{Template: t, Grantable: Intersect(t.Permissions, allowed), Dropped: Excess(t.Permissions, allowed)}
		if out[i].Dropped == nil {
			out[i].Dropped = Permissions{}
		}
	}
	return out
}
