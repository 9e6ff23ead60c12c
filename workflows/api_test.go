package workflows

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/mocks"
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
