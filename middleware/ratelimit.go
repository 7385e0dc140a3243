package middleware

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/keycaphq/keycap"
	"github.com/keycaphq/keycap/ratelimit"
)

// RateLimit limits requests authenticated by API keys. The zero value sets
// no limit. Limits are off unless configured: there is no default budget.
// Answers to limited keys carry RateLimit-Limit, RateLimit-Remaining and
// RateLimit-Reset, and the structured RateLimit-Policy and RateLimit fields
// of draft-ietf-httpapi-ratelimit-headers (policies "key" and "owner").
type RateLimit struct {
	// PerKey is each key's budget.
	PerKey ratelimit.Limit
	// PerOwner is the budget all of a user's keys share, so that minting
	// more keys buys no more traffic.
	PerOwner ratelimit.Limit
	// Algorithm: ratelimit.FixedWindow (the zero value) or SlidingWindow.
	Algorithm ratelimit.Algorithm
	// Limiter counts; nil means an in-process ratelimit.Memory, exact in
	// one process. Use a shared one (Redis) for several instances.
	Limiter ratelimit.Limiter

	policyField string // the RateLimit-Policy field, computed once by validate
}

func (rl RateLimit) enabled() bool { return !rl.PerKey.IsZero() || !rl.PerOwner.IsZero() }

func (rl *RateLimit) validate() error {
	if err := rl.PerKey.Validate(); err != nil {
		return errors.New("middleware: RateLimit.PerKey: " + err.Error())
	}
	if err := rl.PerOwner.Validate(); err != nil {
		return errors.New("middleware: RateLimit.PerOwner: " + err.Error())
	}
	if rl.enabled() && rl.Limiter == nil {
		rl.Limiter = ratelimit.NewMemory()
	}
	rl.policyField = policyField(rl.PerKey, rl.PerOwner)
	return nil
}

// policyField is the RateLimit-Policy field of draft-ietf-httpapi-
// ratelimit-headers: a structured list (RFC 8941) of the budgets, named
// "key" and "owner" as in RATE_LIMITED's details.scope, each with its
// quota q (requests) and window w (seconds, rounded up).
func policyField(perKey, perOwner ratelimit.Limit) string {
	var items []string
	for _, b := range []struct {
		name  string
		limit ratelimit.Limit
	}{{"key", perKey}, {"owner", perOwner}} {
		if !b.limit.IsZero() {
			items = append(items, `"`+b.name+`";q=`+strconv.FormatInt(b.limit.Requests, 10)+";w="+strconv.FormatInt(ceilSeconds(b.limit.Window), 10))
		}
	}
	return strings.Join(items, ", ")
}

// limit spends one request of p's key and owner budgets, writing the
// RateLimit-* headers; it returns a RATE_LIMITED error when refused. The
// check happens before anything else is spent, so a refused request
// spends no quota.
func (kc *Keycap) limit(w http.ResponseWriter, r *http.Request, p *Principal) error {
	rl := kc.rateLimit
	res, err := rl.Limiter.Allow(r.Context(), rl.Algorithm, kc.manager.Now(),
		ratelimit.Bucket{Name: "key:" + p.keyID, Limit: rl.PerKey},
		ratelimit.Bucket{Name: "owner:" + p.ownerID, Limit: rl.PerOwner})
	if err != nil {
		return &keycap.Error{Code: keycap.CodeStoreUnavailable, Err: err,
			Message: "the rate limiter is unavailable; try again shortly"}
	}
	scope := "key"
	if res.Bucket.Name != "key:"+p.keyID {
		scope = "owner"
	}
	h := w.Header()
	h.Set("RateLimit-Limit", strconv.FormatInt(res.Bucket.Limit.Requests, 10))
	h.Set("RateLimit-Remaining", strconv.FormatInt(res.Remaining, 10))
	h.Set("RateLimit-Reset", strconv.FormatInt(ceilSeconds(res.Reset), 10))
	h.Set("RateLimit-Policy", rl.policyField)
	h.Set("RateLimit", `"`+scope+`";r=`+strconv.FormatInt(res.Remaining, 10)+";t="+strconv.FormatInt(ceilSeconds(res.Reset), 10))
	if res.Allowed {
		return nil
	}
	retry := ceilSeconds(res.RetryAfter)
	h.Set("Retry-After", strconv.FormatInt(retry, 10))
	return &keycap.Error{Code: keycap.CodeRateLimited,
		Message: "too many requests for this " + scope + "; retry in " + strconv.FormatInt(retry, 10) + " seconds",
		Details: &keycap.RateLimitDetails{Scope: scope, Limit: res.Bucket.Limit.Requests, RetryAfterSeconds: retry}}
}

func ceilSeconds(d time.Duration) int64 {
	s := int64(d / time.Second)
	if d%time.Second > 0 {
		s++
	}
	return s
}
