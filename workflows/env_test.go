package workflows_test

import (
	"testing"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"

	"github.com/o2o-sync/o2o/activities"
	"github.com/o2o-sync/o2o/config"
	"github.com/o2o-sync/o2o/internal/linktest"
	"github.com/o2o-sync/o2o/lifecycle"
	"github.com/o2o-sync/o2o/workflows"
)

// linkEnv is the SDK's test environment running the test link, its
// configuration changed by tweak, its linked job created by the first
// assignment.
func linkEnv(t *testing.T, tweak func(l *config.Link)) (*testsuite.TestWorkflowEnvironment, *activities.Activities) {
	t.Helper()
	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestWorkflowEnvironment()
	cfg := linktest.Config()
	tweak(cfg.Link(linktest.Name))
	acts, err := activities.New(cfg)
	require.NoError(t, err)
	workflows.Register(env, acts, nil)
	env.OnUpsertTypedSearchAttributes(mock.Anything).Return(nil)
	env.OnActivity(acts.CreateLinkedJob, mock.Anything, mock.Anything).
		Return(lifecycle.Result{SecondaryJobRef: linktest.SecondaryJobRef, ActivityIDs: []string{"137001"}}, nil).Once()
	return env, acts
}

// stateInto returns a callback that queries the link's state into st.
func stateInto(t *testing.T, env *testsuite.TestWorkflowEnvironment, st *lifecycle.LinkState) func() {
	return func() {
		v, err := env.QueryWorkflow(workflows.QueryLinkState)
		require.NoError(t, err)
		require.NoError(t, v.Get(st))
	}
}
