package simulator

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/o2o-sync/o2o/events"
)

// This file holds the simulated systems' data and the domain operations on
// it. The HTTP layers (rest.go for the Oneserve API, actions.go for the /sim
// control surface) only translate requests into these operations, so that a
// job created either way is validated by the same code. Every function here
// expects Simulator.mu to be held.

// Job is a job in a simulated system, as GET /{system}/sim/jobs/{jobRef}
// returns it.
type Job struct {
	JobRef string `json:"jobRef"`
	// JobID is the numeric job id that activity reads report as jobId.
	JobID      string `json:"jobId"`
	ClientRef  string `json:"clientRef"`
	ClientID   string `json:"clientId"`
	ClientName string `json:"clientName"`
	SiteRef    string `json:"siteRef"`
	ContactRef string `json:"contactRef,omitempty"`
	Priority   string `json:"priority"`
	PriorityID string `json:"priorityId"`
	// Description is free text from the creator.
	Description string `json:"description"`
	// ReportedDate is dd/mm/yyyy hh:mm in UK local time, as createJob takes it.
	ReportedDate  string `json:"reportedDate"`
	Status        string `json:"status"`
	StatusID      string `json:"statusId"`
	WorkLogTypeID string `json:"workLogTypeId,omitempty"`
	WorkTypeID    string `json:"workTypeId,omitempty"`
	WorkflowID    string `json:"workflowId,omitempty"`
	ServiceID     string `json:"serviceId,omitempty"`
	// CreatedBy is the API user for createJob, SimActor for /sim/jobs.
	CreatedBy    string         `json:"createdBy"`
	CreatedAt    time.Time      `json:"createdAt"`
	Activities   []*Activity    `json:"activities"`
	History      []HistoryEvent `json:"history"`
	Appointments []*Appointment `json:"appointments"`
	Documents    []*Document    `json:"documents"`

	// Version is the number of the version this job ref holds (1 at
	// creation) and VersionStatus its status; Versions lists every version
	// of the job, oldest first (versions.go). A superseded version lives on
	// under a new ref: a Job of its own whose CurrentJobRef names the job
	// holding the current version, and whose Versions is empty.
	Version       int           `json:"version"`
	VersionStatus string        `json:"versionStatus"`
	Versions      []*JobVersion `json:"versions"`
	CurrentJobRef string        `json:"currentJobRef,omitempty"`
	// family is the job holding the current version, for a superseded one.
	family *Job
}

// Activity is one SOR line of a job.
type Activity struct {
	ID          string `json:"id"`
	JobRef      string `json:"jobRef"`
	Code        string `json:"code"`
	Description string `json:"description"`
	Quantity    string `json:"quantity"`
	// CompletedQuantity is set by addActivityByClientRef; empty means "0".
	CompletedQuantity string `json:"completedQuantity,omitempty"`
	// ClientRef is the activity's own client reference, set by
	// addActivityByClientRef; empty for lines created with the job.
	ClientRef string `json:"clientRef,omitempty"`
	// SupplierID is the assigned team's id, empty until assigned.
	SupplierID   string `json:"supplierId,omitempty"`
	SupplierName string `json:"supplierName,omitempty"`
	Status       string `json:"status"`
	// AddedBy is who created the line: the job's creator, or the API user
	// of addActivityByClientRef.
	AddedBy      string    `json:"addedBy,omitempty"`
	LastModified time.Time `json:"lastModified"`
}

// HistoryEvent is a job event (job history entry) written through
// addEventByClientRef, or recorded by the system itself on a change when
// the seed's workflowEvents names a code for it (as a tenant's Oneserve
// workflow can). Without workflowEvents, status changes, assignments,
// appointments and documents do not add history entries, so a job's
// history shows exactly what API clients wrote. Every entry is recorded by
// recordEvent, which gives it its code's numeric event id, so that
// jobEventsXML finds it.
type HistoryEvent struct {
	ID   string `json:"id"`
	Code string `json:"code"`
	// EventID is the code's numeric event id (the seed's eventIds), what
	// jobEventsXML's eventIdList selects.
	EventID string `json:"eventId"`
	// Name is the event code's configured name.
	Name string `json:"name"`
	Note string `json:"note"`
	// Date is the client-supplied date, dd-mm-yyyy HH:mm:ss.
	Date          string    `json:"date"`
	AppointmentID string    `json:"appointmentId,omitempty"`
	NoteID        string    `json:"noteId,omitempty"`
	AddedBy       string    `json:"addedBy"`
	RecordedAt    time.Time `json:"recordedAt"`
}

// Appointment statuses.
const (
	AppointmentBooked    = "Booked"
	AppointmentCancelled = "Cancelled"
	AppointmentCompleted = "Completed"
)

// Appointment is an appointment on a job, made under /sim.
type Appointment struct {
	ID            string     `json:"appointmentId"`
	JobRef        string     `json:"jobRef"`
	Start         time.Time  `json:"start"`
	End           time.Time  `json:"end"`
	PreviousStart *time.Time `json:"previousStart,omitempty"`
	Status        string     `json:"status"`
	Reason        string     `json:"reason,omitempty"`
}

// Document is a document attached to a job. Its bytes live in a file under
// the simulator's temporary directory, never in memory.
type Document struct {
	DocumentID  string `json:"documentId"`
	JobRef      string `json:"jobRef"`
	FileName    string `json:"fileName"`
	Category    string `json:"category"`
	Size        string `json:"size"`
	SHA256      string `json:"sha256"`
	ContentType string `json:"contentType"`
	// ClientRef is the uploader's free-text reference (O2O marks its copies).
	ClientRef  string `json:"clientRef"`
	UploadedBy string `json:"uploadedBy"`
	// UploadedDate is dd/mm/yyyy hh:mm, UK local time.
	UploadedDate string `json:"uploadedDate"`
	// ApprovalStatus is DocumentPending, DocumentApproved or
	// DocumentRejected (the document list's approvalStatus, an ASSUMPTION
	// in docs/oneserve-api.md); ApprovalReason is the note of the last
	// approval or rejection.
	ApprovalStatus string `json:"approvalStatus"`
	ApprovalReason string `json:"approvalReason,omitempty"`

	// UploadedAt is when the system received it, to the nanosecond: the
	// order of a job's writes, which UploadedDate (to the minute) cannot tell.
	UploadedAt time.Time `json:"uploadedAt"`

	path string
}

// The approval states of a document (Document.ApprovalStatus).
const (
	DocumentPending  = "Pending"
	DocumentApproved = "Approved"
	DocumentRejected = "Rejected"
)

// apiError is a refused request: the HTTP status and a message that names
// the offending field and value. The values quoted are reference data and
// references, never credentials.
type apiError struct {
	status int
	msg    string
}

func (e *apiError) Error() string { return e.msg }

func badRequest(format string, args ...any) *apiError {
	return &apiError{400, fmt.Sprintf(format, args...)}
}

func notFound(format string, args ...any) *apiError {
	return &apiError{404, fmt.Sprintf(format, args...)}
}

func conflict(format string, args ...any) *apiError {
	return &apiError{409, fmt.Sprintf(format, args...)}
}

// Oneserve's date layouts (docs/oneserve-api.md), all UK local time.
const (
	reportedDateLayout = "02/01/2006 15:04"
	eventDateLayout    = "02-01-2006 15:04:05"
	modifiedLayout     = "02/01/2006 15:04:05"
)

// Id ranges. Jobs and appointments get numeric ids well apart from the
// activity range so that mixing them up in a test fails.
const (
	firstJobID         = 50001
	firstAppointmentID = 42901
	firstDocumentID    = 1
)

// system is one simulated Oneserve tenant: its reference data, indexed, and
// its mutable state.
type system struct {
	sim  *Simulator
	seed SystemSeed

	clients      map[string]string // id → name, and likewise below
	teams        map[string]string
	priorities   map[string]string
	statuses     map[string]string
	workLogTypes map[string]string
	workTypes    map[string]string
	workflows    map[string]string
	services     map[string]string
	eventCodes   map[string]string // code → name
	eventIDs     map[string]string // code → numeric event id
	categories   map[string]bool
	sor          map[string]SORCode // clientId/code
	contacts     map[string]Contact
	sites        map[string]*siteState // clientId/siteRef
	siteOrder    []*siteState

	jobs         []*Job
	jobsByRef    map[string]*Job
	activities   map[string]*Activity
	appointments map[string]*Appointment
	documents    map[string]*Document

	nextJob, nextActivity, nextAppointment, nextDocument, nextHistory int

	outbox   outbox
	requests []RequestLogEntry
	faults   []*Fault
}

type siteState struct {
	Site
	siteID string
}

func newSystem(sim *Simulator, seed SystemSeed) *system {
	index := func(refs []Ref) map[string]string {
		m := make(map[string]string, len(refs))
		for _, r := range refs {
			m[r.ID] = r.Name
		}
		return m
	}
	sys := &system{
		sim:          sim,
		seed:         seed,
		clients:      index(seed.Clients),
		teams:        index(seed.Teams),
		priorities:   index(seed.Priorities),
		statuses:     index(seed.Statuses),
		workLogTypes: index(seed.WorkLogTypes),
		workTypes:    index(seed.WorkTypes),
		workflows:    index(seed.Workflows),
		services:     index(seed.Services),
		eventCodes:   map[string]string{},
		eventIDs:     seed.eventIDs(),
		categories:   map[string]bool{},
		sor:          map[string]SORCode{},
		contacts:     map[string]Contact{},
		sites:        map[string]*siteState{},
		jobsByRef:    map[string]*Job{},
		activities:   map[string]*Activity{},
		appointments: map[string]*Appointment{},
		documents:    map[string]*Document{},

		nextJob:         1,
		nextActivity:    seed.FirstActivityID,
		nextAppointment: firstAppointmentID,
		nextDocument:    firstDocumentID,
		nextHistory:     1,
		outbox:          newOutbox(),
	}
	if sys.nextActivity == 0 {
		sys.nextActivity = defaultFirstActivityID
	}
	for _, c := range seed.EventCodes {
		sys.eventCodes[c.Code] = c.Name
	}
	for _, c := range seed.DocumentCategories {
		sys.categories[c] = true
	}
	for _, c := range seed.SORCodes {
		sys.sor[c.ClientID+"/"+c.Code] = c
	}
	for _, c := range seed.Contacts {
		sys.contacts[c.ContactRef] = c
	}
	for i, st := range seed.Sites {
		ss := &siteState{Site: st, siteID: strconv.Itoa(9001 + i)}
		ss.ContactRefs = slices.Clone(st.ContactRefs)
		sys.sites[st.ClientID+"/"+st.SiteRef] = ss
		sys.siteOrder = append(sys.siteOrder, ss)
	}
	return sys
}

// jobSpec is a job to create, from createJob or from /sim/jobs.
type jobSpec struct {
	ClientRef     string
	ClientID      string
	SiteRef       string
	ReportedDate  string
	ContactMode   string
	ContactRef    string
	PriorityID    string
	PriorityName  string // /sim only: the priority as a user picks it
	WorkLogTypeID string
	WorkTypeID    string
	WorkflowID    string
	ServiceID     string
	Description   string
	Activities    []activitySpec

	// api marks a createJob call: the documented mandatory fields and the
	// work classification ids must then be present, as the real system
	// requires; a user under /sim may leave them out.
	api bool
}

type activitySpec struct {
	Code        string
	Quantity    string
	Description string
	ClientRef   string
}

// createJob validates spec the way createJob does and stores the new job.
// The first problem found is returned.
func (sys *system) createJob(spec jobSpec, actor string) (*Job, *apiError) {
	now := sys.sim.now().In(london)
	if err := spec.checkRefs(now); err != nil {
		return nil, err
	}
	if err := sys.checkContact(&spec); err != nil {
		return nil, err
	}
	clientName, site, err := sys.checkClassification(&spec)
	if err != nil {
		return nil, err
	}
	if err := sys.checkWork(&spec); err != nil {
		return nil, err
	}
	return sys.storeJob(spec, clientName, site, actor, now), nil
}

// checkRefs checks the job's mandatory fields (a /sim user gets defaults
// for the date and the contact mode), its refs and its reported date.
func (spec *jobSpec) checkRefs(now time.Time) *apiError {
	if spec.api {
		for _, f := range []struct{ name, v string }{
			{"clientRef", spec.ClientRef}, {"siteRef", spec.SiteRef},
			{"reportedDate", spec.ReportedDate}, {"contactMode", spec.ContactMode},
		} {
			if strings.TrimSpace(f.v) == "" {
				return badRequest("%s is required", f.name)
			}
		}
	} else {
		if spec.ReportedDate == "" {
			spec.ReportedDate = now.Format(reportedDateLayout)
		}
		if spec.ContactMode == "" {
			spec.ContactMode = "0"
			if spec.ContactRef != "" {
				spec.ContactMode = "2"
			}
		}
	}
	if err := maxLen("clientRef", spec.ClientRef, 50); err != nil {
		return err
	}
	if strings.TrimSpace(spec.SiteRef) == "" {
		return badRequest("siteRef is required")
	}
	if err := maxLen("siteRef", spec.SiteRef, 50); err != nil {
		return err
	}
	if _, err := time.ParseInLocation(reportedDateLayout, spec.ReportedDate, london); err != nil {
		return badRequest("reportedDate %q must be dd/mm/yyyy hh:mm", spec.ReportedDate)
	}
	return nil
}

// checkContact checks the contact mode and, for mode 2, the contact; as in
// Oneserve, a contactRef is only kept with mode 2.
func (sys *system) checkContact(spec *jobSpec) *apiError {
	mode, err := strconv.Atoi(spec.ContactMode)
	if err != nil || mode < 0 || mode > 4 {
		return badRequest("contactMode %q must be a whole number from 0 to 4", spec.ContactMode)
	}
	switch mode {
	case 0:
		spec.ContactRef = ""
	case 2:
		if spec.ContactRef == "" {
			return badRequest("contactRef is required when contactMode is 2")
		}
		if err := maxLen("contactRef", spec.ContactRef, 50); err != nil {
			return err
		}
		if _, ok := sys.contacts[spec.ContactRef]; !ok {
			return badRequest("contactRef %q does not exist", spec.ContactRef)
		}
	default:
		return badRequest("contactMode %d is not supported by the simulator (use 0 or 2)", mode)
	}
	return nil
}

// checkClassification checks the client and its site, then the priority
// (resolving a name to its id) and the work classification ids, which only
// an API call must give.
func (sys *system) checkClassification(spec *jobSpec) (clientName string, site *siteState, _ *apiError) {
	if spec.ClientID == "" {
		return "", nil, badRequest("clientId is required")
	}
	clientName, ok := sys.clients[spec.ClientID]
	if !ok {
		return "", nil, badRequest("clientId %q is not a known client", spec.ClientID)
	}
	site, ok = sys.sites[spec.ClientID+"/"+spec.SiteRef]
	if !ok {
		return "", nil, badRequest("siteRef %q does not exist for clientId %s", spec.SiteRef, spec.ClientID)
	}
	if spec.PriorityID == "" && spec.PriorityName != "" {
		id, ok := byName(sys.priorities, spec.PriorityName)
		if !ok {
			return "", nil, badRequest("priority %q is not a known priority", spec.PriorityName)
		}
		spec.PriorityID = id
	}
	if err := known("priorityId", spec.PriorityID, sys.priorities, "priority", true); err != nil {
		return "", nil, err
	}
	for _, f := range []struct {
		field, v, what string
		known          map[string]string
	}{
		{"workLogTypeId", spec.WorkLogTypeID, "work log type", sys.workLogTypes},
		{"workTypeId", spec.WorkTypeID, "work type", sys.workTypes},
		{"workflowId", spec.WorkflowID, "workflow", sys.workflows},
		{"serviceId", spec.ServiceID, "service", sys.services},
	} {
		if err := known(f.field, f.v, f.known, f.what, spec.api); err != nil {
			return "", nil, err
		}
	}
	return clientName, site, nil
}

// checkWork checks the description and the activity lines, giving a /sim
// user's line a quantity of 1.
func (sys *system) checkWork(spec *jobSpec) *apiError {
	if err := maxLen("description", spec.Description, 2000); err != nil {
		return err
	}
	for i, a := range spec.Activities {
		if a.Code == "" {
			return badRequest("activities[%d].code is required", i)
		}
		if _, ok := sys.sor[spec.ClientID+"/"+a.Code]; !ok {
			return badRequest("activities[%d].code %q is not an SOR code of clientId %s", i, a.Code, spec.ClientID)
		}
		if a.Quantity == "" && !spec.api {
			spec.Activities[i].Quantity = "1"
			a.Quantity = "1"
		}
		if q, err := strconv.ParseFloat(a.Quantity, 64); err != nil || q <= 0 {
			return badRequest("activities[%d].quantity %q must be a positive decimal", i, a.Quantity)
		}
		if err := maxLen(fmt.Sprintf("activities[%d].description", i), a.Description, 1000); err != nil {
			return err
		}
	}
	return nil
}

// storeJob numbers and stores a valid job with its activities in status
// Newly Created.
func (sys *system) storeJob(spec jobSpec, clientName string, site *siteState, actor string, now time.Time) *Job {
	statusID, _ := byName(sys.statuses, StatusNewlyCreated)
	n := sys.nextJob
	sys.nextJob++
	job := &Job{
		JobRef:        fmt.Sprintf("%s%06d", sys.seed.JobRefPrefix, n),
		JobID:         strconv.Itoa(firstJobID + n - 1),
		ClientRef:     spec.ClientRef,
		ClientID:      spec.ClientID,
		ClientName:    clientName,
		SiteRef:       spec.SiteRef,
		ContactRef:    spec.ContactRef,
		Priority:      sys.priorities[spec.PriorityID],
		PriorityID:    spec.PriorityID,
		Description:   spec.Description,
		ReportedDate:  spec.ReportedDate,
		Status:        StatusNewlyCreated,
		StatusID:      statusID,
		WorkLogTypeID: spec.WorkLogTypeID,
		WorkTypeID:    spec.WorkTypeID,
		WorkflowID:    spec.WorkflowID,
		ServiceID:     spec.ServiceID,
		CreatedBy:     actor,
		CreatedAt:     now,
	}
	for _, a := range spec.Activities {
		sys.addActivity(job, spec.ClientID, Activity{Code: a.Code, Description: a.Description, Quantity: a.Quantity, ClientRef: a.ClientRef}, actor, now)
	}
	// createJob documents that mode 2 links the contact to the site when it
	// is not linked yet.
	if spec.ContactRef != "" && !slices.Contains(site.ContactRefs, spec.ContactRef) {
		site.ContactRefs = append(site.ContactRefs, spec.ContactRef)
	}
	sys.startVersions(job)
	sys.jobs = append(sys.jobs, job)
	sys.jobsByRef[job.JobRef] = job
	return job
}

func maxLen(field, v string, n int) *apiError {
	if len([]rune(v)) > n {
		return badRequest("%s must be at most %d characters (got %d)", field, n, len([]rune(v)))
	}
	return nil
}

func known(field, id string, ids map[string]string, what string, required bool) *apiError {
	if id == "" {
		if required {
			return badRequest("%s is required", field)
		}
		return nil
	}
	if _, ok := ids[id]; !ok {
		return badRequest("%s %q is not a known %s", field, id, what)
	}
	return nil
}

// eventSpec is an addEventByClientRef request.
type eventSpec struct {
	JobRef        string
	JobClientRef  string
	ClientID      string
	SigEventCode  string
	AppointmentID string
	NoteID        string
	Note          string
	Date          string
}

// errJobNotFound is what addEventByClientRef answers, with HTTP 200, for an
// unknown job: the application error sits only in the envelope.
const errJobNotFound = "REST0004 Job not found"

// addEvent appends a job event to a job's history. A nil job with a nil
// error means the job was not found.
func (sys *system) addEvent(spec eventSpec, actor string) (*Job, *apiError) {
	if spec.JobRef == "" && spec.JobClientRef == "" {
		return nil, badRequest("jobRef or jobClientRef is required")
	}
	if err := maxLen("jobRef", spec.JobRef, 50); err != nil {
		return nil, err
	}
	if err := maxLen("jobClientRef", spec.JobClientRef, 50); err != nil {
		return nil, err
	}
	if spec.ClientID == "" {
		return nil, badRequest("clientId is required")
	}
	if !isWhole(spec.ClientID) {
		return nil, badRequest("clientId %q must be a whole number", spec.ClientID)
	}
	if spec.SigEventCode == "" {
		return nil, badRequest("sigEventCode is required")
	}
	if err := maxLen("sigEventCode", spec.SigEventCode, 6); err != nil {
		return nil, err
	}
	name, ok := sys.eventCodes[spec.SigEventCode]
	if !ok {
		return nil, badRequest("sigEventCode %q is not a configured event code", spec.SigEventCode)
	}
	if strings.TrimSpace(spec.Note) == "" {
		return nil, badRequest("note is required")
	}
	if err := maxLen("note", spec.Note, 1000); err != nil {
		return nil, err
	}
	if spec.Date == "" {
		return nil, badRequest("date is required")
	}
	if _, err := time.ParseInLocation(eventDateLayout, spec.Date, london); err != nil {
		return nil, badRequest("date %q must be dd-mm-yyyy HH:mm:ss", spec.Date)
	}
	if spec.AppointmentID != "" && !isWhole(spec.AppointmentID) {
		return nil, badRequest("appointmentId %q must be a whole number", spec.AppointmentID)
	}
	if spec.NoteID != "" && !isWhole(spec.NoteID) {
		return nil, badRequest("noteId %q must be a whole number", spec.NoteID)
	}

	// The job is found by jobRef when given, else by client ref within the
	// client. Either way it must belong to clientId, so that a client id
	// mixed up between systems is caught.
	var job *Job
	if spec.JobRef != "" {
		if j := sys.jobsByRef[spec.JobRef]; j != nil && j.ClientID == spec.ClientID {
			job = j
		}
	} else {
		job = sys.jobByClientRef(spec.ClientID, spec.JobClientRef)
	}
	if job == nil {
		return nil, nil
	}
	sys.recordEvent(job, HistoryEvent{
		Code:          spec.SigEventCode,
		Name:          name,
		Note:          spec.Note,
		Date:          spec.Date,
		AppointmentID: spec.AppointmentID,
		NoteID:        spec.NoteID,
		AddedBy:       actor,
	})
	return job, nil
}

// recordEvent appends e to job's history with the next history id, its
// code's numeric event id and the time it was recorded. Every job event
// goes through here, whoever writes it. e.Code must be a configured event
// code and e.Date in eventDateLayout.
func (sys *system) recordEvent(job *Job, e HistoryEvent) {
	e.ID = strconv.Itoa(sys.nextHistory)
	e.EventID = sys.eventIDs[e.Code]
	e.RecordedAt = sys.sim.now()
	sys.nextHistory++
	job.History = append(job.History, e)
}

// recordWorkflowEvent records on job the event code the tenant's workflow
// records for a kind of change (seed workflowEvents), if it names one.
func (sys *system) recordWorkflowEvent(job *Job, code, note, actor string) {
	if code == "" || job == nil {
		return
	}
	sys.recordEvent(job, HistoryEvent{Code: code, Name: sys.eventCodes[code], Note: note,
		Date: sys.sim.now().In(london).Format(eventDateLayout), AddedBy: actor})
}

// slotText writes an appointment's slot for a workflow event's note.
func slotText(a *Appointment) string {
	return a.Start.In(london).Format("02/01/2006 15:04") + "–" + a.End.In(london).Format("15:04")
}

// activityByClientRefSpec is one item of an addActivityByClientRef request.
type activityByClientRefSpec struct {
	JobClientRef      string
	ClientID          string
	Code              string
	ClientRef         string
	Description       string
	CompletedQuantity string
	TotalQuantity     string
}

// addActivitiesByClientRef adds each item as a new activity of the job with
// that client ref, as addActivityByClientRef does. It is all or nothing:
// every item is validated, and every job found, before any activity is
// added. A nil slice with a nil error means a job was not found (answered
// with HTTP 200 and errJobNotFound). With submitVersion "0" (or none) the
// lines are added to each job's current version and no Integration Event is
// emitted. With "1" each job touched gets a new version holding its added
// lines (versions.go: the old content moves to a new ref, the new version
// is Pending) and VERSION_CREATED is emitted per job; a job whose current
// version is still New or Pending is refused with 409, before any change.
func (sys *system) addActivitiesByClientRef(submitVersion string, items []activityByClientRefSpec, actor string) ([]*Activity, *apiError) {
	if submitVersion != "" && submitVersion != "0" && submitVersion != "1" {
		return nil, badRequest("submitVersion %q must be 0 or 1", submitVersion)
	}
	if len(items) == 0 {
		return nil, badRequest("activities is required (at least one activity)")
	}
	for i, a := range items {
		field := func(name string) string { return fmt.Sprintf("activities[%d].%s", i, name) }
		for _, f := range []struct {
			name, v string
			max     int
		}{
			{"jobClientRef", a.JobClientRef, 50}, {"clientId", a.ClientID, 0}, {"code", a.Code, 20},
			{"clientRef", a.ClientRef, 50}, {"completedQuantity", a.CompletedQuantity, 0},
			{"totalQuantity", a.TotalQuantity, 0},
		} {
			if f.v == "" {
				return nil, badRequest("%s is required", field(f.name))
			}
			if f.max > 0 {
				if err := maxLen(field(f.name), f.v, f.max); err != nil {
					return nil, err
				}
			}
		}
		if !isWhole(a.ClientID) {
			return nil, badRequest("%s %q must be a whole number", field("clientId"), a.ClientID)
		}
		if _, ok := sys.sor[a.ClientID+"/"+a.Code]; !ok {
			return nil, badRequest("%s %q is not an SOR code of clientId %s", field("code"), a.Code, a.ClientID)
		}
		if err := maxLen(field("description"), a.Description, 1000); err != nil {
			return nil, err
		}
		if q, err := strconv.ParseFloat(a.CompletedQuantity, 64); err != nil || q < 0 {
			return nil, badRequest("%s %q must be a decimal of 0 or more", field("completedQuantity"), a.CompletedQuantity)
		}
		if q, err := strconv.ParseFloat(a.TotalQuantity, 64); err != nil || q <= 0 {
			return nil, badRequest("%s %q must be a positive decimal", field("totalQuantity"), a.TotalQuantity)
		}
	}
	jobs := make([]*Job, len(items))
	for i, a := range items {
		if jobs[i] = sys.jobByClientRef(a.ClientID, a.JobClientRef); jobs[i] == nil {
			return nil, nil
		}
	}

	if submitVersion == "1" {
		return sys.addActivitiesInVersions(items, jobs, actor)
	}

	// Valid, and every job exists: add them all.
	now := sys.sim.now()
	added := make([]*Activity, 0, len(items))
	for i, a := range items {
		act := sys.addActivity(jobs[i], a.ClientID, Activity{Code: a.Code, Description: a.Description,
			Quantity: a.TotalQuantity, CompletedQuantity: a.CompletedQuantity, ClientRef: a.ClientRef}, actor, now)
		added = append(added, act)
		sys.noteInPlace(jobs[i], addedChange(act))
	}
	return added, nil
}

// addActivity adds a new activity line to job: the next id, status PENDING,
// and the SOR description when the line has none.
func (sys *system) addActivity(job *Job, clientID string, a Activity, actor string, now time.Time) *Activity {
	if a.Description == "" {
		a.Description = sys.sor[clientID+"/"+a.Code].Description
	}
	a.ID = strconv.Itoa(sys.nextActivity)
	a.JobRef = job.JobRef
	a.Status = "1" // PENDING
	a.AddedBy = actor
	a.LastModified = now
	sys.nextActivity++
	act := &a
	job.Activities = append(job.Activities, act)
	sys.activities[act.ID] = act
	return act
}

// jobByClientRef returns the oldest job of the client with that client ref.
// Oneserve does not promise client refs are unique; the oldest is the one a
// later duplicate would have been created after.
func (sys *system) jobByClientRef(clientID, clientRef string) *Job {
	for _, j := range sys.jobs {
		if j.ClientID == clientID && j.ClientRef == clientRef {
			return j
		}
	}
	return nil
}

func isWhole(s string) bool {
	_, err := strconv.ParseUint(s, 10, 63)
	return err == nil
}

// deleteJob removes a job, as an administrator deleting it in Oneserve
// would: its reads answer 404 from now on. No event is sent.
func (sys *system) deleteJob(jobRef string) *apiError {
	job := sys.jobsByRef[jobRef]
	if job == nil {
		return notFound("job %q not found", jobRef)
	}
	delete(sys.jobsByRef, jobRef)
	sys.jobs = slices.DeleteFunc(sys.jobs, func(j *Job) bool { return j == job })
	return nil
}

// deleteActivity removes a line from its job, as an administrator deleting
// it in Oneserve would: the job read no longer lists it and its activity
// read answers 404. No event is sent (Oneserve documents none for it).
func (sys *system) deleteActivity(id string) *apiError {
	act := sys.activities[id]
	if act == nil {
		return notFound("activity %q not found", id)
	}
	if job := sys.jobsByRef[act.JobRef]; job != nil {
		job.Activities = slices.DeleteFunc(job.Activities, func(a *Activity) bool { return a == act })
	}
	delete(sys.activities, id)
	return nil
}

func (sys *system) job(jobRef string) (*Job, *apiError) {
	job := sys.jobsByRef[jobRef]
	if job == nil {
		return nil, notFound("job %q not found", jobRef)
	}
	return job, nil
}

func (sys *system) appointment(id string) (*Appointment, *Job, *apiError) {
	a := sys.appointments[id]
	if a == nil {
		return nil, nil, notFound("appointment %q not found", id)
	}
	return a, sys.jobsByRef[a.JobRef], nil
}

// assign sets an activity's team and emits ACTIVITY_ASSIGNED. Assigning the
// same team again emits again, as re-saving an assignment in a UI might.
func (sys *system) assign(activityID, teamID, actor string) (*Activity, *apiError) {
	act := sys.activities[activityID]
	if act == nil {
		return nil, notFound("activity %q not found", activityID)
	}
	teamName, ok := sys.teams[teamID]
	if !ok {
		return nil, badRequest("teamId %q is not a known team", teamID)
	}
	act.SupplierID, act.SupplierName = teamID, teamName
	act.LastModified = sys.sim.now()
	job := sys.jobsByRef[act.JobRef]
	d := jobData(job, actor)
	d.ActivityID, d.TeamID, d.TeamName = act.ID, teamID, teamName
	sys.emit(events.ActivityAssigned, d)
	sys.recordWorkflowEvent(job, sys.seed.WorkflowEvents.Assigned,
		fmt.Sprintf("Activity %s (%s) assigned to %s (%s)", act.ID, act.Code, teamName, teamID), actor)
	return act, nil
}

// setStatus moves a job to the status called name (or with id statusID) and
// emits JOB_STATUS_CHANGED. Setting the current status again emits again,
// which lets a test provoke a duplicate-looking event on purpose.
func (sys *system) setStatus(jobRef, name, statusID, actor string) (job *Job, previous string, _ *apiError) {
	job, err := sys.job(jobRef)
	if err != nil {
		return nil, "", err
	}
	switch {
	case statusID != "":
		n, ok := sys.statuses[statusID]
		if !ok {
			return nil, "", badRequest("statusId %q is not a known status", statusID)
		}
		name = n
	case name != "":
		id, ok := byName(sys.statuses, name)
		if !ok {
			return nil, "", badRequest("status %q is not a known status (known: %s)", name, strings.Join(slices.Sorted(maps.Values(sys.statuses)), ", "))
		}
		statusID = id
	default:
		return nil, "", badRequest("status is required")
	}
	previous = job.Status
	job.Status, job.StatusID = name, statusID
	d := jobData(job, actor)
	d.Status, d.StatusID, d.PreviousStatus = name, statusID, previous
	sys.emit(events.JobStatusChanged, d)
	sys.recordWorkflowEvent(job, sys.seed.WorkflowEvents.StatusChanged, fmt.Sprintf("Status changed from %s to %s", previous, name), actor)
	return job, previous, nil
}

func checkSlot(start, end time.Time) *apiError {
	if start.IsZero() {
		return badRequest("start is required (RFC 3339)")
	}
	if end.IsZero() {
		return badRequest("end is required (RFC 3339)")
	}
	if !end.After(start) {
		return badRequest("end must be after start")
	}
	return nil
}

func (sys *system) addAppointment(jobRef string, start, end time.Time, actor string) (*Appointment, *apiError) {
	job, err := sys.job(jobRef)
	if err != nil {
		return nil, err
	}
	if err := checkSlot(start, end); err != nil {
		return nil, err
	}
	a := &Appointment{ID: strconv.Itoa(sys.nextAppointment), JobRef: jobRef, Start: start, End: end, Status: AppointmentBooked}
	sys.nextAppointment++
	sys.appointments[a.ID] = a
	job.Appointments = append(job.Appointments, a)
	sys.emit(events.AppointmentCreated, appointmentData(events.AppointmentCreated, job, actor, a))
	sys.recordWorkflowEvent(job, sys.seed.WorkflowEvents.Appointment, fmt.Sprintf("Appointment %s booked for %s", a.ID, slotText(a)), actor)
	return a, nil
}

func (sys *system) bookedAppointment(id string) (*Appointment, *Job, *apiError) {
	a, job, err := sys.appointment(id)
	if err != nil {
		return nil, nil, err
	}
	if a.Status != AppointmentBooked {
		return nil, nil, conflict("appointment %s is %s", id, strings.ToLower(a.Status))
	}
	return a, job, nil
}

func (sys *system) rescheduleAppointment(id string, start, end time.Time, reason, actor string) (*Appointment, *apiError) {
	a, job, err := sys.bookedAppointment(id)
	if err != nil {
		return nil, err
	}
	if err := checkSlot(start, end); err != nil {
		return nil, err
	}
	if err := maxLen("reason", reason, 1000); err != nil {
		return nil, err
	}
	prev := a.Start
	a.PreviousStart, a.Start, a.End, a.Reason = &prev, start, end, reason
	sys.emit(events.AppointmentRescheduled, appointmentData(events.AppointmentRescheduled, job, actor, a))
	sys.recordWorkflowEvent(job, sys.seed.WorkflowEvents.Appointment, fmt.Sprintf("Appointment %s moved to %s", a.ID, slotText(a)), actor)
	return a, nil
}

func (sys *system) cancelAppointment(id, reason, actor string) (*Appointment, *apiError) {
	a, job, err := sys.bookedAppointment(id)
	if err != nil {
		return nil, err
	}
	if err := maxLen("reason", reason, 1000); err != nil {
		return nil, err
	}
	a.Status, a.Reason = AppointmentCancelled, reason
	sys.emit(events.AppointmentCancelled, appointmentData(events.AppointmentCancelled, job, actor, a))
	sys.recordWorkflowEvent(job, sys.seed.WorkflowEvents.Appointment, fmt.Sprintf("Appointment %s cancelled", a.ID), actor)
	return a, nil
}

func (sys *system) completeAppointment(id, actor string) (*Appointment, *apiError) {
	a, job, err := sys.bookedAppointment(id)
	if err != nil {
		return nil, err
	}
	a.Status = AppointmentCompleted
	sys.emit(events.AppointmentCompleted, appointmentData(events.AppointmentCompleted, job, actor, a))
	sys.recordWorkflowEvent(job, sys.seed.WorkflowEvents.Appointment, fmt.Sprintf("Appointment %s completed", a.ID), actor)
	return a, nil
}

// addDocument records a document whose bytes are already on disk and emits
// DOCUMENT_UPLOADED. Uploads through the API emit too, with the API user as
// actor: that is how a real system echoes a write back to its sender.
func (sys *system) addDocument(job *Job, doc *Document, actor string) *Document {
	doc.DocumentID = "D" + strconv.Itoa(sys.nextDocument)
	sys.nextDocument++
	doc.JobRef = job.JobRef
	doc.UploadedBy = actor
	doc.UploadedAt = sys.sim.now()
	doc.UploadedDate = doc.UploadedAt.In(london).Format(reportedDateLayout)
	doc.ApprovalStatus = DocumentPending
	sys.documents[doc.DocumentID] = doc
	job.Documents = append(job.Documents, doc)
	sys.emit(events.DocumentUploaded, documentData(job, actor, doc))
	sys.recordWorkflowEvent(job, sys.seed.WorkflowEvents.DocumentUploaded,
		fmt.Sprintf("Document %s (%s) uploaded in %s", doc.DocumentID, doc.FileName, doc.Category), actor)
	return doc
}

// snapshot returns a deep copy of a job, safe to use without the lock.
func (j *Job) snapshot() Job {
	c := *j
	c.Activities = make([]*Activity, len(j.Activities))
	for i, a := range j.Activities {
		ac := *a
		c.Activities[i] = &ac
	}
	c.History = slices.Clone(j.History)
	c.Appointments = make([]*Appointment, len(j.Appointments))
	for i, a := range j.Appointments {
		ac := *a
		if a.PreviousStart != nil {
			p := *a.PreviousStart
			ac.PreviousStart = &p
		}
		c.Appointments[i] = &ac
	}
	c.Documents = make([]*Document, len(j.Documents))
	for i, d := range j.Documents {
		dc := *d
		c.Documents[i] = &dc
	}
	c.Versions = make([]*JobVersion, len(j.Versions))
	for i, v := range j.Versions {
		vc := *v
		vc.Changes = slices.Clone(v.Changes)
		c.Versions[i] = &vc
	}
	c.family = nil
	if c.History == nil {
		c.History = []HistoryEvent{}
	}
	return c
}

// addSite adds a site to a client, as an administrator would.
func (sys *system) addSite(st Site) *apiError {
	switch {
	case st.ClientID == "" || st.SiteRef == "":
		return badRequest("clientId and siteRef are required")
	case len(st.SiteRef) > 50:
		return badRequest("siteRef %q is longer than 50 characters", st.SiteRef)
	}
	if _, ok := sys.clients[st.ClientID]; !ok {
		return badRequest("clientId %s is not a client of %s", st.ClientID, sys.seed.Name)
	}
	key := st.ClientID + "/" + st.SiteRef
	if _, dup := sys.sites[key]; dup {
		return conflict("site %s already exists for client %s", st.SiteRef, st.ClientID)
	}
	for _, c := range st.ContactRefs {
		if _, ok := sys.contacts[c]; !ok {
			return badRequest("contactRef %s does not exist", c)
		}
	}
	ss := &siteState{Site: st, siteID: strconv.Itoa(9001 + len(sys.siteOrder))}
	ss.ContactRefs = slices.Clone(st.ContactRefs)
	sys.sites[key] = ss
	sys.siteOrder = append(sys.siteOrder, ss)
	return nil
}

// addContact adds a contact person, as an administrator would. It can then
// be named on sites and jobs.
func (sys *system) addContact(c Contact) *apiError {
	switch {
	case strings.TrimSpace(c.ContactRef) == "":
		return badRequest("contactRef is required")
	case strings.TrimSpace(c.Name) == "":
		return badRequest("name is required")
	}
	if err := maxLen("contactRef", c.ContactRef, 50); err != nil {
		return err
	}
	if err := maxLen("name", c.Name, 200); err != nil {
		return err
	}
	if _, dup := sys.contacts[c.ContactRef]; dup {
		return conflict("contact %s already exists", c.ContactRef)
	}
	sys.contacts[c.ContactRef] = c
	return nil
}

// addSORCode adds a schedule-of-rates code for a client, as an administrator
// would; the description defaults to the code.
func (sys *system) addSORCode(c SORCode) *apiError {
	if c.ClientID == "" || strings.TrimSpace(c.Code) == "" {
		return badRequest("clientId and code are required")
	}
	if err := maxLen("code", c.Code, 20); err != nil {
		return err
	}
	if _, ok := sys.clients[c.ClientID]; !ok {
		return badRequest("clientId %s is not a client of %s", c.ClientID, sys.seed.Name)
	}
	key := c.ClientID + "/" + c.Code
	if _, dup := sys.sor[key]; dup {
		return conflict("SOR code %s already exists for client %s", c.Code, c.ClientID)
	}
	if c.Description == "" {
		c.Description = c.Code
	}
	sys.sor[key] = c
	return nil
}
