package sqlstore

import (
	"encoding/json"
	"strings"

	"github.com/keycaphq/keycap/policy"
)

// decodePermissions reads a permissions column: the JSON text
// permissionsJSON wrote. The usual form, {"name":["action",...],...} with
// no escapes nor spaces, is read by hand (every verification that misses
// the cache reads one, and encoding/json's reflection costs several
// allocations more); anything else goes to encoding/json, whose result
// this one equals (FuzzDecodePermissions).
func decodePermissions(b []byte) (policy.Permissions, error) {
	if p, ok := quickPermissions(string(b)); ok {
		return p, nil
	}
	var p policy.Permissions
	err := json.Unmarshal(b, &p)
	return p, err
}

// quickPermissions parses s when it has the plain form; ok is false
// otherwise, and then p means nothing.
func quickPermissions(s string) (p policy.Permissions, ok bool) {
	if s == "null" {
		return nil, true
	}
	if len(s) < 2 || s[0] != '{' || s[len(s)-1] != '}' {
		return nil, false
	}
	s = s[1 : len(s)-1]
	p = policy.Permissions{}
	for s != "" {
		name, rest, ok := quickString(s)
		if !ok || !strings.HasPrefix(rest, ":[") {
			return nil, false
		}
		rest = rest[2:]
		actions := []string{}
		for !(len(actions) == 0 && strings.HasPrefix(rest, "]")) {
			a, after, ok := quickString(rest)
			if !ok {
				return nil, false
			}
			actions = append(actions, a)
			if rest = after; strings.HasPrefix(rest, "]") {
				break
			}
			if !strings.HasPrefix(rest, ",") {
				return nil, false
			}
			rest = rest[1:]
		}
		if _, dup := p[name]; dup {
			return nil, false // encoding/json would merge: leave it to it
		}
		p[name] = actions
		s = rest[1:]
		if s != "" {
			if s[0] != ',' || len(s) == 1 {
				return nil, false
			}
			s = s[1:]
		}
	}
	return p, true
}

// quickString reads a JSON string at the start of s that holds no escape
// and no byte below 0x20 or above 0x7e, and returns it and what follows.
func quickString(s string) (str, rest string, ok bool) {
	if len(s) < 2 || s[0] != '"' {
		return "", "", false
	}
	for i := 1; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"':
			return s[1:i], s[i+1:], true
		case c == '\\' || c < 0x20 || c > 0x7e:
			return "", "", false
		}
	}
	return "", "", false
}
