package workflows

import (
	"go.temporal.io/sdk/workflow"

	"github.com/o2o-sync/o2o/lifecycle"
)

// linkEventsMetric counts the events links have processed, by type,
// direction and outcome (docs/metrics.md). With the Prometheus naming O2O
// uses, it is exposed as o2o_link_events_total.
const linkEventsMetric = "o2o_link_events"

// recordEventMetric counts one processed event. It goes through the
// workflow's metrics handler, which records nothing while the workflow
// replays, so an event is counted once however often its history is
// replayed. The handler already carries the SDK's workflow tags (namespace,
// task_queue, workflow_type).
func recordEventMetric(ctx workflow.Context, rec lifecycle.EventRecord) {
	workflow.GetMetricsHandler(ctx).WithTags(map[string]string{
		"type":      string(rec.Type),
		"direction": rec.Direction,
		"outcome":   string(rec.Outcome),
	}).Counter(linkEventsMetric).Inc(1)
}
