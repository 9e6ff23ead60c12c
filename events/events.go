// Package events defines the Integration Events that Oneserve systems send to
// O2O: the webhook envelope, the data each event type carries, strict decoding
// with errors that name the field, and Standard Webhooks signing.
//
// The full schema, with examples, is in docs/events.md. This package has no
// dependency on Temporal so that the webhook server, the simulator and the
// workflow all share one definition.
package events

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/o2o-sync/o2o/internal/lenient"
)

// Type is an Integration Event type name, in Oneserve's UPPER_SNAKE style.
type Type string

// The event types O2O handles.
const (
	ActivityAssigned       Type = "ACTIVITY_ASSIGNED"
	JobStatusChanged       Type = "JOB_STATUS_CHANGED"
	AppointmentCreated     Type = "APPOINTMENT_CREATED"
	AppointmentRescheduled Type = "APPOINTMENT_RESCHEDULED"
	AppointmentCancelled   Type = "APPOINTMENT_CANCELLED"
	AppointmentCompleted   Type = "APPOINTMENT_COMPLETED"
	DocumentUploaded       Type = "DOCUMENT_UPLOADED"
	// DocumentApproved and DocumentRejected: a user of the source system
	// approved or rejected a document (ASSUMPTION: not in Oneserve's published
	// event list; docs/events.md). Either may come more than once for the same
	// document: a user can withdraw an approval and approve again.
	DocumentApproved Type = "DOCUMENT_APPROVED"
	DocumentRejected Type = "DOCUMENT_REJECTED"

	// JobsDrifted is O2O's own: a reconciliation found a link's job gone, or
	// moved to another client or site (Drift says which). No webhook carries
	// it (Handled is false), so it can never be sent from outside.
	JobsDrifted Type = "O2O_JOBS_DRIFTED"
)

// Where an event came from (Event.Source).
const (
	// FromWebhook: a system's webhook (the default, written as "").
	FromWebhook = ""
	// FromReconcile: O2O read the jobs and found a fact with no record.
	FromReconcile = "reconcile"
)

// Handled reports whether O2O acts on events of type t. Other well-formed
// events are acknowledged and ignored.
func (t Type) Handled() bool {
	switch t {
	case ActivityAssigned, JobStatusChanged, AppointmentCreated, AppointmentRescheduled,
		AppointmentCancelled, AppointmentCompleted, DocumentUploaded, DocumentApproved, DocumentRejected:
		return true
	}
	return false
}

// IsAppointment reports whether t is one of the appointment events.
func (t Type) IsAppointment() bool {
	switch t {
	case AppointmentCreated, AppointmentRescheduled, AppointmentCancelled, AppointmentCompleted:
		return true
	}
	return false
}

// Side says which end of a link an event came from.
type Side string

// The two ends of a link.
const (
	Primary   Side = "primary"
	Secondary Side = "secondary"
)

// Event is one authenticated, decoded and validated event, as the webhook
// server hands it to the LinkedJob workflow. Exactly one of the detail
// pointers is set, according to Type.
type Event struct {
	// ID is the webhook-id header: unique per event, stable across redeliveries.
	ID string `json:"id"`
	// System is the configured name of the system that sent the event.
	System string `json:"system"`
	// Side is the end of the link that System is on. Set per link by the webhook server.
	Side Side `json:"side"`
	Type Type `json:"type"`
	// OccurredAt is the envelope timestamp: when the change happened in the source.
	OccurredAt time.Time `json:"occurredAt"`
	// JobRef is the job's reference in the sending system.
	JobRef string `json:"jobRef"`
	// JobClientRef is the job's client reference in the sending system. For a
	// secondary job created by O2O it is the primary job ref.
	JobClientRef string `json:"jobClientRef,omitempty"`
	// Actor is the user name that made the change, when the sender says.
	// O2O only compares it with its own API user names (echo detection) and
	// never logs it.
	Actor string `json:"actor,omitempty"`

	// Source is FromWebhook or FromReconcile.
	Source string `json:"source,omitempty"`

	Assignment  *Assignment   `json:"assignment,omitempty"`
	Status      *StatusChange `json:"status,omitempty"`
	Appointment *Appointment  `json:"appointment,omitempty"`
	Document    *Document     `json:"document,omitempty"`
	Drift       *Drift        `json:"drift,omitempty"`
}

// Drift is the data of JobsDrifted: what O2O found and cannot repair.
type Drift struct {
	Reason string `json:"reason"`
}

// Assignment is the data of ACTIVITY_ASSIGNED.
type Assignment struct {
	ActivityID string `json:"activityId"`
	TeamID     string `json:"teamId"`
	TeamName   string `json:"teamName,omitempty"`
}

// StatusChange is the data of JOB_STATUS_CHANGED.
type StatusChange struct {
	Status         string `json:"status"`
	StatusID       string `json:"statusId,omitempty"`
	PreviousStatus string `json:"previousStatus,omitempty"`
}

// Appointment is the data of the APPOINTMENT_* events.
type Appointment struct {
	AppointmentID string     `json:"appointmentId"`
	Start         time.Time  `json:"start"`
	End           *time.Time `json:"end,omitempty"`
	PreviousStart *time.Time `json:"previousStart,omitempty"`
	Reason        string     `json:"reason,omitempty"`
}

// Document is the data of DOCUMENT_UPLOADED, DOCUMENT_APPROVED and
// DOCUMENT_REJECTED. The document's bytes never travel in an event: O2O
// fetches them from the owning system by DocumentID.
type Document struct {
	DocumentID string `json:"documentId"`
	FileName   string `json:"fileName"`
	Category   string `json:"category"`
	Size       int64  `json:"size,omitempty"`
	SHA256     string `json:"sha256,omitempty"`
	// ClientRef is the reference the uploader gave the document. O2O sets it
	// on every copy it makes, which lets it recognise its own uploads.
	ClientRef string `json:"clientRef,omitempty"`
	// Reason is the approver's free text on DOCUMENT_APPROVED and
	// DOCUMENT_REJECTED (for a rejection, why); never set for an upload.
	Reason string `json:"reason,omitempty"`
}

// Envelope is the JSON body of a webhook request.
type Envelope struct {
	Type      Type            `json:"type"`
	Timestamp time.Time       `json:"timestamp"`
	Data      json.RawMessage `json:"data"`
}

// FieldError says which field of a body is wrong and how. Its message is safe
// to return to the caller: it never quotes field values.
type FieldError struct {
	Field   string
	Problem string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Problem }

// ErrUnhandledType is returned by Decode for a well-formed envelope whose type
// O2O does not handle.
var ErrUnhandledType = errors.New("event type not handled by O2O")

// Decode parses and validates a webhook body. It returns a *FieldError for
// malformed input and ErrUnhandledType (with a partially filled Event: Type
// and OccurredAt) for an event type O2O ignores. Unknown fields are tolerated;
// wrong types and missing required fields are not. id and system are copied
// into the result.
func Decode(body []byte, id, system string) (Event, error) {
	var env struct {
		Type      *string         `json:"type"`
		Timestamp *string         `json:"timestamp"`
		Data      json.RawMessage `json:"data"`
	}
	if err := unmarshal(body, &env, ""); err != nil {
		return Event{}, err
	}
	if env.Type == nil || *env.Type == "" {
		return Event{}, &FieldError{"type", "is required"}
	}
	if env.Timestamp == nil {
		return Event{}, &FieldError{"timestamp", "is required"}
	}
	ts, err := time.Parse(time.RFC3339, *env.Timestamp)
	if err != nil {
		return Event{}, &FieldError{"timestamp", "must be an RFC 3339 date-time"}
	}
	ev := Event{ID: id, System: system, Type: Type(*env.Type), OccurredAt: ts}
	if !ev.Type.Handled() {
		return ev, ErrUnhandledType
	}
	if len(env.Data) == 0 || bytes.Equal(bytes.TrimSpace(env.Data), []byte("null")) {
		return Event{}, &FieldError{"data", "is required"}
	}
	if err := decodeData(&ev, env.Data); err != nil {
		return Event{}, err
	}
	return ev, nil
}

// common holds the data fields every event type carries.
type common struct {
	JobRef       *Text `json:"jobRef"`
	JobClientRef *Text `json:"jobClientRef"`
	Actor        *Text `json:"actor"`
}

func decodeData(ev *Event, data []byte) error {
	var c common
	if err := unmarshal(data, &c, "data."); err != nil {
		return err
	}
	if err := require("data.jobRef", c.JobRef, 50); err != nil {
		return err
	}
	ev.JobRef = string(*c.JobRef)
	if c.JobClientRef != nil {
		if err := maxLen("data.jobClientRef", string(*c.JobClientRef), 50); err != nil {
			return err
		}
		ev.JobClientRef = string(*c.JobClientRef)
	}
	if c.Actor != nil {
		ev.Actor = string(*c.Actor)
	}

	switch {
	case ev.Type == ActivityAssigned:
		var d struct {
			ActivityID *Text `json:"activityId"`
			TeamID     *Text `json:"teamId"`
			TeamName   *Text `json:"teamName"`
		}
		if err := unmarshal(data, &d, "data."); err != nil {
			return err
		}
		if err := require("data.activityId", d.ActivityID, 50); err != nil {
			return err
		}
		if err := require("data.teamId", d.TeamID, 50); err != nil {
			return err
		}
		ev.Assignment = &Assignment{ActivityID: string(*d.ActivityID), TeamID: string(*d.TeamID), TeamName: d.TeamName.String()}
	case ev.Type == JobStatusChanged:
		var d struct {
			Status         *Text `json:"status"`
			StatusID       *Text `json:"statusId"`
			PreviousStatus *Text `json:"previousStatus"`
		}
		if err := unmarshal(data, &d, "data."); err != nil {
			return err
		}
		if err := require("data.status", d.Status, 100); err != nil {
			return err
		}
		ev.Status = &StatusChange{Status: string(*d.Status), StatusID: d.StatusID.String(), PreviousStatus: d.PreviousStatus.String()}
	case ev.Type.IsAppointment():
		var d struct {
			AppointmentID *Text   `json:"appointmentId"`
			Start         *string `json:"start"`
			End           *string `json:"end"`
			PreviousStart *string `json:"previousStart"`
			Reason        *Text   `json:"reason"`
		}
		if err := unmarshal(data, &d, "data."); err != nil {
			return err
		}
		if err := require("data.appointmentId", d.AppointmentID, 50); err != nil {
			return err
		}
		if d.Start == nil {
			return &FieldError{"data.start", "is required"}
		}
		a := &Appointment{AppointmentID: string(*d.AppointmentID), Reason: d.Reason.String()}
		var err error
		if a.Start, err = time.Parse(time.RFC3339, *d.Start); err != nil {
			return &FieldError{"data.start", "must be an RFC 3339 date-time"}
		}
		if a.End, err = optionalTime("data.end", d.End); err != nil {
			return err
		}
		if a.PreviousStart, err = optionalTime("data.previousStart", d.PreviousStart); err != nil {
			return err
		}
		if err := maxLen("data.reason", a.Reason, 1000); err != nil {
			return err
		}
		ev.Appointment = a
	case ev.Type == DocumentUploaded || ev.Type == DocumentApproved || ev.Type == DocumentRejected:
		var d struct {
			DocumentID *Text `json:"documentId"`
			FileName   *Text `json:"fileName"`
			Category   *Text `json:"category"`
			Size       *Text `json:"size"`
			SHA256     *Text `json:"sha256"`
			ClientRef  *Text `json:"clientRef"`
		}
		if err := unmarshal(data, &d, "data."); err != nil {
			return err
		}
		if err := require("data.documentId", d.DocumentID, 100); err != nil {
			return err
		}
		if err := require("data.fileName", d.FileName, 255); err != nil {
			return err
		}
		if strings.ContainsAny(string(*d.FileName), "/\\\x00") {
			return &FieldError{"data.fileName", "must be a plain file name, without path separators"}
		}
		if err := require("data.category", d.Category, 100); err != nil {
			return err
		}
		doc := &Document{DocumentID: string(*d.DocumentID), FileName: string(*d.FileName), Category: string(*d.Category),
			SHA256: d.SHA256.String(), ClientRef: d.ClientRef.String()}
		if d.Size != nil {
			var n int64
			if _, err := fmt.Sscanf(string(*d.Size), "%d", &n); err != nil || n < 0 || fmt.Sprint(n) != string(*d.Size) {
				return &FieldError{"data.size", "must be a non-negative whole number of bytes"}
			}
			doc.Size = n
		}
		if doc.SHA256 != "" && !isHex(doc.SHA256, 64) {
			return &FieldError{"data.sha256", "must be 64 hexadecimal characters"}
		}
		if ev.Type != DocumentUploaded {
			// Only the approval events carry a reason; on an upload the
			// field is someone else's and ignored, like any unknown field.
			var r struct {
				Reason *Text `json:"reason"`
			}
			if err := unmarshal(data, &r, "data."); err != nil {
				return err
			}
			doc.Reason = r.Reason.String()
			if err := maxLen("data.reason", doc.Reason, 1000); err != nil {
				return err
			}
		}
		ev.Document = doc
	}
	return nil
}

func optionalTime(field string, s *string) (*time.Time, error) {
	if s == nil || *s == "" {
		return nil, nil
	}
	t, err := time.Parse(time.RFC3339, *s)
	if err != nil {
		return nil, &FieldError{field, "must be an RFC 3339 date-time"}
	}
	return &t, nil
}

func require(field string, v *Text, max int) error {
	if v == nil || strings.TrimSpace(string(*v)) == "" {
		return &FieldError{field, "is required"}
	}
	return maxLen(field, string(*v), max)
}

func maxLen(field, v string, max int) error {
	if len([]rune(v)) > max {
		return &FieldError{field, fmt.Sprintf("must be at most %d characters", max)}
	}
	return nil
}

func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for _, r := range s {
		if !strings.ContainsRune("0123456789abcdefABCDEF", r) {
			return false
		}
	}
	return true
}

// unmarshal decodes JSON and turns the standard library's errors into
// FieldErrors that name the field without quoting the input.
func unmarshal(data []byte, v any, prefix string) error {
	err := json.Unmarshal(data, v)
	if err == nil {
		return nil
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		field := te.Field
		if field == "" {
			field = strings.TrimSuffix(prefix, ".")
			if field == "" {
				return &FieldError{"body", "must be a JSON object"}
			}
			return &FieldError{field, "must be a JSON object"}
		}
		return &FieldError{prefix + field, "has the wrong type (want " + te.Type.String() + ")"}
	}
	var fe *FieldError
	if errors.As(err, &fe) {
		return fe
	}
	if prefix == "" {
		return &FieldError{"body", "is not valid JSON"}
	}
	return &FieldError{strings.TrimSuffix(prefix, "."), "is not a valid JSON object"}
}

// Text is a JSON string that also accepts a bare number, because Oneserve
// sends identifiers and quantities as strings in some places and as numbers in
// others. Other JSON types are rejected with a *json.UnmarshalTypeError, which
// Decode turns into a FieldError naming the field. The rules are
// lenient.Text's, shared with the Oneserve client and the simulator.
type Text = lenient.Text
