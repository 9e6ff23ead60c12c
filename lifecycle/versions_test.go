package lifecycle

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/o2o-sync/o2o/config"
	"github.com/o2o-sync/o2o/events"
	"github.com/o2o-sync/o2o/rules"
)

// versionsHarness is a linked link with variations on.
func versionsHarness(t *testing.T) *harness {
	h := newHarness(t, Options{Compat: CompatCurrent})
	h.rules.Config.Versions.Enabled = true
	h.rules.Config.Versions.Events.PrimaryToSecondary = config.VersionEvents{Approved: "PVAPP", Rejected: "PVREJ", Cancelled: "PVCAN"}
	h.rules.Config.Versions.Events.SecondaryToPrimary = config.VersionEvents{Approved: "SVAPP", Rejected: "SVREJ", Cancelled: "SVCAN"}
	h.deliver(assignment("a0", "137001", "7", t0))
	h.run()
	h.m.TakeRecords()
	return h
}

func versionEvent(id string, side events.Side, t events.Type, v events.Version, at time.Time) events.Event {
	ev := status(id, side, "", at)
	ev.Type, ev.Status, ev.Version = t, nil, &v
	return ev
}

func TestAVariationRaisedInTheSecondaryIsRaisedInThePrimaryAndItsDecisionTravelsBack(t *testing.T) {
	h := versionsHarness(t)
	h.deliver(versionEvent("v2", events.Secondary, events.VersionCreated, events.Version{Number: 2, PreviousJobRef: "FX000009", Status: "Pending",
		Reason: "extra valve", Changes: []events.LineChange{
			{Change: "add", ActivityID: "245010", Code: "PLB002", Quantity: "1"},
			{Change: "quantity", ActivityID: "245001", ClientRef: "137001", Quantity: "3"},
		}}, t0.Add(time.Hour)))
	h.begin()
	cmd := h.m.Command()
	require.Equal(t, rules.CreateVersion, cmd.Action)
	require.Equal(t, events.Primary, cmd.Target)
	require.Equal(t, []events.LineChange{
		{Change: "add", ClientRef: "245010", Code: "PLB002", Quantity: "1"},
		{Change: "quantity", ActivityID: "137001", ClientRef: "245001", Quantity: "3"},
	}, cmd.Version.Lines, "a new line points back at its source; a changed line is found by the ids O2O gave it")
	rec := h.m.Finish(h.tick(), Result{Outcome: OutcomeApplied, Version: 2})
	require.Equal(t, OutcomeApplied, rec.Outcome)
	st := h.m.State()
	require.True(t, st.VariationPending())
	require.Equal(t, []string{"FX000009"}, st.SecondaryAliases, "the superseded version's ref stays the link's")
	require.Len(t, st.Versions, 2)
	require.Equal(t, VersionRecord{Side: events.Primary, Number: 2, Status: "Pending", RaisedBy: events.Secondary, Counterpart: 2,
		Lines: cmd.Version.Lines, Reason: "extra valve"}, st.Versions[1])

	// An event of the superseded version is the link's, not another job's.
	old := status("s-old", events.Secondary, "In Progress", t0.Add(90*time.Minute))
	old.JobRef = "FX000009"
	h.deliver(old)
	h.begin()
	require.NotContains(t, h.m.Command().Reason, "is not this link's linked job")
	h.m.Finish(h.tick(), result(h.m.Command()))

	// The contractor approves version 2 in the primary: version 2 is approved in the secondary.
	h.deliver(versionEvent("ok", events.Primary, events.VersionStatusChanged, events.Version{Number: 2, Status: "Approved", Reason: "agreed by phone"}, t0.Add(2*time.Hour)))
	h.begin()
	cmd = h.m.Command()
	require.Equal(t, rules.DecideVersion, cmd.Action)
	require.Equal(t, events.Secondary, cmd.Target)
	require.Equal(t, &rules.VersionDecision{Number: 2, Status: "Approved", Reason: "agreed by phone"}, cmd.Decision)
	require.Equal(t, "PVAPP", cmd.EventCode)
	require.Contains(t, cmd.Note, "Version 2 approved in acme. Reason: agreed by phone")
	h.m.Finish(h.tick(), Applied())
	require.False(t, h.m.State().VariationPending())
}

func TestAScopeChangeRaisedInThePrimaryIsDecidedInTheSecondary(t *testing.T) {
	h := versionsHarness(t)
	h.deliver(versionEvent("pv2", events.Primary, events.VersionCreated, events.Version{Number: 2, PreviousJobRef: "AC000077", Status: "Pending",
		Changes: []events.LineChange{{Change: "remove", ActivityID: "137001"}}}, t0.Add(time.Hour)))
	h.begin()
	cmd := h.m.Command()
	require.Equal(t, events.Secondary, cmd.Target)
	require.Equal(t, []events.LineChange{{Change: "remove", ClientRef: "137001"}}, cmd.Version.Lines)
	h.m.Finish(h.tick(), Result{Outcome: OutcomeApplied, Version: 3})

	// The subcontractor rejects its version 3: the primary is told.
	h.deliver(versionEvent("no", events.Secondary, events.VersionStatusChanged, events.Version{Number: 3, Status: "Rejected", Reason: "not our work"}, t0.Add(2*time.Hour)))
	h.begin()
	cmd = h.m.Command()
	require.Equal(t, rules.AddJobEvent, cmd.Action)
	require.Equal(t, events.Primary, cmd.Target)
	require.Equal(t, "SVREJ", cmd.EventCode)
	require.Contains(t, cmd.Note, "Version 3 rejected in fixit. Reason: not our work [version 2 here]")
	h.m.Finish(h.tick(), Applied())

	// The primary deciding its own version is not sent on; nor is a version nobody linked.
	for _, v := range []events.Version{{Number: 2, Status: "Cancelled"}, {Number: 7, Status: "Approved"}} {
		h.deliver(versionEvent("x"+v.Status, events.Primary, events.VersionStatusChanged, v, t0.Add(3*time.Hour)))
		h.begin()
		require.Equal(t, rules.Skip, h.m.Command().Action)
		h.m.Finish(h.tick(), Result{})
	}
}

func TestVersionsOffAreRecordedNotSent(t *testing.T) {
	h := newHarness(t, Options{Compat: CompatCurrent})
	h.deliver(assignment("a0", "137001", "7", t0))
	h.run()
	h.deliver(versionEvent("v2", events.Secondary, events.VersionCreated, events.Version{Number: 2, Status: "Pending",
		Changes: []events.LineChange{{Change: "add", ActivityID: "1", Code: "PLB002", Quantity: "1"}}}, t0.Add(time.Hour)))
	h.begin()
	require.Equal(t, rules.Skip, h.m.Command().Action)
	require.Contains(t, h.m.Command().Reason, "versions.enabled")
}

func TestEveryVariationAndApprovalEventRedeliveredIsADuplicate(t *testing.T) {
	h := versionsHarness(t)
	h.rules.Config.DocumentApproval.SecondaryToPrimary = "required"
	evs := []events.Event{
		versionEvent("v2", events.Secondary, events.VersionCreated, events.Version{Number: 2, Status: "Pending",
			Changes: []events.LineChange{{Change: "add", ActivityID: "245010", Code: "PLB002", Quantity: "1"}}}, t0.Add(time.Hour)),
		versionEvent("ok", events.Primary, events.VersionStatusChanged, events.Version{Number: 2, Status: "Approved"}, t0.Add(2*time.Hour)),
		secondaryDocument("up", events.DocumentUploaded, "D1", "", t0.Add(3*time.Hour)),
		secondaryDocument("dok", events.DocumentApproved, "D1", "", t0.Add(4*time.Hour)),
	}
	for _, ev := range evs {
		h.deliver(ev)
		h.begin()
		h.m.Finish(h.tick(), Result{Outcome: OutcomeApplied, Version: 2})
	}
	for _, ev := range evs {
		again := ev
		again.ID += "-again" // a sender's new delivery of the same fact
		h.deliver(again)
		h.deliver(ev) // and the same delivery again
	}
	h.run()
	for _, r := range h.m.TakeRecords()[len(evs):] {
		require.Equal(t, OutcomeDuplicate, r.Outcome, "%s: %s", r.ID, r.Detail)
	}
}

// The target's superseded refs come with CreateVersion's result (read from
// the target after the write): the link has them without the echo of its
// own write, so an event of the target's superseded version finds it.
func TestAMirroredVersionsSupersededRefIsLearnedFromTheResultNotTheEcho(t *testing.T) {
	h := versionsHarness(t)
	h.deliver(versionEvent("v2", events.Secondary, events.VersionCreated, events.Version{Number: 2, PreviousJobRef: "FX000009", Status: "Pending",
		Changes: []events.LineChange{{Change: "quantity", ActivityID: "245001", ClientRef: "137001", Quantity: "3"}}}, t0.Add(time.Hour)))
	h.begin()
	require.Equal(t, rules.CreateVersion, h.m.Command().Action)
	h.m.Finish(h.tick(), Result{Outcome: OutcomeApplied, Version: 2, SupersededRefs: []string{"AC000055"}})
	st := h.m.State()
	require.Equal(t, []string{"AC000055"}, st.PrimaryAliases, "the primary's superseded ref, with no echo")
	require.Equal(t, []string{"FX000009"}, st.SecondaryAliases)

	// An assignment on the primary's superseded ref links nothing.
	a := assignment("a-old", "137050", "7", t0.Add(2*time.Hour))
	a.JobRef = "AC000055"
	h.deliver(a)
	h.begin()
	cmd := h.m.Command()
	require.Equal(t, rules.Skip, cmd.Action)
	require.Contains(t, cmd.Reason, "superseded version")
}

// A link started by an assignment on a ref that holds a superseded version
// (its current version's link had not learned the ref): the activity,
// reading the source, creates nothing and names the current ref; the link
// closes at once, recording what waited behind the assignment as skipped,
// instead of waiting for a linked job that will never exist.
func TestALinkOfASupersededVersionsRefClosesItself(t *testing.T) {
	h := newHarness(t, Options{Compat: CompatCurrent})
	h.deliver(assignment("a1", "137009", "7", t0))
	h.deliver(status("s1", events.Primary, "On Hold", t0.Add(time.Minute)))
	h.begin()
	require.Equal(t, rules.CreateJob, h.m.Command().Action)
	res := Skipped("job AC000001 in acme holds version 1 of job AC000007, which has a later version")
	res.SupersededBy = "AC000007"
	rec := h.m.Finish(h.tick(), res)
	require.Equal(t, OutcomeSkipped, rec.Outcome)
	require.Contains(t, rec.Detail, "AC000007")
	require.Equal(t, Close, h.m.Next(false).Kind, "nothing is left for this link to do")
	h.m.Close(h.tick())
	st := h.m.State()
	require.Equal(t, StateClosed, st.State)
	require.Contains(t, st.ClosingReason, "superseded version of job AC000007")
	require.Len(t, st.Events, 2)
	require.Equal(t, OutcomeSkipped, st.Events[1].Outcome)
	require.Contains(t, st.Events[1].Detail, "not applied: job AC000001 holds a superseded version")
	checkInvariants(t, h.m)

	// Any other skipped creation leaves the link waiting, as before.
	h = newHarness(t, Options{Compat: CompatCurrent})
	h.deliver(assignment("a1", "137009", "7", t0))
	h.begin()
	h.m.Finish(h.tick(), Skipped("activity 137009 is no longer assigned to team 7"))
	require.Equal(t, Wait, h.m.Next(false).Kind)
}

// A reconciliation's read of the jobs offers the refs their superseded
// versions hold: the link takes those it does not know as aliases (even
// when the version's own event never reached it), and drops them once
// known — from the read or from the version's event.
func TestSupersededRefsReadByAReconciliationBecomeAliases(t *testing.T) {
	h := versionsHarness(t)
	superseded := func(side events.Side, n int, ref string) events.Event {
		ev := versionEvent("", side, events.VersionSuperseded, events.Version{Number: n, PreviousJobRef: ref, Status: "Approved"}, t0.Add(time.Hour))
		return reconciled(ev, rules.FactKeys(ev)[0])
	}
	require.Equal(t, 2, h.m.Offer(h.tick(), []events.Event{superseded(events.Primary, 1, "AC000009"), superseded(events.Secondary, 1, "FX000004")}))
	h.run()
	st := h.m.State()
	require.Equal(t, []string{"AC000009"}, st.PrimaryAliases)
	require.Equal(t, []string{"FX000004"}, st.SecondaryAliases)
	require.Equal(t, OutcomeSkipped, st.Events[len(st.Events)-1].Outcome, "nothing to write")
	require.Contains(t, st.Events[len(st.Events)-1].Detail, "recorded as an alias")

	// Known now: a later read queues nothing.
	again := superseded(events.Primary, 1, "AC000009")
	again.ID = "reconcile:again"
	require.Zero(t, h.m.Offer(h.tick(), []events.Event{again}))
	// Nor one the version's own event taught the link.
	h.deliver(versionEvent("v2", events.Primary, events.VersionCreated, events.Version{Number: 2, PreviousJobRef: "AC000010", Status: "Pending",
		Changes: []events.LineChange{{Change: "remove", ActivityID: "137001"}}}, t0.Add(2*time.Hour)))
	h.begin()
	h.m.Finish(h.tick(), Result{Outcome: OutcomeApplied, Version: 2})
	require.Zero(t, h.m.Offer(h.tick(), []events.Event{superseded(events.Primary, 2, "AC000010")}))
}
