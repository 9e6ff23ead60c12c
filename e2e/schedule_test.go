//go:build integration

package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/o2o-sync/o2o/lifecycle"
	"github.com/o2o-sync/o2o/workflows"
)

// TestScheduledReconciliationChecksEveryLink (issue 17): the link's real
// Temporal Schedule fires a reconciliation of 1, 2 and 60 open links, with
// reconcileEvery compressed to seconds and a heartbeat timeout shorter than
// the pace between two links (the reads are spread over 80% of the
// interval: 2 links in 5 s are 2 s apart, with a 1 s heartbeat timeout; 60
// links in 30 s are 400 ms apart, with 300 ms). Each link's secondary
// status change lost its webhook, so only a reconciliation that really
// reads the link applies it. The run completes with every link checked and
// each lost fact applied once. (Before the fix, a batch waited for each
// link's turn without heartbeating: every attempt timed out and the runs
// said checked: 0, failed: n.)
func TestScheduledReconciliationChecksEveryLink(t *testing.T) {
	for _, tc := range []struct {
		prefix    string
		links     int
		every     string
		heartbeat string
	}{
		{"SA", 1, "5s", "1s"},
		{"SB", 2, "5s", "1s"},
		{"SC", 60, "30s", "300ms"},
	} {
		t.Run(fmt.Sprintf("%d links", tc.links), func(t *testing.T) {
			scheduledReconciliation(t, tc.prefix, tc.links, tc.every, tc.heartbeat)
		})
	}
}

func scheduledReconciliation(t *testing.T, prefix string, n int, every, heartbeat string) {
	// A link of its own (its own schedule, and only this test's links to
	// list), whose schedule does not fire until the links are set up.
	link := fmt.Sprintf("sched-%d", n)
	// A budget that links 60 jobs in a few seconds: the reconciliation,
	// paced, stays far below it anyway.
	s := newStackWith(t, prefix, func(cfg []byte) []byte {
		cfg = bytes.Replace(cfg, []byte("  - name: acme-fixit\n"), []byte("  - name: "+link+"\n"), 1)
		cfg = bytes.Replace(cfg, []byte("limits: { requestsPerSecond: 10, concurrency: 4 }"), []byte("limits: { requestsPerSecond: 100, concurrency: 8 }"), 1)
		return bytes.Replace(cfg, []byte("    apiUser: o2o-api\n\nlinks:"), []byte("    apiUser: o2o-api\n    limits: { requestsPerSecond: 100, concurrency: 8 }\n\nlinks:"), 1)
	})
	c := devServer.Client()
	schedule := c.ScheduleClient().GetHandle(context.Background(), workflows.ScheduleID(link))
	t.Cleanup(func() {
		ctx := context.Background()
		if d, err := schedule.Describe(ctx); err == nil {
			for _, w := range d.Info.RunningWorkflows {
				_ = c.TerminateWorkflow(ctx, w.WorkflowID, "", "test over")
			}
		}
		_ = schedule.Delete(ctx)
	})

	var jobs []simJob
	for range n {
		job := s.createAcmeJob("SITE-001", "CON-001", [2]string{"PLB001", "1"})
		s.assign("acme", job.Activities[0].ID, "7")
		jobs = append(jobs, job)
	}
	var fixit []string
	for _, job := range jobs {
		fixit = append(fixit, s.waitState(link, job.JobRef, lifecycle.StateLinked, 1).SecondaryJobRef)
	}
	// Every fixit webhook from now on is lost: only a read finds the status.
	s.act("fixit", http.MethodPost, "/faults", map[string]any{"op": "deliver", "drop": 1, "seed": 7, "count": -1})
	for _, fx := range fixit {
		s.act("fixit", http.MethodPost, "/jobs/"+fx+"/status", map[string]string{"status": "Accepted"})
	}
	require.Len(t, s.dropped("fixit"), n)

	// The worker restarts with the interval compressed; it updates the
	// schedule, which fires on its own.
	cfg, err := os.ReadFile(s.configPath)
	require.NoError(t, err)
	cfg = bytes.Replace(cfg, []byte("    reconcileEvery: 8760h\n"),
		[]byte("    reconcileEvery: "+every+"\n    reconcileHeartbeatTimeout: "+heartbeat+"\n"), 1)
	require.NoError(t, os.WriteFile(s.configPath, cfg, 0o600))
	s.worker.stop(t)
	ready := time.Now()
	s.worker = s.start("worker")

	// The first run the schedule starts from now on.
	var run client.ScheduleWorkflowExecution
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		d, err := schedule.Describe(context.Background())
		if !assert.NoError(c, err) {
			return
		}
		assert.Equal(c, every, d.Schedule.Spec.Intervals[0].Every.String(), "the worker has updated the schedule")
		for _, a := range d.Info.RecentActions {
			if a.ActualTime.After(ready) && a.StartWorkflowResult != nil {
				run = *a.StartWorkflowResult
				return
			}
		}
		c.Errorf("no run started yet")
	}, 60*time.Second, 200*time.Millisecond)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := workflows.ReconcileRunResult(ctx, c.GetWorkflow(ctx, run.WorkflowID, run.FirstExecutionRunID))
	require.NoError(t, err, "%+v", res)
	require.Equal(t, n, res.Checked, "every link checked: %+v", res)
	require.Zero(t, res.Failed, "%+v", res)
	require.GreaterOrEqual(t, res.Missing, n, "each link's lost status found: %+v", res)

	d, err := c.DescribeWorkflowExecution(ctx, run.WorkflowID, run.FirstExecutionRunID)
	require.NoError(t, err)
	info := d.GetWorkflowExecutionInfo()
	require.Equal(t, enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED, info.GetStatus())
	took := info.GetCloseTime().AsTime().Sub(info.GetStartTime().AsTime())
	t.Logf("scheduled run of %d links took %s (interval %s, heartbeat timeout %s): %s", n, took.Round(10*time.Millisecond), every, heartbeat, res.Summary())

	// Each lost status was applied once, from the reconciliation.
	for _, job := range jobs {
		require.EventuallyWithT(t, func(c *assert.CollectT) {
			assert.Equal(c, []string{"SACC"}, historyCodes(s.job("acme", job.JobRef)), job.JobRef)
		}, 30*time.Second, 200*time.Millisecond)
	}
	if n == 2 {
		recordHistory(t, "reconcile-scheduled-paced", run.WorkflowID)
	}
}
