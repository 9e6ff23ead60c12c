package workflows_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"github.com/stretchr/testify/suite"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/o2o-sync/o2o/activities"
	"github.com/o2o-sync/o2o/events"
	"github.com/o2o-sync/o2o/internal/linktest"
	"github.com/o2o-sync/o2o/lifecycle"
	"github.com/o2o-sync/o2o/workflows"
)

type linkedJobSuite struct {
	suite.Suite
	testsuite.WorkflowTestSuite
	env  *testsuite.TestWorkflowEnvironment
	acts *activities.Activities
}

func TestLinkedJob(t *testing.T) { suite.Run(t, new(linkedJobSuite)) }

func (s *linkedJobSuite) SetupTest() {
	var err error
	s.acts, err = activities.New(linktest.Config())
	s.Require().NoError(err)
	s.env = s.NewTestWorkflowEnvironment()
	workflows.Register(s.env, s.acts, nil)
	s.env.OnUpsertTypedSearchAttributes(mock.Anything).Return(nil)
}

func (s *linkedJobSuite) AfterTest(_, _ string) { s.env.AssertExpectations(s.T()) }

func assigned(id, activityID, team string) events.Event {
	return linktest.Assignment(id, activityID, team, t0)
}

func (s *linkedJobSuite) signal(at time.Duration, ev events.Event) {
	s.env.RegisterDelayedCallback(func() { s.env.SignalWorkflow(workflows.SignalEvent, ev) }, at)
}

func (s *linkedJobSuite) query() lifecycle.LinkState {
	v, err := s.env.QueryWorkflow(workflows.QueryLinkState)
	s.Require().NoError(err)
	var st lifecycle.LinkState
	s.Require().NoError(v.Get(&st))
	return st
}

// run executes the workflow until end, then cancels it: a link never ends on its own.
func (s *linkedJobSuite) run(in workflows.Input, end time.Duration) {
	s.env.RegisterDelayedCallback(func() { s.env.CancelWorkflow() }, end)
	s.env.ExecuteWorkflow(workflows.WorkflowName, in)
	s.Require().True(s.env.IsWorkflowCompleted())
}

var input = workflows.Input{Link: "acme-fixit", PrimaryJobRef: "AC000001"}

func (s *linkedJobSuite) TestCreatesLinkedJobOnceAndAnswersQueryBeforeAndAfter() {
	s.env.OnActivity(s.acts.CreateLinkedJob, mock.Anything, activities.CreateJobInput{
		Link: "acme-fixit", PrimaryJobRef: "AC000001", ActivityIDs: []string{"137001"},
	}).Return(lifecycle.Result{SecondaryJobRef: "FX000001", ActivityIDs: []string{"137001", "137002"}}, nil).Once()

	var before, after lifecycle.LinkState
	s.env.RegisterDelayedCallback(func() { before = s.query() }, time.Second)
	s.signal(2*time.Second, assigned("msg_1", "137001", "7"))
	s.env.RegisterDelayedCallback(func() { after = s.query() }, 3*time.Second)
	s.run(input, time.Minute)

	s.Equal(lifecycle.StateLinking, before.State)
	s.Empty(before.SecondaryJobRef)
	s.Empty(before.Events)
	s.Equal("acme-fixit", before.Link)
	s.Equal("AC000001", before.PrimaryJobRef)

	s.Equal(lifecycle.StateLinked, after.State)
	s.Equal("FX000001", after.SecondaryJobRef)
	s.Equal([]string{"137001", "137002"}, after.LinkedActivities)
	s.Require().Len(after.Events, 1)
	s.Equal(lifecycle.OutcomeApplied, after.Events[0].Outcome)
	s.Equal("primaryToSecondary", after.Events[0].Direction)
	s.Contains(after.Events[0].Detail, "FX000001")
}

func (s *linkedJobSuite) TestRetriesAFailedCreateWithoutASecondJob() {
	calls := 0
	s.env.OnActivity(s.acts.CreateLinkedJob, mock.Anything, mock.Anything).Return(
		func(_ context.Context, _ activities.CreateJobInput) (lifecycle.Result, error) {
			calls++
			if calls < 3 {
				return lifecycle.Result{}, temporal.NewApplicationError("fixit: HTTP 503", activities.ErrTypeUnavailable)
			}
			return lifecycle.Result{SecondaryJobRef: "FX000001", ActivityIDs: []string{"137001"}, Existed: true}, nil
		})
	var st lifecycle.LinkState
	s.signal(0, assigned("msg_1", "137001", "7"))
	s.env.RegisterDelayedCallback(func() { st = s.query() }, 10*time.Minute)
	s.run(input, 11*time.Minute)

	s.Equal(3, calls, "transient failures are retried by Temporal")
	s.Equal(lifecycle.StateLinked, st.State)
	s.Equal("FX000001", st.SecondaryJobRef)
	s.Require().Len(st.Events, 1, "one event, applied once")
	s.Contains(st.Events[0].Detail, "earlier attempt")
}

func (s *linkedJobSuite) TestPermanentFailureNeedsAttentionUntilRetried() {
	calls := 0
	s.env.OnActivity(s.acts.CreateLinkedJob, mock.Anything, mock.Anything).Return(
		func(_ context.Context, _ activities.CreateJobInput) (lifecycle.Result, error) {
			calls++
			if calls == 1 {
				return lifecycle.Result{}, temporal.NewNonRetryableApplicationError(
					"site SITE-003 of primary job AC000001 does not exist in fixit", activities.ErrTypeMisaligned, nil)
			}
			return lifecycle.Result{SecondaryJobRef: "FX000002", ActivityIDs: []string{"137001"}}, nil
		})
	var blocked, resumed lifecycle.LinkState
	var rejected error
	s.signal(0, assigned("msg_1", "137001", "7"))
	s.env.RegisterDelayedCallback(func() { blocked = s.query() }, time.Minute)
	s.env.RegisterDelayedCallback(func() {
		s.env.UpdateWorkflow(lifecycle.ActionRetry, "u1", &testsuite.TestUpdateCallback{
			OnReject: func(err error) { rejected = err },
			OnAccept: func() {}, OnComplete: func(any, error) {},
		}, lifecycle.OperatorRequest{By: "ops@example"})
	}, 2*time.Minute)
	s.env.RegisterDelayedCallback(func() { resumed = s.query() }, 3*time.Minute)
	s.run(input, 4*time.Minute)

	s.Equal(lifecycle.StateNeedsAttention, blocked.State)
	s.Contains(blocked.LastError, "SITE-003")
	s.Empty(blocked.Events, "the blocked event is not recorded until it is resolved")
	s.Equal(1, blocked.Pending)
	s.NoError(rejected)
	s.Equal(lifecycle.StateLinked, resumed.State)
	s.Empty(resumed.LastError)
	s.Equal("FX000002", resumed.SecondaryJobRef)
	s.Equal(2, calls)
}

func (s *linkedJobSuite) TestRetryIsRejectedWhenNothingIsBlocked() {
	var rejected error
	s.env.RegisterDelayedCallback(func() {
		s.env.UpdateWorkflow(lifecycle.ActionRetry, "u1", &testsuite.TestUpdateCallback{
			OnReject: func(err error) { rejected = err }, OnAccept: func() {}, OnComplete: func(any, error) {},
		}, lifecycle.OperatorRequest{By: "ops"})
	}, time.Second)
	s.run(input, time.Minute)
	s.Require().Error(rejected)
	s.Contains(rejected.Error(), "nothing to retry")
}

func (s *linkedJobSuite) TestDuplicatesAndOtherTeamsAreRecordedNotApplied() {
	s.env.OnActivity(s.acts.CreateLinkedJob, mock.Anything, mock.Anything).
		Return(lifecycle.Result{SecondaryJobRef: "FX000001", ActivityIDs: []string{"137001"}}, nil).Once()
	s.signal(0, assigned("msg_1", "137001", "7"))
	s.signal(time.Second, assigned("msg_1", "137001", "7"))   // redelivery
	s.signal(2*time.Second, assigned("msg_2", "137001", "7")) // the same fact in a new event
	s.signal(3*time.Second, assigned("msg_3", "137009", "8")) // another team
	var st lifecycle.LinkState
	s.env.RegisterDelayedCallback(func() { st = s.query() }, time.Minute)
	s.run(input, 2*time.Minute)

	s.Require().Len(st.Events, 4)
	outcomes := []lifecycle.Outcome{st.Events[0].Outcome, st.Events[1].Outcome, st.Events[2].Outcome, st.Events[3].Outcome}
	s.Equal([]lifecycle.Outcome{lifecycle.OutcomeApplied, lifecycle.OutcomeDuplicate, lifecycle.OutcomeDuplicate, lifecycle.OutcomeSkipped}, outcomes)
	s.Contains(st.Events[1].Detail, "redelivery")
	s.Contains(st.Events[2].Detail, "already known")
	s.Contains(st.Events[3].Detail, "not to the link's team")
}

func (s *linkedJobSuite) TestEventsBeforeTheLinkedJobWaitForIt() {
	s.env.OnActivity(s.acts.CreateLinkedJob, mock.Anything, mock.Anything).
		Return(lifecycle.Result{SecondaryJobRef: "FX000001", ActivityIDs: []string{"137001"}}, nil).Once()
	status := events.Event{ID: "msg_s", System: "acme", Side: events.Primary, Type: events.JobStatusChanged,
		JobRef: "AC000001", Status: &events.StatusChange{Status: "On Hold"}}
	var early, late lifecycle.LinkState
	s.signal(0, status)
	s.env.RegisterDelayedCallback(func() { early = s.query() }, time.Second)
	s.signal(2*time.Second, assigned("msg_1", "137001", "7"))
	s.env.RegisterDelayedCallback(func() { late = s.query() }, time.Minute)
	s.run(input, 2*time.Minute)

	s.Empty(early.Events)
	s.Equal(1, early.Pending, "the status change waits for the linked job")
	s.Require().Len(late.Events, 2)
	s.Equal("msg_1", late.Events[0].ID, "the assignment creates the job first")
	s.Equal("msg_s", late.Events[1].ID)
	s.Equal(0, late.Pending)
}

func (s *linkedJobSuite) TestContinuesAsNewKeepingStateAndDedupeMemory() {
	s.env.OnActivity(s.acts.CreateLinkedJob, mock.Anything, mock.Anything).
		Return(lifecycle.Result{SecondaryJobRef: "FX000001", ActivityIDs: []string{"137001"}}, nil).Once()
	in := input
	in.ContinueAsNewAfter = 2
	// All three arrive before the run has processed any.
	s.signal(0, assigned("msg_1", "137001", "7"))
	s.signal(0, assigned("msg_2", "137001", "7"))
	s.signal(0, assigned("msg_3", "137002", "8"))
	s.env.ExecuteWorkflow(workflows.WorkflowName, in)

	err := s.env.GetWorkflowError()
	s.Require().Error(err)
	var can *workflow.ContinueAsNewError
	s.Require().True(errors.As(err, &can), "want continue-as-new, got %v", err)
	var next workflows.Input
	s.Require().NoError(converter.GetDefaultDataConverter().FromPayloads(can.Input, &next))
	s.Require().NotNil(next.Carry)
	s.Equal("FX000001", next.Carry.State.SecondaryJobRef)
	s.Equal(lifecycle.StateLinked, next.Carry.State.State)
	s.Len(next.Carry.State.Events, 2)
	s.Equal([]string{"msg_1", "msg_2"}, next.Carry.Seen)
	s.Require().Len(next.Carry.Queue, 1, "the unprocessed event travels with the state")
	s.Equal("msg_3", next.Carry.Queue[0].ID)
}

func TestWorkflowIDRoundTrip(t *testing.T) {
	id := workflows.WorkflowID("acme-fixit", "AC:0001")
	require.Equal(t, "LinkedJob:acme-fixit:AC:0001", id)
	link, ref, ok := workflows.ParseWorkflowID(id)
	require.True(t, ok)
	require.Equal(t, "acme-fixit", link)
	require.Equal(t, "AC:0001", ref)
	_, _, ok = workflows.ParseWorkflowID("Other:x:y")
	require.False(t, ok)
}

// A workflow id is only ever built from the canonical job ref: the same
// job typed in lower case or padded names the same link (issue 17).
func TestWorkflowIDHoldsTheCanonicalJobRef(t *testing.T) {
	for _, ref := range []string{"AC000005", "ac000005", " Ac000005\t"} {
		require.Equal(t, "LinkedJob:acme-fixit:AC000005", workflows.WorkflowID("acme-fixit", ref))
	}
}
