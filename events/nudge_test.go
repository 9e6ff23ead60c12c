package events_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/o2o-sync/o2o/events"
)

func TestDecodeNudge(t *testing.T) {
	received := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name, body        string
		jobRef, clientRef string
		sent              events.Type
		occurred          time.Time
	}{
		{"a full event of a handled type", exAssigned, "AC000001", "", events.ActivityAssigned, time.Date(2026, 11, 27, 9, 30, 0, 0, time.UTC)},
		{"an unknown type", `{"type":"APPOINTMENT_FOLLOW_ON_NEEDED","data":{"jobRef":"FX1","jobClientRef":"AC1"}}`, "FX1", "AC1", "APPOINTMENT_FOLLOW_ON_NEEDED", received},
		{"no type, numbers for refs", `{"data":{"jobRef":1000001,"jobClientRef":null}}`, "1000001", "", "", received},
		{"only a client ref", `{"data":{"jobClientRef":"AC1"}}`, "", "AC1", "", received},
		{"refs at the top level", `{"type":7,"jobRef":"AC1","data":"not an object"}`, "AC1", "", "", received},
		{"fields of any type ignored", `{"type":"X","timestamp":12,"data":{"jobRef":"AC1","status":[1],"start":"soon","size":-4}}`, "AC1", "", "X", received},
	} {
		ev, sent, err := events.DecodeNudge([]byte(c.body), "id-1", "acme", received)
		require.NoError(t, err, c.name)
		assert.Equal(t, events.Event{ID: "id-1", System: "acme", Type: events.Nudge, OccurredAt: c.occurred,
			JobRef: c.jobRef, JobClientRef: c.clientRef}, ev, c.name)
		assert.Equal(t, c.sent, sent, c.name)
	}
	for body, want := range map[string]string{
		`{"type":"X","data":{"status":"Accepted"}}`:        "data.jobRef: is required",
		`{"type":"X","data":{"jobRef":"  "}}`:              "data.jobRef: is required",
		`{"type":"X"}`:                                     "jobRef: is required",
		`{"data":{"jobRef":true}}`:                         "data.jobRef: must be a string or a number",
		`{"data":{"jobRef":"AC1","jobClientRef":["AC1"]}}`: "data.jobClientRef: must be a string or a number",
		`{"data":{"jobClientRef":"` + long51 + `"}}`:       "data.jobClientRef: must be at most 50 characters",
		`null`:  "body: must be a JSON object",
		`"AC1"`: "body: must be a JSON object",
		`{`:     "body: must be a JSON object",
	} {
		_, _, err := events.DecodeNudge([]byte(body), "id-1", "acme", received)
		var fe *events.FieldError
		require.ErrorAs(t, err, &fe, body)
		assert.Contains(t, err.Error(), want, body)
	}
	assert.False(t, events.Nudge.Handled(), "no sender can send a NUDGE itself")
}

const long51 = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"

// FuzzDecodeNudge: whatever the body, a nudge names a job within the
// limits, or the error is a FieldError.
func FuzzDecodeNudge(f *testing.F) {
	for _, s := range []string{exAssigned, `{"jobRef":1}`, `{"data":{"jobClientRef":"AC1"}}`, `[]`, `{"data":{"jobRef":{}}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		ev, _, err := events.DecodeNudge(body, "id", "acme", time.Unix(0, 0))
		if err != nil {
			var fe *events.FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("not a FieldError: %v", err)
			}
			return
		}
		if ev.Type != events.Nudge || ev.JobRef == "" && ev.JobClientRef == "" ||
			len([]rune(ev.JobRef)) > 50 || len([]rune(ev.JobClientRef)) > 50 {
			t.Fatalf("bad nudge %+v", ev)
		}
	})
}
