package events

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Standard Webhooks header names (https://www.standardwebhooks.com).
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// Tolerance is how far a webhook-timestamp may be from the receiver's clock.
const Tolerance = 5 * time.Minute

const secretPrefix = "whsec_"

// Secret is a symmetric webhook signing key.
type Secret []byte

// ParseSecret decodes a "whsec_<base64>" secret. The error never contains the
// secret itself.
func ParseSecret(s string) (Secret, error) {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, secretPrefix) {
		return nil, errors.New(`must start with "whsec_"`)
	}
	b, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(s, secretPrefix))
	if err != nil {
		return nil, errors.New("is not valid base64 after the whsec_ prefix")
	}
	if len(b) < 24 || len(b) > 64 {
		return nil, fmt.Errorf("must decode to 24-64 bytes, not %d", len(b))
	}
	return Secret(b), nil
}

// ParseSecrets splits a space- or comma-separated list of whsec_ secrets, as
// held in one environment variable during a rotation ("new old").
func ParseSecrets(list string) ([]Secret, error) {
	fields := strings.FieldsFunc(list, func(r rune) bool { return r == ' ' || r == ',' || r == '\n' || r == '\t' })
	out := make([]Secret, 0, len(fields))
	for i, f := range fields {
		s, err := ParseSecret(f)
		if err != nil {
			return nil, fmt.Errorf("secret %d %w", i+1, err)
		}
		out = append(out, s)
	}
	return out, nil
}

// String returns the secret in whsec_ form.
func (s Secret) String() string { return secretPrefix + base64.StdEncoding.EncodeToString(s) }

// Sign returns the webhook-signature header value for one message.
func Sign(secret Secret, id string, ts time.Time, body []byte) string {
	return "v1," + base64.StdEncoding.EncodeToString(mac(secret, id, strconv.FormatInt(ts.Unix(), 10), body))
}

func mac(secret Secret, id, ts string, body []byte) []byte {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte(id))
	h.Write([]byte{'.'})
	h.Write([]byte(ts))
	h.Write([]byte{'.'})
	h.Write(body)
	return h.Sum(nil)
}

// Verification errors. All of them mean "401, and do nothing".
var (
	ErrMissingHeaders = errors.New("missing webhook-id, webhook-timestamp or webhook-signature header")
	ErrBadTimestamp   = errors.New("webhook-timestamp is not Unix seconds")
	ErrStale          = errors.New("webhook-timestamp is outside the allowed 5 minutes")
	ErrBadSignature   = errors.New("no webhook-signature matches")
)

// Verify checks a message against every secret and every v1 signature in the
// header, in constant time per comparison. It checks the timestamp first so
// that a stale replay costs no HMAC work.
func Verify(secrets []Secret, id, timestamp, signature string, body []byte, now time.Time) error {
	if id == "" || timestamp == "" || signature == "" {
		return ErrMissingHeaders
	}
	if strings.Contains(id, ".") || len(id) > 256 {
		return ErrMissingHeaders
	}
	sec, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return ErrBadTimestamp
	}
	ts := time.Unix(sec, 0)
	if ts.Before(now.Add(-Tolerance)) || ts.After(now.Add(Tolerance)) {
		return ErrStale
	}
	var candidates [][]byte
	for _, part := range strings.Fields(signature) {
		version, sig, ok := strings.Cut(part, ",")
		if !ok || version != "v1" {
			continue
		}
		b, err := base64.StdEncoding.DecodeString(sig)
		if err != nil || len(b) != sha256.Size {
			continue
		}
		candidates = append(candidates, b)
	}
	for _, s := range secrets {
		want := mac(s, id, timestamp, body)
		for _, c := range candidates {
			if hmac.Equal(want, c) {
				return nil
			}
		}
	}
	return ErrBadSignature
}
