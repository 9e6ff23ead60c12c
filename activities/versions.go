package activities

import (
	"context"
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
// changes: added lines through the documented addActivityByClientRef with
// submitVersion, removed lines and changed quantities through the assumed
// versionLines endpoint (in the same new version when lines were added,
// else in a new one). It first reads the job: when every change is already
// there (an earlier attempt made the version), it writes nothing. A line
// the target does not have, or an SOR code it refuses, is a refusal the
// link shows (NeedsAttention) with the system's own message.
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
	job, err := c.Job(ctx, jobRef)
	if err != nil {
		return lifecycle.Result{}, classify(system, err)
	}
	var adds []oneserve.ActivityByClientRef
	var changes []oneserve.VersionLineChange
	for _, ch := range in.Version.Lines {
		line, found := targetLine(job.Activities, ch)
		switch ch.Change {
		case "add":
			if found {
				continue // an earlier attempt added it
			}
			adds = append(adds, oneserve.ActivityByClientRef{JobClientRef: job.ClientRef, ClientID: clientID, Code: ch.Code,
				ClientRef: ch.ClientRef, CompletedQuantity: "0", TotalQuantity: ch.Quantity})
		case "remove":
			if found {
				changes = append(changes, oneserve.VersionLineChange{Change: "remove", ActivityID: line.ID, ClientRef: line.ClientRef})
			}
		case "quantity":
			if !found {
				return lifecycle.Result{}, misaligned("line %s of the variation is not on job %s in %s; the versions cannot be matched",
					firstOf(ch.ActivityID, ch.ClientRef), jobRef, system)
			}
			if line.Quantity != ch.Quantity {
				changes = append(changes, oneserve.VersionLineChange{Change: "quantity", ActivityID: line.ID, ClientRef: line.ClientRef, Quantity: ch.Quantity})
			}
		}
	}
	if len(adds) == 0 && len(changes) == 0 {
		activity.GetLogger(ctx).Info("Version already raised; not raising it again", "jobRef", jobRef, "version", job.Version)
		return lifecycle.Result{Outcome: lifecycle.OutcomeApplied, Version: job.Version, Existed: true}, nil
	}
	if len(adds) > 0 && job.ClientRef == "" {
		return lifecycle.Result{}, misaligned("job %s in %s has no Client Job Ref, which addActivityByClientRef needs to add the variation's lines; give the job one, then retry", jobRef, system)
	}
	for i := range adds {
		adds[i].JobClientRef = job.ClientRef
	}
	version := 0
	// A write that goes unanswered may land later: look at the job again
	// (see settled) and stop there if the variation is in it.
	look := func(ctx context.Context) (bool, error) {
		after, err := c.Job(ctx, jobRef)
		if err != nil {
			return false, err
		}
		for _, ch := range in.Version.Lines {
			line, found := targetLine(after.Activities, ch)
			if (ch.Change == "add" && !found) || (ch.Change == "remove" && found) || (ch.Change == "quantity" && line.Quantity != ch.Quantity) {
				return false, nil
			}
		}
		version = after.Version
		return true, nil
	}
	over := sending(ctx, c)
	defer over()
	if len(adds) > 0 {
		if err := c.AddActivitiesByClientRef(ctx, true, adds); err != nil {
			if !settled(ctx, err, look) {
				return lifecycle.Result{}, classify(system, err)
			}
			adds, changes = nil, nil
		}
	}
	if len(changes) > 0 {
		// Lines were added: the version exists; change it. Else raise it.
		if version, err = c.ChangeVersionLines(ctx, jobRef, len(adds) == 0, changes); err != nil {
			if !settled(ctx, err, look) {
				return lifecycle.Result{}, classify(system, err)
			}
		}
	}
	if version == 0 {
		after, err := c.Job(ctx, jobRef)
		if err != nil {
			return lifecycle.Result{}, classify(system, err)
		}
		version = after.Version
	}
	activity.GetLogger(ctx).Info("Version raised", "jobRef", jobRef, "version", version, "added", len(adds), "changed", len(changes))
	return lifecycle.Result{Outcome: lifecycle.OutcomeApplied, Version: version}, nil
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
