package activities

import (
	"context"
	"errors"
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
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
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
