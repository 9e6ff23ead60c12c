package workflows_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"

	"github.com/o2o-sync/o2o/activities"
	"github.com/o2o-sync/o2o/config"
	"github.com/o2o-sync/o2o/events"
	"github.com/o2o-sync/o2o/internal/linktest"
	"github.com/o2o-sync/o2o/lifecycle"
	"github.com/o2o-sync/o2o/workflows"
)

// TestAHeldDocumentIsCopiedWhenAnOperatorReleasesIt runs the workflow in the
// SDK's test environment: a secondary document on a link that requires
// approval is held (no copy), the release update copies it once.
func TestAHeldDocumentIsCopiedWhenAnOperatorReleasesIt(t *testing.T) {
	env, acts := linkEnv(t, func(l *config.Link) { l.DocumentApproval.SecondaryToPrimary = "required" })
	var copies []activities.CopyDocumentInput
	env.OnActivity(acts.CopyDocument, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.CopyDocumentInput) (lifecycle.Result, error) {
			copies = append(copies, in)
			return lifecycle.Result{Outcome: lifecycle.OutcomeApplied, Size: 10, SHA256: "ab"}, nil
		})

	doc := linktest.Status("up", events.Secondary, "", linktest.T0)
	doc.Type, doc.Status = events.DocumentUploaded, nil
	doc.Document = &events.Document{DocumentID: "D7", FileName: "after.jpg", Category: "Site Photos"}
	signal := func(at time.Duration, ev events.Event) {
		env.RegisterDelayedCallback(func() { env.SignalWorkflow(workflows.SignalEvent, ev) }, at)
	}
	signal(0, linktest.Assignment("a0", "137001", "7", linktest.T0))
	signal(time.Second, doc)
	var held, after lifecycle.LinkState
	env.RegisterDelayedCallback(stateInto(t, env, &held), time.Minute)
	var refused error
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(lifecycle.ActionRelease, "r0", &testsuite.TestUpdateCallback{
			OnReject: func(err error) { refused = err }, OnAccept: func() {}, OnComplete: func(any, error) {},
		}, lifecycle.OperatorRequest{By: "ops", DocumentID: "D7"})
		env.UpdateWorkflow(lifecycle.ActionRelease, "r1", &testsuite.TestUpdateCallback{
			OnReject: func(error) {}, OnAccept: func() {}, OnComplete: func(any, error) {},
		}, lifecycle.OperatorRequest{By: "ops", DocumentID: "D7", Reason: "approved by phone"})
	}, 2*time.Minute)
	env.RegisterDelayedCallback(stateInto(t, env, &after), 3*time.Minute)
	env.RegisterDelayedCallback(env.CancelWorkflow, 4*time.Minute)
	env.ExecuteWorkflow(workflows.WorkflowName, workflows.Input{Link: linktest.Name, PrimaryJobRef: linktest.PrimaryJobRef})

	require.Len(t, held.HeldDocuments, 1)
	require.Equal(t, "D7", held.HeldDocuments[0].DocumentID)
	require.ErrorContains(t, refused, "needs a reason")
	require.Len(t, copies, 1, "copied once, on release")
	require.Equal(t, "D7", copies[0].Document.DocumentID)
	require.Empty(t, after.HeldDocuments)
	require.Equal(t, "release", after.OperatorLog[len(after.OperatorLog)-1].Action)
}
