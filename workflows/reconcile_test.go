package workflows_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/o2o-sync/o2o/activities"
	"github.com/o2o-sync/o2o/internal/linktest"
	"github.com/o2o-sync/o2o/workflows"
)

// TestReconcileReadsEveryOpenLinkInBatchesAndGoesOnPastFailures: 120 open
// links are reconciled in three batches spread over the interval; a batch
// whose activity fails for good is counted and named, the others count.
func TestReconcileReadsEveryOpenLinkInBatchesAndGoesOnPastFailures(t *testing.T) {
	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestWorkflowEnvironment()
	acts, err := activities.New(linktest.Config())
	require.NoError(t, err)
	workflows.Register(env, acts, nil)
	rec := &workflows.Reconciler{}

	var refs []workflows.LinkRef
	for i := range 120 {
		refs = append(refs, workflows.LinkRef{PrimaryJobRef: fmt.Sprintf("AC%06d", i), SecondaryJobRef: fmt.Sprintf("FX%06d", i)})
	}
	env.OnActivity(rec.ListOpenLinks, mock.Anything, "acme-fixit", "").Return(refs, nil).Once()
	var batches []workflows.ReconcileBatchInput
	env.OnActivity(rec.ReconcileBatch, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in workflows.ReconcileBatchInput) (workflows.ReconcileResult, error) {
			batches = append(batches, in)
			if in.Links[0].PrimaryJobRef == "AC000050" {
				return workflows.ReconcileResult{}, temporal.NewNonRetryableApplicationError("temporal unreachable", "Test", nil)
			}
			return workflows.ReconcileResult{Checked: len(in.Links), Found: 5 * len(in.Links), Missing: 2, Failed: 1,
				Failures: []string{in.Links[0].PrimaryJobRef + ": acme: HTTP 503"}}, nil
		})
	env.ExecuteWorkflow(workflows.ReconcileWorkflowName, workflows.ReconcileInput{Link: "acme-fixit", Spread: 12 * time.Minute})
	require.NoError(t, env.GetWorkflowError())
	var res workflows.ReconcileResult
	require.NoError(t, env.GetWorkflowResult(&res))

	require.Len(t, batches, 3, "120 links, 50 a batch")
	require.Len(t, batches[0].Links, 50)
	require.Len(t, batches[2].Links, 20)
	require.Equal(t, 4*time.Minute, batches[0].Spread, "the interval's spread shared among the batches")
	require.Equal(t, 50+20, res.Checked)
	require.Equal(t, 5*70, res.Found)
	require.Equal(t, 4, res.Missing)
	require.Equal(t, 1+50+1, res.Failed, "a failed link per good batch, and the whole failed batch")
	require.Len(t, res.Failures, 3)
	require.Contains(t, res.Failures[1], "links 51–100: temporal unreachable")
	require.Contains(t, res.Summary(), "70 checked")
}
