package platform

import (
	"context"
	"errors"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.uber.org/zap"
	"google.golang.org/grpc/codes"
)

// Await calls try until it succeeds, ctx ends or try fails in a way waiting
// cannot mend (a refused credential, a bad request). Between attempts it logs
// what the process waits for and why, with a backoff from half a second up
// to ten seconds. A process started before Temporal, or while Temporal's
// database is down, so says why it is not ready and carries on when it can,
// instead of exiting into a silent crash loop.
func Await(ctx context.Context, log *zap.Logger, what string, try func(context.Context) error) error {
	return await(ctx, log, what, try, 500*time.Millisecond, 10*time.Second)
}

// attemptTimeout bounds one attempt, so a server that accepts connections
// but cannot answer (its database gone) is retried, not waited on forever.
const attemptTimeout = 10 * time.Second

func await(ctx context.Context, log *zap.Logger, what string, try func(context.Context) error, backoff, maxBackoff time.Duration) error {
	for attempt := 1; ; attempt++ {
		actx, cancel := context.WithTimeout(ctx, attemptTimeout)
		err := try(actx)
		cancel()
		if err == nil {
			if attempt > 1 {
				log.Info("Done waiting", zap.String("for", what), zap.Int("attempts", attempt))
			}
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if !transient(err) {
			return err
		}
		log.Warn("Waiting: "+what, zap.Int("attempt", attempt), zap.Duration("retryIn", backoff), zap.Error(err))
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

// transient reports whether waiting may mend err: anything but a refusal
// that the same request would meet again.
func transient(err error) bool {
	if errors.Is(err, context.Canceled) {
		return false
	}
	switch serviceerror.ToStatus(err).Code() {
	case codes.InvalidArgument, codes.PermissionDenied, codes.Unauthenticated, codes.Unimplemented:
		return false
	}
	return true
}
