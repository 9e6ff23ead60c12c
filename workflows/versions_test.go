package workflows_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"

	"github.com/o2o-sync/o2o/activities"
	"github.com/o2o-sync/o2o/config"
	"github.com/o2o-sync/o2o/events"
	"github.com/o2o-sync/o2o/internal/linktest"
	"github.com/o2o-sync/o2o/lifecycle"
	"github.com/o2o-sync/o2o/workflows"
)

// TestAnApprovalArrivingWhileTheVersionIsBeingRaisedIsAppliedAfterIt: the
// primary version exists (and the contractor approves it) before the
// activity raising it has returned; the approval waits behind it and is
// then applied to the secondary's version, once.
func TestAnApprovalArrivingWhileTheVersionIsBeingRaisedIsAppliedAfterIt(t *testing.T) {
	env, acts := linkEnv(t, func(l *config.Link) {
		l.Versions.Enabled = true
		l.Versions.Events.PrimaryToSecondary = config.VersionEvents{Approved: "PVAPP", Rejected: "PVREJ", Cancelled: "PVCAN"}
		l.Versions.Events.SecondaryToPrimary = config.VersionEvents{Approved: "SVAPP", Rejected: "SVREJ", Cancelled: "SVCAN"}
	})
	env.OnActivity(acts.CreateVersion, mock.Anything, mock.Anything).After(time.Minute).
		Return(lifecycle.Result{Outcome: lifecycle.OutcomeApplied, Version: 2}, nil).Once()
	var decisions []activities.DecisionInput
	env.OnActivity(acts.DecideVersion, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.DecisionInput) (lifecycle.Result, error) {
			decisions = append(decisions, in)
			return lifecycle.Applied(), nil
		})

	raised := linktest.Status("v2", events.Secondary, "", linktest.T0.Add(time.Hour))
	raised.Type, raised.Status = events.VersionCreated, nil
	raised.Version = &events.Version{Number: 2, Status: "Pending", PreviousJobRef: "FX000009",
		Changes: []events.LineChange{{Change: "add", ActivityID: "245010", Code: "PLB002", Quantity: "1"}}}
	approved := linktest.Status("ok", events.Primary, "", linktest.T0.Add(2*time.Hour))
	approved.Type, approved.Status = events.VersionStatusChanged, nil
	approved.Version = &events.Version{Number: 2, Status: "Approved", Reason: "agreed"}
	for at, ev := range map[time.Duration]events.Event{0: linktest.Assignment("a0", "137001", "7", linktest.T0), time.Second: raised, 30 * time.Second: approved} {
		env.RegisterDelayedCallback(func() { env.SignalWorkflow(workflows.SignalEvent, ev) }, at)
	}
	var during, after lifecycle.LinkState
	env.RegisterDelayedCallback(stateInto(t, env, &during), 45*time.Second)
	env.RegisterDelayedCallback(stateInto(t, env, &after), 3*time.Minute)
	env.RegisterDelayedCallback(env.CancelWorkflow, 4*time.Minute)
	env.ExecuteWorkflow(workflows.WorkflowName, workflows.Input{Link: linktest.Name, PrimaryJobRef: linktest.PrimaryJobRef})

	require.Equal(t, 2, during.Pending, "the version being raised, and the approval waiting behind it")
	require.Len(t, decisions, 1, "applied once, after the version was raised")
	require.Equal(t, 2, decisions[0].Decision.Number)
	require.Equal(t, events.Secondary, decisions[0].Target)
	require.Equal(t, "PVAPP", decisions[0].EventCode)
	require.False(t, after.VariationPending())
	require.Equal(t, []string{"FX000009"}, after.SecondaryAliases)
}
