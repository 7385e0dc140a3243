package ratelimit

import (
	"errors"
	"time"
)

// Limit is a budget: Requests per Window. The zero Limit (both fields 0)
// means no limit; any other must pass [Limit.Validate].
type Limit struct {
	Requests int64         // at least 1
	Window   time.Duration // at least 1ms
}

// IsZero reports whether l sets no limit: both fields are 0. A Limit with
// a Window and no Requests is set, and invalid: it is not read as "no
// limit", which is not what someone who wrote a window meant.
func (l Limit) IsZero() bool { return l == Limit{} }

// maxHeaderInteger is the largest integer an RFC 8941 structured field
// holds: 15 digits.
const maxHeaderInteger = 999_999_999_999_999

// Validate reports a Limit that cannot be enforced: a set Limit needs
// Requests >= 1 and a Window of at least 1ms, each at most
// 999,999,999,999,999 (Window in seconds), the largest a RateLimit header
// carries. The zero Limit is valid.
func (l Limit) Validate() error {
	switch {
	case l.IsZero():
		return nil
	case l.Requests <= 0:
		return errors.New("ratelimit: a limit needs Requests of at least 1; to set no limit, leave both Requests and Window 0")
	case l.Window < time.Millisecond:
		return errors.New("ratelimit: a limit needs a Window of at least 1ms; to set no limit, leave both Requests and Window 0")
	case l.Requests > maxHeaderInteger || l.Window/time.Second > maxHeaderInteger:
		// RateLimit-Policy and RateLimit carry both as RFC 8941 integers.
		return errors.New("ratelimit: Requests and Window (in seconds) must each be at most 999,999,999,999,999, the largest a RateLimit header can carry")
	}
	return nil
}
