package middleware

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/keycaphq/keycap"
	"github.com/keycaphq/keycap/ratelimit"
)

// RateLimit limits requests authenticated by API keys. The zero value sets
// no limit. Limits are off unless configured: there is no default budget.
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
	return nil
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
	h := w.Header()
	h.Set("RateLimit-Limit", strconv.FormatInt(res.Bucket.Limit.Requests, 10))
	h.Set("RateLimit-Remaining", strconv.FormatInt(res.Remaining, 10))
	h.Set("RateLimit-Reset", strconv.FormatInt(ceilSeconds(res.Reset), 10))
	if res.Allowed {
		return nil
	}
	retry := ceilSeconds(res.RetryAfter)
	h.Set("Retry-After", strconv.FormatInt(retry, 10))
	scope := "key"
	if res.Bucket.Name != "key:"+p.keyID {
		scope = "owner"
	}
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
