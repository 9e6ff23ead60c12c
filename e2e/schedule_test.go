//go:build integration

package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
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
		{"QA", 1, "5s", "1s"},
		{"QB", 2, "5s", "1s"},
		{"QC", 60, "30s", "300ms"},
	} {
		t.Run(fmt.Sprintf("%d links", tc.links), func(t *testing.T) {
			scheduledReconciliation(t, tc.prefix, tc.links, tc.every, tc.heartbeat)
		})
	}
}

// scheduled is a stack whose link (of its own: its own schedule, and only
// this test's links to list) has n open links, each with a status change
// whose webhook was lost, and whose schedule has not fired yet.
type scheduled struct {
	*stack
	link     string
	jobs     []simJob
	schedule client.ScheduleHandle
}

func newScheduled(t *testing.T, prefix, link string, n int) *scheduled {
	// A budget that links 60 jobs in a few seconds: the reconciliation,
	// paced, stays far below it anyway.
	s := &scheduled{link: link, stack: newStackWith(t, prefix, func(cfg []byte) []byte {
		cfg = bytes.Replace(cfg, []byte("  - name: acme-fixit\n"), []byte("  - name: "+link+"\n"), 1)
		cfg = bytes.Replace(cfg, []byte("limits: { requestsPerSecond: 10, concurrency: 4 }"), []byte("limits: { requestsPerSecond: 100, concurrency: 8 }"), 1)
		return bytes.Replace(cfg, []byte("    apiUser: o2o-api\n\nlinks:"), []byte("    apiUser: o2o-api\n    limits: { requestsPerSecond: 100, concurrency: 8 }\n\nlinks:"), 1)
	})}
	c := devServer.Client()
	s.schedule = c.ScheduleClient().GetHandle(context.Background(), workflows.ScheduleID(link))
	t.Cleanup(func() {
		ctx := context.Background()
		if d, err := s.schedule.Describe(ctx); err == nil {
			for _, w := range d.Info.RunningWorkflows {
				_ = c.TerminateWorkflow(ctx, w.WorkflowID, "", "test over")
			}
		}
		_ = s.schedule.Delete(ctx)
	})

	for range n {
		job := s.createAcmeJob("SITE-001", "CON-001", [2]string{"PLB001", "1"})
		s.assign("acme", job.Activities[0].ID, "7")
		s.jobs = append(s.jobs, job)
	}
	var fixit []string
	for _, job := range s.jobs {
		fixit = append(fixit, s.waitState(link, job.JobRef, lifecycle.StateLinked, 1).SecondaryJobRef)
	}
	// Every fixit webhook from now on is lost: only a read finds the status.
	s.act("fixit", http.MethodPost, "/faults", map[string]any{"op": "deliver", "drop": 1, "seed": 7, "count": -1})
	for _, fx := range fixit {
		s.act("fixit", http.MethodPost, "/jobs/"+fx+"/status", map[string]string{"status": "Accepted"})
	}
	require.Len(t, s.dropped("fixit"), n)
	return s
}

// firstRun restarts the worker with the interval and heartbeat timeout
// compressed (it updates the schedule, which then fires on its own) and
// returns the first run the schedule starts from then on.
func (s *scheduled) firstRun(every, heartbeat string, workerEnv ...string) client.WorkflowRun {
	t := s.t
	cfg, err := os.ReadFile(s.configPath)
	require.NoError(t, err)
	cfg = bytes.Replace(cfg, []byte("    reconcileEvery: 8760h\n"),
		[]byte("    reconcileEvery: "+every+"\n    reconcileHeartbeatTimeout: "+heartbeat+"\n"), 1)
	require.NoError(t, os.WriteFile(s.configPath, cfg, 0o600))
	s.worker.stop(t)
	ready := time.Now()
	s.worker = s.start("worker", workerEnv...)

	var run client.ScheduleWorkflowExecution
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		d, err := s.schedule.Describe(context.Background())
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
	return devServer.Client().GetWorkflow(context.Background(), run.WorkflowID, run.FirstExecutionRunID)
}

// took is how long a finished run took, and its status.
func took(t *testing.T, run client.WorkflowRun) (time.Duration, enumspb.WorkflowExecutionStatus) {
	t.Helper()
	d, err := devServer.Client().DescribeWorkflowExecution(context.Background(), run.GetID(), run.GetRunID())
	require.NoError(t, err)
	info := d.GetWorkflowExecutionInfo()
	return info.GetCloseTime().AsTime().Sub(info.GetStartTime().AsTime()), info.GetStatus()
}

func scheduledReconciliation(t *testing.T, prefix string, n int, every, heartbeat string) {
	s := newScheduled(t, prefix, fmt.Sprintf("sched-%d", n), n)
	run := s.firstRun(every, heartbeat)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := workflows.ReconcileRunResult(ctx, run)
	require.NoError(t, err, "%+v", res)
	require.Equal(t, n, res.Checked, "every link checked: %+v", res)
	require.Zero(t, res.Failed, "%+v", res)
	require.GreaterOrEqual(t, res.Missing, n, "each link's lost status found: %+v", res)
	d, status := took(t, run)
	require.Equal(t, enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED, status)
	t.Logf("scheduled run of %d links took %s (interval %s, heartbeat timeout %s): %s", n, d.Round(10*time.Millisecond), every, heartbeat, res.Summary())

	// Each lost status was applied once, from the reconciliation.
	for _, job := range s.jobs {
		require.EventuallyWithT(t, func(c *assert.CollectT) {
			assert.Equal(c, []string{"SACC"}, historyCodes(s.job("acme", job.JobRef)), job.JobRef)
		}, 30*time.Second, 200*time.Millisecond)
	}
	if n == 2 {
		recordHistory(t, "reconcile-scheduled-paced", run.GetID())
	}
}

// TestAScheduledReconciliationThatCannotReadFailsVisibly (issue 17): acme
// answers 503 to every job read; the scheduled run fails (the Web UI and
// the schedule show it Failed) with a message naming both links not
// checked, o2o_reconcile_runs_total counts it incomplete, and the links go
// on as before.
func TestAScheduledReconciliationThatCannotReadFailsVisibly(t *testing.T) {
	s := newScheduled(t, "QF", "sched-fail", 2)
	s.act("acme", http.MethodPost, "/faults", map[string]any{"op": "job", "status": 503, "count": -1})
	metrics := freeAddr(t)
	run := s.firstRun("5s", "1s", "O2O_METRICS_ADDR="+metrics)

	res, err := workflows.ReconcileRunResult(context.Background(), run)
	require.True(t, workflows.IsReconcileIncomplete(err), "%v", err)
	require.Zero(t, res.Checked, "%+v", res)
	require.Equal(t, 2, res.Failed, "%+v", res)
	d, status := took(t, run)
	require.Equal(t, enumspb.WORKFLOW_EXECUTION_STATUS_FAILED, status, "the run shows it failed")
	for _, job := range s.jobs {
		require.Contains(t, err.Error(), job.JobRef+": acme", "the failure names each link not checked")
	}
	t.Logf("failed scheduled run took %s (interval 5s): %v", d.Round(10*time.Millisecond), err)

	require.EventuallyWithT(t, func(c *assert.CollectT) {
		resp, err := http.Get("http://" + metrics + "/metrics")
		if !assert.NoError(c, err) {
			return
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		// (The Prometheus reporter writes the link's "-" as "_".)
		assert.Regexp(c, `o2o_reconcile_runs_total\{[^}]*link="sched_fail"[^}]*outcome="incomplete"[^}]*\} [1-9]`, string(body))
	}, 20*time.Second, 200*time.Millisecond)
	for _, job := range s.jobs {
		st, _ := s.linkState(s.link, job.JobRef)
		require.Equal(t, lifecycle.StateLinked, st.State, "a failed read blocks nothing")
	}
}

// TestAReconciliationWhoseReadHangsStopsAtItsDeadline (issue 17): acme's
// job read hangs for a minute; the scheduled run stops at its deadline
// (90% of its 5 s interval) and fails with its result, naming the link
// and why, rather than running on until Temporal times it out (which is
// what the run before the fix did: "Workflow timeout", no result). Its
// attempt stops there too: the worker then stops without waiting out its
// graceful-stop timeout for it.
func TestAReconciliationWhoseReadHangsStopsAtItsDeadline(t *testing.T) {
	s := newScheduled(t, "QH", "sched-hang", 1)
	s.act("acme", http.MethodPost, "/faults", map[string]any{"op": "job", "delay": "60s", "count": -1})
	run := s.firstRun("5s", "1s")

	res, err := workflows.ReconcileRunResult(context.Background(), run)
	require.True(t, workflows.IsReconcileIncomplete(err), "%v", err)
	require.Equal(t, 1, res.Failed, "%+v", res)
	require.Contains(t, err.Error(), "link 1 of 1 ("+s.jobs[0].JobRef+"): its reads timed out (ScheduleToClose timeout")
	_, status := took(t, run)
	require.Equal(t, enumspb.WORKFLOW_EXECUTION_STATUS_FAILED, status)

	require.NoError(t, s.schedule.Pause(context.Background(), client.SchedulePauseOptions{Note: "test: no more runs"}))
	s.worker.stop(t)
	require.NotContains(t, s.worker.output(), "graceful stop timed out", "no attempt was left running")
}
