package activities

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/o2o-sync/o2o/events"
	"github.com/o2o-sync/o2o/lifecycle"
	"github.com/o2o-sync/o2o/oneserve"
	"github.com/o2o-sync/o2o/rules"
)

// VersionInput asks for a version of the job on Target's side, mirroring
// one raised on the other (rules.CreateVersion).
type VersionInput struct {
	Link            string            `json:"link"`
	Target          events.Side       `json:"target"`
	PrimaryJobRef   string            `json:"primaryJobRef"`
	SecondaryJobRef string            `json:"secondaryJobRef"`
	Version         rules.VersionSpec `json:"version"`
}

// CreateVersion raises a version of the target job with the mirrored line
// changes, as one idempotent unit: whichever call's answer is lost or late,
// and whichever attempt dies, the version ends holding exactly the
// variation's changes, once, and is submitted (open to a decision) only by
// the last call, once every change is in (docs/oneserve-api.md, "Job
// versions"). Added lines go through the documented addActivityByClientRef,
// removed lines and changed quantities through the assumed versionLines:
// with both, versionLines with submitVersion "0" raises the version New
// and addActivityByClientRef with "1" adds the lines into it and submits
// it; with one kind only, that one call with "1".
//
// Each step starts from a read of the job: what is still missing, and
// where the version stands. A retry (or a step after an unanswered call)
// thus finds the version its earlier attempt raised — the current version,
// New or Pending, already holding some of the changes — and applies only
// what is missing, into that version. An undecided version holding none of
// them is someone else's: a refusal the link shows (NeedsAttention). So is
// a line the target does not have, or an SOR code it refuses, with the
// system's own message. The result carries the version's number and the
// refs the job's superseded versions hold (the link's aliases).
func (a *Activities) CreateVersion(ctx context.Context, in VersionInput) (lifecycle.Result, error) {
	_, t, err := a.targetOf(in.Link, in.Target, in.PrimaryJobRef, in.SecondaryJobRef)
	if err != nil {
		return lifecycle.Result{}, err
	}
	c, system, jobRef, clientID := t.client, t.system, t.jobRef, t.clientID
	ctx, stop := keepAliveWrites(ctx)
	defer stop()
	if err := awaitLostWrite(ctx); err != nil {
		return lifecycle.Result{}, err
	}
	log := activity.GetLogger(ctx)
	// Each write leaves less missing, and there are at most two kinds of
	// write: a third is a bug, not a reason to write on.
	for writes := 0; ; writes++ {
		job, err := c.Job(ctx, jobRef)
		if err != nil {
			return lifecycle.Result{}, classify(system, err)
		}
		p, err := planVersion(job, in.Version.Lines, clientID, system, jobRef)
		if err != nil {
			return lifecycle.Result{}, err
		}
		if p.complete() {
			if writes == 0 {
				log.Info("Version already raised; not raising it again", "jobRef", jobRef, "version", job.Version)
			} else {
				log.Info("Version raised", "jobRef", jobRef, "version", job.Version, "status", job.VersionStatus)
			}
			return lifecycle.Result{Outcome: lifecycle.OutcomeApplied, Version: job.Version, Existed: writes == 0,
				SupersededRefs: job.SupersededRefs()}, nil
		}
		if writes == 2 {
			return lifecycle.Result{}, fmt.Errorf("version of job %s in %s still misses changes after two writes", jobRef, system)
		}
		if err := p.write(ctx, c, jobRef); err != nil {
			// An unanswered write may land later: look at the job again
			// (see settled) and go on from there if it is in.
			look := func(ctx context.Context) (bool, error) {
				after, err := c.Job(ctx, jobRef)
				if err != nil {
					return false, err
				}
				q, err := planVersion(after, in.Version.Lines, clientID, system, jobRef)
				return err == nil && q.landed(p), nil
			}
			if !settled(ctx, err, look) {
				return lifecycle.Result{}, classify(system, err)
			}
		}
	}
}

// versionPlan is what a variation still needs on the target job, read
// afresh before each write.
type versionPlan struct {
	adds    []oneserve.ActivityByClientRef
	changes []oneserve.VersionLineChange
	// found: some of the variation's changes are on the job already.
	found bool
	// status is the job's current version status; version its number.
	status  string
	version int
	// submit: the next write submits the version (it is the last).
	submit bool
}

// planVersion compares the variation with the job: which changes are
// missing, and so which write comes next.
func planVersion(job *oneserve.Job, lines []events.LineChange, clientID, system, jobRef string) (versionPlan, error) {
	p := versionPlan{status: job.VersionStatus, version: job.Version}
	for _, ch := range lines {
		line, found := targetLine(job.Activities, ch)
		switch ch.Change {
		case "add":
			if found {
				p.found = true // an earlier write added it
				continue
			}
			p.adds = append(p.adds, oneserve.ActivityByClientRef{JobClientRef: job.ClientRef, ClientID: clientID, Code: ch.Code,
				ClientRef: ch.ClientRef, CompletedQuantity: "0", TotalQuantity: ch.Quantity})
		case "remove":
			if !found {
				p.found = true
				continue
			}
			p.changes = append(p.changes, oneserve.VersionLineChange{Change: oneserve.LineRemove, ActivityID: line.ID, ClientRef: line.ClientRef})
		case "quantity":
			if !found {
				return p, misaligned("line %s of the variation is not on job %s in %s; the versions cannot be matched",
					firstOf(ch.ActivityID, ch.ClientRef), jobRef, system)
			}
			if line.Quantity == ch.Quantity {
				p.found = true
				continue
			}
			p.changes = append(p.changes, oneserve.VersionLineChange{Change: oneserve.LineQuantity, ActivityID: line.ID, ClientRef: line.ClientRef, Quantity: ch.Quantity})
		}
	}
	if p.complete() {
		return p, nil
	}
	if len(p.adds) > 0 && job.ClientRef == "" {
		return p, misaligned("job %s in %s has no Client Job Ref, which addActivityByClientRef needs to add the variation's lines; give the job one, then retry", jobRef, system)
	}
	undecided := strings.EqualFold(p.status, oneserve.VersionNew) || strings.EqualFold(p.status, oneserve.VersionPending)
	if undecided && !p.found {
		return p, misaligned("version %d of job %s in %s is %s and holds none of this variation's changes: it is not O2O's; have it decided there, then retry",
			p.version, jobRef, system, p.status)
	}
	// Over a decided version the first write raises the version, New when
	// another write follows; into our New version the last write submits
	// it; into a Pending one (raised by an earlier O2O that submitted
	// first) the missing changes go in place.
	p.submit = !strings.EqualFold(p.status, oneserve.VersionPending) && (len(p.changes) == 0 || len(p.adds) == 0)
	return p, nil
}

func (p versionPlan) complete() bool { return len(p.adds) == 0 && len(p.changes) == 0 }

// landed reports whether the write planned by before is in the job p was
// planned from.
func (p versionPlan) landed(before versionPlan) bool {
	if len(before.changes) > 0 {
		return len(p.changes) == 0
	}
	return len(p.adds) == 0
}

// write makes the plan's next write: the line changes (versionLines), or,
// once they are in, the added lines (addActivityByClientRef).
func (p versionPlan) write(ctx context.Context, c *oneserve.Client, jobRef string) error {
	over := sending(ctx, c)
	defer over()
	if len(p.changes) > 0 {
		_, err := c.ChangeVersionLines(ctx, jobRef, p.submit, p.changes)
		return err
	}
	return c.AddActivitiesByClientRef(ctx, p.submit, p.adds)
}

// targetLine finds the target line a mirrored change names: the one whose
// client ref is the source line's id, else the one whose id is the source
// line's client ref (see rules.mirrorLines).
func targetLine(lines []oneserve.JobLine, ch events.LineChange) (oneserve.JobLine, bool) {
	if ch.ClientRef != "" {
		if i := slices.IndexFunc(lines, func(l oneserve.JobLine) bool { return l.ClientRef == ch.ClientRef }); i >= 0 {
			return lines[i], true
		}
	}
	if ch.ActivityID != "" {
		if i := slices.IndexFunc(lines, func(l oneserve.JobLine) bool { return l.ID == ch.ActivityID }); i >= 0 {
			return lines[i], true
		}
	}
	return oneserve.JobLine{}, false
}

func firstOf(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// DecisionInput asks for a version on Target's side to be approved,
// rejected or cancelled, with a job event saying so (rules.DecideVersion).
type DecisionInput struct {
	Link            string                `json:"link"`
	Target          events.Side           `json:"target"`
	PrimaryJobRef   string                `json:"primaryJobRef"`
	SecondaryJobRef string                `json:"secondaryJobRef"`
	Decision        rules.VersionDecision `json:"decision"`
	EventCode       string                `json:"eventCode"`
	Note            string                `json:"note"`
	Date            time.Time             `json:"date"`
	// Key is the causing event's id (the job event's marker).
	Key string `json:"key"`
}

// DecideVersion applies a decision to the target's version (unless it
// already has that status: an earlier attempt) and writes the decision's
// job event (unless an earlier attempt did).
func (a *Activities) DecideVersion(ctx context.Context, in DecisionInput) (lifecycle.Result, error) {
	_, t, err := a.targetOf(in.Link, in.Target, in.PrimaryJobRef, in.SecondaryJobRef)
	if err != nil {
		return lifecycle.Result{}, err
	}
	c, system, jobRef := t.client, t.system, t.jobRef
	ctx, stop := keepAliveWrites(ctx)
	defer stop()
	if err := awaitLostWrite(ctx); err != nil {
		return lifecycle.Result{}, err
	}
	job, err := c.Job(ctx, jobRef)
	if err != nil {
		return lifecycle.Result{}, classify(system, err)
	}
	i := slices.IndexFunc(job.Versions, func(v oneserve.JobVersion) bool { return v.Number == in.Decision.Number })
	if i < 0 && job.Version != in.Decision.Number {
		return lifecycle.Result{}, misaligned("version %d of job %s does not exist in %s", in.Decision.Number, jobRef, system)
	}
	if i < 0 || !strings.EqualFold(job.Versions[i].Status, in.Decision.Status) {
		over := sending(ctx, c)
		err := c.SetVersionStatus(ctx, jobRef, in.Decision.Number, in.Decision.Status, in.Decision.Reason)
		over()
		if err != nil {
			return lifecycle.Result{}, classify(system, err)
		}
	}
	return a.AddJobEvent(ctx, JobEventInput{Link: in.Link, Target: in.Target, PrimaryJobRef: in.PrimaryJobRef,
		SecondaryJobRef: in.SecondaryJobRef, EventCode: in.EventCode, Note: in.Note, Date: in.Date, Key: in.Key})
}
