package events_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/o2o-sync/o2o/events"
)

// Valid examples of every event type in docs/events.md, with every field.
const (
	exAssigned = `{"type":"ACTIVITY_ASSIGNED","timestamp":"2026-11-27T09:30:00Z",
 "data":{"jobRef":"AC000001","activityId":"137001","teamId":"7","teamName":"Fixit Plumbing (subcontract)","actor":"j.smith"}}`
	exStatus = `{"type":"JOB_STATUS_CHANGED","timestamp":"2026-11-27T10:00:00.250+01:00",
 "data":{"jobRef":"FX000042","jobClientRef":"AC000001","actor":"o2o-api","status":"Accepted","statusId":"31","previousStatus":"New"}}`
	exApptCreated = `{"type":"APPOINTMENT_CREATED","timestamp":"2026-11-27T11:00:00Z",
 "data":{"jobRef":"FX000042","jobClientRef":"AC000001","appointmentId":"A-901","start":"2026-11-30T08:00:00Z","end":"2026-11-30T10:00:00Z"}}`
	exApptRescheduled = `{"type":"APPOINTMENT_RESCHEDULED","timestamp":"2026-11-28T12:15:30Z",
 "data":{"jobRef":"FX000042","jobClientRef":"AC000001","appointmentId":"A-901","start":"2026-12-01T13:00:00+01:00","end":"2026-12-01T15:00:00+01:00","previousStart":"2026-11-30T08:00:00Z","reason":"Tenant not home"}}`
	exApptCancelled = `{"type":"APPOINTMENT_CANCELLED","timestamp":"2026-11-29T07:00:00Z",
 "data":{"jobRef":"FX000042","jobClientRef":"AC000001","appointmentId":"A-901","start":"2026-12-01T12:00:00Z","reason":"No access"}}`
	exApptCompleted = `{"type":"APPOINTMENT_COMPLETED","timestamp":"2026-12-01T16:00:00Z",
 "data":{"jobRef":"FX000042","jobClientRef":"AC000001","appointmentId":"A-901","start":"2026-12-01T12:00:00Z","end":"2026-12-01T14:30:00Z"}}`
	exDocument = `{"type":"DOCUMENT_UPLOADED","timestamp":"2026-12-01T16:05:00Z",
 "data":{"jobRef":"FX000042","jobClientRef":"AC000001","actor":"engineer.1","documentId":"D17","fileName":"gas-cert.pdf","category":"Certificates","size":"48213","sha256":"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08","clientRef":"o2o:acme-fixit:primary:D9"}}`
	exDocApproved = `{"type":"DOCUMENT_APPROVED","timestamp":"2026-12-01T17:00:00Z",
 "data":{"jobRef":"FX000042","jobClientRef":"AC000001","actor":"supervisor.2","documentId":"D17","fileName":"gas-cert.pdf","category":"Certificates","size":"48213","sha256":"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08","reason":"Checked against the meter reading"}}`
	exDocRejected = `{"type":"DOCUMENT_REJECTED","timestamp":"2026-12-01T17:05:00Z",
 "data":{"jobRef":"FX000042","jobClientRef":"AC000001","actor":"supervisor.2","documentId":"D18","fileName":"photo-after.jpg","category":"Photos","size":"120004","reason":"Blurred; retake with the meter visible"}}`
)

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func ptr(t time.Time) *time.Time { return &t }

// assertSameEvent compares events field by field, times with Equal (the
// same instant) and also by their offset from UTC (kept as sent).
func assertSameEvent(t *testing.T, want, got events.Event) {
	t.Helper()
	sameTime := func(name string, w, g time.Time) {
		t.Helper()
		assert.True(t, w.Equal(g), "%s: want %s, got %s", name, w, g)
		_, wo := w.Zone()
		_, gotOff := g.Zone()
		assert.Equal(t, wo, gotOff, "%s: offset", name)
	}
	samePtr := func(name string, w, g *time.Time) {
		t.Helper()
		if w == nil || g == nil {
			assert.Equal(t, w == nil, g == nil, "%s: presence", name)
			return
		}
		sameTime(name, *w, *g)
	}
	sameTime("OccurredAt", want.OccurredAt, got.OccurredAt)
	assert.Equal(t, want.ID, got.ID)
	assert.Equal(t, want.System, got.System)
	assert.Equal(t, want.Side, got.Side)
	assert.Equal(t, want.Type, got.Type)
	assert.Equal(t, want.JobRef, got.JobRef)
	assert.Equal(t, want.JobClientRef, got.JobClientRef)
	assert.Equal(t, want.Actor, got.Actor)
	assert.Equal(t, want.Assignment, got.Assignment)
	assert.Equal(t, want.Status, got.Status)
	assert.Equal(t, want.Document, got.Document)
	if want.Appointment == nil || got.Appointment == nil {
		assert.Equal(t, want.Appointment, got.Appointment)
		return
	}
	w, g := want.Appointment, got.Appointment
	assert.Equal(t, w.AppointmentID, g.AppointmentID)
	assert.Equal(t, w.Reason, g.Reason)
	sameTime("Start", w.Start, g.Start)
	samePtr("End", w.End, g.End)
	samePtr("PreviousStart", w.PreviousStart, g.PreviousStart)
}

func TestDecodeEveryType(t *testing.T) {
	cases := []struct {
		body string
		want events.Event
	}{
		{exAssigned, events.Event{
			Type: events.ActivityAssigned, OccurredAt: time.Date(2026, 11, 27, 9, 30, 0, 0, time.UTC),
			JobRef: "AC000001", Actor: "j.smith",
			Assignment: &events.Assignment{ActivityID: "137001", TeamID: "7", TeamName: "Fixit Plumbing (subcontract)"},
		}},
		{exStatus, events.Event{
			Type: events.JobStatusChanged, OccurredAt: time.Date(2026, 11, 27, 10, 0, 0, 250e6, time.FixedZone("", 3600)),
			JobRef: "FX000042", JobClientRef: "AC000001", Actor: "o2o-api",
			Status: &events.StatusChange{Status: "Accepted", StatusID: "31", PreviousStatus: "New"},
		}},
		{exApptCreated, events.Event{
			Type: events.AppointmentCreated, OccurredAt: time.Date(2026, 11, 27, 11, 0, 0, 0, time.UTC),
			JobRef: "FX000042", JobClientRef: "AC000001",
			Appointment: &events.Appointment{AppointmentID: "A-901",
				Start: time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC), End: ptr(time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC))},
		}},
		{exApptRescheduled, events.Event{
			Type: events.AppointmentRescheduled, OccurredAt: time.Date(2026, 11, 28, 12, 15, 30, 0, time.UTC),
			JobRef: "FX000042", JobClientRef: "AC000001",
			Appointment: &events.Appointment{AppointmentID: "A-901",
				Start:         time.Date(2026, 12, 1, 13, 0, 0, 0, time.FixedZone("", 3600)),
				End:           ptr(time.Date(2026, 12, 1, 15, 0, 0, 0, time.FixedZone("", 3600))),
				PreviousStart: ptr(time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)),
				Reason:        "Tenant not home"},
		}},
		{exApptCancelled, events.Event{
			Type: events.AppointmentCancelled, OccurredAt: time.Date(2026, 11, 29, 7, 0, 0, 0, time.UTC),
			JobRef: "FX000042", JobClientRef: "AC000001",
			Appointment: &events.Appointment{AppointmentID: "A-901", Start: time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC), Reason: "No access"},
		}},
		{exApptCompleted, events.Event{
			Type: events.AppointmentCompleted, OccurredAt: time.Date(2026, 12, 1, 16, 0, 0, 0, time.UTC),
			JobRef: "FX000042", JobClientRef: "AC000001",
			Appointment: &events.Appointment{AppointmentID: "A-901",
				Start: time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC), End: ptr(time.Date(2026, 12, 1, 14, 30, 0, 0, time.UTC))},
		}},
		{exDocument, events.Event{
			Type: events.DocumentUploaded, OccurredAt: time.Date(2026, 12, 1, 16, 5, 0, 0, time.UTC),
			JobRef: "FX000042", JobClientRef: "AC000001", Actor: "engineer.1",
			Document: &events.Document{DocumentID: "D17", FileName: "gas-cert.pdf", Category: "Certificates", Size: 48213,
				SHA256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", ClientRef: "o2o:acme-fixit:primary:D9"},
		}},
		{exDocApproved, events.Event{
			Type: events.DocumentApproved, OccurredAt: time.Date(2026, 12, 1, 17, 0, 0, 0, time.UTC),
			JobRef: "FX000042", JobClientRef: "AC000001", Actor: "supervisor.2",
			Document: &events.Document{DocumentID: "D17", FileName: "gas-cert.pdf", Category: "Certificates", Size: 48213,
				SHA256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", Reason: "Checked against the meter reading"},
		}},
		{exDocRejected, events.Event{
			Type: events.DocumentRejected, OccurredAt: time.Date(2026, 12, 1, 17, 5, 0, 0, time.UTC),
			JobRef: "FX000042", JobClientRef: "AC000001", Actor: "supervisor.2",
			Document: &events.Document{DocumentID: "D18", FileName: "photo-after.jpg", Category: "Photos", Size: 120004,
				Reason: "Blurred; retake with the meter visible"},
		}},
	}
	seen := map[events.Type]bool{}
	for _, tc := range cases {
		t.Run(string(tc.want.Type), func(t *testing.T) {
			ev, err := events.Decode([]byte(tc.body), "msg_01", "acme")
			require.NoError(t, err)
			tc.want.ID, tc.want.System = "msg_01", "acme"
			assertSameEvent(t, tc.want, ev)
			assert.Empty(t, ev.Side, "Decode does not know the side; the webhook server sets it per link")
			assert.True(t, ev.Type.Handled())
			assert.Equal(t, tc.want.Appointment != nil, ev.Type.IsAppointment())
		})
		seen[tc.want.Type] = true
	}
	for _, typ := range []events.Type{events.ActivityAssigned, events.JobStatusChanged, events.AppointmentCreated,
		events.AppointmentRescheduled, events.AppointmentCancelled, events.AppointmentCompleted, events.DocumentUploaded,
		events.DocumentApproved, events.DocumentRejected} {
		assert.True(t, seen[typ], "no example for %s", typ)
	}
}

// The Event round-trips through JSON (it is a workflow signal payload).
func TestEventJSONRoundTrip(t *testing.T) {
	for _, body := range []string{exAssigned, exStatus, exApptRescheduled, exDocument, exDocApproved, exDocRejected} {
		ev, err := events.Decode([]byte(body), "msg_01", "acme")
		require.NoError(t, err)
		b, err := json.Marshal(ev)
		require.NoError(t, err)
		var back events.Event
		require.NoError(t, json.Unmarshal(b, &back))
		assertSameEvent(t, ev, back)
	}
}

func TestDecodeNumbersAsNumbers(t *testing.T) {
	ev, err := events.Decode([]byte(`{"type":"ACTIVITY_ASSIGNED","timestamp":"2026-11-27T09:30:00Z",
		"data":{"jobRef":1000001,"activityId":137001,"teamId":7,"teamName":42}}`), "i", "s")
	require.NoError(t, err)
	assert.Equal(t, "1000001", ev.JobRef)
	assert.Equal(t, &events.Assignment{ActivityID: "137001", TeamID: "7", TeamName: "42"}, ev.Assignment)

	ev, err = events.Decode([]byte(`{"type":"JOB_STATUS_CHANGED","timestamp":"2026-11-27T09:30:00Z",
		"data":{"jobRef":"J1","jobClientRef":55,"status":"Done","statusId":31}}`), "i", "s")
	require.NoError(t, err)
	assert.Equal(t, "55", ev.JobClientRef)
	assert.Equal(t, "31", ev.Status.StatusID)

	ev, err = events.Decode([]byte(`{"type":"APPOINTMENT_CREATED","timestamp":"2026-11-27T09:30:00Z",
		"data":{"jobRef":"J1","appointmentId":901,"start":"2026-11-30T08:00:00Z"}}`), "i", "s")
	require.NoError(t, err)
	assert.Equal(t, "901", ev.Appointment.AppointmentID)
	assert.Nil(t, ev.Appointment.End)
	assert.Nil(t, ev.Appointment.PreviousStart)

	for _, size := range []string{`48213`, `"48213"`, `0`, `"0"`, `9223372036854775807`} {
		ev, err = events.Decode([]byte(`{"type":"DOCUMENT_UPLOADED","timestamp":"2026-11-27T09:30:00Z",
			"data":{"jobRef":"J1","documentId":17,"fileName":"a.pdf","category":"C","size":`+size+`}}`), "i", "s")
		require.NoError(t, err, size)
		assert.Equal(t, "17", ev.Document.DocumentID)
		assert.Equal(t, strings.Trim(size, `"`), fmt.Sprint(ev.Document.Size))
	}
}

// secret is a distinctive value that must never appear in an error message.
const secret = "Zx9Secret"

type errCase struct {
	name    string
	body    string
	field   string
	problem string // substring of FieldError.Problem
}

func checkFieldErrors(t *testing.T, cases []errCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ev, err := events.Decode([]byte(tc.body), "msg_01", "acme")
			require.Error(t, err)
			var fe *events.FieldError
			require.True(t, errors.As(err, &fe), "want a *FieldError, got %T: %v", err, err)
			assert.Equal(t, tc.field, fe.Field)
			assert.Contains(t, fe.Problem, tc.problem)
			assert.Equal(t, tc.field+": "+fe.Problem, err.Error())
			assert.NotContains(t, err.Error(), secret, "the message must not echo a value")
			assert.NotContains(t, strings.ToLower(err.Error()), strings.ToLower(secret))
			assert.Equal(t, events.Event{}, ev, "no partial event on a malformed body")
			assert.NotErrorIs(t, err, events.ErrUnhandledType)
		})
	}
}

// body builds an event of typ from data fields (a JSON object's inside).
func body(typ, data string) string {
	return `{"type":"` + typ + `","timestamp":"2026-11-27T09:30:00Z","data":{` + data + `}}`
}

// without returns the example with one field (and its value) removed.
func without(t *testing.T, example, field string) string {
	t.Helper()
	var env map[string]any
	require.NoError(t, json.Unmarshal([]byte(example), &env))
	data := env["data"].(map[string]any)
	_, ok := data[field]
	require.True(t, ok, "example has no %s", field)
	delete(data, field)
	b, err := json.Marshal(env)
	require.NoError(t, err)
	return string(b)
}

// with returns the example with one data field set to raw JSON.
func with(t *testing.T, example, field, raw string) string {
	t.Helper()
	var env map[string]json.RawMessage
	require.NoError(t, json.Unmarshal([]byte(example), &env))
	var data map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(env["data"], &data))
	data[field] = json.RawMessage(raw)
	b, err := json.Marshal(data)
	require.NoError(t, err)
	env["data"] = b
	b, err = json.Marshal(env)
	require.NoError(t, err)
	return string(b)
}

func TestDecodeRequiredFields(t *testing.T) {
	required := []struct {
		example string
		fields  []string
	}{
		{exAssigned, []string{"jobRef", "activityId", "teamId"}},
		{exStatus, []string{"jobRef", "status"}},
		{exApptCreated, []string{"jobRef", "appointmentId", "start"}},
		{exApptRescheduled, []string{"jobRef", "appointmentId", "start"}},
		{exApptCancelled, []string{"jobRef", "appointmentId", "start"}},
		{exApptCompleted, []string{"jobRef", "appointmentId", "start"}},
		{exDocument, []string{"jobRef", "documentId", "fileName", "category"}},
		{exDocApproved, []string{"jobRef", "documentId", "fileName", "category"}},
		{exDocRejected, []string{"jobRef", "documentId", "fileName", "category"}},
	}
	var cases []errCase
	for _, r := range required {
		var env struct{ Type string }
		require.NoError(t, json.Unmarshal([]byte(r.example), &env))
		for _, f := range r.fields {
			cases = append(cases,
				errCase{env.Type + " without " + f, without(t, r.example, f), "data." + f, "is required"},
				errCase{env.Type + " with null " + f, with(t, r.example, f, `null`), "data." + f, "is required"})
			if f != "start" {
				cases = append(cases,
					errCase{env.Type + " with empty " + f, with(t, r.example, f, `""`), "data." + f, "is required"},
					errCase{env.Type + " with blank " + f, with(t, r.example, f, `" \t "`), "data." + f, "is required"})
			}
		}
	}
	cases = append(cases,
		errCase{"no type", `{"timestamp":"2026-11-27T09:30:00Z","data":{"jobRef":"` + secret + `"}}`, "type", "is required"},
		errCase{"empty type", `{"type":"","timestamp":"2026-11-27T09:30:00Z","data":{}}`, "type", "is required"},
		errCase{"null type", `{"type":null,"timestamp":"2026-11-27T09:30:00Z","data":{}}`, "type", "is required"},
		errCase{"no timestamp", `{"type":"ACTIVITY_ASSIGNED","data":{"jobRef":"` + secret + `"}}`, "timestamp", "is required"},
		errCase{"no data", `{"type":"ACTIVITY_ASSIGNED","timestamp":"2026-11-27T09:30:00Z"}`, "data", "is required"},
		errCase{"null data", `{"type":"ACTIVITY_ASSIGNED","timestamp":"2026-11-27T09:30:00Z","data":null}`, "data", "is required"},
		errCase{"empty data", `{"type":"JOB_STATUS_CHANGED","timestamp":"2026-11-27T09:30:00Z","data":{}}`, "data.jobRef", "is required"},
	)
	checkFieldErrors(t, cases)

	// Optional fields may be left out.
	for _, opt := range []struct{ example, field string }{
		{exAssigned, "teamName"}, {exAssigned, "actor"},
		{exStatus, "statusId"}, {exStatus, "previousStatus"}, {exStatus, "jobClientRef"},
		{exApptRescheduled, "end"}, {exApptRescheduled, "previousStart"}, {exApptRescheduled, "reason"},
		{exDocument, "size"}, {exDocument, "sha256"}, {exDocument, "clientRef"},
		{exDocApproved, "reason"}, {exDocApproved, "actor"}, {exDocApproved, "size"}, {exDocApproved, "sha256"},
		{exDocRejected, "reason"}, {exDocRejected, "jobClientRef"},
	} {
		_, err := events.Decode([]byte(without(t, opt.example, opt.field)), "i", "s")
		assert.NoError(t, err, "without optional %s", opt.field)
	}
	// Empty optional times count as absent.
	ev, err := events.Decode([]byte(with(t, exApptRescheduled, "end", `""`)), "i", "s")
	require.NoError(t, err)
	assert.Nil(t, ev.Appointment.End)
}

func TestDecodeWrongTypes(t *testing.T) {
	checkFieldErrors(t, []errCase{
		{"type number", `{"type":5,"timestamp":"2026-11-27T09:30:00Z","data":{}}`, "type", "wrong type"},
		{"type object", `{"type":{"` + secret + `":1},"timestamp":"2026-11-27T09:30:00Z","data":{}}`, "type", "wrong type"},
		{"timestamp number", `{"type":"ACTIVITY_ASSIGNED","timestamp":1764235800,"data":{}}`, "timestamp", "wrong type"},
		{"jobRef bool", with(t, exAssigned, "jobRef", `true`), "data.jobRef", "wrong type"},
		{"jobRef object", with(t, exAssigned, "jobRef", `{"v":"`+secret+`"}`), "data.jobRef", "wrong type"},
		{"jobRef array", with(t, exAssigned, "jobRef", `["`+secret+`"]`), "data.jobRef", "wrong type"},
		{"jobClientRef bool", with(t, exStatus, "jobClientRef", `false`), "data.jobClientRef", "wrong type"},
		{"actor array", with(t, exStatus, "actor", `["`+secret+`"]`), "data.actor", "wrong type"},
		{"activityId bool", with(t, exAssigned, "activityId", `true`), "data.activityId", "wrong type"},
		{"teamId object", with(t, exAssigned, "teamId", `{}`), "data.teamId", "wrong type"},
		{"teamName array", with(t, exAssigned, "teamName", `[]`), "data.teamName", "wrong type"},
		{"status object", with(t, exStatus, "status", `{"name":"`+secret+`"}`), "data.status", "wrong type"},
		{"statusId bool", with(t, exStatus, "statusId", `true`), "data.statusId", "wrong type"},
		{"appointmentId array", with(t, exApptCreated, "appointmentId", `[1]`), "data.appointmentId", "wrong type"},
		{"start number", with(t, exApptCreated, "start", `1764489600`), "data.start", "wrong type"},
		{"end bool", with(t, exApptCreated, "end", `true`), "data.end", "wrong type"},
		{"previousStart object", with(t, exApptRescheduled, "previousStart", `{}`), "data.previousStart", "wrong type"},
		{"reason number array", with(t, exApptCancelled, "reason", `[1,2]`), "data.reason", "wrong type"},
		{"documentId bool", with(t, exDocument, "documentId", `true`), "data.documentId", "wrong type"},
		{"fileName object", with(t, exDocument, "fileName", `{"n":"`+secret+`"}`), "data.fileName", "wrong type"},
		{"category array", with(t, exDocument, "category", `[]`), "data.category", "wrong type"},
		{"sha256 bool", with(t, exDocument, "sha256", `true`), "data.sha256", "wrong type"},
		{"clientRef object", with(t, exDocument, "clientRef", `{}`), "data.clientRef", "wrong type"},
		{"size bool", with(t, exDocument, "size", `true`), "data.size", "wrong type"},
		{"approved documentId bool", with(t, exDocApproved, "documentId", `true`), "data.documentId", "wrong type"},
		{"approved fileName array", with(t, exDocApproved, "fileName", `["`+secret+`"]`), "data.fileName", "wrong type"},
		{"approved size object", with(t, exDocApproved, "size", `{}`), "data.size", "wrong type"},
		{"approved reason object", with(t, exDocApproved, "reason", `{"r":"`+secret+`"}`), "data.reason", "wrong type"},
		{"rejected category bool", with(t, exDocRejected, "category", `false`), "data.category", "wrong type"},
		{"rejected reason array", with(t, exDocRejected, "reason", `["`+secret+`"]`), "data.reason", "wrong type"},
		{"rejected clientRef object", with(t, exDocRejected, "clientRef", `{}`), "data.clientRef", "wrong type"},
	})
}

func TestDecodeTextLimits(t *testing.T) {
	long := func(n int) string { return `"` + strings.Repeat(secret[:1], n-len(secret)) + secret + `"` }
	checkFieldErrors(t, []errCase{
		{"jobRef 51", with(t, exAssigned, "jobRef", long(51)), "data.jobRef", "must be at most 50 characters"},
		{"jobClientRef 51", with(t, exStatus, "jobClientRef", long(51)), "data.jobClientRef", "must be at most 50 characters"},
		{"activityId 51", with(t, exAssigned, "activityId", long(51)), "data.activityId", "must be at most 50 characters"},
		{"teamId 51", with(t, exAssigned, "teamId", long(51)), "data.teamId", "must be at most 50 characters"},
		{"status 101", with(t, exStatus, "status", long(101)), "data.status", "must be at most 100 characters"},
		{"appointmentId 51", with(t, exApptCreated, "appointmentId", long(51)), "data.appointmentId", "must be at most 50 characters"},
		{"reason 1001", with(t, exApptCancelled, "reason", long(1001)), "data.reason", "must be at most 1000 characters"},
		{"documentId 101", with(t, exDocument, "documentId", long(101)), "data.documentId", "must be at most 100 characters"},
		{"fileName 256", with(t, exDocument, "fileName", long(256)), "data.fileName", "must be at most 255 characters"},
		{"category 101", with(t, exDocument, "category", long(101)), "data.category", "must be at most 100 characters"},
		{"jobRef 51 runes", with(t, exAssigned, "jobRef", `"`+strings.Repeat("é", 51)+`"`), "data.jobRef", "must be at most 50 characters"},
		{"approved reason 1001", with(t, exDocApproved, "reason", long(1001)), "data.reason", "must be at most 1000 characters"},
		{"rejected reason 1001", with(t, exDocRejected, "reason", long(1001)), "data.reason", "must be at most 1000 characters"},
		{"rejected reason 1001 runes", with(t, exDocRejected, "reason", `"`+strings.Repeat("ü", 1001)+`"`), "data.reason", "must be at most 1000 characters"},
		{"approved documentId 101", with(t, exDocApproved, "documentId", long(101)), "data.documentId", "must be at most 100 characters"},
		{"rejected fileName 256", with(t, exDocRejected, "fileName", long(256)), "data.fileName", "must be at most 255 characters"},
	})
	// At the limit is fine; limits count characters, not bytes.
	for _, c := range []struct{ example, field, value string }{
		{exAssigned, "jobRef", strings.Repeat("x", 50)},
		{exAssigned, "jobRef", strings.Repeat("A", 50)},
		{exStatus, "status", strings.Repeat("x", 100)},
		{exApptCancelled, "reason", strings.Repeat("ü", 1000)},
		{exDocument, "fileName", strings.Repeat("ñ", 255)},
		{exDocument, "documentId", strings.Repeat("7", 100)},
		{exDocument, "category", strings.Repeat("c", 100)},
		{exDocApproved, "reason", strings.Repeat("ü", 1000)},
		{exDocRejected, "reason", strings.Repeat("x", 1000)},
	} {
		raw, _ := json.Marshal(c.value)
		_, err := events.Decode([]byte(with(t, c.example, c.field, string(raw))), "i", "s")
		assert.NoError(t, err, "%s of %d characters", c.field, len([]rune(c.value)))
	}
}

func TestDecodeBadTimes(t *testing.T) {
	var cases []errCase
	for _, bad := range []string{
		"2026-11-27 09:30:00Z",     // space instead of T
		"2026-11-27T09:30:00",      // no zone
		"27/11/2026 09:30",         // not RFC 3339 at all
		"2026-13-27T09:30:00Z",     // month 13
		"2026-11-27T25:30:00Z",     // hour 25
		"2026-11-27",               // date only
		"Zx9Secret",                // the distinctive value itself
		"2026-11-27T09:30:00Zx9Se", // trailing junk
	} {
		raw, _ := json.Marshal(bad)
		cases = append(cases,
			errCase{"timestamp " + bad, `{"type":"ACTIVITY_ASSIGNED","timestamp":` + string(raw) + `,"data":{}}`, "timestamp", "must be an RFC 3339 date-time"},
			errCase{"start " + bad, with(t, exApptCreated, "start", string(raw)), "data.start", "must be an RFC 3339 date-time"},
			errCase{"end " + bad, with(t, exApptCreated, "end", string(raw)), "data.end", "must be an RFC 3339 date-time"},
			errCase{"previousStart " + bad, with(t, exApptRescheduled, "previousStart", string(raw)), "data.previousStart", "must be an RFC 3339 date-time"},
		)
	}
	cases = append(cases,
		errCase{"empty timestamp", `{"type":"ACTIVITY_ASSIGNED","timestamp":"","data":{}}`, "timestamp", "must be an RFC 3339 date-time"},
		errCase{"empty start", with(t, exApptCreated, "start", `""`), "data.start", "must be an RFC 3339 date-time"},
		// A bad timestamp is reported even for a type O2O ignores.
		errCase{"unhandled type, bad timestamp", `{"type":"JOB_CREATED","timestamp":"yesterday"}`, "timestamp", "must be an RFC 3339"},
	)
	checkFieldErrors(t, cases)
}

func TestDecodeDocumentChecks(t *testing.T) {
	var cases []errCase
	for _, name := range []string{`"../` + secret + `.pdf"`, `"dir/` + secret + `"`, `"C:\\` + secret + `.pdf"`, `"` + secret + `\u0000.pdf"`, `"/etc/passwd"`} {
		cases = append(cases, errCase{"fileName " + name, with(t, exDocument, "fileName", name), "data.fileName", "without path separators"})
	}
	for _, sum := range []string{
		`"` + strings.Repeat("a", 63) + `"`,
		`"` + strings.Repeat("a", 65) + `"`,
		`"` + strings.Repeat("g", 64) + `"`,
		`"` + secret + strings.Repeat("0", 64-len(secret)) + `"`,
		`"` + strings.Repeat("é", 32) + `"`, // 64 bytes, 32 characters
		`"` + strings.Repeat("0", 62) + ` 0"`,
	} {
		cases = append(cases, errCase{"sha256 " + sum[:10], with(t, exDocument, "sha256", sum), "data.sha256", "must be 64 hexadecimal characters"})
	}
	for _, size := range []string{`-1`, `"-1"`, `1.5`, `"1.5"`, `1e3`, `"abc"`, `"` + secret + `"`, `"007"`, `"+5"`, `" 5"`,
		`99999999999999999999`, `"9223372036854775808"`, `""`} {
		cases = append(cases, errCase{"size " + size, with(t, exDocument, "size", size), "data.size", "must be a non-negative whole number of bytes"})
	}
	checkFieldErrors(t, cases)

	// Upper-case hex and a plain name with dots and spaces are fine.
	ev, err := events.Decode([]byte(with(t, with(t, exDocument, "sha256", `"`+strings.Repeat("AbCdEf09", 8)+`"`),
		"fileName", `"Gas cert v1.2 (final).PDF"`)), "i", "s")
	require.NoError(t, err)
	assert.Equal(t, strings.Repeat("AbCdEf09", 8), ev.Document.SHA256)
	assert.Equal(t, "Gas cert v1.2 (final).PDF", ev.Document.FileName)
}

func TestDecodeNotAnObject(t *testing.T) {
	checkFieldErrors(t, []errCase{
		{"body array", `["` + secret + `"]`, "body", "must be a JSON object"},
		{"body string", `"` + secret + `"`, "body", "must be a JSON object"},
		{"body number", `42`, "body", "must be a JSON object"},
		{"body bool", `true`, "body", "must be a JSON object"},
		{"body not JSON", `{"type":"` + secret, "body", "is not valid JSON"},
		{"body trailing garbage", exAssigned + `,` + secret, "body", "is not valid JSON"},
		{"body two objects", exAssigned + exAssigned, "body", "is not valid JSON"},
		{"body empty", ``, "body", "is not valid JSON"},
		{"body form-encoded", `type=ACTIVITY_ASSIGNED&jobRef=` + secret, "body", "is not valid JSON"},
		{"data string", `{"type":"ACTIVITY_ASSIGNED","timestamp":"2026-11-27T09:30:00Z","data":"` + secret + `"}`, "data", "must be a JSON object"},
		{"data number", `{"type":"JOB_STATUS_CHANGED","timestamp":"2026-11-27T09:30:00Z","data":12}`, "data", "must be a JSON object"},
		{"data array", `{"type":"DOCUMENT_UPLOADED","timestamp":"2026-11-27T09:30:00Z","data":[{"jobRef":"` + secret + `"}]}`, "data", "must be a JSON object"},
		{"data bool", `{"type":"APPOINTMENT_CREATED","timestamp":"2026-11-27T09:30:00Z","data":false}`, "data", "must be a JSON object"},
	})
	// The body "null" has no type.
	_, err := events.Decode([]byte(`null`), "i", "s")
	var fe *events.FieldError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "type", fe.Field)
}

func TestDecodeToleratesUnknownFields(t *testing.T) {
	b := `{"type":"ACTIVITY_ASSIGNED","timestamp":"2026-11-27T09:30:00Z","version":2,"extra":{"a":[1,2,{"b":null}]},
		"data":{"jobRef":"AC000001","activityId":"137001","teamId":"7","priority":{"name":"Emergency","id":1},"tags":["x"],"new":true}}`
	ev, err := events.Decode([]byte(b), "i", "s")
	require.NoError(t, err)
	assert.Equal(t, "AC000001", ev.JobRef)
	assert.Equal(t, &events.Assignment{ActivityID: "137001", TeamID: "7"}, ev.Assignment)

	// Fields belonging to another event type are ignored, not decoded.
	b = body("JOB_STATUS_CHANGED", `"jobRef":"J1","status":"Done","activityId":true,"fileName":"../x","start":"bad"`)
	ev, err = events.Decode([]byte(b), "i", "s")
	require.NoError(t, err)
	assert.Equal(t, &events.StatusChange{Status: "Done"}, ev.Status)
	assert.Nil(t, ev.Assignment)
	assert.Nil(t, ev.Document)
	assert.Nil(t, ev.Appointment)

	// An upload carries no reason: the field is ignored, whatever its shape.
	for _, raw := range []string{`"looks fine"`, `true`, `{"a":1}`, `"` + strings.Repeat("x", 1001) + `"`} {
		ev, err = events.Decode([]byte(with(t, exDocument, "reason", raw)), "i", "s")
		require.NoError(t, err, raw)
		assert.Empty(t, ev.Document.Reason, raw)
	}
}

// DOCUMENT_APPROVED and DOCUMENT_REJECTED are checked like DOCUMENT_UPLOADED
// (the same document fields and rules) and add an optional reason.
func TestDecodeDocumentApproval(t *testing.T) {
	for _, ex := range []string{exDocApproved, exDocRejected} {
		var cases []errCase
		typ := events.Type(map[bool]string{true: "DOCUMENT_APPROVED", false: "DOCUMENT_REJECTED"}[ex == exDocApproved])
		cases = append(cases,
			errCase{string(typ) + " fileName with path", with(t, ex, "fileName", `"../`+secret+`.pdf"`), "data.fileName", "without path separators"},
			errCase{string(typ) + " bad sha256", with(t, ex, "sha256", `"`+secret+`"`), "data.sha256", "must be 64 hexadecimal characters"},
			errCase{string(typ) + " negative size", with(t, ex, "size", `-1`), "data.size", "must be a non-negative whole number of bytes"},
			errCase{string(typ) + " without documentId", without(t, ex, "documentId"), "data.documentId", "is required"},
			errCase{string(typ) + " without jobRef", without(t, ex, "jobRef"), "data.jobRef", "is required"},
		)
		checkFieldErrors(t, cases)

		// An empty or absent reason is no reason; numbers read as text.
		for raw, want := range map[string]string{`""`: "", `null`: "", `42`: "42"} {
			ev, err := events.Decode([]byte(with(t, ex, "reason", raw)), "i", "s")
			require.NoError(t, err, raw)
			assert.Equal(t, typ, ev.Type)
			assert.Equal(t, want, ev.Document.Reason, raw)
		}
		ev, err := events.Decode([]byte(without(t, ex, "reason")), "i", "s")
		require.NoError(t, err)
		assert.Empty(t, ev.Document.Reason)
		assert.NotEmpty(t, ev.Document.DocumentID)
		assert.Nil(t, ev.Appointment, "the reason is the document's, not an appointment's")
	}
}

func TestDecodeUnhandledType(t *testing.T) {
	for _, typ := range []string{"JOB_CREATED", "activity_assigned", "NOTE_ADDED", "APPOINTMENT", "ACTIVITY_ASSIGNED "} {
		// No data at all, or data of any shape: the type is checked first.
		for _, b := range []string{
			`{"type":"` + typ + `","timestamp":"2026-11-27T09:30:00+02:00"}`,
			`{"type":"` + typ + `","timestamp":"2026-11-27T09:30:00+02:00","data":"whatever"}`,
			`{"type":"` + typ + `","timestamp":"2026-11-27T09:30:00+02:00","data":{"jobRef":true}}`,
		} {
			ev, err := events.Decode([]byte(b), "msg_9", "fixit")
			require.ErrorIs(t, err, events.ErrUnhandledType, b)
			var fe *events.FieldError
			assert.False(t, errors.As(err, &fe))
			assert.Equal(t, events.Type(typ), ev.Type)
			assert.False(t, ev.Type.Handled())
			assert.True(t, time.Date(2026, 11, 27, 7, 30, 0, 0, time.UTC).Equal(ev.OccurredAt))
			assert.Equal(t, "msg_9", ev.ID)
			assert.Equal(t, "fixit", ev.System)
			assert.Empty(t, ev.JobRef)
			assert.Nil(t, ev.Assignment)
			assert.Nil(t, ev.Status)
			assert.Nil(t, ev.Appointment)
			assert.Nil(t, ev.Document)
		}
	}
}

func TestTypePredicates(t *testing.T) {
	handled := map[events.Type]bool{
		events.ActivityAssigned: false, events.JobStatusChanged: false, events.DocumentUploaded: false,
		events.DocumentApproved: false, events.DocumentRejected: false,
		events.VersionCreated: false, events.VersionStatusChanged: false,
		events.AppointmentCreated: true, events.AppointmentRescheduled: true, events.AppointmentCancelled: true, events.AppointmentCompleted: true,
	}
	for typ, appt := range handled {
		assert.True(t, typ.Handled(), typ)
		assert.Equal(t, appt, typ.IsAppointment(), typ)
	}
	for _, typ := range []events.Type{"", "JOB_CREATED", "appointment_created", "APPOINTMENT_MOVED"} {
		assert.False(t, typ.Handled(), typ)
		assert.False(t, typ.IsAppointment(), typ)
	}
}

func TestFieldErrorMessage(t *testing.T) {
	err := error(&events.FieldError{Field: "data.jobRef", Problem: "is required"})
	assert.EqualError(t, err, "data.jobRef: is required")
}
