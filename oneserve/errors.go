package oneserve

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Kind says what a caller should do about an Error. O2O's activities turn it
// into "retry later" or "stop and ask a person", so the classification follows
// docs/oneserve-api.md ("HTTP status classes") exactly.
type Kind int

const (
	// KindTemporary: the system could not answer now (network error, timeout,
	// 408, 429, 5xx). Retry with backoff, waiting at least RetryAfter.
	KindTemporary Kind = iota + 1
	// KindPermanent: the system refused the request (a 4xx other than
	// 401/403/404, a redirect, or a result other than "success"). Sending the
	// same request again will not help.
	KindPermanent
	// KindNotFound: the system answered 404: the job, site or document does
	// not exist there (or the path is wrong).
	KindNotFound
	// KindUnauthorized: the system answered 401 or 403: the token is missing,
	// expired or reset, or the network blocks O2O. The link needs a person.
	KindUnauthorized
)

// String names the kind for logs and error messages.
func (k Kind) String() string {
	switch k {
	case KindTemporary:
		return "temporary"
	case KindPermanent:
		return "permanent"
	case KindNotFound:
		return "not found"
	case KindUnauthorized:
		return "unauthorized"
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Error is every error the Client returns, so that callers can classify a
// failure with errors.As instead of parsing text. It never contains the API
// token: messages taken from the server are scrubbed of it.
type Error struct {
	// Op is the API call: "createJob", "addEventByClientRef",
	// "addActivityByClientRef", "site", "activities", "jobEventsXML", "job",
	// "documents", "downloadDocument", "uploadDocument".
	Op string
	// StatusCode is the HTTP status, or 0 when no response was received
	// (network error, timeout, cancellation, invalid arguments).
	StatusCode int
	// Message is the server's result_msg, or a short reason. At most 300
	// characters.
	Message string
	// Kind classifies the failure.
	Kind Kind
	// RetryAfter is the server's Retry-After (seconds or HTTP date) on a
	// temporary failure; 0 when absent.
	RetryAfter time.Duration
	// Err is the underlying error, if any (a network error, the caller's
	// context error, a JSON decoding error).
	Err error
	// Unanswered is set when the request may have reached the system but no
	// answer came back (a timeout, a connection lost mid-request, the
	// caller giving up): for a write, the system may have applied it, or may
	// still apply it, for a while after. RetryAfter, when set, is how long
	// O2O gave the call (the client's timeout).
	Unanswered bool
}

// Error reads like "oneserve createJob: HTTP 400: Site SITE-9 not found".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("oneserve ")
	b.WriteString(e.Op)
	b.WriteString(": ")
	if e.StatusCode > 0 {
		fmt.Fprintf(&b, "HTTP %d: ", e.StatusCode)
	}
	if e.Message != "" {
		b.WriteString(e.Message)
	} else {
		b.WriteString(e.Kind.String())
	}
	return b.String()
}

// Unwrap gives errors.Is and errors.As access to the underlying error, so
// that errors.Is(err, context.Canceled) holds when the caller cancelled.
func (e *Error) Unwrap() error { return e.Err }

// IsTemporary reports whether err is a Oneserve failure worth retrying later.
func IsTemporary(err error) bool { return kindOf(err) == KindTemporary }

// IsNotFound reports whether the system answered that the thing asked for
// does not exist (HTTP 404).
func IsNotFound(err error) bool { return kindOf(err) == KindNotFound }

func kindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return 0
}

// kindForStatus maps a non-2xx HTTP status to a Kind; see the table in
// docs/oneserve-api.md.
func kindForStatus(code int) Kind {
	switch {
	case code == http.StatusRequestTimeout, code == http.StatusTooManyRequests, code >= 500:
		return KindTemporary
	case code == http.StatusUnauthorized, code == http.StatusForbidden:
		return KindUnauthorized
	case code == http.StatusNotFound:
		return KindNotFound
	}
	return KindPermanent
}

// parseRetryAfter reads a Retry-After header: delay-seconds or an HTTP date.
// Anything unreadable, or a date in the past, gives 0 (no hint).
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		// Cap absurd values rather than overflow time.Duration.
		const maxSecs = int64(365 * 24 * 3600)
		return time.Duration(min(secs, maxSecs)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d.Round(time.Second)
		}
	}
	return 0
}

// maxMessage bounds Error.Message: a server may answer with a whole HTML
// page, which does not belong in logs or in the Web UI.
const maxMessage = 300

// cleanMessage makes a server-supplied or transport message safe and short:
// the token is removed (a server may echo it), whitespace runs (newlines of
// an HTML or stack-trace body) become single spaces, and the result is cut
// to maxMessage characters.
func cleanMessage(msg, token string) string {
	if token != "" {
		msg = strings.ReplaceAll(msg, token, "[token]")
	}
	msg = strings.Join(strings.Fields(msg), " ")
	if utf8.RuneCountInString(msg) <= maxMessage {
		return msg
	}
	r := []rune(msg)
	return string(r[:maxMessage-1]) + "…"
}
