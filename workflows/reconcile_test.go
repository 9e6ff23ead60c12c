package workflows_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"github.com/uber-go/tally/v4"
	sdktally "go.temporal.io/sdk/contrib/tally"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/o2o-sync/o2o/activities"
	"github.com/o2o-sync/o2o/internal/linktest"
	"github.com/o2o-sync/o2o/workflows"
)

// openLinks makes n open links AC000000...
func openLinks(n int) []workflows.LinkRef {
	var refs []workflows.LinkRef
	for i := range n {
		refs = append(refs, workflows.LinkRef{PrimaryJobRef: fmt.Sprintf("AC%06d", i), SecondaryJobRef: fmt.Sprintf("FX%06d", i)})
	}
	return refs
}

func reconcileEnv(t *testing.T, refs []workflows.LinkRef) (*testsuite.TestWorkflowEnvironment, *workflows.Reconciler) {
	t.Helper()
	env, rec, _ := reconcileEnvMetrics(t, refs)
	return env, rec
}

// reconcileEnvMetrics is reconcileEnv with the metrics it records.
func reconcileEnvMetrics(t *testing.T, refs []workflows.LinkRef) (*testsuite.TestWorkflowEnvironment, *workflows.Reconciler, tally.TestScope) {
	t.Helper()
	scope := tally.NewTestScope("", nil)
	var ts testsuite.WorkflowTestSuite
	ts.SetMetricsHandler(sdktally.NewMetricsHandler(scope))
	env := ts.NewTestWorkflowEnvironment()
	acts, err := activities.New(linktest.Config())
	require.NoError(t, err)
	workflows.Register(env, acts, nil)
	rec := &workflows.Reconciler{}
	env.OnActivity(rec.ListOpenLinks, mock.Anything, "acme-fixit", "").Return(refs, nil).Once()
	return env, rec, scope
}

// runs counts the reconciliation runs recorded, by outcome.
func runs(scope tally.TestScope) map[string]int64 {
	got := map[string]int64{}
	for _, c := range scope.Snapshot().Counters() {
		if c.Name() == "o2o_reconcile_runs" {
			got[c.Tags()["link"]+"/"+c.Tags()["outcome"]] += c.Value()
		}
	}
	return got
}

// incomplete is the result a run that failed as incomplete carries.
func incomplete(t *testing.T, env *testsuite.TestWorkflowEnvironment) workflows.ReconcileResult {
	t.Helper()
	err := env.GetWorkflowError()
	require.Error(t, err)
	require.True(t, workflows.IsReconcileIncomplete(err), "%v", err)
	var app *temporal.ApplicationError
	require.True(t, errors.As(err, &app))
	var res workflows.ReconcileResult
	require.NoError(t, app.Details(&res))
	return res
}

// TestReconcilePacesTheLinksWithTimersAndGoesOnPastFailures: 120 open links
// spread over 12 minutes are read one activity each, a workflow timer
// apart (no activity waits for its turn: the cause of issue 17's heartbeat
// timeouts); a link whose read fails for good is counted and named, the
// others count, and the run fails as incomplete with its result.
func TestReconcilePacesTheLinksWithTimersAndGoesOnPastFailures(t *testing.T) {
	env, rec, scope := reconcileEnvMetrics(t, openLinks(120))
	var (
		batches []workflows.ReconcileBatchInput
		started []time.Time
	)
	env.OnActivity(rec.ReconcileBatch, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in workflows.ReconcileBatchInput) (workflows.ReconcileResult, error) {
			batches = append(batches, in)
			started = append(started, env.Now())
			if in.Links[0].PrimaryJobRef == "AC000050" {
				return workflows.ReconcileResult{}, temporal.NewNonRetryableApplicationError("temporal unreachable", "Test", nil)
			}
			return workflows.ReconcileResult{Checked: 1, Found: 5, Missing: 1, Calls: 4}, nil
		})
	env.ExecuteWorkflow(workflows.ReconcileWorkflowName, workflows.ReconcileInput{Link: "acme-fixit", Spread: 12 * time.Minute})
	res := incomplete(t, env)

	require.Len(t, batches, 120, "one activity a link")
	for i, b := range batches {
		require.Len(t, b.Links, 1)
		require.Equal(t, fmt.Sprintf("AC%06d", i), b.Links[0].PrimaryJobRef)
		if i > 0 {
			require.Equal(t, 6*time.Second, started[i].Sub(started[i-1]), "link %d: 12 minutes shared among 120 links", i)
		}
	}
	require.Equal(t, 119, res.Checked)
	require.Equal(t, 1, res.Failed)
	require.Equal(t, 5*119, res.Found)
	require.Equal(t, 119, res.Missing)
	require.Equal(t, []string{"link 51 of 120 (AC000050): temporal unreachable"}, res.Failures)
	require.Contains(t, env.GetWorkflowError().Error(), "1 failed; not checked: link 51 of 120 (AC000050): temporal unreachable")
	require.Equal(t, map[string]int64{"acme-fixit/incomplete": 1}, runs(scope), "o2o_reconcile_runs_total counts it")
}

// TestReconcileOfManyLinksBoundsItsHistory: 10,000 links are read 50 to an
// activity (200 activities), so that the run's history stays small.
func TestReconcileOfManyLinksBoundsItsHistory(t *testing.T) {
	env, rec, scope := reconcileEnvMetrics(t, openLinks(10_000))
	var batches int
	env.OnActivity(rec.ReconcileBatch, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in workflows.ReconcileBatchInput) (workflows.ReconcileResult, error) {
			batches++
			require.Len(t, in.Links, 50)
			return workflows.ReconcileResult{Checked: len(in.Links)}, nil
		})
	env.ExecuteWorkflow(workflows.ReconcileWorkflowName, workflows.ReconcileInput{Link: "acme-fixit", Spread: 12 * time.Minute})
	require.NoError(t, env.GetWorkflowError())
	var res workflows.ReconcileResult
	require.NoError(t, env.GetWorkflowResult(&res))
	require.Equal(t, 200, batches)
	require.Equal(t, 10_000, res.Checked)
	require.Contains(t, res.Summary(), "10000 checked, 0 facts read, 0 missing and queued, 0 failed")
	require.Equal(t, map[string]int64{"acme-fixit/complete": 1}, runs(scope))
}

// TestReconcileCountsWhatATimedOutBatchHadDone: a batch whose attempts all
// time out is counted by its last heartbeat: the links it had done are
// checked, the rest failed (none, when it had done them all).
func TestReconcileCountsWhatATimedOutBatchHadDone(t *testing.T) {
	env, rec := reconcileEnv(t, openLinks(400)) // two links an activity
	env.OnActivity(rec.ReconcileBatch, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in workflows.ReconcileBatchInput) (workflows.ReconcileResult, error) {
			switch in.Links[0].PrimaryJobRef {
			case "AC000010":
				return workflows.ReconcileResult{}, temporal.NewHeartbeatTimeoutError(workflows.ReconcileProgress{
					Next: 1, Done: workflows.ReconcileResult{Checked: 1, Found: 3, Calls: 4}})
			case "AC000020": // both links done, the answer lost
				return workflows.ReconcileResult{}, temporal.NewHeartbeatTimeoutError(workflows.ReconcileProgress{
					Next: 2, Done: workflows.ReconcileResult{Checked: 2}})
			}
			return workflows.ReconcileResult{Checked: len(in.Links)}, nil
		})
	env.ExecuteWorkflow(workflows.ReconcileWorkflowName, workflows.ReconcileInput{Link: "acme-fixit"})
	res := incomplete(t, env)
	require.Equal(t, 399, res.Checked)
	require.Equal(t, 1, res.Failed)
	require.Equal(t, 3, res.Found)
	require.Len(t, res.Failures, 1)
	require.Contains(t, res.Failures[0], "link 12 of 400 (AC000011): its reads timed out (Heartbeat timeout, after every attempt)")
}

// TestReconcileStopsAtItsDeadline: a run given 5 minutes for links spread
// over 10 reads the links due before then and counts the others as not
// reached: a run never outlasts its interval.
func TestReconcileStopsAtItsDeadline(t *testing.T) {
	env, rec := reconcileEnv(t, openLinks(10))
	var read []string
	env.OnActivity(rec.ReconcileBatch, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in workflows.ReconcileBatchInput) (workflows.ReconcileResult, error) {
			read = append(read, in.Links[0].PrimaryJobRef)
			return workflows.ReconcileResult{Checked: 1}, nil
		})
	start := env.Now()
	env.ExecuteWorkflow(workflows.ReconcileWorkflowName, workflows.ReconcileInput{Link: "acme-fixit", Spread: 10 * time.Minute, Within: 5 * time.Minute})
	res := incomplete(t, env)
	require.Equal(t, []string{"AC000000", "AC000001", "AC000002", "AC000003", "AC000004"}, read)
	require.Equal(t, 5, res.Checked)
	require.Equal(t, 5, res.Failed)
	require.Equal(t, []string{"links 6–10 of 10: not reached within 5m0s of the run's start (slow reads, or a budget too small for the links: see Sizing in docs/reconciliation.md)"}, res.Failures)
	require.Less(t, env.Now().Sub(start), 5*time.Minute, "the run ended within its time")
}

// TestReconcileBatchResumesAfterTheLastLinkDone: an attempt retried after
// its predecessor heartbeat that two of three links were done reads only
// the third, and counts the first two from the heartbeat.
func TestReconcileBatchResumesAfterTheLastLinkDone(t *testing.T) {
	var (
		mu   sync.Mutex
		read []string
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		read = append(read, r.URL.Path)
		mu.Unlock()
		http.Error(w, "down", http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	cfg := linktest.Config()
	for _, s := range cfg.Systems {
		s.BaseURL = srv.URL + "/" + s.Name
	}
	acts, err := activities.New(cfg)
	require.NoError(t, err)
	rec := &workflows.Reconciler{Acts: acts}

	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestActivityEnvironment()
	env.RegisterActivity(rec)
	env.SetHeartbeatDetails(workflows.ReconcileProgress{Next: 2, Done: workflows.ReconcileResult{Checked: 2, Found: 7, Calls: 8}})
	v, err := env.ExecuteActivity(rec.ReconcileBatch, workflows.ReconcileBatchInput{Link: "acme-fixit", Links: openLinks(3)})
	require.NoError(t, err)
	var res workflows.ReconcileResult
	require.NoError(t, v.Get(&res))
	require.Equal(t, 2, res.Checked)
	require.Equal(t, 7, res.Found)
	require.Equal(t, 1, res.Failed)
	require.Len(t, res.Failures, 1)
	require.True(t, strings.HasPrefix(res.Failures[0], "AC000002: "), res.Failures[0])
	require.NotEmpty(t, read)
	for _, p := range read {
		require.Contains(t, p, "AC000002", "only the link not done is read")
	}
}
