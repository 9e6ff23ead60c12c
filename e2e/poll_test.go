//go:build integration

package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/o2o-sync/o2o/events"
	"github.com/o2o-sync/o2o/lifecycle"
	"github.com/o2o-sync/o2o/simulator"
	"github.com/o2o-sync/o2o/workflows"
)

// newPollStack is newStackWith with the simulator's seed edited as well
// (a system in poll mode, the job events its workflow records), and the
// poll schedules the stack's worker creates deleted when the test ends.
func newPollStack(t *testing.T, prefix string, seedTweak func(*simulator.Seed), cfgTweak func([]byte) []byte) *stack {
	t.Helper()
	seed, err := simulator.LoadSeed("../dev/simulator.yaml")
	require.NoError(t, err)
	seedTweak(&seed)
	cfg, err := os.ReadFile("../o2o.example.yaml")
	require.NoError(t, err)
	// As newStackWith: the shared reconciliation schedule never fires, so
	// what the test sees is the poll's doing.
	cfg = bytes.Replace(cfg, []byte("    closeAfter: 72h\n"), []byte("    closeAfter: 72h\n    reconcileEvery: 8760h\n"), 1)
	s := newStackFrom(t, prefix, seed, cfgTweak(cfg))
	// Registered after the stack's processes, so it runs before they stop:
	// no poll fires into the next test.
	t.Cleanup(func() {
		for _, system := range []string{"acme", "fixit"} {
			_ = devServer.Client().ScheduleClient().GetHandle(context.Background(), workflows.PollScheduleID(system)).Delete(context.Background())
		}
	})
	return s
}

// replaceOnce edits one line of the configuration, which must be there once.
func replaceOnce(t *testing.T, cfg []byte, old, new string) []byte {
	t.Helper()
	require.Equal(t, 1, bytes.Count(cfg, []byte(old)), old)
	return bytes.Replace(cfg, []byte(old), []byte(new), 1)
}

// primarySide is what a secondary's changes left in the primary job.
type primarySide struct {
	// Events are its job events: code and note (without O2O's reference,
	// which names the causing event, and with the linked job's ref, which
	// differs between stacks, as {fx}).
	Events [][2]string
	// Documents are its documents copied from the secondary.
	Documents [][3]string
}

var markerRE = regexp.MustCompile(`\s*\[O2O ref [A-Z0-9]+\]$`)

// secondaryChanges runs the same life in any stack: an assignment (acme's
// webhook) links the job; then, in fixit, the job is accepted, an
// appointment booked and a document uploaded, each waited for in acme. It
// returns what acme holds afterwards.
func secondaryChanges(t *testing.T, s *stack) (primarySide, string, lifecycle.LinkState) {
	job := s.createAcmeJob("SITE-001", "CON-001", [2]string{"PLB001", "2"})
	s.assign("acme", job.Activities[0].ID, "7")
	ref := job.JobRef
	fx := s.settle(ref, 1).SecondaryJobRef

	waitAcme := func(what string, ok func(simulator.Job) bool) {
		require.EventuallyWithT(t, func(c *assert.CollectT) {
			assert.True(c, ok(s.job("acme", ref)), "acme has %s", what)
		}, 60*time.Second, 200*time.Millisecond)
	}
	s.act("fixit", http.MethodPost, "/jobs/"+fx+"/status", map[string]string{"status": "Accepted"})
	waitAcme("the acceptance", func(j simulator.Job) bool { return len(j.History) == 1 })
	start := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	s.act("fixit", http.MethodPost, "/jobs/"+fx+"/appointments", map[string]string{
		"start": start.Format(time.RFC3339), "end": start.Add(2 * time.Hour).Format(time.RFC3339)})
	waitAcme("the appointment", func(j simulator.Job) bool { return len(j.History) == 2 })
	photo := bytes.Repeat([]byte{0xFF, 0xD8, 0x42}, 5000)
	s.upload("fixit", fx, "Site Photos", "after.jpg", photo)
	waitAcme("the photo", func(j simulator.Job) bool { return len(j.Documents) == 1 })

	var out primarySide
	acme := s.job("acme", ref)
	for _, h := range acme.History {
		require.Equal(t, "o2o-api", h.AddedBy)
		note := strings.ReplaceAll(markerRE.ReplaceAllString(h.Note, ""), fx, "{fx}")
		out.Events = append(out.Events, [2]string{h.Code, note})
	}
	for _, d := range acme.Documents {
		out.Documents = append(out.Documents, [3]string{d.FileName, d.Category, d.SHA256})
	}
	// The copy is in acme before its link records it (the activity's
	// completion, then a workflow task): wait for the record.
	var st lifecycle.LinkState
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		st, _ = s.linkState("acme-fixit", ref)
		recorded := slices.ContainsFunc(st.Events, func(e lifecycle.EventRecord) bool {
			return e.Type == events.DocumentUploaded && e.Outcome == lifecycle.OutcomeApplied
		})
		assert.True(c, recorded && st.Pending == 0, "the link has recorded the copy: %+v", st.Events)
	}, 60*time.Second, 150*time.Millisecond)
	return out, ref, st
}

// reconciliations counts the reconciliations of one job started so far
// (StartReconcile's workflow id, one run each).
func reconciliations(t *testing.T, primaryJobRef string) int {
	t.Helper()
	resp, err := devServer.Client().ListWorkflow(context.Background(), &workflowservice.ListWorkflowExecutionsRequest{
		Query: fmt.Sprintf("WorkflowId = 'o2o-reconcile-now:acme-fixit:%s'", primaryJobRef)})
	require.NoError(t, err)
	return len(resp.Executions)
}

// TestPollOnlySecondaryMatchesTheWebhookRun: fixit sends no webhooks at
// all (events: poll in the simulator and in O2O); its workflow records a
// job event on a status change, an appointment change and a document
// upload, and O2O polls jobEventsXML every 2 s. The acceptance, the
// appointment booked and the document uploaded reach acme exactly as in
// the run where fixit sends webhooks: the same job events (code and note),
// the same document copy. Each change is found by a poll and applied once,
// recorded with source reconcile; later polls, reading the overlap again,
// start nothing more.
func TestPollOnlySecondaryMatchesTheWebhookRun(t *testing.T) {
	var byWebhook, byPoll primarySide
	t.Run("webhooks", func(t *testing.T) {
		byWebhook, _, _ = secondaryChanges(t, newStack(t, "PW"))
	})
	t.Run("poll", func(t *testing.T) {
		s := newPollStack(t, "PP", func(seed *simulator.Seed) {
			fixit := &seed.Systems[1]
			require.Equal(t, "fixit", fixit.Name)
			fixit.Events = simulator.EventsPoll
			fixit.WorkflowEvents = simulator.WorkflowEvents{StatusChanged: "STATUS", Appointment: "APPTCH", DocumentUploaded: "DOCUP"}
		}, func(cfg []byte) []byte {
			return replaceOnce(t, cfg, "    webhookSecretsEnv: O2O_FIXIT_WEBHOOK_SECRETS\n",
				"    webhookSecretsEnv: O2O_FIXIT_WEBHOOK_SECRETS\n    events: poll\n    poll: {every: 2s, eventIds: [211, 212, 213], overlap: 1m}\n")
		})
		var ref string
		var st lifecycle.LinkState
		byPoll, ref, st = secondaryChanges(t, s)

		// fixit sent nothing; every fact came from a reconciliation.
		for _, ev := range s.sim.Outbox("fixit") {
			require.Equal(t, simulator.StateRecorded, ev.State, "%+v", ev)
		}
		var fromFixit []lifecycle.EventRecord
		for _, e := range st.Events {
			if e.Direction == "secondaryToPrimary" && e.Outcome == lifecycle.OutcomeApplied {
				fromFixit = append(fromFixit, e)
				require.Equal(t, events.FromReconcile, e.Source, "%+v", e)
			}
		}
		require.Len(t, fromFixit, 3, "acceptance, appointment, photo: %+v", st.Events)
		require.Equal(t, []events.Type{events.JobStatusChanged, events.AppointmentCreated, events.DocumentUploaded},
			[]events.Type{fromFixit[0].Type, fromFixit[1].Type, fromFixit[2].Type})

		// One reconciliation per change, and no more however often the
		// overlap is read again.
		n := reconciliations(t, ref)
		require.GreaterOrEqual(t, n, 3)
		time.Sleep(6 * time.Second) // three more polls
		require.Equal(t, n, reconciliations(t, ref), "the overlap's events, read again, start nothing")
		after, _ := s.linkState("acme-fixit", ref)
		require.Equal(t, len(st.Events), len(after.Events))
		require.Len(t, s.job("acme", ref).History, 2)

		// The schedule is there, for an operator to pause or trigger.
		d, err := devServer.Client().ScheduleClient().GetHandle(context.Background(), workflows.PollScheduleID("fixit")).Describe(context.Background())
		require.NoError(t, err)
		require.NotEmpty(t, d.Info.RecentActions)
	})
	require.Equal(t, byWebhook, byPoll, "the primary holds the same job events and document either way")
	require.Len(t, byPoll.Events, 2)
	require.Equal(t, "SACC", byPoll.Events[0][0])
	require.Equal(t, "APPT", byPoll.Events[1][0])
	require.Len(t, byPoll.Documents, 1)
}

// TestDiscoveryStartsTheLinkOfAnAssignmentWithNoWebhook: acme sends no
// webhooks; its workflow records job event ASSIGN (id 110) when an
// activity is assigned, and the link's discovery names it. An assignment
// to the link's team creates the linked job after a poll, started exactly
// as the webhook would have started it; an assignment to another team
// starts nothing; a second activity assigned later joins the linked job;
// nothing is started twice however often the overlap is read again.
func TestDiscoveryStartsTheLinkOfAnAssignmentWithNoWebhook(t *testing.T) {
	s := newPollStack(t, "PD", func(seed *simulator.Seed) {
		acme := &seed.Systems[0]
		require.Equal(t, "acme", acme.Name)
		acme.Events = simulator.EventsPoll
		acme.WorkflowEvents = simulator.WorkflowEvents{Assigned: "ASSIGN"}
	}, func(cfg []byte) []byte {
		cfg = replaceOnce(t, cfg, "    # events: webhook\n", "    events: poll\n    poll: {every: 2s, overlap: 1m}\n")
		return replaceOnce(t, cfg, "    reconcileEvery: 8760h\n", "    reconcileEvery: 8760h\n    discovery: {assignmentEventId: 110}\n")
	})
	job := s.createAcmeJob("SITE-001", "CON-001", [2]string{"PLB001", "2"}, [2]string{"PLB002", "1"})
	other := s.createAcmeJob("SITE-002", "CON-002", [2]string{"PLB002", "1"})
	s.assign("acme", other.Activities[0].ID, "8") // acme's in-house team
	s.assign("acme", job.Activities[0].ID, "7")

	st := s.waitState("acme-fixit", job.JobRef, lifecycle.StateLinked, 1)
	require.Len(t, st.Events, 1)
	e := st.Events[0]
	require.Equal(t, "reconcile:assigned:primary:"+job.Activities[0].ID+":7", e.ID)
	require.Equal(t, events.ActivityAssigned, e.Type)
	require.Equal(t, events.FromReconcile, e.Source)
	require.Equal(t, lifecycle.OutcomeApplied, e.Outcome)
	require.Equal(t, []string{job.Activities[0].ID}, st.LinkedActivities)
	fx := s.secondaryJobs(job.JobRef)
	require.Len(t, fx, 1)
	require.Equal(t, st.SecondaryJobRef, fx[0].JobRef)
	for _, ev := range s.sim.Outbox("acme") {
		require.Equal(t, simulator.StateRecorded, ev.State, "acme sent no webhook: %+v", ev)
	}

	// A second activity assigned later: the running link is reconciled,
	// and the activity joins the linked job.
	s.assign("acme", job.Activities[1].ID, "7")
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.Len(c, s.job("fixit", st.SecondaryJobRef).Activities, 2)
	}, 60*time.Second, 200*time.Millisecond)

	// The reconciliation also told the link both jobs' statuses (not
	// mapped: skipped); the assignments are each there once. The second
	// line is in fixit before its link records it: wait for the record.
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		st, _ = s.linkState("acme-fixit", job.JobRef)
		applied := 0
		for _, e := range st.Events {
			if e.Type == events.ActivityAssigned && e.Outcome == lifecycle.OutcomeApplied {
				applied++
			}
		}
		assert.True(c, applied == 2 && st.Pending == 0, "both assignments recorded: %+v", st.Events)
	}, 60*time.Second, 150*time.Millisecond)
	n := len(st.Events)
	time.Sleep(6 * time.Second) // three more polls, reading the same assignments again
	st, _ = s.linkState("acme-fixit", job.JobRef)
	require.Len(t, st.Events, n, "nothing more: %+v", st.Events)
	var assigned []string
	for _, e := range st.Events {
		if e.Type == events.ActivityAssigned {
			require.Equal(t, lifecycle.OutcomeApplied, e.Outcome, "%+v", e)
			assigned = append(assigned, e.ID)
		}
	}
	require.Equal(t, []string{"reconcile:assigned:primary:" + job.Activities[0].ID + ":7", "reconcile:assigned:primary:" + job.Activities[1].ID + ":7"}, assigned)
	require.Len(t, s.secondaryJobs(job.JobRef), 1, "never a second linked job")
	_, err := devServer.Client().DescribeWorkflowExecution(context.Background(), workflows.WorkflowID("acme-fixit", other.JobRef), "")
	var nf *serviceerror.NotFound
	require.ErrorAs(t, err, &nf, "no link for an assignment to another team")
}
