package activities

import (
	"context"
	"errors"
	"fmt"

	"go.temporal.io/sdk/temporal"

	"github.com/o2o-sync/o2o/oneserve"
)

// Error types (ApplicationError types) of every failure O2O's activities
// and workflow return: this block is their one owner. The workflow puts the
// link into NeedsAttention on any non-retryable one, showing the message.
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
	// ErrTypeDrifted: a reconciliation found a link's job gone, or moved to
	// another client, and O2O cannot repair that.
	ErrTypeDrifted = "JobsDrifted"

	// ErrTypeUnavailable (retryable): the system cannot answer now (5xx,
	// timeout, 429, a stalled download); Temporal retries, honouring Retry-After.
	ErrTypeUnavailable = "TargetUnavailable"
	// ErrTypeBadInput: a workflow was started without what it needs.
	ErrTypeBadInput = "BadInput"
	// ErrTypeBadCommand: the workflow met a command it cannot carry out (a bug).
	ErrTypeBadCommand = "BadCommand"

	// CopyDocument's failures.
	// ErrTypeDocumentTooLarge: the document is larger than MaxDocumentBytes
	// (non-retryable).
	ErrTypeDocumentTooLarge = "DocumentTooLarge"
	// ErrTypeChecksumMismatch: the bytes read from the source do not match
	// the size or sha256 the source declared (retryable: the next attempt
	// reads the document again). Nothing was stored in the target.
	ErrTypeChecksumMismatch = "ChecksumMismatch"
	// ErrTypeCopyCorrupted: the target reports a stored copy whose size or
	// sha256 differs from the bytes sent, or accepted the upload before its
	// end (non-retryable: the copy carries O2O's marker, so a retry would
	// find it and stop there; a person must check it).
	ErrTypeCopyCorrupted = "CopyCorrupted"
	// ErrTypeInvalidInput: the activity was called without a field it needs
	// (non-retryable: a workflow bug).
	ErrTypeInvalidInput = "InvalidInput"
)

// Refusal reports whether err is an expected refusal: a non-retryable
// failure whose type says a system refused O2O's request (a 4xx), something
// O2O needs is missing there, the two systems' references disagree, or a
// reconciliation found a job gone. It stops one link, which says why
// (NeedsAttention, lastError) until an operator acts: the link's business,
// not a fault of O2O, so the worker logs it as a warning. Credentials refused,
// configuration missing and O2O's own bugs are not refusals.
func Refusal(err error) bool {
	var app *temporal.ApplicationError
	if !errors.As(err, &app) || !app.NonRetryable() {
		return false
	}
	switch app.Type() {
	case ErrTypeRejected, ErrTypeNotFound, ErrTypeMisaligned, ErrTypeDrifted:
		return true
	}
	return false
}

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
		return temporal.NewApplicationErrorWithOptions(msg, ErrTypeUnavailable, temporal.ApplicationErrorOptions{
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
