package activities

import (
	"context"
	"errors"
	"sync"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/o2o-sync/o2o/oneserve"
)

// unansweredSettle is how long a write that went unanswered without a
// timeout of its own (a connection lost mid-request) is given to land
// before the attempt looks for it.
const unansweredSettle = time.Second

// settled is for a write that went unanswered (oneserve.Error.Unanswered: a
// timeout, a connection lost mid-request): the system may have applied it,
// or may still apply it after O2O stopped waiting. Oneserve offers no
// idempotency key, so the only defence is to look for the write (by the
// marker or client ref it carries), and to look late enough.
//
// The attempt itself waits as long as the call was given (its timeout), then
// looks: settled reports whether look found the write. The wait is in the
// attempt, not in the retry's backoff: make drill saw Temporal start a retry
// sooner than the failure's NextRetryDelay asked after a server restart, and
// that retry looked before the held write landed, then wrote it again.
//
// It reports false, and the caller returns err for the retry, when err is
// not an unanswered call, when the attempt is being cancelled, or when the
// look itself fails (the retry looks again before writing).
func settled(ctx context.Context, err error, look func(context.Context) (bool, error)) bool {
	var oe *oneserve.Error
	if !errors.As(err, &oe) || !oe.Unanswered || ctx.Err() != nil {
		return false
	}
	wait := oe.RetryAfter
	if wait <= 0 {
		wait = unansweredSettle
	}
	if sleep(ctx, wait) != nil {
		return false
	}
	found, lerr := look(ctx)
	if lerr != nil {
		activity.GetLogger(ctx).Warn("Could not look for an unanswered write; the retry looks again", "op", oe.Op, "error", lerr)
		return false
	}
	if found {
		activity.GetLogger(ctx).Info("An unanswered write was applied after all", "op", oe.Op, "waited", wait)
	}
	return found
}

// writeInFlight is the heartbeat detail of an attempt of a writing
// activity: the write it has in flight, if any (Since is zero otherwise).
// Heartbeat details outlive an attempt, so when a worker dies mid-write —
// and cannot settle the write itself — the next attempt reads when the
// write was sent and gives it the time settled would have before it looks.
type writeInFlight struct {
	Since   time.Time     `json:"since,omitzero"`
	Timeout time.Duration `json:"timeout,omitempty"`
}

// writes tracks the write in flight of one attempt for its heartbeats.
type writes struct {
	mu  sync.Mutex
	now writeInFlight
}

type writesKey struct{}

// keepAliveWrites is keepAlive for an activity that writes: every heartbeat
// carries the write in flight (see sending), and earlierAttempt and
// awaitLostWrite read what the attempt before recorded.
func keepAliveWrites(ctx context.Context) (context.Context, func()) {
	if _, ok := ctx.Value(writesKey{}).(*writes); ok {
		return ctx, func() {} // an activity calling another: one record
	}
	w := &writes{}
	ctx = context.WithValue(ctx, writesKey{}, w)
	return ctx, heartbeat(ctx, keepAliveEvery, func() any {
		w.mu.Lock()
		defer w.mu.Unlock()
		return w.now
	})
}

// sending records that a write to c starts now; the returned function
// records that it is over (answered, or settled).
func sending(ctx context.Context, c *oneserve.Client) (over func()) {
	w, ok := ctx.Value(writesKey{}).(*writes)
	if !ok {
		return func() {}
	}
	w.mu.Lock()
	w.now = writeInFlight{Since: time.Now(), Timeout: c.Timeout()}
	w.mu.Unlock()
	return func() {
		w.mu.Lock()
		w.now = writeInFlight{}
		w.mu.Unlock()
	}
}

// earlierAttempt reports whether an earlier attempt of this activity may
// have written: a retry, or an attempt with an earlier one's heartbeat.
// Outside an activity (a direct call) it says yes, so callers look before
// they write.
func earlierAttempt(ctx context.Context) bool {
	if !activity.IsActivity(ctx) {
		return true
	}
	return activity.GetInfo(ctx).Attempt > 1 || activity.HasHeartbeatDetails(ctx)
}

// awaitLostWrite waits, before a retry looks for its earlier attempt's
// write, until a write that attempt still had in flight when it last
// heartbeat (its worker died) has had as long as settled gives one: the
// call's timeout, and as long again. An attempt whose writes were over by
// its last heartbeat recorded none; one whose write was answered after its
// last heartbeat costs the retry a wait it did not need.
func awaitLostWrite(ctx context.Context) error {
	var d writeInFlight
	if !activity.IsActivity(ctx) || !activity.HasHeartbeatDetails(ctx) || activity.GetHeartbeatDetails(ctx, &d) != nil || d.Since.IsZero() {
		return nil
	}
	wait := time.Until(d.Since.Add(2 * d.Timeout))
	if wait <= 0 {
		return nil
	}
	if limit := 2 * d.Timeout; wait > limit {
		wait = limit // a clock that moved: never more than settled's wait
	}
	activity.GetLogger(ctx).Info("An earlier attempt died with a write in flight; giving it time to land before looking for it", "wait", wait)
	return sleep(ctx, wait)
}

// sleep waits d, or until ctx ends (its error).
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
