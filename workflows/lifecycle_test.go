package workflows_test

import (
	"context"
	"errors"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/o2o-sync/o2o/activities"
	"github.com/o2o-sync/o2o/events"
	"github.com/o2o-sync/o2o/lifecycle"
	"github.com/o2o-sync/o2o/workflows"
)

// TestPauseWhileRetrying: a link blocks on s1; the operator retries, pauses
// the link while the retried call is still running, the call succeeds, the
// operator resumes. The link must be Linked with no error, s1 applied and s2
// applied next (before the state machine, it went back to NeedsAttention
// with s1's stale error and a skip recorded s2, never tried, as failed).
func (s *linkedJobSuite) TestPauseWhileRetrying() {
	s.linked()
	var keys []string
	attempt := 0
	s.env.OnActivity(s.acts.AddJobEvent, mock.Anything, mock.Anything).
		AfterFn(func() time.Duration {
			if attempt == 1 {
				return 2 * time.Minute // the retried call is slow: the operator pauses meanwhile
			}
			return 0
		}).
		Return(func(_ context.Context, in activities.JobEventInput) (lifecycle.Result, error) {
			attempt++
			if attempt == 1 {
				return lifecycle.Result{}, temporal.NewNonRetryableApplicationError("acme: HTTP 400: event code SACC is not active", activities.ErrTypeRejected, nil)
			}
			keys = append(keys, in.Key)
			return lifecycle.Applied(), nil
		})
	s.signal(time.Second, statusEvent("s1", events.Secondary, "Accepted", t0))
	s.signal(2*time.Second, statusEvent("s2", events.Secondary, "In Progress", t0.Add(time.Minute)))
	var blocked, paused, resumed lifecycle.LinkState
	s.env.RegisterDelayedCallback(func() { blocked = s.query() }, 30*time.Second)
	retry := s.update(time.Minute, lifecycle.ActionRetry, lifecycle.OperatorRequest{By: "ops"})
	pause := s.update(90*time.Second, lifecycle.ActionPause, lifecycle.OperatorRequest{By: "ops"})
	skipDuringRetry := s.update(100*time.Second, lifecycle.ActionSkip, lifecycle.OperatorRequest{By: "ops", Reason: "impatient"})
	s.env.RegisterDelayedCallback(func() { paused = s.query() }, 4*time.Minute)
	resume := s.update(5*time.Minute, lifecycle.ActionResume, lifecycle.OperatorRequest{By: "ops"})
	s.env.RegisterDelayedCallback(func() { resumed = s.query() }, 6*time.Minute)
	s.run(input, 7*time.Minute)

	s.Equal(lifecycle.StateNeedsAttention, blocked.State)
	s.Contains(blocked.LastError, "SACC is not active")
	for _, u := range []*updateOutcome{retry, pause, resume} {
		s.NoError(u.rejected)
	}
	s.Require().Error(skipDuringRetry.rejected, "an event being retried cannot be skipped")
	s.Contains(skipDuringRetry.rejected.Error(), "being retried")

	s.Equal(lifecycle.StatePaused, paused.State)
	s.Equal(lifecycle.StateLinked, paused.PausedFrom, "the retried event went through while paused")
	s.Empty(paused.LastError)
	s.Equal(1, paused.Pending, "s2 waits for resume")

	s.Equal(lifecycle.StateLinked, resumed.State)
	s.Empty(resumed.LastError)
	s.Zero(resumed.Pending)
	s.Require().Len(resumed.Events, 3)
	s.Equal("s1", resumed.Events[1].ID)
	s.Equal(lifecycle.OutcomeApplied, resumed.Events[1].Outcome)
	s.Equal("s2", resumed.Events[2].ID)
	s.Equal(lifecycle.OutcomeApplied, resumed.Events[2].Outcome)
	s.Equal([]string{"s1", "s2"}, keys, "s1 once after its retry, then s2")
}

// An event delivered in the same workflow task as an unlink is recorded in
// the final state: not lost, not applied.
func (s *linkedJobSuite) TestEventDeliveredWithTheUnlinkIsRecordedNotLost() {
	s.linked()
	calls := s.jobEvents()
	s.env.RegisterDelayedCallback(func() {
		// Delivered without a workflow task of its own: the unlink's task takes both.
		s.env.SignalWorkflowSkippingWorkflowTask(workflows.SignalEvent, statusEvent("s1", events.Secondary, "Accepted", t0))
		s.env.UpdateWorkflow(lifecycle.ActionUnlink, "unlink", noopUpdate(), lifecycle.OperatorRequest{By: "ops", Reason: "handled by phone"})
	}, time.Minute)
	s.env.ExecuteWorkflow(workflows.WorkflowName, input)

	s.Require().True(s.env.IsWorkflowCompleted())
	s.NoError(s.env.GetWorkflowError())
	st := s.query()
	s.Equal(lifecycle.StateClosed, st.State)
	s.Empty(*calls, "nothing is applied once the link is unlinked")
	s.Equal(1, countRecords(st, "s1"), "s1 is recorded exactly once")
	s.Equal(lifecycle.OutcomeSkipped, st.Events[len(st.Events)-1].Outcome)
}

// An event delivered while the last event of a run is being applied, and not
// yet taken in when the run continues as new, travels to the next run: not
// lost, and not applied by this run.
func (s *linkedJobSuite) TestEventNotYetTakenInTravelsWithContinueAsNew() {
	s.linked()
	var keys []string
	s.env.OnActivity(s.acts.AddJobEvent, mock.Anything, mock.Anything).After(time.Minute).Return(
		func(_ context.Context, in activities.JobEventInput) (lifecycle.Result, error) {
			keys = append(keys, in.Key)
			return lifecycle.Applied(), nil
		})
	in := input
	in.ContinueAsNewAfter = 2 // the assignment, then s1
	s.signal(time.Second, statusEvent("s1", events.Secondary, "Accepted", t0))
	s.signal(30*time.Second, statusEvent("s2", events.Secondary, "In Progress", t0.Add(time.Minute)))
	s.env.ExecuteWorkflow(workflows.WorkflowName, in)

	var can *workflow.ContinueAsNewError
	s.Require().True(errors.As(s.env.GetWorkflowError(), &can), "want continue-as-new, got %v", s.env.GetWorkflowError())
	var next workflows.Input
	s.Require().NoError(converter.GetDefaultDataConverter().FromPayloads(can.Input, &next))
	s.Equal([]string{"s1"}, keys, "s2 is not applied by this run")
	s.Require().Len(next.Carry.Queue, 1, "s2 travels to the next run")
	s.Equal("s2", next.Carry.Queue[0].ID)
	s.Equal([]string{"msg_a", "s1"}, next.Carry.Seen)
}

// An event delivered in the same workflow task as the end of the grace
// period is applied, not treated as late: a reopening that races the close
// keeps the link open.
func (s *linkedJobSuite) TestEventArrivingAsTheGracePeriodEndsIsNotLost() {
	s.endedOnBothSides()
	var closesAt time.Time
	s.env.RegisterDelayedCallback(func() {
		st := s.query()
		s.Require().NotNil(st.ClosesAt)
		closesAt = *st.ClosesAt
		// Delivered without a workflow task of its own: the timer's task takes both.
		s.env.RegisterDelayedCallback(func() {
			s.env.SignalWorkflowSkippingWorkflowTask(workflows.SignalEvent, statusEvent("s-reopen", events.Secondary, "In Progress", t0.Add(time.Hour)))
		}, closesAt.Sub(s.env.Now())-time.Second)
	}, time.Minute)
	var st lifecycle.LinkState
	s.env.RegisterDelayedCallback(func() { st = s.query() }, 200*time.Hour)
	s.run(input, 201*time.Hour)

	s.Equal(1, countRecords(st, "s-reopen"))
	s.Equal(lifecycle.StateLinked, st.State, "reopened: the link stays open")
}

func countRecords(st lifecycle.LinkState, id string) int {
	n := 0
	for _, r := range st.Events {
		if r.ID == id {
			n++
		}
	}
	return n
}

func noopUpdate() *testsuite.TestUpdateCallback {
	return &testsuite.TestUpdateCallback{OnReject: func(error) {}, OnAccept: func() {}, OnComplete: func(any, error) {}}
}
