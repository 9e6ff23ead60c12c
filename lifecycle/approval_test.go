package lifecycle

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/o2o-sync/o2o/events"
	"github.com/o2o-sync/o2o/rules"
)

// approvalHarness is a linked link whose secondary's documents need
// approval (with a job event in the primary when one is withdrawn).
func approvalHarness(t *testing.T) *harness {
	h := newHarness(t, Options{Compat: CompatCurrent})
	h.rules.Config.DocumentApproval.SecondaryToPrimary = "required"
	h.rules.Config.DocumentApproval.WithdrawnEvents.SecondaryToPrimary = "SWDRAW"
	h.deliver(assignment("a0", "137001", "7", t0))
	h.run()
	h.m.TakeRecords()
	return h
}

func secondaryDocument(id string, t events.Type, docID, reason string, at time.Time) events.Event {
	ev := status(id, events.Secondary, "", at)
	ev.Type, ev.Status = t, nil
	ev.Document = &events.Document{DocumentID: docID, FileName: "after.jpg", Category: "Site Photos", Reason: reason}
	return ev
}

// step applies the next event and returns its command and record.
func (h *harness) step() (rules.Command, EventRecord) {
	h.t.Helper()
	if h.begin(); h.m.busy.dup != "" {
		return rules.Command{}, h.m.Finish(h.tick(), Result{})
	}
	cmd := h.m.Command()
	return cmd, h.m.Finish(h.tick(), result(cmd))
}

func TestAnUploadIsHeldThenCopiedAtApprovalOnce(t *testing.T) {
	h := approvalHarness(t)
	h.deliver(secondaryDocument("up", events.DocumentUploaded, "D1", "", t0.Add(time.Minute)))
	cmd, rec := h.step()
	require.Equal(t, rules.HoldDocument, cmd.Action)
	require.Equal(t, OutcomeSkipped, rec.Outcome)
	require.Contains(t, rec.Detail, "held until approved in fixit")
	require.Len(t, h.m.State().HeldDocuments, 1)
	require.Equal(t, HeldDocument{Side: events.Secondary, System: "fixit", JobRef: "FX000001", DocumentID: "D1", FileName: "after.jpg",
		Category: "Site Photos", Since: t0.Add(time.Minute), EventID: "up"}, h.m.State().HeldDocuments[0])

	h.deliver(secondaryDocument("ok", events.DocumentApproved, "D1", "", t0.Add(time.Hour)))
	cmd, rec = h.step()
	require.Equal(t, rules.CopyDocument, cmd.Action)
	require.Equal(t, OutcomeApplied, rec.Outcome)
	require.Empty(t, h.m.State().HeldDocuments)

	// Approved again (a second click): the same fact.
	h.deliver(secondaryDocument("ok2", events.DocumentApproved, "D1", "", t0.Add(2*time.Hour)))
	_, rec = h.step()
	require.Equal(t, OutcomeDuplicate, rec.Outcome)
}

func TestApprovedBeforeTheUploadReachedO2OIsCopiedOnce(t *testing.T) {
	h := approvalHarness(t)
	h.deliver(secondaryDocument("ok", events.DocumentApproved, "D2", "", t0.Add(time.Hour)))
	cmd, rec := h.step()
	require.Equal(t, rules.CopyDocument, cmd.Action)
	require.Equal(t, OutcomeApplied, rec.Outcome)
	h.deliver(secondaryDocument("up", events.DocumentUploaded, "D2", "", t0.Add(2*time.Hour)))
	s := h.m.Next(false)
	require.True(t, s.Duplicate, "the upload reports a document already copied")
}

func TestARejectedDocumentNeverTravelsAndAWithdrawnApprovalIsSaid(t *testing.T) {
	h := approvalHarness(t)
	h.deliver(secondaryDocument("up", events.DocumentUploaded, "D3", "", t0.Add(time.Minute)))
	h.step()
	h.deliver(secondaryDocument("no", events.DocumentRejected, "D3", "blurred", t0.Add(time.Hour)))
	cmd, rec := h.step()
	require.Equal(t, rules.DropDocument, cmd.Action)
	require.Equal(t, OutcomeSkipped, rec.Outcome)
	require.Equal(t, "rejected in fixit: reason: blurred; not copied", rec.Detail)
	require.Empty(t, h.m.State().HeldDocuments)

	// Rejected before its upload reached O2O: the upload is not held.
	h.deliver(secondaryDocument("no4", events.DocumentRejected, "D4", "", t0.Add(time.Hour)))
	h.step()
	h.deliver(secondaryDocument("up4", events.DocumentUploaded, "D4", "", t0.Add(2*time.Hour)))
	_, rec = h.step()
	require.Contains(t, rec.Detail, "rejected in fixit before its upload reached O2O")

	// Copied, then the approval is withdrawn: the copy stays, the primary is told.
	h.deliver(secondaryDocument("ok5", events.DocumentApproved, "D5", "", t0.Add(3*time.Hour)))
	h.step()
	h.deliver(secondaryDocument("no5", events.DocumentRejected, "D5", "wrong job", t0.Add(4*time.Hour)))
	cmd, rec = h.step()
	require.Equal(t, rules.AddJobEvent, cmd.Action)
	require.Equal(t, "SWDRAW", cmd.EventCode)
	require.Equal(t, events.Primary, cmd.Target)
	require.Contains(t, cmd.Note, "Approval of document after.jpg withdrawn in fixit (reason: wrong job); the copy O2O made earlier stays")
	require.Equal(t, OutcomeApplied, rec.Outcome)
}

func TestOperatorsReleaseOrDropAHeldDocument(t *testing.T) {
	h := approvalHarness(t)
	h.deliver(secondaryDocument("up1", events.DocumentUploaded, "D1", "", t0.Add(time.Minute)))
	h.deliver(secondaryDocument("up2", events.DocumentUploaded, "D2", "", t0.Add(2*time.Minute)))
	h.run()
	require.Len(t, h.m.State().HeldDocuments, 2)

	require.ErrorContains(t, h.m.Validate(ActionRelease, OperatorRequest{By: "ops", DocumentID: "D1"}), "needs a reason")
	require.ErrorContains(t, h.m.Validate(ActionDrop, OperatorRequest{By: "ops", DocumentID: "D9", Reason: "x"}), "no such document is held")
	h.m.Operate(h.tick(), ActionRelease, OperatorRequest{By: "ops", DocumentID: "D1", Reason: "the client approved by phone"})
	require.ErrorContains(t, h.m.Validate(ActionRelease, OperatorRequest{By: "ops", DocumentID: "D1", Reason: "again"}), "already released")
	h.m.Operate(h.tick(), ActionDrop, OperatorRequest{By: "ops", DocumentID: "D2", Reason: "duplicate photo"})
	cmd, rec := h.step()
	require.Equal(t, rules.CopyDocument, cmd.Action)
	require.Equal(t, "D1", cmd.Document.DocumentID)
	require.Equal(t, OutcomeApplied, rec.Outcome)
	require.Empty(t, h.m.State().HeldDocuments)

	// The dropped one is not copied, even when approved later.
	h.deliver(secondaryDocument("ok2", events.DocumentApproved, "D2", "", t0.Add(time.Hour)))
	h.deliver(secondaryDocument("up2-again", events.DocumentUploaded, "D2", "", t0.Add(time.Hour)))
	_, rec = h.step()
	require.Equal(t, "ok2", rec.ID)
	require.Equal(t, OutcomeSkipped, rec.Outcome)
	require.Contains(t, rec.Detail, "dropped by an operator")
	_, rec = h.step()
	require.Equal(t, OutcomeDuplicate, rec.Outcome, "its upload was seen before")
	require.Len(t, h.m.State().OperatorLog, 2)
}
