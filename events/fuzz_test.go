package events_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/o2o-sync/o2o/events"
)

// knownFields are the only names a FieldError may carry: the message names a
// field of the schema, never something taken from the input.
var knownFields = map[string]bool{
	"body": true, "type": true, "timestamp": true, "data": true,
	"data.jobRef": true, "data.jobClientRef": true, "data.actor": true,
	"data.activityId": true, "data.teamId": true, "data.teamName": true,
	"data.status": true, "data.statusId": true, "data.previousStatus": true,
	"data.appointmentId": true, "data.start": true, "data.end": true, "data.previousStart": true, "data.reason": true,
	"data.documentId": true, "data.fileName": true, "data.category": true, "data.size": true, "data.sha256": true, "data.clientRef": true,
	"data.version": true, "data.previousVersionJobRef": true, "data.changes": true,
}

// changeField matches the names of a version's line-change fields.
var changeField = regexp.MustCompile(`^data\.changes\[[0-9]+\](\.(change|activityId|clientRef|code|quantity))?$`)

// knownProblem matches every problem text Decode may return; none quotes input.
var knownProblem = regexp.MustCompile(`^(is required|must be an RFC 3339 date-time|must be a JSON object|is not valid JSON|is not a valid JSON object|` +
	`has the wrong type \(want [a-zA-Z0-9_.]+\)|must be at most [0-9]+ characters|` +
	`must be a plain file name, without path separators|must be a non-negative whole number of bytes|must be 64 hexadecimal characters|` +
	`must be a whole number of at least [12]|must be one of [A-Za-z, ]+|must be an array of changes|must have at least one change|` +
	`must have at most [0-9]+ changes|is required when clientRef is not given|must be add, remove or quantity|` +
	`must be a positive decimal, like 2 or 2\.50|is not a job ref: (it is empty|it is longer than 50 characters|it may hold only letters, digits, '-', '_', '\.' and '/'))$`)

func FuzzDecode(f *testing.F) {
	for _, ex := range []string{exAssigned, exStatus, exApptCreated, exApptRescheduled, exApptCancelled, exApptCompleted, exDocument, exDocApproved, exDocRejected,
		exVersionCreated, exVersionStatus} {
		f.Add([]byte(ex))
	}
	for _, bad := range []string{
		``, `null`, `[]`, `{}`, `"x"`, `{"type":"JOB_CREATED","timestamp":"2026-11-27T09:30:00Z"}`,
		`{"type":"ACTIVITY_ASSIGNED","timestamp":"2026-11-27T09:30:00Z","data":null}`,
		`{"type":"ACTIVITY_ASSIGNED","timestamp":"2026-11-27T09:30:00Z","data":[1]}`,
		`{"type":"ACTIVITY_ASSIGNED","timestamp":"2026-11-27T09:30:00Z","data":{"jobRef":1e999,"activityId":-0,"teamId":7}}`,
		`{"type":"DOCUMENT_UPLOADED","timestamp":"2026-11-27T09:30:00Z","data":{"jobRef":"J","documentId":1,"fileName":"..","category":"c","size":"-0"}}`,
		`{"type":"DOCUMENT_UPLOADED","timestamp":"2026-11-27T09:30:00Z","data":{"jobRef":"J","documentId":1,"fileName":"a\\b","category":"c","sha256":"zz"}}`,
		`{"type":"DOCUMENT_APPROVED","timestamp":"2026-11-27T09:30:00Z","data":{"jobRef":"J","documentId":1,"fileName":"a","category":"c","reason":7}}`,
		`{"type":"DOCUMENT_REJECTED","timestamp":"2026-11-27T09:30:00Z","data":{"jobRef":"J","documentId":"","fileName":"a","category":"c","reason":["x"]}}`,
		`{"type":"APPOINTMENT_RESCHEDULED","timestamp":"2026-11-27T09:30:00Z","data":{"jobRef":"J","appointmentId":1,"start":"2026-11-27T09:30:00.999999999+14:00","end":""}}`,
		`{"type":"JOB_STATUS_CHANGED","timestamp":"2026-11-27T09:30:00Z","data":{"jobRef":" ","status":{"a":"b"}}}`,
		`{"type":"JOB_STATUS_CHANGED","timestamp":"2026-11-27T09:30:00Z","data":{"JOBREF":"J","Status":"s","status":true}}`,
		"{\"type\":\"JOB_STATUS_CHANGED\",\"timestamp\":\"2026-11-27T09:30:00Z\",\"data\":{\"jobRef\":\"\xff\xfe\",\"status\":\"\u00e9\"}}",
	} {
		f.Add([]byte(bad))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		ev, err := events.Decode(body, "fuzz-id", "fuzz-system")
		if err != nil {
			if errors.Is(err, events.ErrUnhandledType) {
				if ev.Type == "" || ev.Type.Handled() {
					t.Fatalf("ErrUnhandledType with type %q", ev.Type)
				}
				if ev.ID != "fuzz-id" || ev.System != "fuzz-system" {
					t.Fatalf("ErrUnhandledType event lost id/system: %+v", ev)
				}
				if ev.Assignment != nil || ev.Status != nil || ev.Appointment != nil || ev.Document != nil || ev.Version != nil || ev.JobRef != "" {
					t.Fatalf("ErrUnhandledType event carries data: %+v", ev)
				}
				return
			}
			var fe *events.FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("error is %T, want *FieldError or ErrUnhandledType: %v", err, err)
			}
			if !knownFields[fe.Field] && !changeField.MatchString(fe.Field) {
				t.Fatalf("FieldError names unknown field %q", fe.Field)
			}
			if !knownProblem.MatchString(fe.Problem) {
				t.Fatalf("FieldError problem %q is not one of the fixed texts", fe.Problem)
			}
			if err.Error() != fe.Field+": "+fe.Problem {
				t.Fatalf("error text %q", err.Error())
			}
			return
		}
		if ev.ID != "fuzz-id" || ev.System != "fuzz-system" {
			t.Fatalf("id/system not copied: %+v", ev)
		}
		if !ev.Type.Handled() {
			t.Fatalf("decoded unhandled type %q without error", ev.Type)
		}
		if !events.IsCanonicalJobRef(ev.JobRef) || len([]rune(ev.JobClientRef)) > 50 {
			t.Fatalf("bad jobRef/jobClientRef: %q %q", ev.JobRef, ev.JobClientRef)
		}
		if v := ev.Version; v != nil && v.PreviousJobRef != "" && !events.IsCanonicalJobRef(v.PreviousJobRef) {
			t.Fatalf("previousVersionJobRef %q is not canonical", v.PreviousJobRef)
		}
		set := 0
		for _, p := range []bool{ev.Assignment != nil, ev.Status != nil, ev.Appointment != nil, ev.Document != nil, ev.Version != nil} {
			if p {
				set++
			}
		}
		if set != 1 {
			t.Fatalf("%d detail pointers set, want 1: %+v", set, ev)
		}
		switch {
		case ev.Type == events.ActivityAssigned:
			a := ev.Assignment
			if a == nil || strings.TrimSpace(a.ActivityID) == "" || strings.TrimSpace(a.TeamID) == "" {
				t.Fatalf("assignment %+v", a)
			}
		case ev.Type == events.JobStatusChanged:
			s := ev.Status
			if s == nil || strings.TrimSpace(s.Status) == "" || len([]rune(s.Status)) > 100 {
				t.Fatalf("status %+v", s)
			}
		case ev.Type.IsAppointment():
			a := ev.Appointment
			if a == nil || strings.TrimSpace(a.AppointmentID) == "" || len([]rune(a.Reason)) > 1000 {
				t.Fatalf("appointment %+v", a)
			}
		case ev.Type == events.DocumentUploaded || ev.Type == events.DocumentApproved || ev.Type == events.DocumentRejected:
			d := ev.Document
			if d == nil || strings.TrimSpace(d.DocumentID) == "" || strings.TrimSpace(d.FileName) == "" || strings.TrimSpace(d.Category) == "" {
				t.Fatalf("document %+v", d)
			}
			if strings.ContainsAny(d.FileName, "/\\\x00") || len([]rune(d.FileName)) > 255 {
				t.Fatalf("file name %q", d.FileName)
			}
			if d.Size < 0 {
				t.Fatalf("size %d", d.Size)
			}
			if len([]rune(d.Reason)) > 1000 || (ev.Type == events.DocumentUploaded && d.Reason != "") {
				t.Fatalf("reason %q on %s", d.Reason, ev.Type)
			}
			if d.SHA256 != "" && !regexp.MustCompile(`^[0-9a-fA-F]{64}$`).MatchString(d.SHA256) {
				t.Fatalf("sha256 %q", d.SHA256)
			}
		case ev.Type == events.VersionCreated || ev.Type == events.VersionStatusChanged:
			v := ev.Version
			if v == nil || v.Number < 1 || len([]rune(v.Reason)) > 1000 {
				t.Fatalf("version %+v", v)
			}
			if ev.Type == events.VersionCreated && (v.Number < 2 || strings.TrimSpace(v.PreviousJobRef) == "" || len(v.Changes) == 0 ||
				(v.Status != events.VersionNew && v.Status != events.VersionPending)) {
				t.Fatalf("created version %+v", v)
			}
			for _, c := range v.Changes {
				ok := (c.Change == events.ChangeAdd && c.Code != "" && events.IsQuantity(c.Quantity)) ||
					(c.Change == events.ChangeRemove && (c.ActivityID != "" || c.ClientRef != "") && c.Quantity == "") ||
					(c.Change == events.ChangeQuantity && (c.ActivityID != "" || c.ClientRef != "") && events.IsQuantity(c.Quantity))
				if !ok {
					t.Fatalf("change %+v", c)
				}
			}
		default:
			t.Fatalf("type %q handled but not decoded", ev.Type)
		}
	})
}

// fuzzKeys are the receiver's secrets in FuzzVerify (a rotation pair).
var fuzzKeys = []string{vecSecret, "whsec_" + base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))}

const fuzzNow = int64(1_800_000_000)

func FuzzVerify(f *testing.F) {
	now := strconv.FormatInt(fuzzNow, 10)
	body := []byte(exAssigned)
	key0, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(fuzzKeys[0], "whsec_"))
	key1, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(fuzzKeys[1], "whsec_"))
	good := specSignKey(key0, "msg_1", now, body)
	f.Add("msg_1", now, good, body)
	f.Add("msg_1", now, specSignKey(key1, "msg_1", now, body)+" "+vecWrongSignature, body)
	f.Add("msg_1", now, "v1a,AAAA "+good, body)
	f.Add("msg_1", strconv.FormatInt(fuzzNow-300, 10), good, body)
	f.Add("msg_1", strconv.FormatInt(fuzzNow+301, 10), good, body)
	f.Add("msg.1", now, good, body)
	f.Add("", "", "", []byte(nil))
	f.Add(vecID, strconv.FormatInt(vecTimestamp, 10), vecSignature, []byte(vecPayload))
	f.Add("msg_1", "+1800000000", "v1,"+strings.Repeat("A", 43)+"=", body)
	f.Add("msg_1", "9223372036854775807", good, body)
	f.Add("msg_1", "-9223372036854775808", good, body)

	secrets := make([]events.Secret, len(fuzzKeys))
	keys := make([][]byte, len(fuzzKeys))
	for i, k := range fuzzKeys {
		s, err := events.ParseSecret(k)
		if err != nil {
			f.Fatal(err)
		}
		secrets[i] = s
		keys[i], _ = base64.StdEncoding.DecodeString(strings.TrimPrefix(k, "whsec_"))
	}
	at := time.Unix(fuzzNow, 0)

	f.Fuzz(func(t *testing.T, id, stamp, header string, body []byte) {
		// What the spec says about the headers alone.
		var wantHeaders error
		sec, perr := strconv.ParseInt(stamp, 10, 64)
		switch {
		case id == "" || stamp == "" || strings.Contains(id, ".") || len(id) > 256:
			wantHeaders = events.ErrMissingHeaders
		case perr != nil:
			wantHeaders = events.ErrBadTimestamp
		case sec < fuzzNow-300 || sec > fuzzNow+300:
			wantHeaders = events.ErrStale
		}
		// Independently computed MACs of this message.
		macs := make([][]byte, len(keys))
		for i, k := range keys {
			m := hmac.New(sha256.New, k)
			m.Write([]byte(id + "." + stamp + "."))
			m.Write(body)
			macs[i] = m.Sum(nil)
		}
		signedCorrectly := false
		for _, part := range strings.Fields(header) {
			v, b64, ok := strings.Cut(part, ",")
			if !ok || v != "v1" {
				continue
			}
			got, err := base64.StdEncoding.DecodeString(b64)
			if err != nil {
				continue
			}
			for _, m := range macs {
				if hmac.Equal(got, m) {
					signedCorrectly = true
				}
			}
		}

		err := events.Verify(secrets, id, stamp, header, body, at)
		if err == nil && (wantHeaders != nil || !signedCorrectly) {
			t.Fatalf("accepted: id=%q ts=%q sig=%q (headers: %v, signed: %v)", id, stamp, header, wantHeaders, signedCorrectly)
		}
		if err != nil && wantHeaders == nil && header != "" && signedCorrectly {
			t.Fatalf("rejected a correctly signed message: %v", err)
		}
		if err != nil && !errors.Is(err, events.ErrMissingHeaders) && !errors.Is(err, events.ErrBadTimestamp) &&
			!errors.Is(err, events.ErrStale) && !errors.Is(err, events.ErrBadSignature) {
			t.Fatalf("unexpected error %v", err)
		}

		// The same message, correctly signed (by either key, next to whatever
		// the header held), verifies exactly when the headers are acceptable.
		for i, k := range keys {
			signed := specSignKey(k, id, stamp, body)
			for _, h := range []string{signed, header + " " + signed, signed + " " + header} {
				err := events.Verify(secrets, id, stamp, h, body, at)
				if wantHeaders == nil && err != nil {
					t.Fatalf("key %d: correctly signed message rejected: %v", i, err)
				}
				if wantHeaders != nil && !errors.Is(err, wantHeaders) {
					t.Fatalf("key %d: got %v, want %v", i, err, wantHeaders)
				}
			}
		}
	})
}
