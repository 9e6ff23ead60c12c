package events

import (
	"encoding/json"
	"strings"
	"time"
)

// Nudge is O2O's own event type for a webhook from a system whose payloads
// are not trusted (configuration trust: nudge). It carries only the job
// references: it says "something changed on this job", and the link reads
// the job from the system to find out what. Handled is false, so a sender
// can never send a NUDGE itself: the webhook server makes it.
const Nudge Type = "NUDGE"

// DecodeNudge reads what a nudge needs from a webhook body, leniently: the
// body must be a JSON object naming a job by jobRef or jobClientRef, in its
// "data" object or at the top level. The event type may be anything, or
// absent; every other field is ignored, whatever its type. It returns the
// Nudge event and the type the sender gave (for logs only; "" when none).
// OccurredAt is the body's RFC 3339 timestamp when it has one, else
// received. A body naming no job is a *FieldError.
func DecodeNudge(body []byte, id, system string, received time.Time) (Event, Type, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil || top == nil {
		return Event{}, "", &FieldError{"body", "must be a JSON object"}
	}
	var sent Type
	var s string
	if json.Unmarshal(top["type"], &s) == nil {
		sent = Type(s)
	}
	ev := Event{ID: id, System: system, Type: Nudge, OccurredAt: received}
	if json.Unmarshal(top["timestamp"], &s) == nil {
		if ts, err := time.Parse(time.RFC3339, s); err == nil {
			ev.OccurredAt = ts
		}
	}
	// The refs are read from "data" when it is an object, else from the top.
	where, prefix := top, ""
	var data map[string]json.RawMessage
	if json.Unmarshal(top["data"], &data) == nil && data != nil {
		where, prefix = data, "data."
	}
	var err error
	if ev.JobRef, err = nudgeRef(where, "jobRef", prefix); err != nil {
		return Event{}, sent, err
	}
	if ev.JobRef != "" {
		if ev.JobRef, err = jobRefField(prefix+"jobRef", ev.JobRef); err != nil {
			return Event{}, sent, err
		}
	}
	if ev.JobClientRef, err = nudgeRef(where, "jobClientRef", prefix); err != nil {
		return Event{}, sent, err
	}
	ev.JobClientRef = ClientJobRef(ev.JobClientRef)
	if ev.JobRef == "" && ev.JobClientRef == "" {
		return Event{}, sent, &FieldError{prefix + "jobRef", "is required: a nudge must name its job (jobRef, or jobClientRef for a job O2O created)"}
	}
	return ev, sent, nil
}

// nudgeRef reads one job reference: a string or a number of at most 50
// characters. Absent, null or blank is "".
func nudgeRef(m map[string]json.RawMessage, name, prefix string) (string, error) {
	raw, ok := m[name]
	if !ok {
		return "", nil
	}
	var t Text
	if err := json.Unmarshal(raw, &t); err != nil {
		return "", &FieldError{prefix + name, "must be a string or a number"}
	}
	v := strings.TrimSpace(string(t))
	if err := maxLen(prefix+name, v, 50); err != nil {
		return "", err
	}
	return v, nil
}
