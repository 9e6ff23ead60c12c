package activities

import (
	"context"
	"crypto/sha256"
	"encoding/base32"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/o2o-sync/o2o/config"
	"github.com/o2o-sync/o2o/events"
	"github.com/o2o-sync/o2o/lifecycle"
	"github.com/o2o-sync/o2o/oneserve"
)

// JobEventInput asks for one job event on one side of a link.
type JobEventInput struct {
	Link            string      `json:"link"`
	Target          events.Side `json:"target"`
	PrimaryJobRef   string      `json:"primaryJobRef"`
	SecondaryJobRef string      `json:"secondaryJobRef"`
	EventCode       string      `json:"eventCode"`
	Note            string      `json:"note"`
	Date            time.Time   `json:"date"`
	// Key is the id of the event that causes this write. It makes the write
	// idempotent: the note carries a marker derived from it.
	Key string `json:"key"`
}

// maxNote is addEventByClientRef's note limit.
const maxNote = 1000

// EventMarker is the reference O2O appends to every job event note it
// writes, e.g. "[O2O ref 7KQ2M4XB3A]". It is derived from the link and the
// causing event's id, so a retry can find the note an earlier attempt wrote
// (Oneserve offers no idempotency key), and support can trace a job event
// back to the O2O event that caused it.
func EventMarker(link, key string) string {
	sum := sha256.Sum256([]byte(link + "\x00" + key))
	return "[O2O ref " + base32.StdEncoding.EncodeToString(sum[:])[:10] + "]"
}

// AddJobEvent adds a job event to the job on in.Target's side. A retry
// first reads the job's history and does nothing if an earlier attempt
// already wrote the event (found by its marker), so a retried activity never
// writes it twice; the first attempt, which nothing can have preceded,
// writes at once. A write that goes unanswered is looked for before the
// attempt fails (see settled).
func (a *Activities) AddJobEvent(ctx context.Context, in JobEventInput) (lifecycle.Result, error) {
	_, t, err := a.targetOf(in.Link, in.Target, in.PrimaryJobRef, in.SecondaryJobRef)
	if err != nil {
		return lifecycle.Result{}, err
	}
	c, system, jobRef, clientID := t.client, t.system, t.jobRef, t.clientID
	marker := EventMarker(in.Link, in.Key)
	ctx, stop := keepAliveWrites(ctx)
	defer stop()

	// Only a retry can find its own earlier write: the first attempt writes
	// at once (one call instead of two for the commonest write).
	look := func(ctx context.Context) (bool, error) { return hasMarkedEvent(ctx, c, jobRef, marker) }
	if earlierAttempt(ctx) {
		if err := awaitLostWrite(ctx); err != nil {
			return lifecycle.Result{}, err
		}
		found, err := look(ctx)
		if err != nil {
			return lifecycle.Result{}, classify(system, err)
		}
		if found {
			activity.GetLogger(ctx).Info("Job event already written; not writing it again", "jobRef", jobRef, "eventCode", in.EventCode)
			return lifecycle.Result{Outcome: lifecycle.OutcomeApplied, Existed: true}, nil
		}
	}

	date := in.Date
	if date.IsZero() {
		date = time.Now()
	}
	over := sending(ctx, c)
	defer over()
	err = c.AddEventByClientRef(ctx, oneserve.JobEvent{
		JobRef:    jobRef,
		ClientID:  clientID,
		EventCode: in.EventCode,
		Note:      noteWithMarker(in.Note, marker),
		Date:      date,
	})
	if err != nil {
		if settled(ctx, err, look) {
			return lifecycle.Result{Outcome: lifecycle.OutcomeApplied, Existed: true}, nil
		}
		return lifecycle.Result{}, classify(system, err)
	}
	activity.GetLogger(ctx).Info("Job event written", "jobRef", jobRef, "eventCode", in.EventCode)
	return lifecycle.Applied(), nil
}

// hasMarkedEvent reports whether job jobRef has a job event whose note
// carries marker: a write of O2O's that was already applied.
func hasMarkedEvent(ctx context.Context, c *oneserve.Client, jobRef, marker string) (bool, error) {
	job, err := c.Job(ctx, jobRef)
	if err != nil {
		return false, err
	}
	return slices.ContainsFunc(job.Events, func(e oneserve.HistoryEvent) bool { return strings.Contains(e.Note, marker) }), nil
}

// noteWithMarker appends the marker, shortening the note to fit the limit.
func noteWithMarker(note, marker string) string {
	room := maxNote - len([]rune(marker)) - 1
	if r := []rune(note); len(r) > room {
		note = string(r[:room-1]) + "…"
	}
	return note + " " + marker
}

// AddActivitiesInput asks for primary activities to be added to the linked job.
type AddActivitiesInput struct {
	Link            string   `json:"link"`
	PrimaryJobRef   string   `json:"primaryJobRef"`
	SecondaryJobRef string   `json:"secondaryJobRef"`
	ActivityIDs     []string `json:"activityIds"`
}

// AddActivities adds activities newly assigned to the link's team to the
// linked job (addActivityByClientRef), each carrying its primary activity id
// as client ref. Lines already there (by that client ref) are not added again.
func (a *Activities) AddActivities(ctx context.Context, in AddActivitiesInput) (lifecycle.Result, error) {
	l, primary, secondary, err := a.link(in.Link)
	if err != nil {
		return lifecycle.Result{}, err
	}
	pSys := l.Primary.System
	ctx, stop := keepAliveWrites(ctx)
	defer stop()
	confirmed, skipped, err := confirmAssigned(ctx, l, primary, in.ActivityIDs)
	if err != nil || skipped != "" {
		return lifecycle.Skipped(skipped), err
	}
	pJob, err := primary.Job(ctx, in.PrimaryJobRef)
	if err != nil {
		return lifecycle.Result{}, classify(pSys, err)
	}
	if err := awaitLostWrite(ctx); err != nil {
		return lifecycle.Result{}, err
	}
	var want []oneserve.JobLine
	for _, line := range pJob.Activities {
		if slices.Contains(confirmed, line.ID) {
			want = append(want, line)
		}
	}
	if len(want) == 0 {
		return lifecycle.Skipped(fmt.Sprintf("activities %v are not on primary job %s in %s", confirmed, in.PrimaryJobRef, pSys)), nil
	}
	held, added, err := completeLines(ctx, l, secondary, in.PrimaryJobRef, in.SecondaryJobRef, want)
	if err != nil {
		return lifecycle.Result{}, err
	}
	activity.GetLogger(ctx).Info("Activities on the linked job", "added", len(added), "confirmed", len(confirmed))
	return lifecycle.Result{Outcome: lifecycle.OutcomeApplied, ActivityIDs: held}, nil
}

// completeLines makes the linked job hold every line of want (primary
// lines; a line on the linked job is found by its client ref, the primary
// activity id). It reads the linked job from the secondary — what a job
// holds is never assumed from the primary — and adds the lines still
// missing in one addActivityByClientRef, looked for again when its answer
// is lost (settled). It returns the primary activity ids of want that the
// linked job holds afterwards and those it added. The caller has waited for
// an earlier attempt's lost write (awaitLostWrite).
func completeLines(ctx context.Context, l *config.Link, secondary *oneserve.Client, primaryJobRef, secondaryJobRef string, want []oneserve.JobLine) (held, added []string, err error) {
	sSys := l.Secondary.System
	sJob, err := secondary.Job(ctx, secondaryJobRef)
	if err != nil {
		return nil, nil, classify(sSys, err)
	}
	var add []oneserve.ActivityByClientRef
	for _, line := range want {
		held = append(held, line.ID)
		if hasLine(sJob, line.ID) {
			continue // created with the job, or added by an earlier attempt
		}
		added = append(added, line.ID)
		add = append(add, oneserve.ActivityByClientRef{
			JobClientRef: primaryJobRef, ClientID: l.Secondary.Client.ID, Code: line.Code, ClientRef: line.ID,
			Description: line.Description, CompletedQuantity: "0", TotalQuantity: line.Quantity,
		})
	}
	if len(add) == 0 {
		return held, nil, nil
	}
	over := sending(ctx, secondary)
	defer over()
	if err := secondary.AddActivitiesByClientRef(ctx, false, add); err != nil {
		look := func(ctx context.Context) (bool, error) {
			sJob, err := secondary.Job(ctx, secondaryJobRef)
			if err != nil {
				return false, err
			}
			for _, a := range add {
				if !hasLine(sJob, a.ClientRef) {
					return false, nil
				}
			}
			return true, nil
		}
		if !settled(ctx, err, look) {
			return nil, nil, classify(sSys, err)
		}
	}
	return held, added, nil
}

// hasLine reports whether job has a line whose client ref is the primary
// activity id.
func hasLine(job *oneserve.Job, activityID string) bool {
	return slices.ContainsFunc(job.Activities, func(s oneserve.JobLine) bool { return s.ClientRef == activityID })
}
