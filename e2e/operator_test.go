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
	code, _ = s.operate("AC404404", "pause", map[string]string{}, true)
	require.Equal(t, http.StatusNotFound, code, "an unknown job is a 404 before its body is judged")
	code, out := s.operate(job.JobRef, "pause", map[string]string{"reason": "no name"}, true)
	require.Equal(t, http.StatusBadRequest, code, "who is asking is required: a bad request, not a refusal")
	require.Contains(t, out["error"], "say who is asking")

	code, out = s.operate(job.JobRef, "pause", map[string]string{"by": "ops", "reason": "client on the phone"}, true)
	require.Equal(t, http.StatusOK, code, out)
	require.Contains(t, out["result"], "paused")
	code, out = s.operate(job.JobRef, "pause", map[string]string{"by": "ops"}, true)
	require.Equal(t, http.StatusConflict, code)
	require.Contains(t, out["error"], "already paused")

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
	s.waitAnswered("fixit")
	require.Equal(t, []string{"SACC"}, historyCodes(s.job("acme", job.JobRef)))
	recordHistory(t, "operator-pause-resume-unlink", workflows.WorkflowID("acme-fixit", job.JobRef))
}

// TestPauseWhileRetryingEndToEnd pauses a link while an operator's retry of
// its blocked event is in flight. The retried write goes through: that
// unblocks the link (no stale lastError) but, paused, it applies nothing
// more; once resumed, the event queued behind follows. Each job event is
// written exactly once, in order.
func TestPauseWhileRetryingEndToEnd(t *testing.T) {
	s := newStack(t, "OB")
	job := s.createAcmeJob("SITE-001", "CON-001", [2]string{"PLB001", "1"})
	s.assign("acme", job.Activities[0].ID, "7")
	fx := s.settle(job.JobRef, 1).SecondaryJobRef

	// s1 is refused by acme: the link blocks on it; s2 queues behind it.
	s.act("acme", http.MethodPost, "/faults", map[string]any{"op": "addEventByClientRef", "status": 400, "message": "Event code SACC is not active", "count": 1})
	s1 := s.act("fixit", http.MethodPost, "/jobs/"+fx+"/status", map[string]string{"status": "Accepted"})["eventId"].(string)
	st := s.waitStateAttention(job.JobRef)
	require.Contains(t, st.LastError, "Event code SACC is not active")
	s2 := s.act("fixit", http.MethodPost, "/jobs/"+fx+"/status", map[string]string{"status": "Completed"})["eventId"].(string)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		st, _ = s.linkState("acme-fixit", job.JobRef)
		assert.Equal(c, lifecycle.StateNeedsAttention, st.State)
		assert.Equal(c, 2, st.Pending, "s1 blocked, s2 behind it")
	}, 20*time.Second, 100*time.Millisecond)
	require.Len(t, st.Events, 1)
	require.Empty(t, s.job("acme", job.JobRef).History)

	// The retried write will be slow: acme takes 5 s to answer it.
	s.act("acme", http.MethodPost, "/faults", map[string]any{"op": "addEventByClientRef", "status": 0, "delay": "5s", "count": 1})
	code, out := s.operate(job.JobRef, "retry", map[string]string{"by": "ops", "reason": "SACC activated in acme"}, true)
	require.Equal(t, http.StatusOK, code, out)
	require.Contains(t, out["result"], "retrying")

	// Once acme has taken the retried call (the delay fault is used up), the
	// write is in flight: pause now.
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		var faults []map[string]any
		assert.Equal(c, http.StatusOK, do(t, http.MethodGet, s.simURL+"/acme/sim/faults", nil, nil, &faults))
		assert.Empty(c, faults, "the retried write has not reached acme yet")
	}, 30*time.Second, 50*time.Millisecond)
	code, out = s.operate(job.JobRef, "pause", map[string]string{"by": "ops", "reason": "client on the phone"}, true)
	require.Equal(t, http.StatusOK, code, out)
	st, _ = s.linkState("acme-fixit", job.JobRef)
	require.Equal(t, lifecycle.StatePaused, st.State)
	require.Equal(t, lifecycle.StateNeedsAttention, st.PausedFrom, "paused while the retry is in flight: %+v", st)
	require.Len(t, st.Events, 1, "s1 not finished yet: %+v", st.Events)

	// The retried write goes through while paused: the link is no longer
	// blocked, and s2 waits for the resume.
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		st, _ = s.linkState("acme-fixit", job.JobRef)
		if assert.Len(c, st.Events, 2) {
			assert.Equal(c, s1, st.Events[1].ID)
		}
	}, 30*time.Second, 100*time.Millisecond)
	require.Equal(t, lifecycle.OutcomeApplied, st.Events[1].Outcome, "%+v", st.Events[1])
	require.Equal(t, lifecycle.StatePaused, st.State)
	require.Equal(t, lifecycle.StateLinked, st.PausedFrom, "the retry went through: not blocked any more")
	require.Empty(t, st.LastError)
	require.Equal(t, 1, st.Pending, "s2 waits while paused")
	require.Equal(t, []string{"SACC"}, historyCodes(s.job("acme", job.JobRef)))

	code, out = s.operate(job.JobRef, "resume", map[string]string{"by": "ops"}, true)
	require.Equal(t, http.StatusOK, code, out)
	st = s.settle(job.JobRef, 3)
	require.Equal(t, lifecycle.StateLinked, st.State)
	require.Empty(t, st.PausedFrom)
	require.Empty(t, st.LastError)
	require.Equal(t, s1, st.Events[1].ID)
	require.Equal(t, lifecycle.OutcomeApplied, st.Events[1].Outcome)
	require.Equal(t, s2, st.Events[2].ID)
	require.Equal(t, lifecycle.OutcomeApplied, st.Events[2].Outcome, "%+v", st.Events[2])
	require.Equal(t, []string{"SACC", "SCOMP"}, historyCodes(s.job("acme", job.JobRef)), "each job event once, in order")
	var actions []string
	for _, a := range st.OperatorLog {
		actions = append(actions, a.Action)
	}
	require.Equal(t, []string{"retry", "pause", "resume"}, actions)
	recordHistory(t, "pause-during-retry", workflows.WorkflowID("acme-fixit", job.JobRef))
	// The same life since write activities heartbeat within 5 s and back
	// off by 1.5 to 10 s: options of the scheduled activities, not new
	// commands, so both histories replay on today's code.
	recordHistory(t, "pause-during-retry-heartbeat-5s", workflows.WorkflowID("acme-fixit", job.JobRef))
}
