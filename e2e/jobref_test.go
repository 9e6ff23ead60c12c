//go:build integration

package e2e

import (
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/o2o-sync/o2o/events"
	"github.com/o2o-sync/o2o/lifecycle"
	"github.com/o2o-sync/o2o/workflows"
)

// noWorkflow asserts that no workflow has this exact id: a job ref typed
// in another form started no link of its own.
func noWorkflow(t *testing.T, id string) {
	t.Helper()
	_, err := devServer.Client().DescribeWorkflowExecution(t.Context(), id, "")
	var nf *serviceerror.NotFound
	require.ErrorAs(t, err, &nf, "workflow %s exists", id)
}

// lostAssignment assigns a job's activity to fixit's team with the
// assignment's webhook lost, as for a link an operator starts by hand.
func (s *stack) lostAssignment(activityID string) {
	s.t.Helper()
	s.act("acme", http.MethodPost, "/faults", map[string]any{"op": "deliver", "drop": 1, "seed": 7, "count": -1})
	s.assign("acme", activityID, "7")
	require.Len(s.t, s.dropped("acme"), 1)
	do(s.t, http.MethodDelete, s.simURL+"/acme/sim/faults", nil, nil, nil)
}

// TestJobRefInAnyFormReachesOneLink reproduces issue 17 §4: `starter link
// acme-fixit ac000005 ...` started a workflow of its own under the
// lower-case ref, while state, unlink and the other actions upper-cased it
// and reached AC000005's link. Now every entry point — the CLI's link,
// state, actions, reconcile, list and backfill file, the HTTP link routes
// and webhook payloads — takes a lower-case or padded ref as the job it
// names: one link, one linked job, and no workflow under another form.
func TestJobRefInAnyFormReachesOneLink(t *testing.T) {
	s := newStack(t, "SJ")
	job := s.createAcmeJob("SITE-001", "CON-001", [2]string{"PLB001", "1"})
	ref, lower, act := job.JobRef, strings.ToLower(job.JobRef), job.Activities[0].ID
	s.lostAssignment(act)

	// link, in lower case: the link of the job, under its canonical ref.
	r := s.starter(nil, "link", "acme-fixit", lower, act)
	require.Equal(t, 0, r.code, r.String())
	require.Contains(t, r.stdout, "Started LinkedJob:acme-fixit:"+ref+".")
	st := s.settle(ref, 1)
	require.Equal(t, lifecycle.StateLinked, st.State, st.LastError)
	fx := st.SecondaryJobRef
	noWorkflow(t, "LinkedJob:acme-fixit:"+lower)

	// state, in lower case and padded: this link.
	for _, typed := range []string{lower, " " + lower + " ", "\t" + ref} {
		r = s.starter(nil, "state", "--json", "acme-fixit", typed)
		require.Equal(t, 0, r.code, "%q: %s", typed, r)
		var got lifecycle.LinkState
		require.NoError(t, json.Unmarshal([]byte(r.stdout), &got))
		require.Equal(t, ref, got.PrimaryJobRef, typed)
		require.Equal(t, fx, got.SecondaryJobRef, typed)
	}
	// What cannot be a job ref is refused, not changed.
	for _, bad := range []string{lower[:2] + " " + lower[2:], lower + "'", "LinkedJob:acme-fixit:" + lower} {
		r = s.starter(nil, "state", "acme-fixit", bad)
		require.Equal(t, 2, r.code, "%q: %s", bad, r)
		require.Contains(t, r.stderr, "not a job ref")
	}

	// The HTTP link routes, in lower case and padded (%20).
	for _, typed := range []string{lower, "%20" + lower + "%20"} {
		got, code := s.linkState("acme-fixit", typed)
		require.Equal(t, http.StatusOK, code, typed)
		require.Equal(t, ref, got.PrimaryJobRef, typed)
	}
	code, out := s.operate(lower, "pause", map[string]string{"by": "ops", "reason": "checking the ref"}, true)
	require.Equal(t, http.StatusOK, code, out)
	require.Equal(t, lifecycle.StatePaused, s.settle(ref, 1).State)
	r = s.starter(nil, "resume", "--by", "e2e", "acme-fixit", " "+lower)
	require.Equal(t, 0, r.code, r.String())
	require.Contains(t, r.stdout, "LinkedJob:acme-fixit:"+ref+": ")
	code, out = s.operate("%20"+lower, "pause", map[string]string{"by": "ops", "reason": "again"}, true)
	require.Equal(t, http.StatusOK, code, out)
	code, out = s.operate(lower+"%20", "resume", map[string]string{"by": "ops"}, true)
	require.Equal(t, http.StatusOK, code, out)
	code, out = s.operate(lower[:2]+"%20"+lower[2:], "pause", map[string]string{"by": "ops"}, true)
	require.Equal(t, http.StatusBadRequest, code, out)
	require.Contains(t, out["error"], "not a job ref")
	require.Equal(t, lifecycle.StateLinked, s.settle(ref, 1).State)

	// A webhook naming the job in lower case, padded, reaches the link.
	code, body := s.postSignedBody("acme", "msg_sj_status", []byte(`{"type":"JOB_STATUS_CHANGED","timestamp":"`+
		time.Now().UTC().Format(time.RFC3339)+`","data":{"jobRef":" `+lower+` ","status":"On Hold"}}`))
	require.Equal(t, http.StatusAccepted, code, body)
	st = s.settle(ref, 2)
	require.Equal(t, "msg_sj_status", st.Events[1].ID)

	// reconcile and list, in lower case: this link.
	r = s.starter(nil, "reconcile", "acme-fixit", " "+lower)
	require.Equal(t, 0, r.code, r.String())
	require.Contains(t, r.stdout, "1 checked")
	require.Contains(t, r.stdout, ", 0 failed")
	s.listed(oneRow(ref, "Linked", "running"), "--job", lower)

	// Linking again, padded: the same link; still one linked job.
	r = s.starter(nil, "link", "acme-fixit", " "+lower+" ", act)
	require.Equal(t, 0, r.code, r.String())
	require.Contains(t, r.stdout, "LinkedJob:acme-fixit:"+ref)
	require.Len(t, s.secondaryJobs(ref), 1, "never a second linked job")

	// unlink, in lower case, closes this link: the one its ref names.
	r = s.starter(nil, "unlink", "--by", "e2e", "--reason", "raised in error", "acme-fixit", lower)
	require.Equal(t, 0, r.code, r.String())
	require.Contains(t, r.stdout, "LinkedJob:acme-fixit:"+ref+": unlinking")
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		st, _ := s.linkState("acme-fixit", ref)
		assert.Equal(c, lifecycle.StateClosed, st.State)
	}, 20*time.Second, 100*time.Millisecond)
	noWorkflow(t, "LinkedJob:acme-fixit:"+lower)
	noWorkflow(t, "LinkedJob:acme-fixit: "+lower+" ")
}

// TestBackfillJobRefsInAnyForm: a backfill file's refs in lower case or
// padded start the link of the job they name, once (issue 17).
func TestBackfillJobRefsInAnyForm(t *testing.T) {
	s := newStack(t, "SK")
	job := s.createAcmeJob("SITE-001", "CON-001", [2]string{"PLB001", "1"})
	ref, lower, act := job.JobRef, strings.ToLower(job.JobRef), job.Activities[0].ID
	s.lostAssignment(act)

	file := filepath.Join(t.TempDir(), "jobs.csv")
	require.NoError(t, os.WriteFile(file, []byte("primaryJobRef,activityId\n"+
		"  "+lower+" ,"+act+"\n"+
		ref+","+act+"\n"+
		lower[:2]+" "+lower[2:]+","+act+"\n"), 0o600))
	r := s.starter(nil, "link", "acme-fixit", "--file", file)
	require.Equal(t, 1, r.code, r.String())
	require.Regexp(t, `line 2 +`+ref+` +`+act+` +started: LinkedJob:acme-fixit:`+ref, r.stdout)
	require.Regexp(t, `line 3 +`+ref+` +`+act+` +duplicate: same as line 2`, r.stdout)
	require.Regexp(t, `line 4 +- +- +error: not a job ref`, r.stdout)
	require.Contains(t, r.stdout, "1 started, 0 already linked, 0 closed, 1 duplicate, 1 failed (3 lines).")

	st := s.settle(ref, 1)
	require.Equal(t, lifecycle.StateLinked, st.State, st.LastError)
	require.Len(t, s.secondaryJobs(ref), 1)
	noWorkflow(t, "LinkedJob:acme-fixit:"+lower)
	noWorkflow(t, "LinkedJob:acme-fixit:  "+lower+" ")
	require.Equal(t, ref, s.secondaryJobs(ref)[0].ClientRef, "the linked job's Client Job Ref is the canonical ref")
}

// TestLinkStartedUnderALowerCaseRefBeforeTheFix: a link started under
// "LinkedJob:acme-fixit:slac000001" by the code before issue 17 is not
// reached by its ref any more (it now names SLAC000001's link) but is found
// by starter list --job, and is closed by its exact workflow id with the
// Temporal CLI, as docs/operations.md says; the job's own link is untouched.
func TestLinkStartedUnderALowerCaseRefBeforeTheFix(t *testing.T) {
	s := newStack(t, "SL")
	job := s.createAcmeJob("SITE-001", "CON-001", [2]string{"PLB001", "1"})
	ref, lower, act := job.JobRef, strings.ToLower(job.JobRef), job.Activities[0].ID
	s.lostAssignment(act)

	// What starter link acme-fixit <lower> <act> did before the fix.
	legacy := "LinkedJob:acme-fixit:" + lower
	ev := events.Event{ID: "manual:acme-fixit:" + lower + ":" + act, System: "acme", Side: events.Primary, Type: events.ActivityAssigned,
		OccurredAt: time.Now().UTC(), JobRef: lower, Assignment: &events.Assignment{ActivityID: act, TeamID: "7"}}
	_, err := devServer.Client().SignalWithStartWorkflow(t.Context(), legacy, workflows.SignalEvent, ev, client.StartWorkflowOptions{
		ID: legacy, TaskQueue: workflows.TaskQueue,
		TypedSearchAttributes: temporal.NewSearchAttributes(workflows.AttrLink.ValueSet("acme-fixit"),
			workflows.AttrPrimaryJobRef.ValueSet(lower), workflows.AttrState.ValueSet(string(lifecycle.StateLinking))),
	}, workflows.WorkflowName, workflows.Input{Link: "acme-fixit", PrimaryJobRef: lower})
	require.NoError(t, err)

	// The job's own link, started as the ref is typed now.
	r := s.starter(nil, "link", "acme-fixit", lower, act)
	require.Equal(t, 0, r.code, r.String())
	st := s.settle(ref, 1)
	require.Equal(t, lifecycle.StateLinked, st.State, st.LastError)

	// Its ref reaches the job's link, never the old one...
	r = s.starter(nil, "state", "--json", "acme-fixit", lower)
	require.Equal(t, 0, r.code, r.String())
	var got lifecycle.LinkState
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &got))
	require.Equal(t, ref, got.PrimaryJobRef)
	// ...which list --job finds, however the ref is typed (the hint of
	// starter's "no running link" answer).
	for _, typed := range []string{lower, ref} {
		s.listed(func(c *assert.CollectT, rows []map[string]any) {
			var ids []any
			for _, row := range rows {
				ids = append(ids, row["workflowId"])
			}
			assert.ElementsMatch(c, []any{legacy, "LinkedJob:acme-fixit:" + ref}, ids)
		}, "--job", typed)
	}

	// The Temporal CLI reaches it by its exact id: query, then unlink.
	cli := func(args ...string) string {
		out, err := exec.Command(devCLI(), append(args, "--address", devServer.FrontendHostPort(), "--namespace", "default")...).CombinedOutput()
		require.NoError(t, err, string(out))
		return string(out)
	}
	require.Contains(t, cli("workflow", "query", "--workflow-id", legacy, "--name", workflows.QueryLinkState), `"primaryJobRef":"`+lower+`"`)
	cli("workflow", "update", "execute", "--workflow-id", legacy, "--name", lifecycle.ActionUnlink,
		"--input", `{"by":"e2e","reason":"started under a lower-case ref (issue 17)"}`)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		d, err := devServer.Client().DescribeWorkflowExecution(t.Context(), legacy, "")
		if assert.NoError(c, err) {
			assert.Equal(c, enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED, d.GetWorkflowExecutionInfo().GetStatus())
		}
	}, 30*time.Second, 200*time.Millisecond)

	// The job's own link is as it was.
	st, code := s.linkState("acme-fixit", ref)
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, lifecycle.StateLinked, st.State)
	require.Empty(t, st.OperatorLog)
}
