//go:build integration

package e2e

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/converter"

	"github.com/o2o-sync/o2o/events"
	"github.com/o2o-sync/o2o/lifecycle"
	"github.com/o2o-sync/o2o/workflows"
)

// TestOutageThenRecoveryAppliesEverythingInOrder takes the primary down
// (503) while the secondary reports three changes; they wait, and are
// applied in order once it is back.
func TestOutageThenRecoveryAppliesEverythingInOrder(t *testing.T) {
	s := newStack(t, "RA")
	job := s.createAcmeJob("SITE-001", "CON-001", [2]string{"PLB001", "1"})
	s.assign("acme", job.Activities[0].ID, "7")
	fx := s.settle(job.JobRef, 1).SecondaryJobRef

	s.act("acme", http.MethodPost, "/faults", map[string]any{"op": "*", "status": 503, "count": -1})
	s.act("fixit", http.MethodPost, "/jobs/"+fx+"/status", map[string]string{"status": "Accepted"})
	start := time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)
	appt := s.act("fixit", http.MethodPost, "/jobs/"+fx+"/appointments", map[string]string{"start": start.Format(time.RFC3339), "end": start.Add(time.Hour).Format(time.RFC3339)})
	s.act("fixit", http.MethodPost, "/appointments/"+fmt.Sprint(appt["appointmentId"])+"/complete", map[string]string{})

	// While acme is down the events wait; the link is not blocked for a person.
	time.Sleep(3 * time.Second)
	st, _ := s.linkState("acme-fixit", job.JobRef)
	require.Equal(t, lifecycle.StateLinked, st.State)
	require.Len(t, st.Events, 1)
	require.Equal(t, 3, st.Pending, "three events wait for acme")
	require.Empty(t, s.job("acme", job.JobRef).History)

	do(t, http.MethodDelete, s.simURL+"/acme/sim/faults", nil, nil, nil)
	s.settle(job.JobRef, 4)
	require.Equal(t, []string{"SACC", "APPT", "APCOM"}, historyCodes(s.job("acme", job.JobRef)))
}

// TestRefusalBlocksOneLinkOnlyUntilRetried makes acme refuse (400) one
// link's job event: that link needs attention and its later events wait;
// another job's link keeps flowing; a retry after the fix applies them all.
func TestRefusalBlocksOneLinkOnlyUntilRetried(t *testing.T) {
	s := newStack(t, "RB")
	a := s.createAcmeJob("SITE-001", "CON-001", [2]string{"PLB001", "1"})
	b := s.createAcmeJob("SITE-002", "CON-002", [2]string{"PLB002", "1"})
	s.assign("acme", a.Activities[0].ID, "7")
	fxA := s.settle(a.JobRef, 1).SecondaryJobRef
	s.assign("acme", b.Activities[0].ID, "7")
	fxB := s.settle(b.JobRef, 1).SecondaryJobRef

	s.act("acme", http.MethodPost, "/faults", map[string]any{"op": "addEventByClientRef", "status": 400, "message": "Event code SACC is not active", "count": 1})
	s.act("fixit", http.MethodPost, "/jobs/"+fxA+"/status", map[string]string{"status": "Accepted"})
	st := s.waitStateAttention(a.JobRef)
	require.Contains(t, st.LastError, "Event code SACC is not active", "the target's own message")
	require.Contains(t, st.LastError, "acme")
	s.act("fixit", http.MethodPost, "/jobs/"+fxA+"/status", map[string]string{"status": "Completed"})

	// The other link is unaffected.
	s.act("fixit", http.MethodPost, "/jobs/"+fxB+"/status", map[string]string{"status": "Accepted"})
	s.settle(b.JobRef, 2)
	require.Equal(t, []string{"SACC"}, historyCodes(s.job("acme", b.JobRef)))

	// The blocked link holds both of its events, in order.
	st, _ = s.linkState("acme-fixit", a.JobRef)
	require.Equal(t, lifecycle.StateNeedsAttention, st.State)
	require.Equal(t, 2, st.Pending)
	require.Empty(t, s.job("acme", a.JobRef).History)

	tc := devServer.Client()
	h, err := tc.UpdateWorkflow(context.Background(), clientUpdate(workflows.WorkflowID("acme-fixit", a.JobRef)))
	require.NoError(t, err)
	require.NoError(t, h.Get(context.Background(), nil))
	s.settle(a.JobRef, 3)
	require.Equal(t, []string{"SACC", "SCOMP"}, historyCodes(s.job("acme", a.JobRef)))
}

// TestLongLivedLinkContinuesAsNewAndRemembers sends a link hundreds of
// events (more than one run processes) and checks that it continued as new
// with its state, its queue and its memory of event ids.
func TestLongLivedLinkContinuesAsNewAndRemembers(t *testing.T) {
	s := newStack(t, "RC")
	job := s.createAcmeJob("SITE-001", "CON-001", [2]string{"PLB001", "1"})
	first := s.assign("acme", job.Activities[0].ID, "7")
	fx := s.settle(job.JobRef, 1).SecondaryJobRef

	// The link is paused while the events arrive, so that every one of them
	// is queued before the first is applied: the first run reaches its limit
	// with events still queued, and its continue-as-new must carry them.
	code, out := s.operate(job.JobRef, "pause", map[string]string{"by": "e2e", "reason": "let the events queue"}, true)
	require.Equal(t, http.StatusOK, code, out)

	tc := devServer.Client()
	l := &configLink
	const n = 450
	for i := range n {
		ev := events.Event{ID: fmt.Sprintf("bulk-%04d", i), System: "fixit", Side: events.Secondary, Type: events.JobStatusChanged,
			OccurredAt: time.Now(), JobRef: fx, JobClientRef: job.JobRef, Status: &events.StatusChange{Status: "In Progress"}}
		require.NoError(t, workflows.Deliver(context.Background(), tc, l, job.JobRef, ev, false))
	}
	// A redelivery of the very first event, long after: still a duplicate.
	require.NoError(t, workflows.Deliver(context.Background(), tc, l, job.JobRef, events.Event{ID: first, System: "acme", Side: events.Primary,
		Type: events.ActivityAssigned, OccurredAt: time.Now(), JobRef: job.JobRef, Assignment: &events.Assignment{ActivityID: job.Activities[0].ID, TeamID: "7"}}, true))
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		st, _ := s.linkState("acme-fixit", job.JobRef)
		assert.Equal(c, lifecycle.StatePaused, st.State)
		assert.Equal(c, n+1, st.Pending, "every event waits while paused")
		assert.Len(c, st.Events, 1)
	}, 60*time.Second, 250*time.Millisecond)
	code, out = s.operate(job.JobRef, "resume", map[string]string{"by": "e2e"}, true)
	require.Equal(t, http.StatusOK, code, out)

	var st lifecycle.LinkState
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		st, _ = s.linkState("acme-fixit", job.JobRef)
		assert.Equal(c, n+2, len(st.Events)+st.EventsDropped)
		assert.Zero(c, st.Pending)
	}, 120*time.Second, 500*time.Millisecond)
	require.Equal(t, lifecycle.StateLinked, st.State)
	require.Equal(t, fx, st.SecondaryJobRef, "state carried over")
	last := st.Events[len(st.Events)-1]
	require.Equal(t, first, last.ID)
	require.Equal(t, lifecycle.OutcomeDuplicate, last.Outcome, "dedupe memory carried over")

	runs, err := tc.ListWorkflow(context.Background(), &workflowservice.ListWorkflowExecutionsRequest{
		Namespace: "default", Query: fmt.Sprintf(`WorkflowId=%q`, workflows.WorkflowID("acme-fixit", job.JobRef))})
	require.NoError(t, err)
	continued := 0
	for _, r := range runs.Executions {
		if r.Status == enums.WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW {
			continued++
		}
	}
	require.GreaterOrEqual(t, continued, 2, "%d events need more than two runs", n)
	require.Len(t, s.secondaryJobs(job.JobRef), 1)

	// The first run continued as new with events still queued: its carry
	// holds them.
	id := workflows.WorkflowID("acme-fixit", job.JobRef)
	desc, err := tc.DescribeWorkflowExecution(context.Background(), id, "")
	require.NoError(t, err)
	firstRun := desc.WorkflowExecutionInfo.GetFirstRunId()
	require.NotEmpty(t, firstRun)
	iter := tc.GetWorkflowHistory(context.Background(), id, firstRun, false, enums.HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT)
	var carried *workflows.Input
	for iter.HasNext() {
		ev, err := iter.Next()
		require.NoError(t, err)
		if a := ev.GetWorkflowExecutionContinuedAsNewEventAttributes(); a != nil {
			carried = &workflows.Input{}
			require.NoError(t, converter.GetDefaultDataConverter().FromPayloads(a.GetInput(), carried))
		}
	}
	require.NotNil(t, carried, "the first run %s did not continue as new", firstRun)
	require.NotNil(t, carried.Carry)
	require.NotEmpty(t, carried.Carry.Queue, "events were queued when the first run reached its limit")
	require.Equal(t, lifecycle.StateLinked, carried.Carry.State.State)
	t.Logf("the first run carried %d queued events and %d event ids", len(carried.Carry.Queue), len(carried.Carry.Seen))
	recordRunHistory(t, "continue-as-new-with-queue", id, firstRun)
}
