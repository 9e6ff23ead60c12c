package activities

import (
	"context"
	"crypto/sha256"
	"encoding/base32"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/activity"

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
	pSys, sSys := l.Primary.System, l.Secondary.System
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
	sJob, err := secondary.Job(ctx, in.SecondaryJobRef)
	if err != nil {
		return lifecycle.Result{}, classify(sSys, err)
	}
	var add []oneserve.ActivityByClientRef
	for _, line := range pJob.Activities {
		if !slices.Contains(confirmed, line.ID) {
			continue
		}
		if slices.ContainsFunc(sJob.Activities, func(s oneserve.JobLine) bool { return s.ClientRef == line.ID }) {
			continue // an earlier attempt added it
		}
		add = append(add, oneserve.ActivityByClientRef{
			JobClientRef: in.PrimaryJobRef, ClientID: l.Secondary.Client.ID, Code: line.Code, ClientRef: line.ID,
			Description: line.Description, CompletedQuantity: "0", TotalQuantity: line.Quantity,
		})
	}
	if len(add) > 0 {
		over := sending(ctx, secondary)
		defer over()
		if err := secondary.AddActivitiesByClientRef(ctx, false, add); err != nil {
			look := func(ctx context.Context) (bool, error) {
				sJob, err := secondary.Job(ctx, in.SecondaryJobRef)
				if err != nil {
					return false, err
				}
				for _, a := range add {
					if !slices.ContainsFunc(sJob.Activities, func(s oneserve.JobLine) bool { return s.ClientRef == a.ClientRef }) {
						return false, nil
					}
				}
				return true, nil
			}
			if !settled(ctx, err, look) {
				return lifecycle.Result{}, classify(sSys, err)
			}
		}
	}
	activity.GetLogger(ctx).Info("Activities on the linked job", "added", len(add), "confirmed", len(confirmed))
	return lifecycle.Result{Outcome: lifecycle.OutcomeApplied, ActivityIDs: confirmed}, nil
}
