package lifecycle

import (
	"flag"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/o2o-sync/o2o/events"
)

var updateDocs = flag.Bool("update", false, "rewrite the transition table in docs/lifecycle.md")

// TestTransitionTableIsComplete: one cell for every state and input.
func TestTransitionTableIsComplete(t *testing.T) {
	seen := map[string]bool{}
	for _, tr := range Transitions {
		key := tr.From + "|" + string(tr.On)
		if seen[key] {
			t.Errorf("two cells for %s × %s", tr.From, tr.On)
		}
		seen[key] = true
		if !slices.Contains(TableStates, tr.From) || !slices.Contains(Inputs, tr.On) {
			t.Errorf("cell %s × %s is outside the table", tr.From, tr.On)
		}
	}
	for _, s := range TableStates {
		for _, in := range Inputs {
			if !seen[s+"|"+string(in)] {
				t.Errorf("no cell for %s × %s", s, in)
			}
		}
		for _, in := range Inputs {
			if InputNotes[in] == "" {
				t.Errorf("input %s has no note", in)
			}
		}
	}
}

// TestTransitions drives the machine through every cell of the table.
func TestTransitions(t *testing.T) {
	for _, tr := range Transitions {
		t.Run(tr.From+" × "+string(tr.On), func(t *testing.T) {
			h := build(t, tr.From, tr.On)
			if got := label(h.m); got != tr.From {
				t.Fatalf("built %s, want %s", got, tr.From)
			}
			h.m.TakeRecords()
			if tr.To == notApplicable {
				impossible(t, h, tr.On)
				return
			}
			err := apply(t, h, tr.On)
			if tr.Refused {
				if err == nil {
					t.Fatalf("%s was accepted, want refused (%s)", tr.On, tr.Note)
				}
				if tr.Note != "" && !strings.Contains(err.Error(), strings.TrimPrefix(tr.Note, "already ")) {
					t.Errorf("refused with %q, want it to say %q", err, tr.Note)
				}
			} else if err != nil {
				t.Fatalf("%s refused: %v", tr.On, err)
			}
			checkInvariants(t, h.m)
			if got := label(h.m); got != tr.To {
				t.Errorf("state %s, want %s", got, tr.To)
			}
			recs := h.m.TakeRecords()
			switch {
			case tr.Records == "" && len(recs) > 0:
				t.Errorf("recorded %s (%s), want nothing", recs[0].Outcome, recs[0].Detail)
			case tr.Records != "" && len(recs) == 0:
				t.Errorf("recorded nothing, want %s", tr.Records)
			case tr.Records != "" && recs[0].Outcome != tr.Records:
				t.Errorf("recorded %s (%s), want %s", recs[0].Outcome, recs[0].Detail, tr.Records)
			}
		})
	}
}

// build brings a machine to the table state from, with an event at the head
// of its queue fit for the input on (and, for results of an event applied
// while the link was paused, that event already being applied).
func build(t *testing.T, from string, on Input) *harness {
	h := newHarness(t, Options{Compat: CompatCurrent})
	result := on == InApplied || on == InNothingToDo || on == InRefused
	head := status("s1", events.Secondary, "Accepted", t0.Add(time.Hour))
	switch on {
	case InNothingToDo:
		head = status("p-hold", events.Primary, "On Hold", t0.Add(time.Hour)) // not mapped: skipped
	case InRedelivery:
		h.deliver(status("p-hold", events.Primary, "On Hold", t0.Add(time.Hour)))
		head = status("p-hold", events.Primary, "On Hold", t0.Add(time.Hour))
	}
	if from == linking {
		head = assignment("a1", "137001", "7", t0)
		switch on {
		case InNothingToDo:
			head = assignment("x1", "137009", "8", t0) // another team's
		case InRedelivery:
			h.m.queue = nil
			h.deliver(assignment("x1", "137009", "8", t0))
			h.run()
			head = assignment("x1", "137009", "8", t0)
		}
		h.deliver(head)
		return h
	}
	if on == InRelease || on == InDrop {
		h.rules.Config.DocumentApproval.SecondaryToPrimary = "required"
	}
	h.deliver(assignment("a0", "137001", "7", t0))
	h.run()
	if on == InRelease || on == InDrop { // a document held for approval
		doc := status("up1", events.Secondary, "", t0.Add(time.Minute))
		doc.Type, doc.Status = events.DocumentUploaded, nil
		doc.Document = &events.Document{DocumentID: "D1", FileName: "after.jpg", Category: "Site Photos"}
		h.deliver(doc)
		h.run()
		if len(h.m.st.HeldDocuments) != 1 {
			t.Fatalf("the upload is not held: %+v", h.m.st.Events)
		}
	}
	if on == InGraceOver {
		h.deliver(status("p-can", events.Primary, "Cancelled", t0.Add(time.Minute)))
		h.run()
		if h.m.ClosesAt() == nil {
			t.Fatal("the cancellation started no grace period")
		}
	}
	if on == InRedelivery {
		h.run() // the first delivery is applied
	}
	h.deliver(head)
	switch from {
	case linked:
		if on == InGraceOver {
			h.run()
		}
	case blocked:
		h.begin()
		h.m.Fail(h.tick(), "fixit: HTTP 400: refused")
	case pausedFromLinked:
		if result {
			h.begin()
		}
		h.mustOperate(ActionPause)
	case pausedFromBlocked:
		h.begin()
		h.m.Fail(h.tick(), "fixit: HTTP 400: refused")
		if result {
			h.mustOperate(ActionRetry)
			h.begin()
		}
		h.mustOperate(ActionPause)
	case closed:
		h.mustOperate(ActionUnlink)
		if h.m.Next(false).Kind != Close {
			t.Fatal("unlinked, but Next does not close")
		}
		h.m.Close(h.tick())
	}
	return h
}

// apply feeds the input on to the machine.
func apply(t *testing.T, h *harness, on Input) error {
	m := h.m
	switch on {
	case InEventArrives:
		h.deliver(status("s9", events.Secondary, "Accepted", t0.Add(2*time.Hour)))
	case InFactsOffered:
		if err := m.ValidateOffer(); err != nil {
			return err
		}
		fact := status("r:s9", events.Secondary, "Completed", t0.Add(2*time.Hour))
		fact.Source = events.FromReconcile
		if n := m.Offer(h.tick(), []events.Event{fact, fact}); n != 1 {
			t.Errorf("offered a new fact twice, %d queued, want 1", n)
		}
	case InApplied, InNothingToDo, InRefused:
		if m.busy == nil {
			if m.failure != "" {
				h.mustOperate(ActionRetry)
			}
			h.begin()
		}
		switch {
		case on == InRefused:
			m.Fail(h.tick(), "fixit: HTTP 400: refused again")
		case on == InNothingToDo && m.Command().Action != "skip":
			m.Finish(h.tick(), Skipped("the activity found nothing to do"))
		default:
			h.finish()
		}
	case InRedelivery:
		if s := h.begin(); !s.Duplicate {
			t.Fatalf("the redelivery's step is not a duplicate")
		}
		h.finish()
	case InRetry, InSkip, InPause, InResume, InUnlink, InRelease, InDrop:
		if err := h.operate(string(actionOf[on]), "for the test"); err != nil {
			return err
		}
		if on == InUnlink && m.Next(false).Kind == Close {
			m.Close(h.tick())
		}
	case InGraceOver:
		m.GraceOver(h.tick(), *m.ClosesAt())
		if m.Next(false).Kind == Close {
			m.Close(h.tick())
		}
	case InContinueAsNew:
		before := m.Next(false)
		h.m = Restore(m.Carry(), h.tick(), m.opts)
		if after := h.m.Next(false); after.Kind != before.Kind || after.Event.ID != before.Event.ID {
			t.Errorf("after continue-as-new Next = %v %s, before %v %s", after.Kind, after.Event.ID, before.Kind, before.Event.ID)
		}
	}
	return nil
}

var actionOf = map[Input]string{InRetry: ActionRetry, InSkip: ActionSkip, InPause: ActionPause, InResume: ActionResume, InUnlink: ActionUnlink,
	InRelease: ActionRelease, InDrop: ActionDrop}

// impossible checks that the input cannot happen in the built state.
func impossible(t *testing.T, h *harness, on Input) {
	m := h.m
	switch on {
	case InGraceOver:
		if m.ClosesAt() != nil && !m.Closed() {
			t.Errorf("a grace period runs")
		}
	case InContinueAsNew:
		if !m.Closed() {
			t.Errorf("not closed")
		}
	default:
		if s := m.Next(false); s.Kind == Apply {
			t.Errorf("Next offers %s to apply", s.Event.ID)
		}
	}
}

// TestTransitionTableInDocs: docs/lifecycle.md shows the table as it is
// (go test ./lifecycle -run TableInDocs -update rewrites it).
func TestTransitionTableInDocs(t *testing.T) {
	const path = "../docs/lifecycle.md"
	const begin, end = "<!-- transitions: begin (generated by go test ./lifecycle -update) -->\n", "<!-- transitions: end -->\n"
	doc, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := string(doc)
	i, j := strings.Index(s, begin), strings.Index(s, end)
	if i < 0 || j < i {
		t.Fatalf("%s has no transitions markers", path)
	}
	want := s[:i+len(begin)] + RenderTable() + s[j:]
	if want == s {
		return
	}
	if *updateDocs {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("%s is out of date with Transitions: run go test ./lifecycle -run TableInDocs -update", path)
}
