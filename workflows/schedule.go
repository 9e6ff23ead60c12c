package workflows

import (
	"context"
	"errors"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/o2o-sync/o2o/config"
	"github.com/o2o-sync/o2o/events"
)

// EnsureSchedules makes sure every configured link has its reconciliation
// schedule (ScheduleID), running Reconcile every link.ReconcileEvery with
// the reads spread over 80% of it; an existing schedule is brought up to
// date. Schedules are paused, resumed and triggered from the Web UI like
// any other. Every worker calls it on start; it is idempotent. A schedule
// whose link is no longer configured is left alone (delete it in the UI).
//
// A run never outlasts its interval: it reads nothing after 90% of it
// (ReconcileInput.Within: the links not reached are counted failed, and the
// run fails saying so), Temporal ends it at the interval whatever happens
// (a run with no worker to run it times out), and a run still going when
// the next is due makes that one skip (overlap policy skip): runs never
// pile up.
func EnsureSchedules(ctx context.Context, c client.Client, cfg *config.Config) error {
	sc := c.ScheduleClient()
	for _, l := range cfg.Links {
		every := l.ReconcileEvery.D()
		action := &client.ScheduleWorkflowAction{
			ID:       ScheduleID(l.Name),
			Workflow: ReconcileWorkflowName,
			Args: []any{ReconcileInput{Link: l.Name, Spread: every * 8 / 10, Within: every * 9 / 10,
				HeartbeatTimeout: l.ReconcileHeartbeatTimeout.D()}},
			TaskQueue:                TaskQueue,
			WorkflowExecutionTimeout: every,
			StaticSummary:            fmt.Sprintf("Reconcile link %s: %s ↔ %s", l.Name, l.Primary.System, l.Secondary.System),
		}
		err := ensureSchedule(ctx, sc, client.ScheduleOptions{
			ID: ScheduleID(l.Name), Spec: client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: every}}}, Action: action,
			Overlap: enumspb.SCHEDULE_OVERLAP_POLICY_SKIP,
			Note:    "Created by the O2O worker from the configuration (links[].reconcileEvery).",
		})
		if err != nil {
			return fmt.Errorf("reconciliation schedule of link %s: %w", l.Name, err)
		}
	}
	return nil
}

// ensureSchedule creates a schedule, or brings an existing one's spec and
// action up to date (keeping its state: paused, last result).
func ensureSchedule(ctx context.Context, sc client.ScheduleClient, opts client.ScheduleOptions) error {
	_, err := sc.Create(ctx, opts)
	if !errors.Is(err, temporal.ErrScheduleAlreadyRunning) {
		return err
	}
	return sc.GetHandle(ctx, opts.ID).Update(ctx, client.ScheduleUpdateOptions{
		DoUpdate: func(in client.ScheduleUpdateInput) (*client.ScheduleUpdate, error) {
			s := in.Description.Schedule
			s.Spec, s.Action = &opts.Spec, opts.Action
			return &client.ScheduleUpdate{Schedule: &s}, nil
		},
	})
}

// StartReconcile starts a reconciliation of a link's open links now, or of
// one job when primaryJobRef is set, and returns its run (Get waits for the
// ReconcileResult). One already running for the same scope is joined, not
// doubled: a burst of nudges for one job reads it once. The job ref is
// taken in its canonical form (events.CanonicalJobRef); a text that is not
// a job ref is a *events.JobRefError.
func StartReconcile(ctx context.Context, c client.Client, link, primaryJobRef string) (client.WorkflowRun, error) {
	id := "o2o-reconcile-now:" + link
	summary := "Reconcile link " + link + " now"
	if primaryJobRef != "" {
		ref, err := events.CanonicalJobRef(primaryJobRef)
		if err != nil {
			return nil, err
		}
		primaryJobRef = ref
		id += ":" + primaryJobRef
		summary = fmt.Sprintf("Reconcile job %s of link %s now", primaryJobRef, link)
	}
	return c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: id, TaskQueue: TaskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowExecutionTimeout: time.Hour,
		StaticSummary:            summary,
	}, ReconcileWorkflowName, ReconcileInput{Link: link, PrimaryJobRef: primaryJobRef})
}
