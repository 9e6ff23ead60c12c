package oneserve

import (
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/o2o-sync/o2o/internal/lenient"
)

// CreateJobRequest is one createJob call: a new job in the secondary system
// for a primary job. Every ID is sent as a JSON string, as Oneserve's
// examples do.
type CreateJobRequest struct {
	// ClientRef is the primary job ref; it becomes the new job's Client Job
	// Ref, which is how O2O finds the job again (documented "clientRef").
	ClientRef string
	// SiteRef is the site's reference; the site must exist in the target.
	SiteRef string
	// ReportedDate is sent as dd/mm/yyyy hh:mm in the client's Location.
	ReportedDate time.Time
	// ContactRef, when non-empty, is sent with contactMode "2" (use this
	// contact); when empty, contactMode is "0" (no contact).
	ContactRef string
	// ClientID, WorkLogTypeID, WorkTypeID, WorkflowID, ServiceID and
	// PriorityID are the target system's numeric IDs (field names are an
	// ASSUMPTION: the documented table is cut off). Empty ones are omitted.
	ClientID, WorkLogTypeID, WorkTypeID, WorkflowID, ServiceID, PriorityID string
	// Description is the job description.
	Description string
	// Activities are the job's SOR lines; omitted when empty.
	Activities []JobActivity
}

// JobActivity is one SOR line of a new job.
type JobActivity struct {
	// Code is the SOR (activity library) code in the target system.
	Code string
	// Quantity is a decimal, kept as text so that no precision is lost.
	Quantity string
	// ClientRef is the line's own client reference (ASSUMPTION: createJob's
	// activities accept it, as addActivityByClientRef's do). O2O sets it to
	// the primary activity id, so every line of a linked job can be traced.
	ClientRef string
}

// JobEvent is one addEventByClientRef call: an entry in a job's history.
type JobEvent struct {
	// JobRef addresses the job when non-empty; otherwise JobClientRef
	// (the job's Client Job Ref) with ClientID does. Only the one used is sent.
	JobRef, JobClientRef, ClientID string
	// EventCode is the event's code (≤ 6 characters) configured in the
	// target system, sent as "sigEventCode".
	EventCode string
	// AppointmentID is the appointment the event relates to; optional.
	AppointmentID string
	// NoteID is a configured Note's ID; optional.
	NoteID string
	// Note is the event text (≤ 1000 characters; mandatory for Oneserve).
	Note string
	// Date is when the event happened, sent as dd-mm-yyyy HH:mm:ss in the
	// client's Location.
	Date time.Time
}

// ActivityByClientRef is one activity of an addActivityByClientRef call: a
// new SOR line on a job found by its Client Job Ref. Every field is sent as
// a JSON string.
type ActivityByClientRef struct {
	// JobClientRef is the job's Client Job Ref and ClientID its client's
	// numeric id; together they find the job (both mandatory).
	JobClientRef, ClientID string
	// Code is the SOR code (Text(20) for this endpoint; mandatory).
	Code string
	// ClientRef is the ACTIVITY's client reference (Text(50); mandatory),
	// not the job's.
	ClientRef string
	// Description is optional (Text(1000)); omitted when empty.
	Description string
	// CompletedQuantity and TotalQuantity are decimals kept as text.
	// TotalQuantity is mandatory; an empty CompletedQuantity is sent as "0"
	// (Oneserve requires the field).
	CompletedQuantity, TotalQuantity string
}

// Site is the answer of the site lookup.
type Site struct {
	ClientID, SiteRef, SiteID, Name, Postcode string
	// Contacts are the site's contacts.
	Contacts []SiteContact
	// Jobs are the site's jobs; O2O finds a job it already created here by
	// its ClientRef, which makes job creation idempotent.
	Jobs []SiteJob
}

// SiteContact is one contact linked to a site.
type SiteContact struct {
	ContactRef string
}

// SiteJob is one job at a site.
type SiteJob struct {
	// JobRef is the job's Oneserve reference.
	JobRef string
	// ClientRef is the job's Client Job Ref.
	ClientRef string
	// Status is the job's status as the system reports it.
	Status string
}

// Activity is one activity (SOR line) as the activities read returns it.
// SupplierID is the team assigned to the activity: O2O compares it with the
// link's team to confirm an assignment at the source rather than trusting an
// event's payload.
type Activity struct {
	ID, JobID, SupplierID, Quantity, CompletedQuantity, Description, Ref, LibraryActivityID, ServiceID, Status string
	// IsDeleted is true for a deleted activity.
	IsDeleted bool
}

// Job is a job as the assumed job read returns it.
type Job struct {
	JobRef, ClientRef, ClientID, SiteRef, ContactRef, Priority, PriorityID, Description, Status, StatusID string
	// ReportedDate is read from dd/mm/yyyy hh:mm in the client's Location;
	// zero when the system sent none.
	ReportedDate time.Time
	// Activities are the job's lines.
	Activities []JobLine
	// Events are the job's history events, oldest first (ASSUMPTION: the
	// job read's "events"). Empty when the system sends none, as older
	// systems may not.
	Events []HistoryEvent
	// Appointments are the job's appointments (ASSUMPTION: the job read's
	// "appointments"). Empty when the system sends none.
	Appointments []JobAppointment
	// Version is the number of the version this job ref holds (1 for a
	// job never varied), VersionStatus its status (New, Pending, Approved,
	// Rejected or Cancelled) and Versions every version of the job, oldest
	// first, each with the job ref that holds it: the current version keeps
	// the job's original ref, a superseded one gets a new ref. ASSUMPTION:
	// the job read's "version", "versionStatus" and "versions"; 0, "" and
	// nil when the system sends none (versioning off, or an older system).
	Version       int
	VersionStatus string
	Versions      []JobVersion
}

// CurrentRef is the ref of the job's current version: the ref of the last
// of Versions (a read of a superseded version's ref lists the same
// versions as the current one's), or "" when the read lists none.
func (j *Job) CurrentRef() string {
	if len(j.Versions) == 0 {
		return ""
	}
	return j.Versions[len(j.Versions)-1].JobRef
}

// Superseded reports whether the ref read holds a superseded version of
// the job: its current version is under another ref. A read that names no
// ref or lists no versions says nothing of it: false.
func (j *Job) Superseded() bool {
	cur := j.CurrentRef()
	return cur != "" && j.JobRef != "" && !strings.EqualFold(cur, j.JobRef)
}

// SupersededRefs are the refs the job's superseded versions took: every
// listed version's ref but the current one's, oldest first.
func (j *Job) SupersededRefs() []string {
	cur := j.CurrentRef()
	var out []string
	for _, v := range j.Versions {
		if v.JobRef != "" && !strings.EqualFold(v.JobRef, cur) && !slices.Contains(out, v.JobRef) {
			out = append(out, v.JobRef)
		}
	}
	return out
}

// JobVersion is one version of a job, as the job read lists it.
type JobVersion struct {
	Number int
	// JobRef is the ref holding the version: the job's original ref for the
	// current version, a new ref for a superseded one.
	JobRef string
	Status string
}

// VersionLineChange is one change of ChangeVersionLines: Change is
// LineRemove or LineQuantity; ClientRef (the line's own client reference)
// or ActivityID addresses the line; Quantity is the new quantity, a decimal
// kept as text (LineQuantity only).
type VersionLineChange struct {
	Change, ClientRef, ActivityID, Quantity string
}

// JobAppointment is one appointment of a job read.
type JobAppointment struct {
	AppointmentID string
	// Start and End are read like HistoryEvent.Date; End is zero when not sent.
	Start, End time.Time
	// Status is Booked, Cancelled or Completed (ASSUMPTION: the names).
	Status string
	Reason string
}

// JobLine is one activity of a job read.
type JobLine struct {
	ID, Code, Description, Quantity, SupplierID, Status string
	// ClientRef is the activity's client reference (as set through
	// addActivityByClientRef); empty when it has none or the system does
	// not report it.
	ClientRef string
}

// HistoryEvent is one job history event as the assumed job read returns it:
// what addEventByClientRef (or a user) recorded on the job.
type HistoryEvent struct {
	// Code is the event code (sigEventCode), Note the event text and
	// AppointmentID the appointment it relates to (empty when none).
	Code, Note, AppointmentID string
	// Date is read from dd-mm-yyyy HH:mm:ss in the client's Location; zero
	// when the system sent none.
	Date time.Time
}

// Document is a job document as the assumed document list and upload return it.
type Document struct {
	DocumentID, FileName, Category, ContentType, SHA256 string
	// ClientRef is the free text stored with the document; O2O writes
	// "o2o:<link>:<system>:<document id>" to recognise its own copies.
	ClientRef string
	// Size is the document's size in bytes, or -1 when unknown.
	Size int64
	// Approval is the document's approval state as the document list sends
	// it (ASSUMPTION: field approvalStatus, one of ApprovalPending,
	// ApprovalApproved, ApprovalRejected); "" when the system sends none, and
	// always "" from UploadDocument.
	Approval string
	// Uploaded is when the document was uploaded (ASSUMPTION: the list's
	// uploadedDate, dd/mm/yyyy hh:mm in the client's Location, like the job
	// read's reportedDate); zero when the system sent none or one that
	// cannot be read, and always zero from UploadDocument.
	Uploaded time.Time
}

// The approval states the document list reports (Document.Approval).
const (
	ApprovalPending  = "Pending"
	ApprovalApproved = "Approved"
	ApprovalRejected = "Rejected"
)

// Download is an open document download. The caller must close Body; until
// then the connection stays open.
type Download struct {
	// Body streams the document's bytes from Offset.
	Body io.ReadCloser
	// Size is the whole document's size in bytes (for a 206, taken from
	// Content-Range), or -1 when unknown.
	Size int64
	// ContentType and SHA256 are the Content-Type and X-Checksum-SHA256
	// headers (SHA256 empty when the system sent none).
	ContentType, SHA256 string
	// Offset is where Body starts in the document: the offset asked for when
	// the system honoured the Range header, 0 when it sent the whole document.
	// Callers resuming a copy must check it.
	Offset int64
}

// Upload is one document to store against a job.
type Upload struct {
	// FileName and Category are sent as query parameters; Category must exist
	// in the target system.
	FileName, Category string
	// ClientRef is stored with the document; sent only when non-empty.
	ClientRef string
	// ContentType is the document's type (default application/octet-stream).
	ContentType string
	// SHA256 is the hex checksum, sent as X-Checksum-SHA256 when non-empty so
	// that the system can refuse a corrupted copy.
	SHA256 string
	// Size is the body's length in bytes, sent as Content-Length when > 0.
	// -1 means unknown: the body is sent chunked. 0 is treated as unknown
	// too, so that a forgotten Size can never truncate a document.
	Size int64
	// Body is streamed as the raw request body. The client never closes it,
	// and does not start reading it after UploadDocument returns.
	Body io.Reader
}

// sizeOf reads a byte count; anything empty or unreadable is -1 (unknown).
func sizeOf(s lenient.Scalar) int64 {
	n, err := strconv.ParseInt(strings.TrimSpace(string(s)), 10, 64)
	if err != nil || n < 0 {
		return -1
	}
	return n
}
