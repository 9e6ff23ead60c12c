package model

import (
	"testing"
	"time"
)

// A whole life, every kind of fact in it, checked as the chaos checker will: the
// writes a correct O2O makes, written out by hand from the docs, compared with the
// model's expectation.
func TestWholeLife(t *testing.T) {
	m := run(t, acmeFixit(), []Action{
		raise("J", "PLB001", "PLB002"),
		doc(Upload, Primary, "J", "D0", "Gas Certificate"), // before the link: found by reading
		assign("J", "a", "7"),
		status(Secondary, "J", "Accepted"),
		appt("J", "A1", Booked, 24),
		assign("J", "b", "7"),
		status(Primary, "J", "On Hold"),
		appt("J", "A1", Rescheduled, 48),
		doc(Upload, Secondary, "J", "F1", "Certificates"), // held: approval required
		doc(Upload, Primary, "J", "D1", "Photos"),         // approval off this way
		raiseV(Secondary, "J", Change{"add", "RAD01", "1"}, Change{"quantity", "PLB001", "2"}),
		op(Pause, "J"),
		doc(Approve, Secondary, "J", "F1", "Certificates"),
		op(Resume, "J"), // the version is blocked: RAD01
		{Kind: AddCode, System: "acme", Code: "RAD01"}, op(Retry, "J"), // version, then the copy
		decide(Primary, "J", 2, Rejected),   // the contractor rejects the variation
		status(Primary, "J", "In Progress"), // unmapped
		appt("J", "A1", Completed, 48),
		status(Secondary, "J", "Completed"),
		status(Primary, "J", "Completed"), // ended on both sides
		{Kind: Elapse},
		status(Primary, "J", "On Hold"), // after closing: nothing
	})
	exp := m.Expect()
	at := func(h int) time.Time { return t0.Add(time.Duration(h) * time.Hour) }
	observed := map[Target][]Write{
		{"acme-fixit", "J", Secondary}: {
			{Kind: CreateJob},
			{Kind: AddLine, Activity: "J-a", LineCode: "PLB001"},
			{Kind: CopyDocument, Document: "D0", Category: "Certificates"},
			{Kind: AddLine, Activity: "J-b", LineCode: "PLB002"},
			{Kind: JobEvent, Status: "On Hold", Code: "PHOLD"},
			{Kind: CopyDocument, Document: "D1", Category: "Site Photos"},
			{Kind: DecideVersionW, Version: 2, Decision: Rejected, Code: "PVREJ"},
		},
		{"acme-fixit", "J", Primary}: {
			{Kind: JobEvent, Status: "Accepted", Code: "SACC"},
			{Kind: JobEvent, Appointment: "A1", AppointmentKind: Booked, Start: at(24), Code: "APPT"},
			{Kind: JobEvent, Appointment: "A1", AppointmentKind: Rescheduled, Start: at(48), Code: "RESCH"},
			{Kind: RaiseVersionW, Version: 2, Changes: []Change{{"add", "RAD01", "1"}, {"quantity", "PLB001", "2"}}},
			{Kind: CopyDocument, Document: "F1", Category: "Gas Certificate"},
			{Kind: JobEvent, Appointment: "A1", AppointmentKind: Completed, Start: at(48), Code: "APCOM"},
			{Kind: JobEvent, Status: "Completed", Code: "SCOMP"},
		},
	}
	for _, d := range Compare(exp.Writes, observed) {
		t.Error(d)
	}
	if len(exp.Links) != 1 || exp.Links[0].State != Closed || !exp.Links[0].LinkedJob {
		t.Errorf("links: %+v", exp.Links)
	}
	if t.Failed() {
		t.Log(exp.Describe())
	}
}

// One secondary serving two primaries that number their jobs alike (README, Nothing
// missed; events.md, Routing): each link has its own linked job and writes.
func TestHub(t *testing.T) {
	bravo := acmeFixit()
	bravo.Name, bravo.Primary = "bravo-fixit", "bravo"
	sys := append(systems(), System{Name: "bravo", Codes: map[string]bool{"PLB001": true}})
	m := New([]Link{acmeFixit(), bravo}, sys)
	for _, a := range []Action{
		raise("J", "PLB001"),
		{Kind: Raise, System: "bravo", Job: "J", Site: "SITE-001", Priority: "Urgent", Lines: []Line{{"J-a", "PLB001", "1"}}},
		assign("J", "a", "7"),
		{Kind: Assign, System: "bravo", Job: "J", Activity: "J-a", Team: "7"},
		{Kind: Status, Side: Secondary, Link: "bravo-fixit", Job: "J", Status: "Accepted"},
		{Kind: Status, Side: Primary, System: "acme", Job: "J", Status: "On Hold"},
	} {
		if err := m.Apply(a); err != nil {
			t.Fatal(err)
		}
	}
	e := m.Expect()
	want := map[Target]int{
		{"acme-fixit", "J", Secondary}:  3, // job, line, PHOLD
		{"bravo-fixit", "J", Secondary}: 2, // job, line
		{"bravo-fixit", "J", Primary}:   1, // SACC in bravo only
	}
	if len(e.Writes) != len(want) {
		t.Errorf("targets: %v", e.Writes)
	}
	for tg, n := range want {
		if len(e.Writes[tg]) != n {
			t.Errorf("%s: %d writes, want %d: %v", tg, len(e.Writes[tg]), n, e.Writes[tg])
		}
	}
	if len(e.Links) != 2 || e.Links[0].State != Linked || e.Links[1].State != Linked {
		t.Errorf("links: %+v", e.Links)
	}
}

// The assignment of a second activity while the creation is still refused: once
// retried, the job is created with both lines, and neither is written twice.
func TestSecondAssignmentWhileCreationBlocked(t *testing.T) {
	m := run(t, acmeFixit(), []Action{
		{Kind: Raise, System: "acme", Job: "J", Site: "SITE-003", Priority: "Urgent",
			Lines: []Line{{"J-a", "PLB001", "1"}, {"J-b", "PLB002", "1"}}},
		assign("J", "a", "7"),
		assign("J", "b", "7"),
		{Kind: AddSite, System: "fixit", Site: "SITE-003"},
		op(Retry, "J"),
	})
	if got, want := keys(m, "J", Secondary), "job line:J-a line:J-b"; got != want {
		t.Errorf("writes %s, want %s", got, want)
	}
}
