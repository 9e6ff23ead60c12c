// The API budget: every call a Client makes to its system passes through
// one limiter per Client, so that all the activities sharing the worker's
// client for a system share its requests per second and its concurrency,
// and a system that answered 429 is left alone until its Retry-After.

package oneserve

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limits bound the calls a Client makes to its system. The yaml tags are
// the keys of a system's "limits" in O2O's configuration (package config,
// which fills in DefaultLimits); a zero field here means no limit of that
// kind.
type Limits struct {
	// RequestsPerSecond is the most calls started per second, spaced
	// evenly (a burst of one): at 10, one call every 100 ms at most.
	RequestsPerSecond float64 `yaml:"requestsPerSecond"`
	// Concurrency is the most calls in flight at once. A document download
	// counts until its headers arrive (its body is the caller's to read,
	// and holding a slot while the bytes are copied to another system
	// could deadlock two systems copying to each other); an upload counts
	// until the system has answered.
	Concurrency int `yaml:"concurrency"`
}

// DefaultLimits are what the configuration applies to a system that sets
// none: polite for a SaaS API whose limits are not published, and enough
// for O2O. 10 calls/s is 36,000 an hour (a linked job's whole life takes a
// few dozen); 4 at once keeps O2O's share of a tenant's servers small, and
// is what bounds the load when the system slows down (at 2 s a call, 2
// calls/s).
var DefaultLimits = Limits{RequestsPerSecond: 10, Concurrency: 4}

// tooManyRequestsPause is how long a 429 without a readable Retry-After
// keeps the system's other calls waiting.
const tooManyRequestsPause = time.Second

// clock is the time the budget runs on; tests replace it.
type clock interface {
	Now() time.Time
	// SleepUntil returns at t, or with ctx's error when ctx ends first.
	SleepUntil(ctx context.Context, t time.Time) error
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) SleepUntil(ctx context.Context, t time.Time) error {
	timer := time.NewTimer(time.Until(t))
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// budget is one Client's limiter.
type budget struct {
	limits Limits
	lim    *rate.Limiter // nil: no rate limit
	slots  chan struct{} // nil: no concurrency limit
	clock  clock

	mu        sync.Mutex
	notBefore time.Time // no call starts before this: a 429's Retry-After
}

func newBudget(l Limits) (*budget, error) {
	switch {
	case l.RequestsPerSecond < 0 || math.IsNaN(l.RequestsPerSecond) || math.IsInf(l.RequestsPerSecond, 0):
		return nil, fmt.Errorf("oneserve: Limits.RequestsPerSecond %v must be a positive number (0: no limit)", l.RequestsPerSecond)
	case l.Concurrency < 0:
		return nil, fmt.Errorf("oneserve: Limits.Concurrency %d must be positive (0: no limit)", l.Concurrency)
	}
	b := &budget{limits: l, clock: realClock{}}
	if l.RequestsPerSecond > 0 {
		b.lim = rate.NewLimiter(rate.Limit(l.RequestsPerSecond), 1)
	}
	if l.Concurrency > 0 {
		b.slots = make(chan struct{}, l.Concurrency)
	}
	return b, nil
}

// notSent marks e as the failure of a call that never left O2O.
func notSent(e *Error) *Error {
	e.Unanswered = false
	return e
}

// acquire waits until a call may start: a free slot, the end of a 429's
// pause, then a token. It returns the function that frees the slot. It
// never waits past ctx: cancellation ends the wait, and a wait that would
// outlast ctx's deadline, or a pause longer than maxPause (the per-call
// timeout), is not started; the call is then not sent and the error is
// temporary, with RetryAfter saying when to try again, so that a Temporal
// activity retries later instead of holding a worker slot.
func (c *Client) acquire(ctx context.Context, op string) (release func(), _ *Error) {
	b := c.budget
	release = func() {}
	if err := ctx.Err(); err != nil {
		return nil, notSent(c.transportError(op, ctx, ctx, err))
	}
	if b.slots != nil {
		select {
		case b.slots <- struct{}{}:
			release = func() { <-b.slots }
		case <-ctx.Done():
			return nil, notSent(c.transportError(op, ctx, ctx, ctx.Err()))
		}
	}
	fail := func(e *Error) (func(), *Error) {
		release()
		return nil, e
	}
	if e := c.waitPause(ctx, op); e != nil {
		return fail(e)
	}
	if b.lim != nil {
		now := b.clock.Now()
		r := b.lim.ReserveN(now, 1)
		if d := r.DelayFrom(now); d > 0 {
			if dl, ok := ctx.Deadline(); ok && time.Until(dl) < d {
				r.CancelAt(now)
				return fail(&Error{Op: op, Kind: KindTemporary, RetryAfter: d, Message: fmt.Sprintf(
					"not sent: the API budget (%s requests/s) has no room for %s, past the call's deadline",
					strconv.FormatFloat(b.limits.RequestsPerSecond, 'f', -1, 64), d.Round(time.Millisecond))})
			}
			if err := b.clock.SleepUntil(ctx, now.Add(d)); err != nil {
				r.CancelAt(b.clock.Now())
				return fail(notSent(c.transportError(op, ctx, ctx, err)))
			}
		}
		// A 429 may have come back while this call waited for its token.
		if e := c.waitPause(ctx, op); e != nil {
			return fail(e)
		}
	}
	return release, nil
}

// waitPause waits for the end of a 429's pause, if one is on and it is
// short enough (see acquire).
func (c *Client) waitPause(ctx context.Context, op string) *Error {
	b := c.budget
	for {
		b.mu.Lock()
		until := b.notBefore
		b.mu.Unlock()
		wait := until.Sub(b.clock.Now())
		if wait <= 0 {
			return nil
		}
		dl, hasDeadline := ctx.Deadline()
		if wait > c.timeout || (hasDeadline && time.Until(dl) < wait) {
			return &Error{Op: op, Kind: KindTemporary, RetryAfter: wait, Message: fmt.Sprintf(
				"not sent: the system answered 429 Too Many Requests and asked for no calls until %s (%s from now)",
				until.In(c.loc).Format("15:04:05"), wait.Round(time.Second))}
		}
		if err := b.clock.SleepUntil(ctx, until); err != nil {
			return c.transportError(op, ctx, ctx, err)
		}
	}
}

// tooManyRequests holds every call of the client back for d (a 429's
// Retry-After; tooManyRequestsPause when it gave none), extending a pause
// already on, never shortening it.
func (b *budget) tooManyRequests(d time.Duration) {
	if d <= 0 {
		d = tooManyRequestsPause
	}
	until := b.clock.Now().Add(d)
	b.mu.Lock()
	defer b.mu.Unlock()
	if until.After(b.notBefore) {
		b.notBefore = until
	}
}
