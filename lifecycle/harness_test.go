package lifecycle

import (
	"fmt"
	"testing"
	"time"

	"github.com/o2o-sync/o2o/events"
	"github.com/o2o-sync/o2o/internal/linktest"
	"github.com/o2o-sync/o2o/rules"
)

var (
	testRules = linktest.Rules()
	t0        = linktest.T0
	// assignment and status are the shared test link's events.
	assignment = linktest.Assignment
	status     = linktest.Status
)

// harness drives a Machine the way the workflow does, with a clock.
type harness struct {
	t     testing.TB
	m     *Machine
	now   time.Time
	rules rules.Link // what the link's configuration loads as
}

func newHarness(t testing.TB, opts Options) *harness {
	h := &harness{t: t, now: t0, rules: testRules}
	h.m = New("acme-fixit", "AC000001", h.now, opts)
	return h
}

func (h *harness) tick() time.Time {
	h.now = h.now.Add(time.Second)
	return h.now
}

func (h *harness) deliver(ev events.Event) { h.m.Deliver(h.tick(), ev) }

// begin starts the step Next offers, which must be Apply, loading the rules
// when asked.
func (h *harness) begin() Step {
	h.t.Helper()
	s := h.m.Next(false)
	if s.Kind != Apply {
		h.t.Fatalf("Next = %v, want Apply (state %s, queue %d)", s.Kind, h.m.st.State, len(h.m.queue))
	}
	h.m.Begin(h.tick(), s)
	if s.LoadRules {
		h.m.SetRules(h.rules)
	}
	return s
}

// result is what a faithful activity returns for cmd.
func result(cmd rules.Command) Result {
	switch cmd.Action {
	case rules.Skip:
		return Result{}
	case rules.CreateJob:
		return Result{Outcome: OutcomeApplied, SecondaryJobRef: "FX000001", ActivityIDs: cmd.ActivityIDs}
	case rules.AddActivities:
		return Result{Outcome: OutcomeApplied, ActivityIDs: cmd.ActivityIDs}
	}
	return Applied()
}

// finish completes the event being applied as its activity would.
func (h *harness) finish() EventRecord {
	b := h.m.busy
	if b == nil {
		h.t.Fatal("nothing being applied")
	}
	if b.dup != "" {
		return h.m.Finish(h.tick(), Result{})
	}
	return h.m.Finish(h.tick(), result(h.m.Command()))
}

// run applies everything that can be applied now.
func (h *harness) run() {
	for h.m.Next(false).Kind == Apply {
		h.begin()
		h.finish()
	}
}

func (h *harness) operate(action, reason string) error {
	r := OperatorRequest{By: "ops", Reason: reason, DocumentID: "D1"}
	if err := h.m.Validate(action, r); err != nil {
		return err
	}
	h.m.Operate(h.tick(), action, r)
	return nil
}

func (h *harness) mustOperate(action string) {
	h.t.Helper()
	if err := h.operate(action, "for the test"); err != nil {
		h.t.Fatalf("%s: %v", action, err)
	}
}

// label names the machine's state as the transition table does.
func label(m *Machine) string {
	if m.st.State == StatePaused {
		return fmt.Sprintf("Paused (from %s)", m.st.PausedFrom)
	}
	return string(m.st.State)
}

// checkInvariants are the properties that hold between any two inputs.
func checkInvariants(t testing.TB, m *Machine) {
	t.Helper()
	st := m.st
	blocked := st.State == StateNeedsAttention || (st.State == StatePaused && st.PausedFrom == StateNeedsAttention)
	if blocked != (st.LastError != "") {
		t.Fatalf("lastError %q with state %s (paused from %q)", st.LastError, st.State, st.PausedFrom)
	}
	if (st.State == StatePaused) != (st.PausedFrom != "") {
		t.Fatalf("pausedFrom %q with state %s", st.PausedFrom, st.State)
	}
	if st.State == StateLinked && st.SecondaryJobRef == "" || st.State == StateLinking && st.SecondaryJobRef != "" {
		t.Fatalf("state %s with secondary job %q", st.State, st.SecondaryJobRef)
	}
	if st.State == StateClosed && len(m.queue) > 0 {
		t.Fatalf("closed with %d events queued", len(m.queue))
	}
}
