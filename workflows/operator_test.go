package workflows_test

import (
	"context"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/o2o-sync/o2o/activities"
	"github.com/o2o-sync/o2o/events"
	"github.com/o2o-sync/o2o/lifecycle"
	"github.com/o2o-sync/o2o/workflows"
)

// update sends an operator action at a virtual time and keeps its outcome.
type updateOutcome struct {
	answer   any
	rejected error
	err      error
}

func (s *linkedJobSuite) update(at time.Duration, action string, r lifecycle.OperatorRequest) *updateOutcome {
	out := &updateOutcome{}
	s.env.RegisterDelayedCallback(func() {
		s.env.UpdateWorkflow(action, action+at.String(), &testsuite.TestUpdateCallback{
			OnReject:   func(err error) { out.rejected = err },
			OnAccept:   func() {},
			OnComplete: func(v any, err error) { out.answer, out.err = v, err },
		}, r)
	}, at)
	return out
}

// blockedOnce fails the first job event with a refusal, then succeeds.
func (s *linkedJobSuite) blockedOnce() *[]activities.JobEventInput {
	var calls []activities.JobEventInput
	n := 0
	s.env.OnActivity(s.acts.AddJobEvent, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.JobEventInput) (lifecycle.Result, error) {
			n++
			if n == 1 {
				return lifecycle.Result{}, temporal.NewNonRetryableApplicationError("acme: HTTP 400: event code SACC is not active", activities.ErrTypeRejected, nil)
			}
			calls = append(calls, in)
			return lifecycle.Result{}, nil
		}).Maybe()
	return &calls
}

func (s *linkedJobSuite) TestSkipRecordsWhoAndWhyAndLetsTheRestThrough() {
	s.linked()
	calls := s.blockedOnce()
	s.signal(time.Second, statusEvent("s1", events.Secondary, "Accepted", t0))
	s.signal(2*time.Second, statusEvent("s2", events.Secondary, "In Progress", t0.Add(time.Minute)))
	noReason := s.update(time.Minute, lifecycle.ActionSkip, lifecycle.OperatorRequest{By: "ops"})
	skipped := s.update(2*time.Minute, lifecycle.ActionSkip, lifecycle.OperatorRequest{By: "ops@acme", Reason: "code retired; told the client"})
	var st lifecycle.LinkState
	s.env.RegisterDelayedCallback(func() { st = s.query() }, 3*time.Minute)
	s.run(input, 4*time.Minute)

	s.Require().Error(noReason.rejected)
	s.Contains(noReason.rejected.Error(), "needs a reason")
	s.NoError(skipped.rejected)
	s.Contains(skipped.answer, "skipped event s1")
	s.Equal(lifecycle.StateLinked, st.State)
	s.Require().Len(st.Events, 3)
	s.Equal(lifecycle.OutcomeFailed, st.Events[1].Outcome, "it never reached acme")
	s.Equal("failed: acme: HTTP 400: event code SACC is not active; skipped by ops@acme: code retired; told the client", st.Events[1].Detail)
	s.Equal(lifecycle.OutcomeApplied, st.Events[2].Outcome)
	s.Require().Len(*calls, 1)
	s.Equal("s2", (*calls)[0].Key)
	s.Require().Len(st.OperatorLog, 1, "refused updates are not logged: the caller was told")
	s.Equal("skip", st.OperatorLog[0].Action)
}

func (s *linkedJobSuite) TestPauseQueuesEventsUntilResume() {
	s.linked()
	calls := s.jobEvents()
	pause := s.update(time.Second, lifecycle.ActionPause, lifecycle.OperatorRequest{By: "ops", Reason: "client asked"})
	s.signal(2*time.Second, statusEvent("s1", events.Secondary, "Accepted", t0))
	var paused lifecycle.LinkState
	s.env.RegisterDelayedCallback(func() { paused = s.query() }, time.Minute)
	again := s.update(2*time.Minute, lifecycle.ActionPause, lifecycle.OperatorRequest{By: "ops"})
	resume := s.update(3*time.Minute, lifecycle.ActionResume, lifecycle.OperatorRequest{By: "ops"})
	var resumed lifecycle.LinkState
	s.env.RegisterDelayedCallback(func() { resumed = s.query() }, 4*time.Minute)
	s.run(input, 5*time.Minute)

	s.NoError(pause.rejected)
	s.Equal(lifecycle.StatePaused, paused.State)
	s.Equal(1, paused.Pending, "the event waits")
	s.Require().Error(again.rejected)
	s.Contains(again.rejected.Error(), "already paused")
	s.NoError(resume.rejected)
	s.Equal(lifecycle.StateLinked, resumed.State)
	s.Zero(resumed.Pending)
	s.Len(*calls, 1)
}

func (s *linkedJobSuite) TestUnlinkClosesAndKeepsBothJobs() {
	s.linked()
	s.jobEvents()
	unlink := s.update(time.Minute, lifecycle.ActionUnlink, lifecycle.OperatorRequest{By: "ops", Reason: "handled by phone"})
	s.env.ExecuteWorkflow(workflows.WorkflowName, input)

	s.Require().True(s.env.IsWorkflowCompleted())
	s.NoError(s.env.GetWorkflowError())
	s.NoError(unlink.rejected)
	st := s.query()
	s.Equal(lifecycle.StateClosed, st.State)
	s.Equal("unlinked by ops: handled by phone", st.ClosingReason)
	s.Equal("FX000001", st.SecondaryJobRef, "the linked job is kept")
}

func (s *linkedJobSuite) TestOperatorSignalFromTheWebUIIsAppliedOrRefusedOnRecord() {
	s.linked()
	s.jobEvents()
	s.env.RegisterDelayedCallback(func() {
		s.env.SignalWorkflow(workflows.SignalOperator, lifecycle.OperatorRequest{Action: "resume", By: "ui-user"})
	}, time.Minute)
	s.env.RegisterDelayedCallback(func() {
		s.env.SignalWorkflow(workflows.SignalOperator, lifecycle.OperatorRequest{Action: "pause", By: "ui-user", Reason: "checking"})
	}, 2*time.Minute)
	var st lifecycle.LinkState
	s.env.RegisterDelayedCallback(func() { st = s.query() }, 3*time.Minute)
	s.run(input, 4*time.Minute)

	s.Equal(lifecycle.StatePaused, st.State)
	s.Require().Len(st.OperatorLog, 2)
	s.Equal("resume", st.OperatorLog[0].Action)
	s.Contains(st.OperatorLog[0].Refused, "nothing to resume")
	s.Equal("pause", st.OperatorLog[1].Action)
	s.Empty(st.OperatorLog[1].Refused)
}
