package model

import "time"

// Kind is what a user, an operator or time did.
type Kind int

const (
	// Users of the primary.
	Raise  Kind = iota + 1 // raise job Job in System: Site, Contact, Priority, Lines
	Assign                 // assign Activity of Job to Team

	// Users of either side (Side); primary actions name Job (every link of it is
	// concerned), secondary ones the linked job of Link and Job.
	Status        // the job reaches Status
	Upload        // Document uploaded in Category
	Approve       // Document approved (DOCUMENT_APPROVED)
	Reject        // Document rejected (DOCUMENT_REJECTED)
	RaiseVersion  // a version raised on Side with Changes (VERSION_CREATED)
	DecideVersion // Side's version Version decided: Decision (VERSION_STATUS_CHANGED)
	Appointment   // secondary only: appointment Appointment, AppointmentKind, Start, Reason
	AddSite       // System's administrator adds Site (with Contact, if any)
	AddContact    // System's administrator adds Contact to Site
	AddCode       // System learns SOR Code
	MapPriority   // the operator maps Priority in Link's configuration (applied on retry)
	Pause         // operator actions on the link Link of Job
	Resume        //
	Retry         //
	Skip          //
	Release       // Document held for approval, copied now
	Drop          // Document held for approval, never copied
	Unlink        //
	Elapse        // closeAfter passes for every link (time)
)

var kindNames = map[Kind]string{Raise: "raise", Assign: "assign", Status: "status", Upload: "upload",
	Approve: "approve", Reject: "reject", RaiseVersion: "raise-version", DecideVersion: "decide-version",
	Appointment: "appointment", AddSite: "add-site", AddContact: "add-contact", AddCode: "add-code",
	MapPriority: "map-priority", Pause: "pause", Resume: "resume", Retry: "retry", Skip: "skip",
	Release: "release", Drop: "drop", Unlink: "unlink", Elapse: "elapse"}

func (k Kind) String() string { return kindNames[k] }

// AppointmentKind is one of the secondary's four appointment changes (README, What syncs).
type AppointmentKind string

const (
	Booked      AppointmentKind = "created"
	Rescheduled AppointmentKind = "rescheduled"
	Cancelled   AppointmentKind = "cancelled"
	Completed   AppointmentKind = "completed"
)

// Decision is a version's decision (events.md, VERSION_STATUS_CHANGED).
type Decision string

const (
	Approved        Decision = "approved"
	Rejected        Decision = "rejected"
	VersionCanceled Decision = "cancelled"
)

// Delivery is what the generator did to an action's webhook, as far as it changes
// what O2O can know. O2O is not told; the model needs it because a read only shows
// where a job is now (reconciliation.md, "What a read cannot know").
type Delivery int

const (
	Prompt Delivery = iota // delivered (maybe late, maybe twice) before the next action of its job and side
	Late                   // may arrive after later actions of its job and side
	Lost                   // never delivered: learned by reading the job (reconciliation, poll, nudge)
)

// Line is one activity (SOR line) of a job.
type Line struct {
	Activity string
	Code     string
	Quantity string
}

// Change is one line change of a version (events.md, VERSION_CREATED "changes").
type Change struct {
	Change   string // add, remove or quantity
	Code     string
	Quantity string // add and quantity
}

// Action is one thing that happens in a life. Only the fields its Kind names are read.
type Action struct {
	Kind     Kind
	Side     Side
	System   string // Raise, Assign, AddSite, AddContact, AddCode
	Link     string // secondary actions, operator actions, MapPriority
	Job      string // the primary job ref
	Delivery Delivery

	Site, Contact, Priority string
	Lines                   []Line // Raise
	Activity, Team          string // Assign
	Code                    string // AddCode
	Status                  string

	Appointment     string
	AppointmentKind AppointmentKind
	Start           time.Time // the appointment's (new) start
	Reason          string

	Document, Category string

	Version  int // DecideVersion: the version's number on Side
	Changes  []Change
	Decision Decision
}
