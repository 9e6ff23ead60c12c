package lifecycle

import (
	"fmt"
	"testing"
	"time"

	"github.com/o2o-sync/o2o/config"
	"github.com/o2o-sync/o2o/events"
	"github.com/o2o-sync/o2o/rules"
)

// The link the machine tests run: acme (primary, team 7) → fixit.
const testConfig = `
systems:
  acme: {baseURL: "http://acme.invalid", authTokenEnv: T, webhookSecretsEnv: S, apiUser: o2o-api}
  fixit: {baseURL: "http://fixit.invalid", authTokenEnv: T, webhookSecretsEnv: S, apiUser: o2o-api}
links:
  - name: acme-fixit
    closeAfter: 1h
    primary: {system: acme, client: {name: Acme, id: 28}, team: {name: Fixit, id: 7}, cancelledStatuses: [Cancelled]}
    secondary:
      system: fixit
      workLogType: {name: R, id: 3}
      workType: {name: P, id: 12}
      workflow: {name: S, id: 4}
      client: {name: Acme, id: 41}
      service: {name: P, id: 9}
      acceptedStatus: Accepted
    priorities: [{primary: {name: Emergency, id: 1}, secondary: {name: P1, id: 11}}]
    statusEvents:
      primaryToSecondary: [{status: Cancelled, eventCode: PCAN}, {status: Completed, eventCode: PDONE}]
      secondaryToPrimary: [{status: Accepted, eventCode: SACC}, {status: Completed, eventCode: SDONE}]
    appointmentEvents: {created: APPT, rescheduled: RESCH, cancelled: APCAN, completed: APCOM}
`

var testRules = func() rules.Link {
	cfg, err := config.Parse([]byte(testConfig), config.Options{Getenv: func(k string) string {
		if k == "S" {
			return "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
		}
		return "token"
	}})
	if err != nil {
		panic(err)
	}
	return rules.Link{Config: *cfg.Link("acme-fixit"), PrimaryAPIUser: "o2o-api", SecondaryAPIUser: "o2o-api"}
}()

var t0 = time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)

// harness drives a Machine the way the workflow does, with a clock.
type harness struct {
	t   testing.TB
	m   *Machine
	now time.Time
}

func newHarness(t testing.TB, opts Options) *harness {
	h := &harness{t: t, now: t0}
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
		h.m.SetRules(testRules)
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
	if b.dup {
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
	r := OperatorRequest{By: "ops", Reason: reason}
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

// Events of the test link.
func assignment(id, activityID, team string, at time.Time) events.Event {
	return events.Event{ID: id, System: "acme", Side: events.Primary, Type: events.ActivityAssigned, OccurredAt: at,
		JobRef: "AC000001", Assignment: &events.Assignment{ActivityID: activityID, TeamID: team}}
}

func status(id string, side events.Side, s string, at time.Time) events.Event {
	ev := events.Event{ID: id, Side: side, Type: events.JobStatusChanged, OccurredAt: at, Status: &events.StatusChange{Status: s}}
	if side == events.Primary {
		ev.System, ev.JobRef = "acme", "AC000001"
	} else {
		ev.System, ev.JobRef, ev.JobClientRef = "fixit", "FX000001", "AC000001"
	}
	return ev
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
