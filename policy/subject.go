package policy

// Subject is who a cap is computed for: the user who owns or creates a key.
// The zero value is an enabled user with no id, no roles and no attributes.
type Subject struct {
	ID         string            // the app's user id; the owner id stored with a key
	Roles      []string          // looked up in [Config.Roles]; unknown roles grant nothing
	Attributes map[string]string // free-form, for a [Config.MaxFunc]
	Disabled   bool              // a disabled subject may grant nothing and its keys verify to nothing
	// Organization marks a subject that is not a person (an organization,
	// a team, a service account): it cannot log in, and its keys are
	// managed by the users [Config].Members says may manage them. Its cap
	// is computed like anyone's (Max, Roles, MaxFunc).
	Organization bool
}
