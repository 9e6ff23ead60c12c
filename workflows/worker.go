package workflows

import (
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/o2o-sync/o2o/activities"
)

// Registry is what a worker and the SDK's test environment both offer.
type Registry interface {
	worker.WorkflowRegistry
	worker.ActivityRegistry
}

// Register registers O2O's workflows (LinkedJob, Reconcile, Poll) and their
// activities. The worker and the workflow tests register through here, so
// they run what production runs. tc is the process's Temporal client, which
// the reconciliation's activities use.
func Register(r Registry, acts *activities.Activities, tc client.Client) {
	RegisterWorkflows(r)
	r.RegisterActivity(acts)
	r.RegisterActivity(&Reconciler{Client: tc, Acts: acts})
	r.RegisterActivity(&Poller{Client: tc, Acts: acts})
}

// RegisterWorkflows registers the workflows alone (for a replayer).
func RegisterWorkflows(r worker.WorkflowRegistry) {
	r.RegisterWorkflowWithOptions(LinkedJob, workflow.RegisterOptions{Name: WorkflowName})
	r.RegisterWorkflowWithOptions(Reconcile, workflow.RegisterOptions{Name: ReconcileWorkflowName})
	r.RegisterWorkflowWithOptions(Poll, workflow.RegisterOptions{Name: PollWorkflowName})
}
