package workflows

import (
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/uber-go/tally/v4"
	sdktally "go.temporal.io/sdk/contrib/tally"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/o2o-sync/o2o/events"
	"github.com/o2o-sync/o2o/lifecycle"
)

func TestRecordEventMetricCountsByTypeDirectionAndOutcome(t *testing.T) {
	scope := tally.NewTestScope("", nil)
	var suite testsuite.WorkflowTestSuite
	suite.SetMetricsHandler(sdktally.NewMetricsHandler(scope))
	env := suite.NewTestWorkflowEnvironment()
	wf := func(ctx workflow.Context) error {
		recordEventMetric(ctx, lifecycle.EventRecord{Type: events.JobStatusChanged, Direction: "primaryToSecondary", Outcome: lifecycle.OutcomeApplied})
		recordEventMetric(ctx, lifecycle.EventRecord{Type: events.JobStatusChanged, Direction: "primaryToSecondary", Outcome: lifecycle.OutcomeApplied})
		recordEventMetric(ctx, lifecycle.EventRecord{Type: events.DocumentUploaded, Direction: "secondaryToPrimary", Outcome: lifecycle.OutcomeSkipped})
		return nil
	}
	env.RegisterWorkflowWithOptions(wf, workflow.RegisterOptions{Name: "metricsTest"})
	env.ExecuteWorkflow("metricsTest")
	require.NoError(t, env.GetWorkflowError())

	got := map[string]int64{}
	for _, c := range scope.Snapshot().Counters() {
		if c.Name() != linkEventsMetric {
			continue
		}
		tags := c.Tags()
		got[tags["type"]+"/"+tags["direction"]+"/"+tags["outcome"]] += c.Value()
	}
	require.Equal(t, map[string]int64{
		"JOB_STATUS_CHANGED/primaryToSecondary/applied": 2,
		"DOCUMENT_UPLOADED/secondaryToPrimary/skipped":  1,
	}, got)
}
