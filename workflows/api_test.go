package workflows

import (
	"context"
	"testing"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/mocks"

	"github.com/o2o-sync/o2o/config"
	"github.com/o2o-sync/o2o/events"
	"github.com/o2o-sync/o2o/lifecycle"
)

func described(t *testing.T, status enumspb.WorkflowExecutionStatus, secondaryJobRef string) *workflowservice.DescribeWorkflowExecutionResponse {
	t.Helper()
	fields := map[string]*commonpb.Payload{}
	if secondaryJobRef != "" {
		p, err := converter.GetDefaultDataConverter().ToPayload(secondaryJobRef)
		require.NoError(t, err)
		fields[AttrSecondaryJobRef.GetName()] = p
	}
	return &workflowservice.DescribeWorkflowExecutionResponse{WorkflowExecutionInfo: &workflowpb.WorkflowExecutionInfo{
		Status:           status,
		SearchAttributes: &commonpb.SearchAttributes{IndexedFields: fields},
	}}
}

func TestLinkedSecondaryJobRefReadsWhatTheLinkRecorded(t *testing.T) {
	ctx := context.Background()
	c := mocks.NewClient(t)
	c.On("DescribeWorkflowExecution", ctx, "LinkedJob:acme-fixit:AC1", "").
		Return(described(t, enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING, "FX000001"), nil).Once()
	c.On("DescribeWorkflowExecution", ctx, "LinkedJob:acme-fixit:AC2", "").
		Return(described(t, enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING, ""), nil).Once()
	c.On("DescribeWorkflowExecution", ctx, "LinkedJob:acme-fixit:AC3", "").
		Return(described(t, enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED, "FX000003"), nil).Once()
	c.On("DescribeWorkflowExecution", ctx, "LinkedJob:acme-fixit:AC4", "").
		Return(nil, serviceerror.NewNotFound("workflow not found")).Once()
	c.On("DescribeWorkflowExecution", ctx, "LinkedJob:acme-fixit:AC5", "").
		Return(nil, serviceerror.NewUnavailable("connection refused")).Once()

	cases := []struct {
		ref, want string
		running   bool
		err       bool
	}{
		{"AC1", "FX000001", true, false},  // linked
		{"AC2", "", true, false},          // still creating its linked job
		{"AC3", "FX000003", false, false}, // closed
		{"AC4", "", false, false},         // never started
		{"AC5", "", false, true},          // Temporal unavailable
	}
	for _, tc := range cases {
		ref, running, err := LinkedSecondaryJobRef(ctx, c, "acme-fixit", tc.ref)
		require.Equal(t, tc.err, err != nil, "%s: %v", tc.ref, err)
		require.Equal(t, tc.want, ref, tc.ref)
		require.Equal(t, tc.running, running, tc.ref)
	}
}

// Every client-side entry to a link takes the job ref in its canonical
// form, and refuses a text that is not a job ref before reaching Temporal
// (the mock fails the test on any call it does not expect) (issue 17).
func TestLinkAPICanonicalJobRefs(t *testing.T) {
	ctx := context.Background()
	c := mocks.NewClient(t)
	l := &config.Link{Name: "acme-fixit"}
	c.On("SignalWithStartWorkflow", ctx, "LinkedJob:acme-fixit:AC000001", SignalEvent, mock.Anything,
		mock.MatchedBy(func(o client.StartWorkflowOptions) bool { return o.ID == "LinkedJob:acme-fixit:AC000001" }),
		WorkflowName, Input{Link: "acme-fixit", PrimaryJobRef: "AC000001"}).Return(nil, nil).Once()
	require.NoError(t, Deliver(ctx, c, l, " ac000001 ", events.Event{}, true))

	c.On("SignalWorkflow", ctx, "LinkedJob:acme-fixit:AC000001", "", SignalEvent, mock.Anything).Return(nil).Once()
	require.NoError(t, Deliver(ctx, c, l, "ac000001", events.Event{}, false))

	// A reconciliation of one job: its run and the link it reads are the
	// canonical ref's.
	c.On("ExecuteWorkflow", ctx, mock.MatchedBy(func(o client.StartWorkflowOptions) bool { return o.ID == "o2o-reconcile-now:acme-fixit:AC000001" }),
		ReconcileWorkflowName, ReconcileInput{Link: "acme-fixit", PrimaryJobRef: "AC000001"}).Return(nil, nil).Once()
	_, err := StartReconcile(ctx, c, "acme-fixit", "\tac000001 ")
	require.NoError(t, err)
	c.On("DescribeWorkflowExecution", ctx, "LinkedJob:acme-fixit:AC000001", "").
		Return(described(t, enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING, "FX000001"), nil).Once()
	refs, err := (&Reconciler{Client: c}).ListOpenLinks(ctx, "acme-fixit", " ac000001")
	require.NoError(t, err)
	require.Equal(t, []LinkRef{{PrimaryJobRef: "AC000001", SecondaryJobRef: "FX000001"}}, refs)

	var re *events.JobRefError
	for _, bad := range []string{"", "AC 1", "AC'1", "AC:1"} {
		require.ErrorAs(t, Deliver(ctx, c, l, bad, events.Event{}, true), &re, "%q", bad)
		_, err := QueryState(ctx, c, "acme-fixit", bad)
		require.ErrorAs(t, err, &re, "%q", bad)
		_, err = Operate(ctx, c, "acme-fixit", bad, lifecycle.ActionUnlink, lifecycle.OperatorRequest{By: "x", Reason: "y"})
		require.ErrorAs(t, err, &re, "%q", bad)
		if bad != "" { // "": every open link of the link
			_, err = StartReconcile(ctx, c, "acme-fixit", bad)
			require.ErrorAs(t, err, &re, "%q", bad)
		}
	}
}
