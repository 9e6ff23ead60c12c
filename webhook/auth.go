package main

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"time"

	"github.com/o2o-sync/o2o/config"
	"github.com/o2o-sync/o2o/events"
)

// This file authenticates a webhook request by its system's webhookAuth mode
// (docs/events.md, "Authentication"). Every refusal is a 401 whose message
// says what is missing or wrong and never quotes a credential.

// authError is a refused request: its message is safe to send and log.
type authError struct {
	msg string
	// outcome is the metrics outcome (bad_signature or bad_credential).
	outcome string
	// challenge, when set, is sent as WWW-Authenticate.
	challenge string
}

func (e *authError) Error() string { return e.msg }

// basicChallenge invites a Basic client to send its credentials.
const basicChallenge = `Basic realm="o2o-webhooks", charset="UTF-8"`

// authenticate checks a request against its system's credentials and returns
// the event id: the verified webhook-id for Standard Webhooks, and for the
// modes that sign nothing an id derived from the body (events.BodyID). Any
// webhook-id header is ignored in those modes.
func authenticate(sys *config.System, r *http.Request, body []byte, now time.Time) (string, *authError) {
	a := &sys.WebhookAuth
	switch a.Mode {
	case config.AuthHeaderToken:
		vals := r.Header.Values(a.Header)
		switch {
		case len(vals) == 0 || vals[0] == "":
			return "", &authError{msg: "missing " + a.Header + " header", outcome: outcomeBadCredential}
		case len(vals) > 1:
			return "", &authError{msg: "the " + a.Header + " header is given more than once", outcome: outcomeBadCredential}
		case !matchesAny(vals[0], a.Tokens):
			return "", &authError{msg: "the " + a.Header + " header does not match", outcome: outcomeBadCredential}
		}
	case config.AuthBasic:
		user, pass, ok := r.BasicAuth()
		if !ok {
			return "", &authError{msg: "missing HTTP Basic credentials (Authorization: Basic ...)", outcome: outcomeBadCredential, challenge: basicChallenge}
		}
		// Both are compared, whatever the first gives, so that the time
		// taken says nothing about which was wrong.
		userOK := matchesAny(user, []string{a.User})
		passOK := matchesAny(pass, a.Passwords)
		if !userOK || !passOK {
			return "", &authError{msg: "the HTTP Basic credentials do not match", outcome: outcomeBadCredential, challenge: basicChallenge}
		}
	default: // config.AuthStandardWebhooks
		id := r.Header.Get(events.HeaderID)
		if err := events.Verify(sys.WebhookSecrets, id, r.Header.Get(events.HeaderTimestamp),
			r.Header.Get(events.HeaderSignature), body, now); err != nil {
			return id, &authError{msg: err.Error(), outcome: outcomeBadSignature}
		}
		return id, nil
	}
	return events.BodyID(sys.Name, body), nil
}

// matchesAny reports whether got equals one of wants, in constant time: both
// sides are hashed first, so that neither a value's length nor the position
// of its first wrong byte changes the time taken, and every candidate is
// compared (several are configured during a rotation). An empty list never
// matches.
func matchesAny(got string, wants []string) bool {
	g := sha256.Sum256([]byte(got))
	match := 0
	for _, w := range wants {
		d := sha256.Sum256([]byte(w))
		match |= subtle.ConstantTimeCompare(g[:], d[:])
	}
	return match == 1 && len(wants) > 0
}
