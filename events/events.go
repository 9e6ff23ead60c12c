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
	"slices"
	"strconv"
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
	// VersionCreated: a user or API client raised a new version (a
	// variation) of a job, with lines added, removed or changed in quantity.
	// The current version keeps the job's ref; the superseded version got a
	// new one (Version.PreviousJobRef). VersionStatusChanged: a version was
	// approved, rejected or cancelled (or otherwise moved between the
	// version statuses). ASSUMPTION: neither is in Oneserve's published
	// event list; docs/events.md.
	VersionCreated       Type = "VERSION_CREATED"
	VersionStatusChanged Type = "VERSION_STATUS_CHANGED"

	// JobsDrifted is O2O's own: a reconciliation found a link's job gone, or
	// moved to another client or site (Drift says which). No webhook carries
	// it (Handled is false), so it can never be sent from outside.
	JobsDrifted Type = "O2O_JOBS_DRIFTED"
	// VersionSuperseded is O2O's own: a read of a link's job (a
	// reconciliation) found one of its superseded versions under its own
	// ref (Version: the version's Number and Status, PreviousJobRef the ref
	// it holds), which the link takes as an alias of its job. No webhook
	// carries it (Handled is false).
	VersionSuperseded Type = "O2O_VERSION_SUPERSEDED"
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
		AppointmentCancelled, AppointmentCompleted, DocumentUploaded, DocumentApproved, DocumentRejected,
		VersionCreated, VersionStatusChanged:
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
	// OccurredAt is the envelope timestamp: when the change happened in the
	// source. For a fact a reconciliation read it is the source's own time
	// where the read gives one, else the time of the read
	// (docs/reconciliation.md, "When a fact happened").
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
	Version     *Version      `json:"version,omitempty"`
}

// The version statuses of a Oneserve job (Version.Status).
const (
	VersionNew       = "New"
	VersionPending   = "Pending"
	VersionApproved  = "Approved"
	VersionRejected  = "Rejected"
	VersionCancelled = "Cancelled"
)

// The kinds of line change in a version (LineChange.Change).
const (
	ChangeAdd      = "add"
	ChangeRemove   = "remove"
	ChangeQuantity = "quantity"
)

// Version is the data of VERSION_CREATED and VERSION_STATUS_CHANGED.
type Version struct {
	// Number is the version's number: at least 2 on VERSION_CREATED (a job
	// starts at version 1), at least 1 on VERSION_STATUS_CHANGED.
	Number int `json:"number"`
	// PreviousJobRef is the new job ref the superseded version got
	// (VERSION_CREATED only; the event's JobRef stays the current version's).
	PreviousJobRef string `json:"previousJobRef,omitempty"`
	// Status is VersionNew or VersionPending on VERSION_CREATED, any of the
	// five statuses on VERSION_STATUS_CHANGED.
	Status string `json:"status"`
	// Reason is the user's free text, when given.
	Reason string `json:"reason,omitempty"`
	// Changes are the version's line changes, in the order sent (at least
	// one; VERSION_CREATED only).
	Changes []LineChange `json:"changes,omitempty"`
}

// LineChange is one line change of a new version. Change is ChangeAdd (Code
// and Quantity set), ChangeRemove (ActivityID or ClientRef set) or
// ChangeQuantity (ActivityID or ClientRef, and Quantity, set). Quantity is a
// positive decimal kept as text ("2", "2.50"); a remove has none.
type LineChange struct {
	Change     string `json:"change"`
	ActivityID string `json:"activityId,omitempty"`
	ClientRef  string `json:"clientRef,omitempty"`
	Code       string `json:"code,omitempty"`
	Quantity   string `json:"quantity,omitempty"`
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
	// LineMissing is set only by a reconciliation (never from a webhook):
	// the activity is assigned to the link's team but the linked job has no
	// line for it, whatever the link believes (a fact of its own, see
	// rules.FactKeys).
	LineMissing bool `json:"lineMissing,omitempty"`
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

// decodeData reads the fields every event carries, then those of its type.
func decodeData(ev *Event, data []byte) error {
	var c common
	if err := unmarshal(data, &c, "data."); err != nil {
		return err
	}
	if err := require("data.jobRef", c.JobRef, 50); err != nil {
		return err
	}
	var err error
	if ev.JobRef, err = jobRefField("data.jobRef", string(*c.JobRef)); err != nil {
		return err
	}
	if c.JobClientRef != nil {
		if err := maxLen("data.jobClientRef", string(*c.JobClientRef), 50); err != nil {
			return err
		}
		ev.JobClientRef = ClientJobRef(string(*c.JobClientRef))
	}
	if c.Actor != nil {
		ev.Actor = string(*c.Actor)
	}

	switch {
	case ev.Type == ActivityAssigned:
		ev.Assignment, err = decodeAssignment(data)
	case ev.Type == JobStatusChanged:
		ev.Status, err = decodeStatusChange(data)
	case ev.Type.IsAppointment():
		ev.Appointment, err = decodeAppointment(data)
	case ev.Type == DocumentUploaded || ev.Type == DocumentApproved || ev.Type == DocumentRejected:
		ev.Document, err = decodeDocument(ev.Type, data)
	case ev.Type == VersionCreated || ev.Type == VersionStatusChanged:
		ev.Version, err = decodeVersion(ev.Type, data)
	}
	return err
}

func decodeAssignment(data []byte) (*Assignment, error) {
	var d struct {
		ActivityID *Text `json:"activityId"`
		TeamID     *Text `json:"teamId"`
		TeamName   *Text `json:"teamName"`
	}
	if err := unmarshal(data, &d, "data."); err != nil {
		return nil, err
	}
	if err := require("data.activityId", d.ActivityID, 50); err != nil {
		return nil, err
	}
	if err := require("data.teamId", d.TeamID, 50); err != nil {
		return nil, err
	}
	return &Assignment{ActivityID: string(*d.ActivityID), TeamID: string(*d.TeamID), TeamName: d.TeamName.String()}, nil
}

func decodeStatusChange(data []byte) (*StatusChange, error) {
	var d struct {
		Status         *Text `json:"status"`
		StatusID       *Text `json:"statusId"`
		PreviousStatus *Text `json:"previousStatus"`
	}
	if err := unmarshal(data, &d, "data."); err != nil {
		return nil, err
	}
	if err := require("data.status", d.Status, 100); err != nil {
		return nil, err
	}
	return &StatusChange{Status: string(*d.Status), StatusID: d.StatusID.String(), PreviousStatus: d.PreviousStatus.String()}, nil
}

func decodeAppointment(data []byte) (*Appointment, error) {
	var d struct {
		AppointmentID *Text   `json:"appointmentId"`
		Start         *string `json:"start"`
		End           *string `json:"end"`
		PreviousStart *string `json:"previousStart"`
		Reason        *Text   `json:"reason"`
	}
	if err := unmarshal(data, &d, "data."); err != nil {
		return nil, err
	}
	if err := require("data.appointmentId", d.AppointmentID, 50); err != nil {
		return nil, err
	}
	if d.Start == nil {
		return nil, &FieldError{"data.start", "is required"}
	}
	a := &Appointment{AppointmentID: string(*d.AppointmentID), Reason: d.Reason.String()}
	var err error
	if a.Start, err = time.Parse(time.RFC3339, *d.Start); err != nil {
		return nil, &FieldError{"data.start", "must be an RFC 3339 date-time"}
	}
	if a.End, err = optionalTime("data.end", d.End); err != nil {
		return nil, err
	}
	if a.PreviousStart, err = optionalTime("data.previousStart", d.PreviousStart); err != nil {
		return nil, err
	}
	if err := maxLen("data.reason", a.Reason, 1000); err != nil {
		return nil, err
	}
	return a, nil
}

// decodeDocument reads the data of a document event of type t (uploaded,
// approved or rejected).
func decodeDocument(t Type, data []byte) (*Document, error) {
	var d struct {
		DocumentID *Text `json:"documentId"`
		FileName   *Text `json:"fileName"`
		Category   *Text `json:"category"`
		Size       *Text `json:"size"`
		SHA256     *Text `json:"sha256"`
		ClientRef  *Text `json:"clientRef"`
	}
	if err := unmarshal(data, &d, "data."); err != nil {
		return nil, err
	}
	if err := require("data.documentId", d.DocumentID, 100); err != nil {
		return nil, err
	}
	if err := require("data.fileName", d.FileName, 255); err != nil {
		return nil, err
	}
	if strings.ContainsAny(string(*d.FileName), "/\\\x00") {
		return nil, &FieldError{"data.fileName", "must be a plain file name, without path separators"}
	}
	if err := require("data.category", d.Category, 100); err != nil {
		return nil, err
	}
	doc := &Document{DocumentID: string(*d.DocumentID), FileName: string(*d.FileName), Category: string(*d.Category),
		SHA256: d.SHA256.String(), ClientRef: d.ClientRef.String()}
	if d.Size != nil {
		var n int64
		if _, err := fmt.Sscanf(string(*d.Size), "%d", &n); err != nil || n < 0 || fmt.Sprint(n) != string(*d.Size) {
			return nil, &FieldError{"data.size", "must be a non-negative whole number of bytes"}
		}
		doc.Size = n
	}
	if doc.SHA256 != "" && !isHex(doc.SHA256, 64) {
		return nil, &FieldError{"data.sha256", "must be 64 hexadecimal characters"}
	}
	if t != DocumentUploaded {
		// Only the approval events carry a reason; on an upload the
		// field is someone else's and ignored, like any unknown field.
		var r struct {
			Reason *Text `json:"reason"`
		}
		if err := unmarshal(data, &r, "data."); err != nil {
			return nil, err
		}
		doc.Reason = r.Reason.String()
		if err := maxLen("data.reason", doc.Reason, 1000); err != nil {
			return nil, err
		}
	}
	return doc, nil
}

// maxChanges bounds the line changes of one VERSION_CREATED.
const maxChanges = 500

// versionStatuses are the statuses each version event may carry.
var versionStatuses = map[Type][]string{
	VersionCreated:       {VersionNew, VersionPending},
	VersionStatusChanged: {VersionNew, VersionPending, VersionApproved, VersionRejected, VersionCancelled},
}

func decodeVersion(t Type, data []byte) (*Version, error) {
	var d struct {
		Version *Text `json:"version"`
		Status  *Text `json:"status"`
		Reason  *Text `json:"reason"`
	}
	if err := unmarshal(data, &d, "data."); err != nil {
		return nil, err
	}
	least := 1
	if t == VersionCreated {
		least = 2
	}
	if d.Version == nil || strings.TrimSpace(string(*d.Version)) == "" {
		return nil, &FieldError{"data.version", "is required"}
	}
	n, err := strconv.Atoi(string(*d.Version))
	if err != nil || n < least || strconv.Itoa(n) != string(*d.Version) {
		return nil, &FieldError{"data.version", fmt.Sprintf("must be a whole number of at least %d", least)}
	}
	v := &Version{Number: n, Reason: d.Reason.String()}
	if err := require("data.status", d.Status, 100); err != nil {
		return nil, err
	}
	v.Status = string(*d.Status)
	if !slices.Contains(versionStatuses[t], v.Status) {
		return nil, &FieldError{"data.status", "must be one of " + strings.Join(versionStatuses[t], ", ")}
	}
	if err := maxLen("data.reason", v.Reason, 1000); err != nil {
		return nil, err
	}
	if t == VersionStatusChanged {
		// The other fields belong to VERSION_CREATED and are ignored here.
		return v, nil
	}
	var c struct {
		Previous *Text           `json:"previousVersionJobRef"`
		Changes  json.RawMessage `json:"changes"`
	}
	if err := unmarshal(data, &c, "data."); err != nil {
		return nil, err
	}
	if err := require("data.previousVersionJobRef", c.Previous, 50); err != nil {
		return nil, err
	}
	if v.PreviousJobRef, err = jobRefField("data.previousVersionJobRef", string(*c.Previous)); err != nil {
		return nil, err
	}
	raw := bytes.TrimSpace(c.Changes)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil, &FieldError{"data.changes", "is required"}
	}
	var items []json.RawMessage
	if raw[0] != '[' || json.Unmarshal(raw, &items) != nil {
		return nil, &FieldError{"data.changes", "must be an array of changes"}
	}
	switch {
	case len(items) == 0:
		return nil, &FieldError{"data.changes", "must have at least one change"}
	case len(items) > maxChanges:
		return nil, &FieldError{"data.changes", fmt.Sprintf("must have at most %d changes", maxChanges)}
	}
	for i, item := range items {
		c, err := decodeChange(fmt.Sprintf("data.changes[%d].", i), item)
		if err != nil {
			return nil, err
		}
		v.Changes = append(v.Changes, c)
	}
	return v, nil
}

// decodeChange reads one line change; prefix names it in errors.
func decodeChange(prefix string, item []byte) (LineChange, error) {
	var d struct {
		Change     *Text `json:"change"`
		ActivityID *Text `json:"activityId"`
		ClientRef  *Text `json:"clientRef"`
		Code       *Text `json:"code"`
		Quantity   *Text `json:"quantity"`
	}
	if bytes.Equal(bytes.TrimSpace(item), []byte("null")) {
		return LineChange{}, &FieldError{strings.TrimSuffix(prefix, "."), "must be a JSON object"}
	}
	if err := unmarshal(item, &d, prefix); err != nil {
		return LineChange{}, err
	}
	if err := require(prefix+"change", d.Change, 20); err != nil {
		return LineChange{}, err
	}
	c := LineChange{Change: string(*d.Change), ActivityID: strings.TrimSpace(d.ActivityID.String()),
		ClientRef: strings.TrimSpace(d.ClientRef.String()), Code: strings.TrimSpace(d.Code.String()),
		Quantity: strings.TrimSpace(d.Quantity.String())}
	for _, f := range []struct {
		name, v string
		max     int
	}{{"activityId", c.ActivityID, 50}, {"clientRef", c.ClientRef, 50}, {"code", c.Code, 200}} {
		if err := maxLen(prefix+f.name, f.v, f.max); err != nil {
			return LineChange{}, err
		}
	}
	switch c.Change {
	case ChangeAdd:
		if c.Code == "" {
			return LineChange{}, &FieldError{prefix + "code", "is required"}
		}
	case ChangeRemove, ChangeQuantity:
		if c.ActivityID == "" && c.ClientRef == "" {
			return LineChange{}, &FieldError{prefix + "activityId", "is required when clientRef is not given"}
		}
	default:
		return LineChange{}, &FieldError{prefix + "change", "must be add, remove or quantity"}
	}
	if c.Change == ChangeRemove {
		c.Quantity = "" // a removed line has no quantity; the field is ignored
		return c, nil
	}
	if c.Quantity == "" {
		return LineChange{}, &FieldError{prefix + "quantity", "is required"}
	}
	if !IsQuantity(c.Quantity) {
		return LineChange{}, &FieldError{prefix + "quantity", "must be a positive decimal, like 2 or 2.50"}
	}
	return c, nil
}

// IsQuantity reports whether s is a line quantity as versions carry it: a
// positive decimal in plain notation, at most 12 digits before the point and
// 6 after ("2", "0.5", "2.50"; not "0", "-1", "1e3", ".5" or "2.").
func IsQuantity(s string) bool {
	whole, frac, dot := strings.Cut(s, ".")
	if whole == "" || len(whole) > 12 || (dot && (frac == "" || len(frac) > 6)) {
		return false
	}
	positive := false
	for _, r := range whole + frac {
		if r < '0' || r > '9' {
			return false
		}
		positive = positive || r != '0'
	}
	return positive
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
