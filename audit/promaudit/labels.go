package promaudit

import "github.com/keycaphq/keycap/audit"

// The results of the duration histogram: three classes, so that slow
// store failures do not hide in the latency of refusals.
const (
	resultAccepted = "accepted"
	resultRefused  = "refused"
	resultError    = "error"
)

// outcomes are the labels of audit.Verification.Outcome and the result
// class each is timed under.
var outcomes = []struct{ label, result string }{
	{"accepted", resultAccepted},
	{"malformed", resultRefused},
	{"unknown", resultRefused},
	{"wrong_secret", resultRefused},
	{"revoked", resultRefused},
	{"disabled", resultRefused},
	{"expired", resultRefused},
	{"owner_gone", resultRefused},
	{"parent_invalid", resultRefused},
	{"ip_not_allowed", resultRefused},
	{"unavailable", resultError},
	{"error", resultError},
}

// otherOutcome counts outcomes not in the list.
const otherOutcome = "error"

// types are the event types counted under their own label.
var types = []audit.Type{
	audit.Created, audit.Updated, audit.Rotated, audit.Revoked,
	audit.Disabled, audit.Enabled, audit.Refused, audit.VerificationDenied, audit.Leaked,
}

// otherType counts event types not in the list.
const otherType = "other"
