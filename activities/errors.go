package activities

import (
	"context"
	"errors"
	"fmt"

	"go.temporal.io/sdk/temporal"

	"github.com/o2o-sync/o2o/oneserve"
)

// Error types of the non-retryable failures activities return. The workflow
// puts the link into NeedsAttention on any of them, showing the message.
const (
	// ErrTypeRejected: the target system refused the request (a 4xx, or
	// result "error"); retrying the same request will not help.
	ErrTypeRejected = "TargetRejected"
	// ErrTypeNotFound: something O2O needs does not exist in a system.
	ErrTypeNotFound = "NotFound"
	// ErrTypeUnauthorized: the system refused O2O's credentials (401/403).
	ErrTypeUnauthorized = "Unauthorized"
	// ErrTypeMisaligned: the two systems' references do not match (site,
	// contact, SOR codes, priority mapping).
	ErrTypeMisaligned = "Misaligned"
	// ErrTypeConfig: the link or system is missing from the configuration.
	ErrTypeConfig = "ConfigMissing"
)

// classify turns a Oneserve client error into what Temporal should do with
// it: retry later (keeping the server's Retry-After), or stop and ask a person.
func classify(system string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) {
		return err
	}
	var oe *oneserve.Error
	if !errors.As(err, &oe) {
		return err // unknown: retryable by default
	}
	msg := fmt.Sprintf("%s: %s", system, oe.Error())
	switch oe.Kind {
	case oneserve.KindTemporary:
		return temporal.NewApplicationErrorWithOptions(msg, "TargetUnavailable", temporal.ApplicationErrorOptions{
			NextRetryDelay: oe.RetryAfter,
			Cause:          err,
		})
	case oneserve.KindNotFound:
		return temporal.NewNonRetryableApplicationError(msg, ErrTypeNotFound, err)
	case oneserve.KindUnauthorized:
		return temporal.NewNonRetryableApplicationError(msg+" (check the API token configured for "+system+")", ErrTypeUnauthorized, err)
	default:
		return temporal.NewNonRetryableApplicationError(msg, ErrTypeRejected, err)
	}
}

func misaligned(format string, args ...any) error {
	return temporal.NewNonRetryableApplicationError(fmt.Sprintf(format, args...), ErrTypeMisaligned, nil)
}

func configMissing(format string, args ...any) error {
	return temporal.NewNonRetryableApplicationError(fmt.Sprintf(format, args...), ErrTypeConfig, nil)
}
