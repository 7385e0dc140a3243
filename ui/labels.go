package ui

import "reflect"

// Labels are the words of the page that the server renders. A zero field
// means its English default ([DefaultLabels]). The sentences the script
// writes (refusals explained, the activity feed) are English.
type Labels struct {
	Title        string // the page's heading: "API keys"
	Intro        string // under the heading, before the cap
	YouMayGrant  string // before the description of the cap
	NewKeyTitle  string // the shown-once panel: "Your new key"
	CopyNow      string // the shown-once warning, in bold
	CopyNowWhy   string // the rest of that warning
	CopyKey      string // the copy button
	TryIt        string // before the curl line
	Saved        string // the button that closes the shown-once panel
	CreateTitle  string // the heading of the create form
	Name         string // the name field
	NameExample  string // its placeholder
	Expires      string // the expiry field
	AllowedIPs   string // the IP ranges field
	Optional     string // after an optional field's label
	IPsHelp      string // under the IP ranges field
	Permissions  string // the picker's legend
	PickerHelp   string // under it
	CreateButton string // the create button
	KeysTitle    string // the heading of the key list
	ActivityHelp string // under the Activity heading
	Activity     string // the Activity heading
	Refresh      string // the refresh buttons
	Loading      string // while a panel loads
	Cancel       string // dialog buttons
	Revoke       string // the revoke dialog's confirm button
	RevokeWarn   string // the revoke dialog's description
	Rotate       string // the rotate dialog's confirm button
	RotateWhy    string // the rotate dialog's description
	GraceLegend  string // the rotate dialog's question
	Save         string // the IP dialog's save button
	NoScript     string // shown when scripts are off
	ExpiryDate   string // the custom expiry date field
	Template     string // the template field
	TemplateHelp string // under it
	Quota        string // the request quota field
	QuotaHelp    string // under it
	Show         string // before the list filter
	AllKeys      string // the filter's choice of every key
	ActiveKeys   string // the filter's choice of active (and turned off) keys
	RevokedKeys  string // the filter's choice of revoked keys
	ExpiredKeys  string // the filter's choice of expired keys
	MoreKeys     string // the button that loads the next page of keys
	RevokeReason string // the revoke dialog's reason field
	EditTitle    string // the edit dialog's heading, before the key's name
	KeepExpiry   string // the edit dialog's "unchanged" expiry
	Close        string // the detail dialog's close button

	Description     string // the description field
	DescriptionHelp string // under it
	RefillAmount    string // the quota refill amount field
	RefillEvery     string // the quota refill interval field
	NoRefill        string // its choice of no refill
	RefillHelp      string // under the quota fields, after QuotaHelp
	EditQuotaHelp   string // under the edit dialog's quota fields

	Owner        string // the choice of whose keys the page shows (Options.Owners)
	OwnKeys      string // its choice of the user's own keys
	Kind         string // the kind-of-key field (keys.Config.Kinds)
	DefaultKind  string // its choice of the default kind
	KindHelp     string // under it
	Metadata     string // the metadata field, and its row in the details
	MetadataHelp string // under it
	EditMetadata string // under it in the edit dialog, after MetadataHelp
}

// DefaultLabels are the English words of the page.
var DefaultLabels = Labels{
	Title:        "API keys",
	Intro:        "A key lets a script call this app's API as you, with only the permissions you pick.",
	YouMayGrant:  "You may grant:",
	NewKeyTitle:  "Your new key",
	CopyNow:      "Copy it now: it is shown only once.",
	CopyNowWhy:   "The app stores only a hash of it. If you lose it, revoke it and create another.",
	CopyKey:      "Copy key",
	TryIt:        "Try it from a terminal:",
	Saved:        "I have saved it",
	CreateTitle:  "Create key",
	Name:         "Name",
	NameExample:  "e.g. nightly backup script",
	Expires:      "Expires",
	AllowedIPs:   "Allowed IP ranges",
	Optional:     "(optional)",
	IPsHelp:      "The key works only from these addresses or ranges, separated by commas or spaces. Leave it empty to use the key from anywhere.",
	Permissions:  "Permissions",
	PickerHelp:   "Pick only what the key needs. Greyed-out permissions are beyond what your role may grant.",
	CreateButton: "Create key",
	KeysTitle:    "Your keys",
	Activity:     "Activity",
	ActivityHelp: "What happened to your keys, newest first: changes, rotations, revocations, and requests that were refused.",
	Refresh:      "Refresh",
	Loading:      "Loading…",
	Cancel:       "Cancel",
	Revoke:       "Revoke key",
	RevokeWarn:   "Scripts using this key stop working at once. This cannot be undone.",
	Rotate:       "Rotate key",
	RotateWhy:    "You get a new key with the same name, permissions and expiry, shown once. Scripts must switch to it: the old key stops working.",
	GraceLegend:  "When should the old key stop working?",
	Save:         "Save",
	NoScript:     "Managing keys needs JavaScript.",
	ExpiryDate:   "Expiry date",
	Template:     "Start from a template",
	TemplateHelp: "A template picks the permissions for a common use; you can still change them below.",
	Quota:        "Request quota",
	QuotaHelp:    "How many requests the key may make; leave it empty for no limit.",
	Show:         "Show",
	AllKeys:      "All keys",
	ActiveKeys:   "Active keys",
	RevokedKeys:  "Revoked keys",
	ExpiredKeys:  "Expired keys",
	MoreKeys:     "Show more keys",
	RevokeReason: "Reason",
	EditTitle:    "Edit",
	KeepExpiry:   "unchanged",
	Close:        "Close",

	Description:     "Description",
	DescriptionHelp: "What the key is for and who runs it, for whoever looks at it later: at most 500 characters.",
	RefillAmount:    "Refill to",
	RefillEvery:     "every",
	NoRefill:        "no refill",
	RefillHelp:      "With a refill, the quota goes back to that many requests every hour, day, week or 30 days; unused requests do not carry over.",
	Owner:           "Keys of",
	OwnKeys:         "yourself",
	Kind:            "Kind of key",
	DefaultKind:     "standard",
	KindHelp:        "Each kind of key has a prefix of its own and may hold only what that kind allows; a key's kind never changes.",
	Metadata:        "Metadata",
	MetadataHelp:    `A JSON object this app reads with the key, such as {"environment": "staging"}: at most 4 KiB, 4 levels deep and 64 names.`,
	EditMetadata:    "Empty it to remove the metadata.",

	EditQuotaHelp: "Lower the quota to hold a script back; empty it to remove the quota. Where this app gives every key a quota, it can only be lowered, never raised. A new refill starts counting now.",
}

// withDefaults returns l with every empty field set to its default.
func (l Labels) withDefaults() Labels {
	v, d := reflect.ValueOf(&l).Elem(), reflect.ValueOf(DefaultLabels)
	for i := range v.NumField() {
		if v.Field(i).String() == "" {
			v.Field(i).Set(d.Field(i))
		}
	}
	return l
}
