//go:build integration

package e2e

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/o2o-sync/o2o/lifecycle"

	"github.com/o2o-sync/o2o/workflows"
)

func (s *stack) operate(ref, action string, body map[string]string, auth bool) (int, map[string]string) {
	s.t.Helper()
	var out map[string]string
	h := s.operator()
	if !auth {
		h = nil
	}
	code := do(s.t, http.MethodPost, s.webhookURL+"/links/acme-fixit/"+ref+"/"+action, h, body, &out)
	return code, out
}

// TestOperatorActionsOverHTTP pauses, resumes and unlinks a link through
// the webhook server's authenticated operator API.
func TestOperatorActionsOverHTTP(t *testing.T) {
	s := newStack(t, "OA")
	job := s.createAcmeJob("SITE-001", "CON-001", [2]string{"PLB001", "1"})
	s.assign("acme", job.Activities[0].ID, "7")
	fx := s.settle(job.JobRef, 1).SecondaryJobRef

	code, _ := s.operate(job.JobRef, "pause", map[string]string{"by": "ops"}, false)
	require.Equal(t, http.StatusUnauthorized, code)
	code, _ = s.operate(job.JobRef, "explode", map[string]string{"by": "ops"}, true)
	require.Equal(t, http.StatusNotFound, code)
	code, _ = s.operate("AC404404", "pause", map[string]string{"by": "ops"}, true)
	require.Equal(t, http.StatusNotFound, code)

	code, out := s.operate(job.JobRef, "pause", map[string]string{"by": "ops", "reason": "client on the phone"}, true)
	require.Equal(t, http.StatusOK, code, out)
	require.Contains(t, out["result"], "paused")
	code, out = s.operate(job.JobRef, "pause", map[string]string{"by": "ops"}, true)
	require.Equal(t, http.StatusConflict, code)
	require.Contains(t, out["error"], "cannot be paused")

	// While paused, events queue.
	s.act("fixit", http.MethodPost, "/jobs/"+fx+"/status", map[string]string{"status": "Accepted"})
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		st, _ := s.linkState("acme-fixit", job.JobRef)
		assert.Equal(c, lifecycle.StatePaused, st.State)
		assert.Equal(c, 1, st.Pending)
	}, 20*time.Second, 100*time.Millisecond)
	require.Empty(t, s.job("acme", job.JobRef).History)

	code, out = s.operate(job.JobRef, "resume", map[string]string{"by": "ops"}, true)
	require.Equal(t, http.StatusOK, code, out)
	s.settle(job.JobRef, 2)
	require.Equal(t, []string{"SACC"}, historyCodes(s.job("acme", job.JobRef)))

	code, out = s.operate(job.JobRef, "unlink", map[string]string{"by": "ops"}, true)
	require.Equal(t, http.StatusConflict, code)
	require.Contains(t, out["error"], "needs a reason")
	code, out = s.operate(job.JobRef, "unlink", map[string]string{"by": "ops", "reason": "handled outside O2O"}, true)
	require.Equal(t, http.StatusOK, code, out)
	var st lifecycle.LinkState
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		st, _ = s.linkState("acme-fixit", job.JobRef)
		assert.Equal(c, lifecycle.StateClosed, st.State)
	}, 20*time.Second, 100*time.Millisecond)
	require.Equal(t, "unlinked by ops: handled outside O2O", st.ClosingReason)
	require.Len(t, st.OperatorLog, 3)
	require.Len(t, s.secondaryJobs(job.JobRef), 1, "both jobs are kept")

	// After unlinking, the job's events are answered and change nothing.
	s.act("fixit", http.MethodPost, "/jobs/"+fx+"/status", map[string]string{"status": "Completed"})
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		ob := s.sim.Outbox("fixit")
		last := ob[len(ob)-1]
		assert.True(c, last.Delivered)
		assert.Equal(c, http.StatusOK, last.LastStatus)
	}, 20*time.Second, 100*time.Millisecond)
	require.Equal(t, []string{"SACC"}, historyCodes(s.job("acme", job.JobRef)))
	recordHistory(t, "operator-pause-resume-unlink", workflows.WorkflowID("acme-fixit", job.JobRef))
}
