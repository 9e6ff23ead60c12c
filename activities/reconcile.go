package activities

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/o2o-sync/o2o/config"
	"github.com/o2o-sync/o2o/events"
	"github.com/o2o-sync/o2o/lifecycle"
	"github.com/o2o-sync/o2o/oneserve"
	"github.com/o2o-sync/o2o/rules"
)

// ReadFactsInput names one link's jobs.
type ReadFactsInput struct {
	Link            string `json:"link"`
	PrimaryJobRef   string `json:"primaryJobRef"`
	SecondaryJobRef string `json:"secondaryJobRef,omitempty"`
}

// ReadFactsResult is what a reconciliation read of one link found.
type ReadFactsResult struct {
	// Facts are events made from what the systems say now (Source
	// events.FromReconcile). The link drops those it already knows.
	Facts []events.Event `json:"facts"`
	// Calls is how many API calls the read made.
	Calls int `json:"calls"`
}

// ReadFacts reads both jobs of a link as they are now and returns the
// facts the sync cares about (DESIGN §5): the primary's activities assigned
// to the link's team, each job's status, the secondary's appointments and
// the documents in shared categories on both sides. A job that has gone,
// or moved to another client, is a JobsDrifted fact. Each fact carries the
// identity a webhook for it would have (rules.FactKeys), so it is applied
// once whichever comes first. Reading is all it does.
func (a *Activities) ReadFacts(ctx context.Context, in ReadFactsInput) (ReadFactsResult, error) {
	return a.readFacts(ctx, in, true)
}

// readFacts reads a link's jobs and, with documents, their document lists.
func (a *Activities) readFacts(ctx context.Context, in ReadFactsInput, documents bool) (ReadFactsResult, error) {
	l, primary, secondary, err := a.link(in.Link)
	if err != nil {
		return ReadFactsResult{}, err
	}
	rl, _ := a.LoadLink(ctx, in.Link)
	defer keepAlive(ctx)()
	now := time.Now().UTC()
	r := &factReader{link: l, rules: rl, now: now}

	r.calls++
	pj, err := primary.Job(ctx, in.PrimaryJobRef)
	switch {
	case oneserve.IsNotFound(err):
		r.drift(fmt.Sprintf("primary job %s no longer exists in %s", in.PrimaryJobRef, l.Primary.System))
		return r.result(), nil
	case err != nil:
		return ReadFactsResult{}, classify(l.Primary.System, err)
	}
	if pj.ClientID != "" && pj.ClientID != l.Primary.Client.ID {
		r.drift(fmt.Sprintf("primary job %s has moved to client %s in %s (the link's client is %s)", in.PrimaryJobRef, pj.ClientID, l.Primary.System, l.Primary.Client))
		return r.result(), nil
	}
	r.job(events.Primary, l.Primary.System, pj, in.PrimaryJobRef, "")
	if documents {
		if err := r.documents(ctx, events.Primary, l.Primary.System, primary, in.PrimaryJobRef, ""); err != nil {
			return ReadFactsResult{}, err
		}
	}

	if in.SecondaryJobRef != "" {
		r.calls++
		sj, err := secondary.Job(ctx, in.SecondaryJobRef)
		switch {
		case oneserve.IsNotFound(err):
			r.drift(fmt.Sprintf("linked job %s no longer exists in %s", in.SecondaryJobRef, l.Secondary.System))
			return r.result(), nil
		case err != nil:
			return ReadFactsResult{}, classify(l.Secondary.System, err)
		}
		if sj.ClientRef != "" && !strings.EqualFold(sj.ClientRef, in.PrimaryJobRef) {
			r.drift(fmt.Sprintf("linked job %s in %s now has client ref %s, not %s", in.SecondaryJobRef, l.Secondary.System, sj.ClientRef, in.PrimaryJobRef))
			return r.result(), nil
		}
		r.lines(pj, sj)
		r.job(events.Secondary, l.Secondary.System, sj, in.SecondaryJobRef, in.PrimaryJobRef)
		if documents {
			if err := r.documents(ctx, events.Secondary, l.Secondary.System, secondary, in.SecondaryJobRef, in.PrimaryJobRef); err != nil {
				return ReadFactsResult{}, err
			}
		}
	}
	return r.result(), nil
}

// factReader collects the facts of one read.
type factReader struct {
	link  *config.Link
	rules rules.Link
	now   time.Time
	facts []events.Event
	calls int
	// assigned is the index in facts of each primary activity's assignment.
	assigned map[string]int
}

func (r *factReader) result() ReadFactsResult { return ReadFactsResult{Facts: r.facts, Calls: r.calls} }

// add keeps a fact the rules think worth offering, and reports whether it
// did. Its id names the fact (and, for a status, the read), so a fact
// offered again by a later reconciliation is recognised as the same delivery.
func (r *factReader) add(ev events.Event, id string) bool {
	ev.ID, ev.Source = rules.FactID(id), events.FromReconcile
	if ev.OccurredAt.IsZero() {
		ev.OccurredAt = r.now
	}
	if !rules.WorthOffering(r.rules, ev) {
		return false
	}
	r.facts = append(r.facts, ev)
	return true
}

// lines compares the linked job's lines with the primary's activities
// assigned to the link's team: an assignment whose line the linked job does
// not hold (by client ref, the primary activity id) becomes the fact "its
// line is missing" (Assignment.LineMissing), in its place, which the link
// applies even if it believes the line is there. While either job's current
// version is undecided (New or Pending) nothing is compared: a variation
// may remove a line on one side before the other side's mirror of it.
func (r *factReader) lines(pj, sj *oneserve.Job) {
	if undecided(pj.VersionStatus) || undecided(sj.VersionStatus) {
		return
	}
	for _, line := range pj.Activities {
		i, ok := r.assigned[line.ID]
		if !ok || hasLine(sj, line.ID) || mirrored(sj, line) {
			continue
		}
		ev := r.facts[i]
		a := *ev.Assignment
		a.LineMissing = true
		ev.Assignment = &a
		ev.ID = rules.FactID(rules.FactKeys(ev)[0])
		r.facts[i] = ev
	}
}

// mirrored reports whether a primary line is itself the mirror of a line of
// the linked job (added by a variation O2O mirrored from the secondary: its
// client ref is that line's id), so the linked job holds it already.
func mirrored(sj *oneserve.Job, line oneserve.JobLine) bool {
	return line.ClientRef != "" && slices.ContainsFunc(sj.Activities, func(s oneserve.JobLine) bool { return s.ID == line.ClientRef })
}

// undecided reports whether a version status is New or Pending.
func undecided(status string) bool {
	return strings.EqualFold(status, events.VersionNew) || strings.EqualFold(status, events.VersionPending)
}

// sourceTime is t, a time the source gives for a fact, or zero (the read's
// time, see add) when it gives none or one after the read.
func (r *factReader) sourceTime(t time.Time) time.Time {
	if t.IsZero() || t.After(r.now) {
		return time.Time{}
	}
	return t.UTC()
}

// appointmentTime dates the facts of an appointment read from a job. The
// read says when an appointment is, not when it was booked, moved or
// cancelled: those facts take the read's time. A completed appointment's
// visit is over by the end of its slot (its start, without an end), so
// every fact of it takes that time, which keeps its booking, never later,
// in front of its completion.
func (r *factReader) appointmentTime(ap oneserve.JobAppointment) time.Time {
	if !strings.EqualFold(ap.Status, "Completed") {
		return time.Time{}
	}
	if !ap.End.IsZero() {
		return r.sourceTime(ap.End)
	}
	return r.sourceTime(ap.Start)
}

func (r *factReader) drift(reason string) {
	r.add(events.Event{System: r.link.Primary.System, Side: events.Primary, Type: events.JobsDrifted,
		Drift: &events.Drift{Reason: reason}}, "drift")
}

// job adds the facts of one job read: assignments to the link's team (the
// primary), the status, and appointments (the secondary).
func (r *factReader) job(side events.Side, system string, j *oneserve.Job, jobRef, clientRef string) {
	base := events.Event{System: system, Side: side, JobRef: jobRef, JobClientRef: clientRef}
	if side == events.Primary {
		for _, line := range j.Activities {
			if line.SupplierID != r.link.Primary.Team.ID {
				continue
			}
			ev := base
			ev.Type, ev.Assignment = events.ActivityAssigned, &events.Assignment{ActivityID: line.ID, TeamID: line.SupplierID}
			if r.add(ev, rules.FactKeys(ev)[0]) {
				if r.assigned == nil {
					r.assigned = map[string]int{}
				}
				r.assigned[line.ID] = len(r.facts) - 1
			}
		}
	}
	// The refs its superseded versions hold: the link's aliases, learned
	// from the source, not only from version events.
	superseded := j.SupersededRefs()
	for _, v := range j.Versions {
		if v.JobRef != "" && slices.Contains(superseded, v.JobRef) {
			ev := base
			ev.Type, ev.Version = events.VersionSuperseded, &events.Version{Number: v.Number, PreviousJobRef: v.JobRef, Status: v.Status}
			r.add(ev, rules.FactKeys(ev)[0])
		}
	}
	if j.Status != "" {
		ev := base
		ev.Type, ev.Status = events.JobStatusChanged, &events.StatusChange{Status: j.Status, StatusID: j.StatusID}
		r.add(ev, fmt.Sprintf("status:%s:%s@%s", side, j.Status, r.now.Format(time.RFC3339Nano)))
	}
	if side != events.Secondary {
		return // appointments in the primary stay there (rules)
	}
	for _, ap := range j.Appointments {
		a := &events.Appointment{AppointmentID: ap.AppointmentID, Start: ap.Start, Reason: ap.Reason}
		if !ap.End.IsZero() {
			end := ap.End
			a.End = &end
		}
		base := base
		base.OccurredAt = r.appointmentTime(ap)
		// Booked now, and at this time: the link drops what it knows.
		for _, t := range []events.Type{events.AppointmentCreated, events.AppointmentRescheduled} {
			ev := base
			ev.Type, ev.Appointment = t, a
			r.add(ev, rules.FactKeys(ev)[0])
		}
		var ended events.Type
		switch {
		case strings.EqualFold(ap.Status, "Cancelled"):
			ended = events.AppointmentCancelled
		case strings.EqualFold(ap.Status, "Completed"):
			ended = events.AppointmentCompleted
		}
		if ended != "" {
			ev := base
			ev.Type, ev.Appointment = ended, a
			r.add(ev, rules.FactKeys(ev)[0])
		}
	}
}

// documents adds a fact for each document in a category the link shares.
func (r *factReader) documents(ctx context.Context, side events.Side, system string, c *oneserve.Client, jobRef, clientRef string) error {
	r.calls++
	docs, err := c.Documents(ctx, jobRef)
	if err != nil {
		return classify(system, err)
	}
	for _, d := range docs {
		ev := events.Event{System: system, Side: side, JobRef: jobRef, JobClientRef: clientRef, Type: events.DocumentUploaded, OccurredAt: r.sourceTime(d.Uploaded),
			Document: &events.Document{DocumentID: d.DocumentID, FileName: d.FileName, Category: d.Category, Size: d.Size,
				SHA256: strings.ToLower(d.SHA256), ClientRef: d.ClientRef}}
		r.add(ev, rules.FactKeys(ev)[0])
		// Its approval, where the system reports one (the rules leave it
		// out where the link does not require approval).
		switch {
		case strings.EqualFold(d.Approval, oneserve.ApprovalApproved):
			ev.Type = events.DocumentApproved
		case strings.EqualFold(d.Approval, oneserve.ApprovalRejected):
			ev.Type = events.DocumentRejected
		default:
			continue
		}
		ev.OccurredAt = time.Time{} // the list says when it was uploaded, not decided
		r.add(ev, rules.FactKeys(ev)[0])
	}
	return nil
}

// CheckJobsInput names the jobs a JobsDrifted fact is about.
type CheckJobsInput struct {
	Link            string `json:"link"`
	PrimaryJobRef   string `json:"primaryJobRef"`
	SecondaryJobRef string `json:"secondaryJobRef,omitempty"`
	// Reason is what the reconciliation found.
	Reason string `json:"reason"`
}

// CheckJobs reads a link's jobs again after a reconciliation found one gone
// or moved. Still so: a non-retryable error naming it (the link needs
// attention: restore the job or unlink). Found again: applied.
func (a *Activities) CheckJobs(ctx context.Context, in CheckJobsInput) (lifecycle.Result, error) {
	// Only the jobs matter here: their documents are not read.
	res, err := a.readFacts(ctx, ReadFactsInput{Link: in.Link, PrimaryJobRef: in.PrimaryJobRef, SecondaryJobRef: in.SecondaryJobRef}, false)
	if err != nil {
		return lifecycle.Result{}, err
	}
	for _, f := range res.Facts {
		if f.Type == events.JobsDrifted {
			return lifecycle.Result{}, temporal.NewNonRetryableApplicationError(
				f.Drift.Reason+": O2O cannot repair this; restore the job and retry, or unlink", ErrTypeDrifted, nil)
		}
	}
	return lifecycle.Result{Outcome: lifecycle.OutcomeApplied, Detail: "both jobs are where the link expects them again"}, nil
}

// ReadJobFacts is ReadFacts for a link's own nudge: the link offers itself
// the facts in the result.
func (a *Activities) ReadJobFacts(ctx context.Context, in ReadFactsInput) (lifecycle.Result, error) {
	res, err := a.ReadFacts(ctx, in)
	if err != nil {
		return lifecycle.Result{}, err
	}
	return lifecycle.Result{Outcome: lifecycle.OutcomeApplied, Facts: res.Facts}, nil
}
