//go:build integration

package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"

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
	recordHistory(t, "reconcile-lost-webhooks-link", workflows.WorkflowID("acme-fixit", job.JobRef))
	recordHistory(t, "reconcile-run", "o2o-reconcile-now:acme-fixit:"+job.JobRef)
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

// jobLife plays one job's life after it is linked: each change is one fact
// a read can see (one status change per side, two appointments of which one
// is cancelled, a second activity assigned, a document each way), so that a
// reconciliation can find whatever webhook was lost.
func jobLife(s *stack, job simJob, fx string) {
	s.act("fixit", http.MethodPost, "/jobs/"+fx+"/status", map[string]string{"status": "Accepted"})
	start := time.Date(2026, 12, 10, 8, 0, 0, 0, time.UTC)
	s.act("fixit", http.MethodPost, "/jobs/"+fx+"/appointments", map[string]string{"start": start.Format(time.RFC3339), "end": start.Add(time.Hour).Format(time.RFC3339)})
	second := s.act("fixit", http.MethodPost, "/jobs/"+fx+"/appointments", map[string]string{"start": start.Add(48 * time.Hour).Format(time.RFC3339), "end": start.Add(49 * time.Hour).Format(time.RFC3339)})
	s.act("fixit", http.MethodPost, "/appointments/"+fmt.Sprint(second["appointmentId"])+"/cancel", map[string]string{"reason": "Tenant away"})
	s.assign("acme", job.Activities[1].ID, "7")
	s.upload("acme", job.JobRef, "Gas Certificate", "cp12.pdf", []byte("%PDF-1.7 gas safety record"))
	s.upload("fixit", fx, "Site Photos", "after.jpg", []byte("\xff\xd8\xff photo"))
	s.act("acme", http.MethodPost, "/jobs/"+job.JobRef+"/status", map[string]string{"status": "On Hold"})
}

// finalState is what a job life leaves in both systems and the link.
type finalState struct {
	AcmeCodes, FixitCodes, AcmeDocs, FixitDocs, FixitLines []string
	State                                                  lifecycle.State
	PrimaryStatus, SecondaryStatus                         string
	Applied                                                int
}

func (s *stack) finalState(job simJob, fx string) finalState {
	s.t.Helper()
	st, _ := s.linkState("acme-fixit", job.JobRef)
	a, f := s.job("acme", job.JobRef), s.job("fixit", fx)
	out := finalState{AcmeCodes: historyCodes(a), FixitCodes: historyCodes(f), State: st.State,
		PrimaryStatus: st.PrimaryStatus, SecondaryStatus: st.SecondaryStatus}
	for _, d := range a.Documents {
		out.AcmeDocs = append(out.AcmeDocs, d.Category+"/"+d.FileName)
	}
	for _, d := range f.Documents {
		out.FixitDocs = append(out.FixitDocs, d.Category+"/"+d.FileName)
	}
	for _, l := range f.Activities {
		out.FixitLines = append(out.FixitLines, l.Code)
	}
	for _, e := range st.Events {
		if e.Outcome == lifecycle.OutcomeApplied {
			out.Applied++
		}
	}
	// Facts found by a read come in a different order than webhooks.
	for _, l := range [][]string{out.AcmeCodes, out.FixitCodes, out.AcmeDocs, out.FixitDocs, out.FixitLines} {
		slices.Sort(l)
	}
	return out
}

// settled waits until the link has nothing pending and has applied n events.
func (s *stack) settledApplied(ref string, n int) {
	s.t.Helper()
	require.EventuallyWithT(s.t, func(c *assert.CollectT) {
		st, _ := s.linkState("acme-fixit", ref)
		applied := 0
		for _, e := range st.Events {
			if e.Outcome == lifecycle.OutcomeApplied {
				applied++
			}
		}
		assert.Equal(c, n, applied)
		assert.Zero(c, st.Pending)
	}, 60*time.Second, 200*time.Millisecond)
}

// TestWithAThirdOfWebhooksLostOneReconciliationReachesTheSameState plays the
// same job life twice: every webhook delivered, and 30% of them lost
// (seeded, so the run is repeatable) with one reconciliation afterwards.
// Both end in the same state, each fact applied exactly once.
func TestWithAThirdOfWebhooksLostOneReconciliationReachesTheSameState(t *testing.T) {
	const facts = 1 + 8 // the assignment, then the life's eight facts that write something
	// Each stack in its own subtest: its worker must be gone before the next
	// one polls the shared task queue.
	run := func(prefix string, seed int) (out finalState) {
		t.Run(prefix, func(t *testing.T) { out = playLife(t, prefix, seed, facts) })
		return out
	}
	delivered := run("RW", 0)
	require.Equal(t, []string{"APCAN", "APPT", "APPT", "SACC"}, delivered.AcmeCodes)
	require.Equal(t, []string{"PHOLD"}, delivered.FixitCodes)
	for i, seed := range []int{11, 23, 42} { // three different thirds lost
		require.Equal(t, delivered, run("RL"+string(rune('A'+i)), seed), "seed %d", seed)
	}
}

// playLife links a job and plays its life; with a seed, 30% of the
// webhooks after linking are lost (seeded) and the job is reconciled once.
func playLife(t *testing.T, prefix string, seed, facts int) finalState {
	drop := seed != 0
	s := newStack(t, prefix)
	job := s.createAcmeJob("SITE-001", "CON-001", [2]string{"PLB001", "1"}, [2]string{"PLB002", "1"})
	s.assign("acme", job.Activities[0].ID, "7")
	fx := s.settle(job.JobRef, 1).SecondaryJobRef
	if drop {
		for i, system := range []string{"acme", "fixit"} {
			s.act(system, http.MethodPost, "/faults", map[string]any{"op": "deliver", "drop": 0.3, "seed": seed + i, "count": -1})
		}
	}
	jobLife(s, job, fx)
	if drop {
		lost := len(s.dropped("acme")) + len(s.dropped("fixit"))
		require.Positive(t, lost, "the seeded fault dropped nothing")
		t.Logf("%d webhooks lost", lost)
		time.Sleep(2 * time.Second) // what was delivered is applied
		r := s.starter(nil, "reconcile", "acme-fixit", job.JobRef)
		require.Zero(t, r.code, "%s", r)
		t.Log(strings.TrimSpace(r.stdout))
	}
	s.settledApplied(job.JobRef, facts)
	return s.finalState(job, fx)
}

// TestNudgesFromASystemWhosePayloadsAreNotTrusted: fixit is configured with
// trust: nudge, so O2O takes nothing from its webhooks but the job
// reference; each one makes the link read both jobs, and the facts it did
// not know are applied as usual.
func TestNudgesFromASystemWhosePayloadsAreNotTrusted(t *testing.T) {
	s := newStackWith(t, "RN", func(cfg []byte) []byte {
		return bytes.Replace(cfg, []byte("    webhookSecretsEnv: O2O_FIXIT_WEBHOOK_SECRETS\n"),
			[]byte("    webhookSecretsEnv: O2O_FIXIT_WEBHOOK_SECRETS\n    trust: nudge\n"), 1)
	})
	job := s.createAcmeJob("SITE-001", "CON-001", [2]string{"PLB001", "1"})
	s.assign("acme", job.Activities[0].ID, "7")
	fx := s.settle(job.JobRef, 1).SecondaryJobRef

	s.act("fixit", http.MethodPost, "/jobs/"+fx+"/status", map[string]string{"status": "Accepted"})
	s.settledApplied(job.JobRef, 3) // the assignment, the nudge's read, the status it found
	st, _ := s.linkState("acme-fixit", job.JobRef)
	var nudges, found int
	for _, e := range st.Events {
		switch {
		case e.Type == events.Nudge:
			nudges++
			require.Contains(t, e.Detail, "read both jobs")
		case e.Source == events.FromReconcile && e.Outcome == lifecycle.OutcomeApplied:
			found++
			require.Equal(t, events.JobStatusChanged, e.Type)
		}
	}
	require.Equal(t, 1, nudges)
	require.Equal(t, 1, found)
	require.Equal(t, []string{"SACC"}, historyCodes(s.job("acme", job.JobRef)))
}

// TestAReconciliationThatCannotReadCountsItAndBlocksNothing: acme answers
// 503 to every read; the run fails, plainly in the Web UI, naming the link
// it could not read, and the link goes on as before; the next run, with
// acme back, reads it.
func TestAReconciliationThatCannotReadCountsItAndBlocksNothing(t *testing.T) {
	s := newStack(t, "RF")
	job := s.createAcmeJob("SITE-001", "CON-001", [2]string{"PLB001", "1"})
	s.assign("acme", job.Activities[0].ID, "7")
	s.settle(job.JobRef, 1)

	s.act("acme", http.MethodPost, "/faults", map[string]any{"op": "job", "status": 503, "count": -1})
	r := s.starter(nil, "reconcile", "acme-fixit", job.JobRef)
	require.Equal(t, 1, r.code, "%s", r)
	require.Contains(t, r.stdout, "0 checked, 0 facts read, 0 missing and queued, 1 failed")
	require.Contains(t, r.stdout, "not read: "+job.JobRef+": acme")
	d, err := devServer.Client().DescribeWorkflowExecution(context.Background(), "o2o-reconcile-now:acme-fixit:"+job.JobRef, "")
	require.NoError(t, err)
	require.Equal(t, enumspb.WORKFLOW_EXECUTION_STATUS_FAILED, d.GetWorkflowExecutionInfo().GetStatus(), "the run shows it failed")
	st, _ := s.linkState("acme-fixit", job.JobRef)
	require.Equal(t, lifecycle.StateLinked, st.State, "a failed read blocks nothing")
	require.Empty(t, st.LastError)

	do(t, http.MethodDelete, s.simURL+"/acme/sim/faults", nil, nil, nil)
	r = s.starter(nil, "reconcile", "acme-fixit", job.JobRef)
	require.Zero(t, r.code, "%s", r)
	require.Contains(t, r.stdout, "0 failed")
}

// TestReconciliationPutsBackALineTheLinkedJobLacks: the link has linked
// both activities, but the linked job has lost one line (issue 17: a retried
// creation once recorded a line the job never got; here fixit's
// administrator deletes it, which sends no webhook). A reconciliation reads the linked job's
// lines, adds the missing one once, and a second finds nothing missing.
func TestReconciliationPutsBackALineTheLinkedJobLacks(t *testing.T) {
	s := newStack(t, "RL")
	job := s.createAcmeJob("SITE-001", "CON-001", [2]string{"PLB001", "1"}, [2]string{"PLB002", "1"})
	a, b := job.Activities[0].ID, job.Activities[1].ID
	s.assign("acme", a, "7")
	s.settle(job.JobRef, 1)
	s.assign("acme", b, "7")
	st := s.settle(job.JobRef, 2)
	require.ElementsMatch(t, []string{a, b}, st.LinkedActivities)
	fx := st.SecondaryJobRef
	// A first reconciliation teaches the link both jobs' statuses.
	r := s.starter(nil, "reconcile", "acme-fixit", job.JobRef)
	require.Zero(t, r.code, "%s", r)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		st, _ = s.linkState("acme-fixit", job.JobRef)
		assert.Zero(c, st.Pending)
		assert.NotEmpty(c, st.PrimaryStatus)
		assert.NotEmpty(c, st.SecondaryStatus)
	}, 60*time.Second, 200*time.Millisecond)
	known := len(st.Events)

	// fixit's administrator deletes b's line, which sends no webhook.
	bLine := ""
	for _, l := range s.job("fixit", fx).Activities {
		if l.ClientRef == b {
			bLine = l.ID
		}
	}
	require.NotEmpty(t, bLine)
	require.Equal(t, http.StatusNoContent, do(t, http.MethodDelete, s.simURL+"/fixit/sim/activities/"+bLine, nil, nil, nil))
	lines := func() []string {
		var refs []string
		for _, l := range s.job("fixit", fx).Activities {
			refs = append(refs, l.ClientRef)
		}
		return refs
	}
	require.Equal(t, []string{a}, lines())

	r = s.starter(nil, "reconcile", "acme-fixit", job.JobRef)
	require.Zero(t, r.code, "%s", r)
	require.Contains(t, r.stdout, " 1 missing and queued")
	st = s.settle(job.JobRef, known+1)
	added := st.Events[known]
	require.Equal(t, lifecycle.OutcomeApplied, added.Outcome, "%+v", added)
	require.Equal(t, events.FromReconcile, added.Source)
	require.Equal(t, events.ActivityAssigned, added.Type)
	require.ElementsMatch(t, []string{a, b}, lines(), "b's line is back, once")

	r = s.starter(nil, "reconcile", "acme-fixit", job.JobRef)
	require.Zero(t, r.code, "%s", r)
	require.Contains(t, r.stdout, " 0 missing")
	s.settle(job.JobRef, known+1)
	require.ElementsMatch(t, []string{a, b}, lines())
}
