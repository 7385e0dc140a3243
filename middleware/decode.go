package middleware

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"unicode/utf8"

	"github.com/keycaphq/keycap"
	"github.com/keycaphq/keycap/policy"
)

// fieldDecoder parses one top-level field's raw JSON value.
type fieldDecoder func(raw json.RawMessage) error

// decodeObject reads r's body as one JSON object whose top-level fields
// are exactly (case and all) the names in fields, each at most once, and
// hands each value to its decoder. An empty body is allowed when
// optionalBody is set. Everything else is an INVALID_BODY error.
func (kc *Keycap) decodeObject(w http.ResponseWriter, r *http.Request, optionalBody bool, fields map[string]fieldDecoder) error {
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, kc.maxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return invalidBody("the body is larger than "+strconv.FormatInt(kc.maxBody, 10)+" bytes", "")
		}
		return invalidBody("the body could not be read", "")
	}
	if !utf8.Valid(data) {
		return invalidBody("the body is not valid UTF-8", "")
	}
	if len(bytes.TrimSpace(data)) == 0 {
		if optionalBody {
			return nil
		}
		return invalidBody("send a JSON object", "")
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return invalidBody("set Content-Type: application/json", "")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return invalidBody("the body must be a JSON object", "")
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return invalidBody("the body is not valid JSON", "")
		}
		name, _ := tok.(string)
		decode, ok := fields[name]
		if !ok {
			return invalidBody("unknown field "+strconv.Quote(name)+"; allowed: "+fieldList(fields), name)
		}
		if seen[name] {
			return invalidBody("field "+strconv.Quote(name)+" appears twice", name)
		}
		seen[name] = true
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return invalidBody("the body is not valid JSON", name)
		}
		if err := decode(raw); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil {
		return invalidBody("the body is not valid JSON", "")
	}
	if _, err := dec.Token(); err != io.EOF {
		return invalidBody("the body must hold exactly one JSON object", "")
	}
	return nil
}

func fieldList(fields map[string]fieldDecoder) string {
	names := make([]string, 0, len(fields))
	for n := range fields {
		names = append(names, strconv.Quote(n))
	}
	sortStrings(names)
	out := ""
	for i, n := range names {
		if i > 0 {
			out += ", "
		}
		out += n
	}
	return out
}

func invalidBody(reason, field string) *keycap.Error {
	return &keycap.Error{Code: keycap.CodeInvalidBody,
		Message: "invalid request body: " + reason, Details: &keycap.InvalidBodyDetails{Reason: reason, Field: field}}
}

func stringField(name string, dst **string) fieldDecoder {
	return func(raw json.RawMessage) error {
		var s string
		if len(raw) == 0 || raw[0] != '"' || json.Unmarshal(raw, &s) != nil {
			return invalidBody(name+" must be a string", name)
		}
		*dst = &s
		return nil
	}
}

func boolField(name string, dst **bool) fieldDecoder {
	return func(raw json.RawMessage) error {
		var b bool
		if s := string(raw); s != "true" && s != "false" {
			return invalidBody(name+" must be true or false", name)
		}
		_ = json.Unmarshal(raw, &b)
		*dst = &b
		return nil
	}
}

// secondsField accepts a whole number of seconds from 0 to 100 years.
func secondsField(name string, dst **int64) fieldDecoder {
	return func(raw json.RawMessage) error {
		n, err := strconv.ParseInt(string(raw), 10, 64)
		if err != nil || n < 0 || n > 100*365*24*3600 {
			return invalidBody(name+" must be a whole number of seconds from 0 to 3153600000", name)
		}
		*dst = &n
		return nil
	}
}

// lifetimeField accepts expires_in: a whole number of seconds from 1 to 100
// years, the same on create and on PATCH (leave it out for the default).
func lifetimeField(dst **int64) fieldDecoder {
	seconds := secondsField("expires_in", dst)
	return func(raw json.RawMessage) error {
		if err := seconds(raw); err != nil {
			return err
		}
		if **dst == 0 {
			*dst = nil
			return invalidBody("expires_in must be at least 1 second; leave it out for the default", "expires_in")
		}
		return nil
	}
}

// permissionsField accepts {"resource": ["action", ...], ...} and nothing
// else: no null, no arrays at the top, no non-string actions.
func permissionsField(dst *policy.Permissions) fieldDecoder {
	return func(raw json.RawMessage) error {
		const want = `permissions must be an object of arrays of strings, e.g. {"files": ["read"]}`
		var resources map[string]json.RawMessage
		if len(raw) == 0 || raw[0] != '{' || json.Unmarshal(raw, &resources) != nil {
			return invalidBody(want, "permissions")
		}
		p := make(policy.Permissions, len(resources))
		for resource, rawActions := range resources {
			var actions []json.RawMessage
			if len(rawActions) == 0 || rawActions[0] != '[' || json.Unmarshal(rawActions, &actions) != nil {
				return invalidBody(want, "permissions")
			}
			list := make([]string, 0, len(actions))
			for _, a := range actions {
				var s string
				if len(a) == 0 || a[0] != '"' || json.Unmarshal(a, &s) != nil {
					return invalidBody(want, "permissions")
				}
				list = append(list, s)
			}
			p[resource] = list
		}
		*dst = p
		return nil
	}
}

// countField accepts a whole number from 0 to 2^53 (exact in JavaScript).
func countField(name string, dst **int64) fieldDecoder {
	return func(raw json.RawMessage) error {
		n, err := strconv.ParseInt(string(raw), 10, 64)
		if err != nil || n < 0 || n > 1<<53 {
			return invalidBody(name+" must be a whole number from 0 to 9007199254740992", name)
		}
		*dst = &n
		return nil
	}
}

// resourcesField accepts {"resource": ["id", ...], ...} or null (no
// restriction: on PATCH, lifts it); ids are checked by the policy.
func resourcesField(dst **policy.Resources) fieldDecoder {
	return func(raw json.RawMessage) error {
		const want = `resources must be an object of arrays of record ids, e.g. {"projects": ["42"]}, or null`
		if string(raw) == "null" {
			*dst = new(policy.Resources)
			return nil
		}
		var perms policy.Permissions
		if err := permissionsField(&perms)(raw); err != nil {
			return invalidBody(want, "resources")
		}
		r := policy.Resources(perms)
		*dst = &r
		return nil
	}
}
