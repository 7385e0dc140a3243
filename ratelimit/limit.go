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

// Validate reports a Limit that cannot be enforced: a set Limit needs
// Requests >= 1 and a Window of at least 1ms. The zero Limit is valid.
func (l Limit) Validate() error {
	switch {
	case l.IsZero():
		return nil
	case l.Requests <= 0:
		return errors.New("ratelimit: a limit needs Requests of at least 1; to set no limit, leave both Requests and Window 0")
	case l.Window < time.Millisecond:
		return errors.New("ratelimit: a limit needs a Window of at least 1ms; to set no limit, leave both Requests and Window 0")
	}
	return nil
}
