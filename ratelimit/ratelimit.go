// Package ratelimit counts requests in windows: per API key and per owner
// (all of a user's keys share one budget, so minting more keys buys no
// more traffic). [Memory] is exact within one process; ratelimit/redislimit
// provides a [Limiter] that is exact across instances.
package ratelimit

import (
	"context"
	"time"
)

// Algorithm is how a window counts. The zero value is [FixedWindow].
type Algorithm int

const (
	// FixedWindow counts requests in consecutive windows aligned to the
	// epoch: cheap, but a client may burst up to twice the limit across a
	// window boundary.
	FixedWindow Algorithm = iota
	// SlidingWindow counts the requests of the last Window exactly (a log
	// of admission times): no boundary bursts, memory of one timestamp per
	// admitted request in the window.
	SlidingWindow
)

// Bucket is one budget to spend from: a Limit under a name such as
// "key:<id>" or "owner:<user id>".
type Bucket struct {
	// Name identifies the budget: calls that name the same bucket spend
	// from one count, whatever their Limit. A Limiter that keeps counts in
	// a shared store (Redis) shares names with every user of its prefix.
	Name string
	// Limit is the budget, read on every call: the zero Limit means no
	// limit and the bucket is skipped.
	Limit Limit
}

// Result is the outcome of [Limiter.Allow].
type Result struct {
	// Allowed reports whether the request was admitted, and one request
	// spent from every bucket; false: nothing was spent.
	Allowed bool
	// Bucket is the bucket that refused (when !Allowed) or the one with the
	// least remaining (when Allowed): what the RateLimit-* headers report.
	Bucket     Bucket
	Remaining  int64         // requests left in Bucket's window after this one
	Reset      time.Duration // until Bucket's window frees a request
	RetryAfter time.Duration // when refused: how long to wait
}

// Limiter spends one request from every bucket at once, or from none: a
// request refused by one bucket spends nothing from the others. It must be
// safe for concurrent use. now is the caller's clock; a Limiter shared by
// several instances may count on a clock of its own instead, so that the
// instances' clocks need not agree (ratelimit/redislimit uses Redis's).
type Limiter interface {
	// Allow spends one request from every bucket with a set Limit, or from
	// none, counting with algorithm at now. With no bucket set it allows
	// the request. An error means the Limiter could not decide, for
	// example because its store is unreachable.
	Allow(ctx context.Context, algorithm Algorithm, now time.Time, buckets ...Bucket) (Result, error)
}
