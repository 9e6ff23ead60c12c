package main

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/o2o-sync/o2o/activities"
	"github.com/o2o-sync/o2o/internal/platform"
	"github.com/o2o-sync/o2o/workflows"
)

// A target's refusal of a link's write is the link's business (it shows it,
// NeedsAttention): the SDK's "Activity error." line for it is a WARN naming
// the link, not an ERROR (issue 17). What is wrong with O2O or its setup —
// credentials refused, an unknown failure — stays an ERROR.
func TestRefusalsAreLoggedAsWarningsWithTheLink(t *testing.T) {
	for _, c := range []struct {
		name string
		err  error
		want zapcore.Level
	}{
		{"4xx", temporal.NewNonRetryableApplicationError("fixit: 400 site SITE-003 does not exist", activities.ErrTypeRejected, nil), zapcore.WarnLevel},
		{"misaligned", temporal.NewNonRetryableApplicationError("priority Emergency is not mapped", activities.ErrTypeMisaligned, nil), zapcore.WarnLevel},
		{"not found", temporal.NewNonRetryableApplicationError("fixit: job FX1 not found", activities.ErrTypeNotFound, nil), zapcore.WarnLevel},
		{"credentials", temporal.NewNonRetryableApplicationError("fixit: 401", activities.ErrTypeUnauthorized, nil), zapcore.ErrorLevel},
		{"configuration", temporal.NewNonRetryableApplicationError("link gone", activities.ErrTypeConfig, nil), zapcore.ErrorLevel},
		{"unknown", errors.New("boom"), zapcore.ErrorLevel},
	} {
		t.Run(c.name, func(t *testing.T) {
			core, logs := observer.New(zapcore.DebugLevel)
			var suite testsuite.WorkflowTestSuite
			suite.SetLogger(platform.NewTemporalLogger(zap.New(core), refusal))
			env := suite.NewTestWorkflowEnvironment()
			env.RegisterActivityWithOptions(func(context.Context) error { return c.err }, activity.RegisterOptions{Name: "CreateLinkedJob"})
			env.RegisterWorkflowWithOptions(func(ctx workflow.Context) error {
				ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute,
					RetryPolicy: &temporal.RetryPolicy{MaximumAttempts: 1}})
				return workflow.ExecuteActivity(ctx, "CreateLinkedJob").Get(ctx, nil)
			}, workflow.RegisterOptions{Name: "LinkedJob"})
			env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: workflows.WorkflowID("acme-fixit", "AC000002")})
			env.ExecuteWorkflow("LinkedJob")
			require.Error(t, env.GetWorkflowError())

			lines := logs.FilterMessage("Activity error.").All()
			require.Len(t, lines, 1)
			require.Equal(t, c.want, lines[0].Level)
			if c.want == zapcore.WarnLevel {
				require.Equal(t, "acme-fixit", lines[0].ContextMap()["link"])
				require.Equal(t, "AC000002", lines[0].ContextMap()["primaryJobRef"])
			}
		})
	}
}
