package workflows

import (
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/o2o-sync/o2o/activities"
)

// Registry is what a worker and the SDK's test environment both offer.
type Registry interface {
	worker.WorkflowRegistry
	worker.ActivityRegistry
}

// Register registers the LinkedJob workflow and its activities. The worker,
// the workflow tests and the replay tests all register through here, so they
// run what production runs.
func Register(r Registry, acts *activities.Activities) {
	RegisterWorkflow(r)
	r.RegisterActivity(acts)
}

// RegisterWorkflow registers the LinkedJob workflow alone (for a replayer).
func RegisterWorkflow(r worker.WorkflowRegistry) {
	r.RegisterWorkflowWithOptions(LinkedJob, workflow.RegisterOptions{Name: WorkflowName})
}
