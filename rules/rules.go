// Package rules holds every rule of the sync in one place: for each event
// that reaches a link, what O2O does about it, and how a linked job is made
// from a primary job. It is pure Go — no Temporal, no I/O, no clock — so the
// workflow can call it deterministically and tests can read like the rules.
//
// "What happens when ...?" — start at Decide.
package rules

import (
	"fmt"
	"slices"
	"strings"
	"time"
	_ "time/tzdata" // notes show UK times whatever the host's zoneinfo

	"github.com/o2o-sync/o2o/config"
	"github.com/o2o-sync/o2o/events"
)

// Link is what the rules need to know about a link: its configuration and
// the user names O2O writes as in each system (to recognise echoes). It is a
// snapshot the workflow loads at start, after continue-as-new and when an
// operator retries, so configuration changes reach running links.
type Link struct {
	Config           config.Link `json:"config"`
	PrimaryAPIUser   string      `json:"primaryApiUser"`
	SecondaryAPIUser string      `json:"secondaryApiUser"`
}

// Facts are what the rules need to know about a link's progress.
type Facts struct {
	// SecondaryJobRef is set once the linked job exists.
	SecondaryJobRef string
	// Closed is set once the link has finished.
	Closed bool
	// LinkedActivities are the primary activity ids already on the linked job.
	LinkedActivities []string
	// PrimaryEnded, SecondaryEnded and PrimaryCancelled follow the jobs'
	// statuses (see ShouldClose).
	PrimaryEnded, SecondaryEnded, PrimaryCancelled bool
	// PrimaryStatus and SecondaryStatus are the jobs' statuses as the link
	// last learned them, and since when ("" and zero: not known yet).
	PrimaryStatus, SecondaryStatus     string
	PrimaryStatusAt, SecondaryStatusAt time.Time
	// Versions are the link's linked versions; SecondaryAliases the refs the
	// linked job's superseded versions took (events for them are the link's).
	Versions                         []VersionPair
	PrimaryAliases, SecondaryAliases []string
	// Knows reports whether the link knows a fact (by rules.FactKeys); nil
	// knows nothing.
	Knows func(key string) bool
	// OwnJobsOnly: an event must name the link's own job on its side (the
	// secondary job ref once it exists); one for another job is recorded,
	// not applied. Links started before facts do not check.
	OwnJobsOnly bool
}

func (f Facts) knows(key string) bool { return f.Knows != nil && f.Knows(key) }

// KnownStatus is the status of side's job the link last learned, and when.
func (f Facts) KnownStatus(side events.Side) (string, time.Time) {
	if side == events.Secondary {
		return f.SecondaryStatus, f.SecondaryStatusAt
	}
	return f.PrimaryStatus, f.PrimaryStatusAt
}

// Action is the kind of work a Command asks for.
type Action string

// The actions.
const (
	// Skip: nothing to do; Command.Reason says why. Recorded as "skipped".
	Skip Action = "skip"
	// CreateJob: create the linked job in the secondary.
	CreateJob Action = "createJob"
	// AddActivities: add newly assigned primary activities to the linked job.
	AddActivities Action = "addActivities"
	// AddJobEvent: add a job event to the job on the Target side.
	AddJobEvent Action = "addJobEvent"
	// CopyDocument: copy a document to the job on the Target side.
	CopyDocument Action = "copyDocument"
	// CheckJobs: read both jobs again; a job still gone (or moved) blocks
	// the link with Reason, one found again lets it go on.
	CheckJobs Action = "checkJobs"
	// ReadFacts: read both jobs and offer the link the facts it does not
	// know (a nudge: the webhook said only that the job changed).
	ReadFacts Action = "readFacts"
	// HoldDocument: keep a document for approval (Command.Document); it
	// travels when approved or released.
	HoldDocument Action = "holdDocument"
	// DropDocument: a held document was rejected; it never travels.
	DropDocument Action = "dropDocument"
	// CreateVersion: raise a version of the job on the Target side
	// (Command.Version), mirroring one raised on the other.
	CreateVersion Action = "createVersion"
	// DecideVersion: approve, reject or cancel a version on the Target side
	// (Command.Decision) and write the decision's job event there.
	DecideVersion Action = "decideVersion"
)

// Command is what the workflow must do for one event.
type Command struct {
	Action Action `json:"action"`
	// Reason explains a Skip.
	Reason string `json:"reason,omitempty"`
	// Target is the side written to.
	Target events.Side `json:"target,omitempty"`
	// ActivityIDs are the primary activities for CreateJob / AddActivities.
	ActivityIDs []string `json:"activityIds,omitempty"`
	// EventCode, Note, AppointmentID and Date describe an AddJobEvent.
	EventCode     string    `json:"eventCode,omitempty"`
	Note          string    `json:"note,omitempty"`
	AppointmentID string    `json:"appointmentId,omitempty"`
	Date          time.Time `json:"date,omitempty"`
	// Document and Category describe a CopyDocument (Category on the target side).
	Document *events.Document `json:"document,omitempty"`
	Category string           `json:"category,omitempty"`
	// Version describes a CreateVersion; Decision a DecideVersion.
	Version  *VersionSpec     `json:"version,omitempty"`
	Decision *VersionDecision `json:"decision,omitempty"`
	// Status is set for status changes, applied or skipped: what the new
	// status means for the link's life.
	Status *StatusEffect `json:"status,omitempty"`
}

// Direction names the way an event travels, as the link state reports it.
func Direction(from events.Side) string {
	if from == events.Secondary {
		return "secondaryToPrimary"
	}
	return "primaryToSecondary"
}

// Decide says what to do with one event for a link. Events reach it one at a
// time, in the order the link received them; duplicates (same event id) have
// already been filtered out by the workflow.
func Decide(l Link, f Facts, ev events.Event) Command {
	if f.Closed {
		return skip("the link is closed; late events are recorded but not sent on")
	}
	if ev.Actor != "" && ev.Actor == l.apiUser(ev.Side) {
		return skip(fmt.Sprintf("made by O2O's own user in %s: an echo of O2O's write, not sent back", ev.System))
	}

	if f.OwnJobsOnly && ev.Side == events.Secondary && f.SecondaryJobRef != "" && ev.JobRef != "" && !strings.EqualFold(ev.JobRef, f.SecondaryJobRef) &&
		!slices.ContainsFunc(f.SecondaryAliases, func(a string) bool { return strings.EqualFold(a, ev.JobRef) }) {
		return skip(fmt.Sprintf("%s job %s is not this link's linked job %s", ev.System, ev.JobRef, f.SecondaryJobRef))
	}
	switch {
	case ev.Type == events.JobsDrifted:
		return Command{Action: CheckJobs, Reason: ev.Drift.Reason}
	case ev.Type == events.Nudge:
		return Command{Action: ReadFacts}
	case ev.Type == events.VersionSuperseded && ev.Version != nil:
		// The link records the ref (lifecycle); nothing is written.
		return skip(fmt.Sprintf("%s job %s holds version %d of this link's job: its events are this link's (recorded as an alias; nothing to write)",
			ev.System, ev.Version.PreviousJobRef, ev.Version.Number))
	case ev.Type == events.ActivityAssigned:
		return decideAssignment(l, f, ev)
	case f.SecondaryJobRef == "":
		// The workflow only asks once the linked job exists; events that
		// arrive earlier wait in its queue. Reaching here is a bug.
		return skip("the linked job does not exist yet")
	case ev.Type == events.JobStatusChanged:
		if known, at := f.KnownStatus(ev.Side); !at.IsZero() && ev.OccurredAt.Before(at) {
			return skip(fmt.Sprintf("status %q is older than the status %q the link has known since %s: not sent on",
				ev.Status.Status, known, at.UTC().Format(time.RFC3339)))
		}
		return decideStatus(l, ev)
	case ev.Type.IsAppointment():
		return decideAppointment(l, ev)
	case ev.Type == events.VersionCreated, ev.Type == events.VersionStatusChanged:
		return decideVersion(l, f, ev)
	case ev.Type == events.DocumentUploaded, ev.Type == events.DocumentApproved,
		ev.Type == events.DocumentRejected, ev.Type == events.DocumentReleased:
		return decideDocument(l, f, ev)
	}
	return skip(fmt.Sprintf("%s events are not synchronised", ev.Type))
}

// decideStatus: a mapped status change adds the mapped job event on the
// other side; an unmapped one is recorded as skipped. Either way the status
// may end the job on its side (see ShouldClose). Reaching the secondary's
// accepted status is the Accepted notification: its mapping is mandatory.
func decideStatus(l Link, ev events.Event) Command {
	c := l.Config
	status := ev.Status.Status
	ended := containsFold(c.EndStatuses(ev.Side), status)
	effect := StatusEffect{Side: ev.Side, Ended: ended, Cancelled: ev.Side == events.Primary && containsFold(c.Primary.CancelledStatuses, status)}
	m := c.StatusEvent(ev.Side, status)
	if m == nil {
		cmd := skip(fmt.Sprintf("status %q is not mapped in statusEvents.%s", status, Direction(ev.Side)))
		cmd.Status = &effect
		return cmd
	}
	note := m.Note
	if note == "" {
		note = fmt.Sprintf("%s job %s is now %s", ev.System, ev.JobRef, status)
	}
	if ev.Side == events.Secondary && strings.EqualFold(status, c.Secondary.AcceptedStatus) {
		note = "Accepted: " + note
	}
	return Command{Action: AddJobEvent, Target: other(ev.Side), EventCode: m.EventCode, Note: note, Date: ev.OccurredAt, Status: &effect}
}

// decideAppointment: the secondary's appointment changes become job events
// in the primary, carrying the date and time and any reason. Appointments
// booked in the primary stay there.
func decideAppointment(l Link, ev events.Event) Command {
	if ev.Side != events.Secondary {
		return skip("appointments in the primary are not sent to the secondary")
	}
	a, codes := ev.Appointment, l.Config.AppointmentEvents
	when := formatSlot(a.Start, a.End)
	var code, note string
	switch ev.Type {
	case events.AppointmentCreated:
		code, note = codes.Created, fmt.Sprintf("Appointment booked by %s for %s", ev.System, when)
	case events.AppointmentRescheduled:
		code = codes.Rescheduled
		note = fmt.Sprintf("Appointment rescheduled by %s to %s", ev.System, when)
		if a.PreviousStart != nil {
			note += " (was " + formatTime(*a.PreviousStart) + ")"
		}
	case events.AppointmentCancelled:
		code, note = codes.Cancelled, fmt.Sprintf("Appointment for %s cancelled by %s", when, ev.System)
	case events.AppointmentCompleted:
		code, note = codes.Completed, fmt.Sprintf("Appointment for %s completed by %s", when, ev.System)
	}
	if a.Reason != "" {
		note += ". Reason: " + a.Reason
	}
	note += fmt.Sprintf(" [%s appointment %s, job %s]", ev.System, a.AppointmentID, ev.JobRef)
	return Command{Action: AddJobEvent, Target: events.Primary, EventCode: code, Note: note, Date: ev.OccurredAt}
}

// decideDocument: a document in a shared category is copied into the mapped
// category on the other side; other categories stay where they are. A
// document O2O itself uploaded is never copied back. Where the link requires
// approval for the document's direction, an upload is held until the source
// approves it (or an operator releases it); a rejection drops it; an approval
// withdrawn after the copy leaves the copy and, when configured, says so
// with a job event on the other side.
func decideDocument(l Link, f Facts, ev events.Event) Command {
	d := ev.Document
	if strings.HasPrefix(d.ClientRef, DocumentMarkerPrefix) {
		return skip(fmt.Sprintf("document %s is a copy O2O made: an echo, not copied back", d.DocumentID))
	}
	cat, ok := l.Config.Category(ev.Side, d.Category)
	if !ok {
		return skip(fmt.Sprintf("category %q is not shared (documentCategories)", d.Category))
	}
	copyIt := Command{Action: CopyDocument, Target: other(ev.Side), Document: d, Category: cat}
	required := l.Config.ApprovalRequired(ev.Side)
	copied := f.knows(CopiedKey(ev.Side, d.DocumentID))
	switch ev.Type {
	case events.DocumentReleased:
		return copyIt
	case events.DocumentApproved:
		switch {
		case !required:
			return skip(fmt.Sprintf("document approval is off for %s: the document travels when uploaded", Direction(ev.Side)))
		case copied:
			return skip(fmt.Sprintf("document %s was already copied", d.DocumentID))
		case f.knows(DroppedDocumentKey(ev.Side, d.DocumentID)):
			return skip(fmt.Sprintf("document %s was dropped by an operator; not copied", d.DocumentID))
		}
		return copyIt
	case events.DocumentRejected:
		reason := rejection(ev)
		switch {
		case !required:
			return skip(fmt.Sprintf("document approval is off for %s: %s", Direction(ev.Side), reason))
		case copied:
			note := fmt.Sprintf("Approval of document %s withdrawn in %s (%s); the copy O2O made earlier stays", d.FileName, ev.System, reason)
			if code := l.Config.WithdrawnEventCode(ev.Side); code != "" {
				return Command{Action: AddJobEvent, Target: other(ev.Side), EventCode: code, Note: note, Date: ev.OccurredAt}
			}
			return skip(note + " (no withdrawnEvents code configured)")
		}
		return Command{Action: DropDocument, Document: d, Reason: fmt.Sprintf("rejected in %s: %s; not copied", ev.System, reason)}
	}
	// An upload.
	switch {
	case !required:
		return copyIt
	case f.knows(DroppedDocumentKey(ev.Side, d.DocumentID)):
		return skip(fmt.Sprintf("document %s was dropped by an operator; not copied", d.DocumentID))
	case f.knows(approvalKey(events.DocumentRejected, ev.Side, d.DocumentID)) && !f.knows(approvalKey(events.DocumentApproved, ev.Side, d.DocumentID)):
		return skip(fmt.Sprintf("document %s was rejected in %s before its upload reached O2O; not copied", d.DocumentID, ev.System))
	case f.knows(approvalKey(events.DocumentApproved, ev.Side, d.DocumentID)):
		return copyIt // approved before O2O saw the upload (the approval's copy, if any, makes this a duplicate)
	}
	return Command{Action: HoldDocument, Document: d, Category: cat,
		Reason: fmt.Sprintf("held until approved in %s (documentApproval.%s)", ev.System, Direction(ev.Side))}
}

func rejection(ev events.Event) string {
	if r := strings.TrimSpace(ev.Document.Reason); r != "" {
		return "reason: " + r
	}
	return "no reason given"
}

// DocumentKey is the fact "this document has been copied" (or reported
// uploaded, where approval is off): rules.FactKeys of its upload.
func DocumentKey(side events.Side, id string) string { return "document:" + string(side) + ":" + id }

func approvalKey(t events.Type, side events.Side, id string) string {
	if t == events.DocumentApproved {
		return "document-approved:" + string(side) + ":" + id
	}
	return "document-rejected:" + string(side) + ":" + id
}

// CopiedKey is the fact "O2O has copied this document": it decides what an
// approval, a rejection or a late upload of it means.
func CopiedKey(side events.Side, id string) string {
	return "document-copied:" + string(side) + ":" + id
}

// DroppedDocumentKey is the fact an operator's drop of a held document
// leaves: the document never travels, even if approved later.
func DroppedDocumentKey(side events.Side, id string) string {
	return "document-dropped:" + string(side) + ":" + id
}

// DocumentMarkerPrefix starts the client ref O2O gives every document copy.
const DocumentMarkerPrefix = "o2o:"

// DocumentClientRef is the marker O2O puts on every document copy:
// "o2o:<link>:<source system>:<source document id>". It makes a copy
// recognisable (its DOCUMENT_UPLOADED is not copied back: decideDocument)
// and findable (a retried copy finds the earlier attempt's and stops).
func DocumentClientRef(link, sourceSystem, documentID string) string {
	return DocumentMarkerPrefix + link + ":" + sourceSystem + ":" + documentID
}

// StatusEffect is what a status change means for the link's life.
type StatusEffect struct {
	Side events.Side `json:"side"`
	// Ended: the job on Side has reached one of its end statuses.
	Ended bool `json:"ended"`
	// Cancelled: the primary cancelled the job.
	Cancelled bool `json:"cancelled"`
}

// ShouldClose says whether a link has finished: the job has ended on both
// sides (completed or cancelled), or the primary cancelled it. The link then
// waits closeAfter for late events and documents before it closes.
func ShouldClose(f Facts) (bool, string) {
	switch {
	case f.PrimaryCancelled:
		return true, "the primary cancelled the job"
	case f.PrimaryEnded && f.SecondaryEnded:
		return true, "the job has ended in both systems"
	}
	return false, ""
}

func other(s events.Side) events.Side {
	if s == events.Primary {
		return events.Secondary
	}
	return events.Primary
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}

// london is the zone Oneserve users read times in.
var london = func() *time.Location {
	loc, err := time.LoadLocation("Europe/London")
	if err != nil {
		panic(err) // embedded by time/tzdata
	}
	return loc
}()

func formatTime(t time.Time) string { return t.In(london).Format("Mon 2 Jan 2006 15:04") }

func formatSlot(start time.Time, end *time.Time) string {
	s := formatTime(start)
	if end != nil {
		e := end.In(london)
		if e.YearDay() == start.In(london).YearDay() && e.Year() == start.In(london).Year() {
			return s + "–" + e.Format("15:04")
		}
		return s + " – " + formatTime(*end)
	}
	return s
}

// NeedsLinkedJob reports whether an event can only be applied once the
// linked job exists. The workflow holds such events back, in order, until then.
func NeedsLinkedJob(ev events.Event) bool {
	switch ev.Type {
	case events.ActivityAssigned, events.JobsDrifted, events.Nudge, events.VersionSuperseded:
		return false
	}
	return true
}

// FactKeys are the identities of the fact an event reports (DESIGN §5),
// the first being its own. The same fact learned from a webhook and from a
// reconciliation has the same keys, so the link applies it once. A status
// change has none: the link compares it with the status it knows. The
// rest (keys after the first) are facts it implies: an appointment booked
// for a time is also "the appointment is at that time" (so a read that finds
// it there offers no reschedule).
func FactKeys(ev events.Event) []string {
	side := string(ev.Side)
	switch {
	case ev.Type == events.ActivityAssigned && ev.Assignment != nil:
		assigned := "assigned:" + side + ":" + ev.Assignment.ActivityID + ":" + ev.Assignment.TeamID
		if ev.Assignment.LineMissing {
			// Its own fact, so that it is applied even where the link
			// knows the assignment (once: a line removed again later is
			// not put back again); it implies the assignment.
			return []string{LineMissingKey(ev.Assignment.ActivityID, ev.Assignment.TeamID), assigned}
		}
		return []string{assigned}
	case ev.Type == events.DocumentUploaded && ev.Document != nil:
		return []string{DocumentKey(ev.Side, ev.Document.DocumentID)}
	case ev.Type == events.VersionCreated && ev.Version != nil:
		return []string{fmt.Sprintf("version:%s:%d:created", side, ev.Version.Number)}
	case ev.Type == events.VersionStatusChanged && ev.Version != nil:
		return []string{fmt.Sprintf("version:%s:%d:%s", side, ev.Version.Number, strings.ToLower(ev.Version.Status))}
	case ev.Type == events.VersionSuperseded && ev.Version != nil:
		return []string{fmt.Sprintf("superseded:%s:%s", side, ev.Version.PreviousJobRef)}
	case (ev.Type == events.DocumentApproved || ev.Type == events.DocumentRejected) && ev.Document != nil:
		return []string{approvalKey(ev.Type, ev.Side, ev.Document.DocumentID)}
	case ev.Type.IsAppointment() && ev.Appointment != nil:
		a := ev.Appointment
		base := "appointment:" + side + ":" + a.AppointmentID
		at := base + ":at:" + a.Start.UTC().Format(time.RFC3339)
		switch ev.Type {
		case events.AppointmentCreated:
			return []string{base + ":created", at}
		case events.AppointmentRescheduled:
			// Not "created" too: if the booking's webhook was lost, a
			// reconciliation still tells the primary it was booked.
			return []string{at}
		case events.AppointmentCancelled:
			return []string{base + ":cancelled"}
		case events.AppointmentCompleted:
			return []string{base + ":completed"}
		}
	}
	return nil
}

// FactID is the event id of a fact a reconciliation read, made from the
// fact's identity (its first FactKeys key), so that the same fact offered by
// every reconciliation is the same delivery.
func FactID(key string) string { return "reconcile:" + key }

// LineMissingKey is the fact "activity activityID, assigned to team teamID,
// has no line on the linked job": a reconciliation reads it from the linked
// job, so that a line the link believes is there is added (decideAssignment).
func LineMissingKey(activityID, teamID string) string {
	return "line-missing:primary:" + activityID + ":" + teamID
}

// decideAssignment: an activity assigned to the link's team creates the
// linked job, or is added to it. One the link has already linked is skipped,
// unless a reconciliation read that its line is missing from the linked job
// (Assignment.LineMissing): then it is added again (AddActivities adds only
// the lines the linked job lacks).
func decideAssignment(l Link, f Facts, ev events.Event) Command {
	if ev.Side != events.Primary {
		return skip("activity assignments in the secondary stay in the secondary")
	}
	if slices.ContainsFunc(f.PrimaryAliases, func(a string) bool { return strings.EqualFold(a, ev.JobRef) }) {
		return skip(fmt.Sprintf("job %s is a superseded version of the linked job: its assignments are not linked again", ev.JobRef))
	}
	a := ev.Assignment
	if a.TeamID != l.Config.Primary.Team.ID {
		return skip(fmt.Sprintf("assigned to team %s, not to the link's team %s", a.TeamID, l.Config.Primary.Team.ID))
	}
	if slices.Contains(f.LinkedActivities, a.ActivityID) && !(a.LineMissing && f.SecondaryJobRef != "") {
		return skip(fmt.Sprintf("activity %s is already on the linked job", a.ActivityID))
	}
	if f.SecondaryJobRef == "" {
		return Command{Action: CreateJob, Target: events.Secondary, ActivityIDs: []string{a.ActivityID}}
	}
	return Command{Action: AddActivities, Target: events.Secondary, ActivityIDs: []string{a.ActivityID}}
}

// Activity is a primary activity (SOR line) as read back from its system.
type Activity struct {
	ID       string
	TeamID   string
	Deleted  bool
	Code     string
	Quantity string
}

// StillAssigned re-checks an assignment against the primary's own record
// rather than trusting the event: it returns the activities of ids still
// assigned to the link's team, or, when none is, why there is nothing to do.
func StillAssigned(l config.Link, ids []string, read []Activity) (confirmed []string, skip string) {
	for _, a := range read {
		if a.TeamID == l.Primary.Team.ID && !a.Deleted {
			confirmed = append(confirmed, a.ID)
		}
	}
	if len(confirmed) == 0 {
		return nil, fmt.Sprintf("activities %v are no longer assigned to team %s in %s", ids, l.Primary.Team.ID, l.Primary.System)
	}
	return confirmed, ""
}

// TeamLines are the lines of the primary job that go to the linked job:
// every line assigned to the link's team, so a job whose activities were
// assigned together becomes one linked job, and those the re-check confirmed.
func TeamLines(l config.Link, job []Activity, confirmed []string) []Line {
	var lines []Line
	for _, a := range job {
		if a.TeamID == l.Primary.Team.ID || slices.Contains(confirmed, a.ID) {
			lines = append(lines, Line{ActivityID: a.ID, Code: a.Code, Quantity: a.Quantity})
		}
	}
	return lines
}

func (l Link) apiUser(side events.Side) string {
	if side == events.Secondary {
		return l.SecondaryAPIUser
	}
	return l.PrimaryAPIUser
}

func skip(reason string) Command { return Command{Action: Skip, Reason: reason} }

// PrimaryJob is what the rules need of the primary job to make the linked job.
type PrimaryJob struct {
	JobRef       string
	SiteRef      string
	ContactRef   string
	Priority     string
	Description  string
	ReportedDate time.Time
	// Lines are the job's activities assigned to the link's team.
	Lines []Line
}

// Line is one activity (SOR line) of a job.
type Line struct {
	ActivityID string
	Code       string
	Quantity   string
}

// JobSpec is the linked job to create in the secondary.
type JobSpec struct {
	// ClientRef is the secondary job's Client Job Ref: the primary job ref.
	// It is how O2O finds the linked job again, so creation is idempotent.
	ClientRef     string
	SiteRef       string
	ContactRef    string
	ReportedDate  time.Time
	ClientID      string
	WorkLogTypeID string
	WorkTypeID    string
	WorkflowID    string
	ServiceID     string
	PriorityID    string
	Description   string
	Lines         []Line
}

// LinkedJobSpec says how the primary job becomes the linked job: same site,
// contact and SOR lines; the link's work log type, work type, workflow,
// client and service; the mapped priority. It returns the problems that
// would make the result wrong (never a half-right job).
func LinkedJobSpec(l config.Link, j PrimaryJob) (JobSpec, []string) {
	var problems []string
	prio, ok := l.Priority(j.Priority)
	if !ok {
		problems = append(problems, fmt.Sprintf("priority %q of primary job %s has no mapping in link %s (add it under priorities)", j.Priority, j.JobRef, l.Name))
	}
	if j.SiteRef == "" {
		problems = append(problems, fmt.Sprintf("primary job %s has no site reference", j.JobRef))
	}
	if len(j.Lines) == 0 {
		problems = append(problems, fmt.Sprintf("primary job %s has no activities assigned to team %s", j.JobRef, l.Primary.Team))
	}
	desc := strings.TrimSpace(j.Description)
	if desc == "" {
		desc = "Linked from " + j.JobRef
	}
	return JobSpec{
		ClientRef:     j.JobRef,
		SiteRef:       j.SiteRef,
		ContactRef:    j.ContactRef,
		ReportedDate:  j.ReportedDate,
		ClientID:      l.Secondary.Client.ID,
		WorkLogTypeID: l.Secondary.WorkLogType.ID,
		WorkTypeID:    l.Secondary.WorkType.ID,
		WorkflowID:    l.Secondary.Workflow.ID,
		ServiceID:     l.Secondary.Service.ID,
		PriorityID:    prio.ID,
		Description:   desc,
		Lines:         j.Lines,
	}, problems
}

// WorthOffering says whether a fact read from a system is worth offering
// to its link: a document the rules would not copy (an unshared category,
// or O2O's own copy) is left out, so that it is not recorded on every
// reconciliation. Everything else is offered: even an unmapped status
// matters for the link's life.
func WorthOffering(l Link, ev events.Event) bool {
	switch ev.Type {
	case events.DocumentUploaded:
		a := decideDocument(l, Facts{}, ev).Action
		return a == CopyDocument || a == HoldDocument
	case events.DocumentApproved, events.DocumentRejected:
		return decideDocument(l, Facts{}, ev).Action != Skip
	}
	return true
}
