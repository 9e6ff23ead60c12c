package lifecycle

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/o2o-sync/o2o/events"
	"github.com/o2o-sync/o2o/rules"
)

func reconciled(ev events.Event, id string) events.Event {
	ev.ID, ev.Source = "reconcile:"+id, events.FromReconcile
	return ev
}

func document(id string, side events.Side, docID string) events.Event {
	ev := status(id, side, "", t0)
	ev.Type, ev.Status = events.DocumentUploaded, nil
	ev.Document = &events.Document{DocumentID: docID, FileName: "cert.pdf", Category: "Gas Certificate"}
	return ev
}

// linkedHarness is a link whose linked job exists.
func linkedHarness(t *testing.T) *harness {
	h := newHarness(t, Options{Compat: CompatCurrent})
	h.deliver(assignment("a0", "137001", "7", t0))
	h.run()
	require.Equal(t, StateLinked, h.m.st.State)
	h.m.TakeRecords()
	return h
}

func TestAFactLearnedFromAWebhookIsNotOfferedAgain(t *testing.T) {
	h := linkedHarness(t)
	h.deliver(document("w1", events.Primary, "D1"))
	h.deliver(status("w2", events.Secondary, "Accepted", t0.Add(time.Minute)))
	h.run()
	h.m.TakeRecords()

	n := h.m.Offer(h.tick(), []events.Event{
		reconciled(document("", events.Primary, "D1"), "d1"),
		reconciled(status("", events.Secondary, "Accepted", t0.Add(time.Hour)), "s"),
		reconciled(assignment("", "137001", "7", t0), "a"),
	})
	require.Zero(t, n, "every fact is known")
	require.Zero(t, h.m.State().Pending)
	require.Empty(t, h.m.TakeRecords(), "known facts leave no record")
}

func TestAFactFoundByReconciliationIsAppliedOnceAndTheLateWebhookIsADuplicate(t *testing.T) {
	h := linkedHarness(t)
	doc := reconciled(document("", events.Primary, "D7"), "document:primary:D7")
	n := h.m.Offer(h.tick(), []events.Event{doc, doc})
	require.Equal(t, 1, n, "offered twice, queued once")
	require.Zero(t, h.m.Offer(h.tick(), []events.Event{doc}), "already queued")
	h.run()
	recs := h.m.TakeRecords()
	require.Len(t, recs, 1)
	require.Equal(t, OutcomeApplied, recs[0].Outcome)
	require.Equal(t, events.FromReconcile, recs[0].Source)

	// The webhook that was lost arrives late: the same fact.
	h.deliver(document("msg_late", events.Primary, "D7"))
	h.run()
	recs = h.m.TakeRecords()
	require.Len(t, recs, 1)
	require.Equal(t, OutcomeDuplicate, recs[0].Outcome)
	require.Contains(t, recs[0].Detail, "already known")
}

func TestStatusesAreFactsByValueAndOlderOnesAreNotSentOn(t *testing.T) {
	h := linkedHarness(t)
	h.deliver(status("s1", events.Secondary, "Accepted", t0.Add(time.Hour)))
	h.run()
	require.Equal(t, "Accepted", h.m.st.SecondaryStatus)

	// A redelivered status under a new id, and the same status read back.
	h.deliver(status("s1-again", events.Secondary, "accepted", t0.Add(2*time.Hour)))
	require.Zero(t, h.m.Offer(h.tick(), []events.Event{reconciled(status("", events.Secondary, "Accepted", t0.Add(3*time.Hour)), "r")}))
	// A status the link passed long ago, delivered late.
	h.deliver(status("s0", events.Secondary, "In Progress", t0.Add(30*time.Minute)))
	h.run()
	recs := h.m.TakeRecords()
	require.Len(t, recs, 3)
	byID := map[string]EventRecord{}
	for _, r := range recs {
		byID[r.ID] = r
	}
	require.Equal(t, OutcomeDuplicate, byID["s1-again"].Outcome)
	require.Equal(t, OutcomeSkipped, byID["s0"].Outcome)
	require.Contains(t, byID["s0"].Detail, "older than the status")
	require.Equal(t, "Accepted", h.m.st.SecondaryStatus, "a late, older status does not replace the known one")
}

func TestAJobGoneBlocksTheLinkOnceUntilFoundAgain(t *testing.T) {
	h := linkedHarness(t)
	drift := reconciled(events.Event{System: "acme", Side: events.Primary, Type: events.JobsDrifted, OccurredAt: t0,
		Drift: &events.Drift{Reason: "primary job AC000001 no longer exists in acme"}}, "drift")
	require.Equal(t, 1, h.m.Offer(h.tick(), []events.Event{drift}))
	h.begin()
	require.Equal(t, "checkJobs", string(h.m.Command().Action))
	h.m.Fail(h.tick(), "primary job AC000001 no longer exists in acme: O2O cannot repair this")
	require.Equal(t, StateNeedsAttention, h.m.st.State)
	require.Contains(t, h.m.st.LastError, "no longer exists")

	// The next reconciliation finds it still gone: nothing more queues.
	again := drift
	again.ID = "reconcile:drift-2"
	require.Zero(t, h.m.Offer(h.tick(), []events.Event{again}))

	// Found again (say, restored) and retried: the link goes on.
	h.mustOperate(ActionRetry)
	h.begin()
	h.m.Finish(h.tick(), Applied())
	require.Equal(t, StateLinked, h.m.st.State)
	require.Empty(t, h.m.st.LastError)
}

func TestOlderRunsRefuseFacts(t *testing.T) {
	m := New("acme-fixit", "AC000001", t0, Options{Compat: CompatMachine})
	require.ErrorContains(t, m.ValidateOffer(), "older than facts")
	require.NoError(t, New("acme-fixit", "AC000001", t0, Options{Compat: CompatFacts}).ValidateOffer())
}

func TestANudgeReadsTheJobsAndQueuesWhatTheLinkDidNotKnow(t *testing.T) {
	h := linkedHarness(t)
	h.deliver(document("w1", events.Primary, "D1"))
	h.run()
	h.m.TakeRecords()

	nudge := status("n1", events.Secondary, "", t0.Add(time.Hour))
	nudge.Type, nudge.Status = events.Nudge, nil
	h.deliver(nudge)
	h.begin()
	require.Equal(t, "readFacts", string(h.m.Command().Action))
	secondaryDoc := reconciled(document("", events.Secondary, "D9"), "d9")
	secondaryDoc.Document.Category = "Certificates"
	h.m.Finish(h.tick(), Result{Outcome: OutcomeApplied, Facts: []events.Event{
		reconciled(document("", events.Primary, "D1"), "d1"),                           // known
		reconciled(status("", events.Secondary, "Accepted", t0.Add(2*time.Hour)), "s"), // new
		secondaryDoc, // new
	}})
	require.Equal(t, 2, h.m.State().Pending, "the two facts the link did not know")
	h.run()
	recs := h.m.TakeRecords()
	require.Len(t, recs, 3)
	require.Equal(t, "n1", recs[0].ID)
	require.Contains(t, recs[0].Detail, "3 facts found")
	for _, r := range recs[1:] {
		require.Equal(t, OutcomeApplied, r.Outcome, r.Detail)
		require.Equal(t, events.FromReconcile, r.Source)
	}
}

func TestUnknownNamesTheNewFactsAndChangesNothing(t *testing.T) {
	h := linkedHarness(t)
	h.deliver(document("w1", events.Primary, "D1"))
	h.run()
	before := h.m.Carry()
	facts := []events.Event{
		reconciled(document("", events.Primary, "D1"), "d1"),
		reconciled(status("", events.Secondary, "Accepted", t0.Add(time.Hour)), "s"),
	}
	require.Equal(t, []int{1}, h.m.Unknown(facts))
	require.Equal(t, before, h.m.Carry(), "a question changes nothing")
}

func TestNextStepSaysWhatAnOperatorCanDo(t *testing.T) {
	h := newHarness(t, Options{Compat: CompatCurrent})
	require.Empty(t, h.m.State().NextStep, "nothing processed yet: nothing to do")
	h.deliver(assignment("a1", "137001", "7", t0))
	h.begin()
	h.m.Fail(h.tick(), "fixit: site SITE-003 missing")
	require.Contains(t, h.m.State().NextStep, "retry")
	h.mustOperate(ActionSkip)
	require.Contains(t, h.m.State().NextStep, "starter link acme-fixit AC000001 ACTIVITY_ID", "the creating event was skipped: Linking, nothing waiting")
	h.mustOperate(ActionPause)
	require.Contains(t, h.m.State().NextStep, "resume")
}

// TestALineMissingFromTheLinkedJobIsAddedEvenWhereTheLinkBelievesItThere:
// the link has linked activity 137001 (issue 17: a retried creation once
// recorded a line the linked job did not get); a reconciliation reads that
// the linked job has no line for it. The assignment alone is a known fact,
// but "its line is missing" is a fact of its own: queued, decided as an
// add, applied once; offered again it is known.
func TestALineMissingFromTheLinkedJobIsAddedEvenWhereTheLinkBelievesItThere(t *testing.T) {
	h := linkedHarness(t)
	require.Equal(t, []string{"137001"}, h.m.st.LinkedActivities)
	missing := assignment("", "137001", "7", t0)
	missing.Assignment.LineMissing = true
	missing = reconciled(missing, rules.FactKeys(missing)[0])

	require.Zero(t, h.m.Offer(h.tick(), []events.Event{reconciled(assignment("", "137001", "7", t0), "a")}), "the assignment is known")
	require.Equal(t, 1, h.m.Offer(h.tick(), []events.Event{missing, missing}), "the missing line is not")
	h.begin()
	cmd := h.m.Command()
	require.Equal(t, rules.AddActivities, cmd.Action)
	require.Equal(t, []string{"137001"}, cmd.ActivityIDs)
	rec := h.finish()
	require.Equal(t, OutcomeApplied, rec.Outcome)
	require.Equal(t, events.FromReconcile, rec.Source)

	require.Zero(t, h.m.Offer(h.tick(), []events.Event{missing}), "applied once")
	require.Equal(t, []string{"137001"}, h.m.st.LinkedActivities)
}

// A missing line of an activity the link has no record of is simply its
// assignment (issue 17): the same fact, with the same identity, as its
// webhook — dropped while that webhook is queued, applied once otherwise.
func TestALineMissingForAnAssignmentTheLinkDoesNotKnowIsTheAssignment(t *testing.T) {
	h := linkedHarness(t)
	missing := assignment("", "137002", "7", t0)
	missing.Assignment.LineMissing = true
	missing = reconciled(missing, rules.FactKeys(missing)[0])

	h.m.paused = true // the webhook waits in the queue
	h.deliver(assignment("w2", "137002", "7", t0))
	require.Empty(t, h.m.Unknown([]events.Event{missing}), "its webhook is queued")
	require.Zero(t, h.m.Offer(h.tick(), []events.Event{missing}))
	h.m.paused = false
	h.m.queue = nil

	require.Equal(t, []int{0}, h.m.Unknown([]events.Event{missing}))
	require.Equal(t, 1, h.m.Offer(h.tick(), []events.Event{missing}))
	h.run()
	recs := h.m.TakeRecords()
	require.Len(t, recs, 1)
	require.Equal(t, rules.FactID("assigned:primary:137002:7"), recs[0].ID, "the assignment's own identity")
	require.Equal(t, OutcomeApplied, recs[0].Outcome)
	require.Contains(t, h.m.st.LinkedActivities, "137002")
	// Read missing again after the link added it: now a repair, once.
	require.Equal(t, 1, h.m.Offer(h.tick(), []events.Event{missing}))
	h.run()
	recs = h.m.TakeRecords()
	require.Len(t, recs, 1)
	require.Equal(t, rules.FactID(rules.LineMissingKey("137002", "7")), recs[0].ID)
	require.Zero(t, h.m.Offer(h.tick(), []events.Event{missing}), "repaired once")
}
