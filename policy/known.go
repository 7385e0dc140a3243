package policy

// Known returns every permission the policy's configuration names: the
// union of Max, every role and Default. A UI can offer these, marking the
// ones beyond a user's cap as not grantable. Permissions only a MaxFunc
// returns are not known in advance and are not included.
func (p *Policy) Known() Permissions {
	sets := []Permissions{p.max, p.defaults}
	for _, r := range p.roles {
		sets = append(sets, r)
	}
	return Union(sets...)
}
