//go:build integration

package e2e

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/o2o-sync/o2o/events"
	"github.com/o2o-sync/o2o/lifecycle"
	"github.com/o2o-sync/o2o/simulator"
	"github.com/o2o-sync/o2o/workflows"
)

// dropped lists the webhooks a system's deliver fault dropped.
func (s *stack) dropped(system string) []simulator.OutboxEvent {
	s.t.Helper()
	var out []simulator.OutboxEvent
	require.Equal(s.t, http.StatusOK, do(s.t, http.MethodGet, s.simURL+"/"+system+"/sim/dropped", nil, nil, &out))
	return out
}

// TestReconciliationFindsLostWebhooksExactlyOnce: every webhook of a
// status change, an appointment and two documents is lost; one
// reconciliation of the job applies each fact once, recorded with source
// reconcile; the lost webhooks delivered late are duplicates; a second
// reconciliation finds nothing missing.
func TestReconciliationFindsLostWebhooksExactlyOnce(t *testing.T) {
	s := newStack(t, "RZ")
	job := s.createAcmeJob("SITE-001", "CON-001", [2]string{"PLB001", "1"})
	s.assign("acme", job.Activities[0].ID, "7")
	fx := s.settle(job.JobRef, 1).SecondaryJobRef

	// Every webhook from now on is lost.
	for _, system := range []string{"acme", "fixit"} {
		s.act(system, http.MethodPost, "/faults", map[string]any{"op": "deliver", "drop": 1, "seed": 7, "count": -1})
	}
	s.act("fixit", http.MethodPost, "/jobs/"+fx+"/status", map[string]string{"status": "Accepted"})
	start := time.Date(2026, 12, 9, 8, 0, 0, 0, time.UTC)
	s.act("fixit", http.MethodPost, "/jobs/"+fx+"/appointments", map[string]string{"start": start.Format(time.RFC3339), "end": start.Add(time.Hour).Format(time.RFC3339)})
	s.upload("acme", job.JobRef, "Gas Certificate", "cp12.pdf", []byte("%PDF-1.7 gas safety record"))
	s.upload("fixit", fx, "Site Photos", "after.jpg", []byte("\xff\xd8\xff photo"))
	lost := append(s.dropped("acme"), s.dropped("fixit")...)
	require.Len(t, lost, 4, "the status, the appointment and two documents: %+v", lost)
	time.Sleep(time.Second)
	st, _ := s.linkState("acme-fixit", job.JobRef)
	require.Len(t, st.Events, 1, "nothing reached the link")
	require.Empty(t, s.job("acme", job.JobRef).History)

	r := s.starter(nil, "reconcile", "acme-fixit", job.JobRef)
	require.Zero(t, r.code, "%s", r)
	require.Contains(t, r.stdout, "1 checked")
	require.Regexp(t, `[1-9]\d* missing and queued, 0 failed`, r.stdout)

	// Four facts applied, once each; the primary job's status, which the
	// link never knew, is learned too (not mapped: recorded skipped).
	var applied []lifecycle.EventRecord
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		st, _ = s.linkState("acme-fixit", job.JobRef)
		applied = nil
		for _, e := range st.Events[1:] {
			if e.Outcome == lifecycle.OutcomeApplied {
				applied = append(applied, e)
			}
		}
		assert.Len(c, applied, 4)
		assert.Zero(c, st.Pending)
	}, 60*time.Second, 200*time.Millisecond)
	require.Equal(t, lifecycle.StateLinked, st.State)
	for _, e := range st.Events[1:] {
		require.Equal(t, events.FromReconcile, e.Source, "%+v", e)
		if e.Outcome != lifecycle.OutcomeApplied {
			require.Equal(t, events.JobStatusChanged, e.Type, "%+v", e)
			require.Contains(t, e.Detail, "is not mapped")
		}
	}
	require.Equal(t, "Accepted", st.SecondaryStatus)
	require.NotEmpty(t, st.PrimaryStatus)
	require.Equal(t, []string{"SACC", "APPT"}, historyCodes(s.job("acme", job.JobRef)), "each fact written once")
	require.Len(t, s.job("acme", job.JobRef).Documents, 2, "acme's own and fixit's copy")
	require.Len(t, s.job("fixit", fx).Documents, 2, "fixit's own and acme's copy")
	recorded := len(st.Events)

	// The lost webhooks arrive after all: each is the same fact again.
	for _, system := range []string{"acme", "fixit"} {
		do(t, http.MethodDelete, s.simURL+"/"+system+"/sim/faults", nil, nil, nil)
	}
	for _, ev := range lost {
		system := "acme"
		if strings.Contains(ev.JobRef, "FX") {
			system = "fixit"
		}
		require.Equal(t, http.StatusAccepted, do(t, http.MethodPost, s.simURL+"/"+system+"/sim/dropped/"+ev.ID+"/deliver", nil, nil, nil))
	}
	st = s.settle(job.JobRef, recorded+len(lost))
	for _, e := range st.Events[recorded:] {
		require.Equal(t, lifecycle.OutcomeDuplicate, e.Outcome, "%+v", e)
		require.Contains(t, e.Detail, "already known")
	}
	require.Equal(t, []string{"SACC", "APPT"}, historyCodes(s.job("acme", job.JobRef)))

	// Nothing is missing any more: the link is asked (a query) and not
	// offered anything, so its history does not grow either.
	length := func() int64 {
		d, err := devServer.Client().DescribeWorkflowExecution(context.Background(), workflows.WorkflowID("acme-fixit", job.JobRef), "")
		require.NoError(t, err)
		return d.WorkflowExecutionInfo.GetHistoryLength()
	}
	before := length()
	r = s.starter(nil, "reconcile", "acme-fixit", job.JobRef)
	require.Zero(t, r.code, "%s", r)
	require.Contains(t, r.stdout, "0 missing")
	st, _ = s.linkState("acme-fixit", job.JobRef)
	require.Len(t, st.Events, recorded+len(lost), "a reconciliation that finds nothing records nothing")
	require.Equal(t, before, length(), "and writes nothing to the link's history")
}

// TestReconciliationPutsALinkWhoseJobVanishedInNeedsAttention: the primary
// job is deleted; the next reconciliation blocks the link, naming it.
func TestReconciliationPutsALinkWhoseJobVanishedInNeedsAttention(t *testing.T) {
	s := newStack(t, "RV")
	job := s.createAcmeJob("SITE-001", "CON-001", [2]string{"PLB001", "1"})
	s.assign("acme", job.Activities[0].ID, "7")
	s.settle(job.JobRef, 1)

	require.Equal(t, http.StatusNoContent, do(t, http.MethodDelete, s.simURL+"/acme/sim/jobs/"+job.JobRef, nil, nil, nil))
	r := s.starter(nil, "reconcile", "acme-fixit", job.JobRef)
	require.Zero(t, r.code, "%s", r)

	var st lifecycle.LinkState
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		st, _ = s.linkState("acme-fixit", job.JobRef)
		assert.Equal(c, lifecycle.StateNeedsAttention, st.State)
	}, 30*time.Second, 200*time.Millisecond)
	require.Contains(t, st.LastError, fmt.Sprintf("primary job %s no longer exists in acme", job.JobRef))
	require.Contains(t, st.LastError, "restore the job and retry, or unlink")

	// Reconciling again does not pile up: still one blocked check.
	r = s.starter(nil, "reconcile", "acme-fixit", job.JobRef)
	require.Zero(t, r.code, "%s", r)
	require.Contains(t, r.stdout, "0 missing")
}
