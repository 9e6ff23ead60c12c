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

	switch {
	case ev.Type == events.ActivityAssigned:
		return decideAssignment(l, f, ev)
	case f.SecondaryJobRef == "":
		// The workflow only asks once the linked job exists; events that
		// arrive earlier wait in its queue. Reaching here is a bug.
		return skip("the linked job does not exist yet")
	}
	return skip(fmt.Sprintf("%s events are not synchronised yet", ev.Type))
}

// NeedsLinkedJob reports whether an event can only be applied once the
// linked job exists. The workflow holds such events back, in order, until then.
func NeedsLinkedJob(ev events.Event) bool {
	return ev.Type != events.ActivityAssigned
}

func decideAssignment(l Link, f Facts, ev events.Event) Command {
	if ev.Side != events.Primary {
		return skip("activity assignments in the secondary stay in the secondary")
	}
	a := ev.Assignment
	if a.TeamID != l.Config.Primary.Team.ID {
		return skip(fmt.Sprintf("assigned to team %s, not to the link's team %s", a.TeamID, l.Config.Primary.Team.ID))
	}
	if slices.Contains(f.LinkedActivities, a.ActivityID) {
		return skip(fmt.Sprintf("activity %s is already on the linked job", a.ActivityID))
	}
	if f.SecondaryJobRef == "" {
		return Command{Action: CreateJob, Target: events.Secondary, ActivityIDs: []string{a.ActivityID}}
	}
	return Command{Action: AddActivities, Target: events.Secondary, ActivityIDs: []string{a.ActivityID}}
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
