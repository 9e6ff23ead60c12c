package model

import (
	"strings"
	"testing"
	"time"
)

// acmeFixit is o2o.example.yaml's link, with approval and versions switched on.
func acmeFixit() Link {
	return Link{
		Name: "acme-fixit", Primary: "acme", Secondary: "fixit", Team: "7",
		AcceptedStatus: "Accepted",
		Priorities:     []string{"Emergency", "Urgent", "Routine"},
		StatusEvents: map[Side]map[string]string{
			Primary:   {"Cancelled": "PCAN", "On Hold": "PHOLD"},
			Secondary: {"Accepted": "SACC", "Completed": "SCOMP", "Cancelled": "SCAN"},
		},
		AppointmentEvents: map[AppointmentKind]string{Booked: "APPT", Rescheduled: "RESCH", Cancelled: "APCAN", Completed: "APCOM"},
		Categories:        []Category{{"Gas Certificate", "Certificates"}, {"Photos", "Site Photos"}},
		Approval:          map[Side]bool{Secondary: true},
		Withdrawn:         map[Side]string{Secondary: "SDOCWD"},
		Versions:          true,
		VersionEvents: map[Side]map[Decision]string{
			Primary:   {Approved: "PVAPP", Rejected: "PVREJ", VersionCanceled: "PVCAN"},
			Secondary: {Approved: "SVAPP", Rejected: "SVREJ", VersionCanceled: "SVCAN"},
		},
	}
}

func systems() []System {
	return []System{
		{Name: "acme", Sites: map[string][]string{"SITE-001": {"CON-001"}}, Codes: map[string]bool{"PLB001": true, "PLB002": true}},
		{Name: "fixit", Sites: map[string][]string{"SITE-001": {"CON-001"}}, Codes: map[string]bool{"PLB001": true, "PLB002": true}},
	}
}

var t0 = time.Date(2026, 7, 1, 9, 0, 0, 0, time.UTC) // 10:00 in the UK (BST)

// A life is written as short actions; these build them.
func raise(job string, lines ...string) Action {
	a := Action{Kind: Raise, System: "acme", Job: job, Site: "SITE-001", Contact: "CON-001", Priority: "Emergency"}
	for i, c := range lines {
		a.Lines = append(a.Lines, Line{Activity: job + "-" + string(rune('a'+i)), Code: c, Quantity: "1"})
	}
	return a
}
func assign(job, act, team string) Action {
	return Action{Kind: Assign, System: "acme", Job: job, Activity: job + "-" + act, Team: team}
}
func status(s Side, job, st string) Action {
	return Action{Kind: Status, Side: s, System: "acme", Link: "acme-fixit", Job: job, Status: st}
}
func appt(job, id string, k AppointmentKind, h int) Action {
	return Action{Kind: Appointment, Side: Secondary, Link: "acme-fixit", Job: job, Appointment: id, AppointmentKind: k, Start: t0.Add(time.Duration(h) * time.Hour)}
}
func doc(k Kind, s Side, job, id, cat string) Action {
	return Action{Kind: k, Side: s, System: "acme", Link: "acme-fixit", Job: job, Document: id, Category: cat}
}
func op(k Kind, job string) Action { return Action{Kind: k, Link: "acme-fixit", Job: job} }
func raiseV(s Side, job string, ch ...Change) Action {
	return Action{Kind: RaiseVersion, Side: s, System: "acme", Link: "acme-fixit", Job: job, Changes: ch}
}
func decide(s Side, job string, v int, d Decision) Action {
	return Action{Kind: DecideVersion, Side: s, System: "acme", Link: "acme-fixit", Job: job, Version: v, Decision: d}
}
func lost(a Action) Action { a.Delivery = Lost; return a }

// run applies a life; refusals fail the test unless the action is listed as refused.
func run(t *testing.T, cfg Link, life []Action, refused ...int) *Model {
	t.Helper()
	m := New([]Link{cfg}, systems())
	for i, a := range life {
		err := m.Apply(a)
		want := false
		for _, r := range refused {
			want = want || r == i
		}
		if (err != nil) != want {
			t.Fatalf("action %d (%s): refused %v, want refused %v", i, a.Kind, err, want)
		}
	}
	return m
}

// keys renders a target's expected writes as "key{code}" for the table.
func keys(m *Model, job string, s Side) string {
	var out []string
	for _, w := range m.Expect().Writes[Target{"acme-fixit", job, s}] {
		k := w.Key()
		if w.Code != "" {
			k += "=" + w.Code
		}
		if w.Optional {
			k += "?"
		}
		out = append(out, k)
	}
	return strings.Join(out, " ")
}

func TestRules(t *testing.T) {
	noApproval := acmeFixit()
	noApproval.Approval = nil
	noVersions := acmeFixit()
	noVersions.Versions = false
	primaryApproval := acmeFixit()
	primaryApproval.Approval = map[Side]bool{Primary: true}
	at := func(h int) string { return UK(t0.Add(time.Duration(h) * time.Hour)) }
	for _, tc := range []struct {
		name       string
		cfg        *Link
		life       []Action
		secondary  string // expected writes into the linked job
		primary    string // expected writes into the primary job
		state      State
		refusedIdx []int
	}{
		{name: "assign to the team creates the linked job with its lines (row 1)",
			life:      []Action{raise("J", "PLB001", "PLB002"), assign("J", "a", "7")},
			secondary: "job line:J-a", state: Linked},
		{name: "assign to another team concerns no link (events.md Routing)",
			life: []Action{raise("J", "PLB001"), assign("J", "a", "9")}},
		{name: "a second activity assigned later is added (row 1)",
			life:      []Action{raise("J", "PLB001", "PLB002"), assign("J", "a", "7"), assign("J", "b", "7"), assign("J", "b", "7")},
			secondary: "job line:J-a line:J-b", state: Linked},
		{name: "mapped primary status adds a job event, unmapped is skipped (row 2)",
			life:      []Action{raise("J", "PLB001"), assign("J", "a", "7"), status(Primary, "J", "In Progress"), status(Primary, "J", "On Hold"), status(Primary, "J", "On Hold")},
			secondary: "job line:J-a event:status:On Hold=PHOLD", state: Linked},
		{name: "mapped secondary status, the accepted one included (row 3)",
			life:      []Action{raise("J", "PLB001"), assign("J", "a", "7"), status(Secondary, "J", "Accepted"), status(Secondary, "J", "Travelling")},
			secondary: "job line:J-a", primary: "event:status:Accepted=SACC", state: Linked},
		{name: "appointments booked, rescheduled, cancelled, completed (row 4)",
			life: []Action{raise("J", "PLB001"), assign("J", "a", "7"), appt("J", "A1", Booked, 1), appt("J", "A1", Rescheduled, 3),
				appt("J", "A1", Cancelled, 3), appt("J", "A2", Booked, 5), appt("J", "A2", Completed, 5)},
			secondary: "job line:J-a", primary: "event:appointment:A1:created=APPT event:appointment:A1:at:" + at(3) + "=RESCH event:appointment:A1:cancelled=APCAN event:appointment:A2:created=APPT event:appointment:A2:completed=APCOM",
			state: Linked},
		{name: "documents in shared categories are copied, unshared ones are not (row 5)",
			cfg: &noApproval,
			life: []Action{raise("J", "PLB001"), assign("J", "a", "7"), doc(Upload, Primary, "J", "D1", "Photos"), doc(Upload, Primary, "J", "D2", "Invoices"),
				doc(Upload, Secondary, "J", "F1", "Certificates")},
			secondary: "job line:J-a document:D1", primary: "document:F1", state: Linked},
		{name: "approval required: held until approved, a rejection drops it (row 6)",
			life: []Action{raise("J", "PLB001"), assign("J", "a", "7"), doc(Upload, Secondary, "J", "F1", "Certificates"), doc(Upload, Secondary, "J", "F2", "Site Photos"),
				doc(Approve, Secondary, "J", "F1", "Certificates"), doc(Reject, Secondary, "J", "F2", "Site Photos"), doc(Approve, Secondary, "J", "F2", "Site Photos")},
			secondary: "job line:J-a", primary: "document:F1", state: Linked},
		{name: "approval withdrawn after the copy adds a job event (row 6)",
			life: []Action{raise("J", "PLB001"), assign("J", "a", "7"), doc(Upload, Secondary, "J", "F1", "Certificates"),
				doc(Approve, Secondary, "J", "F1", "Certificates"), doc(Reject, Secondary, "J", "F1", "Certificates"), doc(Approve, Secondary, "J", "F1", "Certificates")},
			secondary: "job line:J-a", primary: "document:F1 event:withdrawn:F1=SDOCWD", state: Linked},
		{name: "release copies a held document, drop never copies it (operations.md)",
			life: []Action{raise("J", "PLB001"), assign("J", "a", "7"), doc(Upload, Secondary, "J", "F1", "Certificates"), doc(Upload, Secondary, "J", "F2", "Certificates"),
				doc(Release, Secondary, "J", "F1", ""), doc(Drop, Secondary, "J", "F2", ""), doc(Approve, Secondary, "J", "F2", "Certificates"), doc(Drop, Secondary, "J", "F2", "")},
			secondary: "job line:J-a", primary: "document:F1", state: Linked, refusedIdx: []int{7}},
		{name: "a version raised in the secondary is raised in the primary; the contractor's decision goes back (rows 7, 8)",
			life:    []Action{raise("J", "PLB001"), assign("J", "a", "7"), raiseV(Secondary, "J", Change{"add", "PLB002", "2"}), decide(Primary, "J", 2, Approved)},
			primary: "version:2", secondary: "job line:J-a version:2:approved=PVAPP", state: Linked},
		{name: "a scope change raised in the primary; the subcontractor's decision is a job event (rows 7, 9)",
			life:      []Action{raise("J", "PLB001"), assign("J", "a", "7"), raiseV(Primary, "J", Change{"quantity", "PLB001", "3"}), decide(Secondary, "J", 2, Rejected)},
			secondary: "job line:J-a version:2", primary: "event:version:2:rejected=SVREJ", state: Linked},
		{name: "a side deciding its own version is not sent on (Known limits)",
			life:      []Action{raise("J", "PLB001"), assign("J", "a", "7"), raiseV(Primary, "J", Change{"remove", "PLB001", ""}), decide(Primary, "J", 2, VersionCanceled)},
			secondary: "job line:J-a version:2", state: Linked},
		{name: "versions off: nothing travels",
			cfg:       &noVersions,
			life:      []Action{raise("J", "PLB001"), assign("J", "a", "7"), raiseV(Secondary, "J", Change{"add", "PLB002", "1"})},
			secondary: "job line:J-a", state: Linked},
		{name: "an unknown SOR code in a version needs attention until added and retried",
			life: []Action{raise("J", "PLB001"), assign("J", "a", "7"), raiseV(Secondary, "J", Change{"add", "RAD01", "1"}), status(Secondary, "J", "Accepted"),
				{Kind: AddCode, System: "acme", Code: "RAD01"}, op(Retry, "J")},
			secondary: "job line:J-a", primary: "version:2 event:status:Accepted=SACC", state: Linked},
		{name: "the primary cancels: job event, then closed after closeAfter (row 10)",
			life:      []Action{raise("J", "PLB001"), assign("J", "a", "7"), status(Primary, "J", "Cancelled"), {Kind: Elapse}, status(Secondary, "J", "Accepted")},
			secondary: "job line:J-a event:status:Cancelled=PCAN", state: Closed},
		{name: "ended on both sides closes; a reopening called it off first (row 10, lifecycle.md)",
			life: []Action{raise("J", "PLB001"), assign("J", "a", "7"), status(Secondary, "J", "Completed"), status(Primary, "J", "Completed"),
				status(Primary, "J", "In Progress"), {Kind: Elapse}, status(Primary, "J", "Completed"), status(Secondary, "J", "Accepted")},
			secondary: "job line:J-a", primary: "event:status:Completed=SCOMP event:status:Accepted=SACC", state: Linked},
		{name: "a missing site: NeedsAttention, later events wait; fixed and retried",
			life: []Action{{Kind: Raise, System: "acme", Job: "J", Site: "SITE-003", Priority: "Urgent", Lines: []Line{{"J-a", "PLB001", "1"}}}, assign("J", "a", "7"),
				status(Primary, "J", "On Hold"), op(Retry, "J"), {Kind: AddSite, System: "fixit", Site: "SITE-003"}, op(Retry, "J")},
			secondary: "job line:J-a event:status:On Hold=PHOLD", state: Linked},
		{name: "a missing contact and an unmapped priority, each fixed then retried",
			life: []Action{{Kind: Raise, System: "acme", Job: "J", Site: "SITE-001", Contact: "CON-009", Priority: "Low", Lines: []Line{{"J-a", "PLB001", "1"}}}, assign("J", "a", "7"),
				{Kind: MapPriority, Link: "acme-fixit", Priority: "low"}, op(Retry, "J"), {Kind: AddContact, System: "fixit", Site: "SITE-001", Contact: "CON-009"}, op(Retry, "J")},
			secondary: "job line:J-a", state: Linked},
		{name: "an unknown SOR code left unfixed: NeedsAttention at the end",
			life:  []Action{raise("J", "RAD01"), assign("J", "a", "7"), status(Primary, "J", "On Hold")},
			state: NeedsAttention},
		{name: "a skipped creation leaves the link Linking, events waiting for the linked job",
			life:  []Action{raise("J", "RAD01", "PLB001"), assign("J", "a", "7"), op(Skip, "J"), status(Primary, "J", "On Hold")},
			state: Linking},
		{name: "after a skipped creation, another assignment creates the job from the primary as it is",
			life: []Action{raise("J", "RAD01", "PLB001"), assign("J", "a", "7"), op(Skip, "J"), status(Primary, "J", "On Hold"),
				{Kind: AddCode, System: "fixit", Code: "RAD01"}, assign("J", "b", "7")},
			secondary: "job line:J-a line:J-b event:status:On Hold=PHOLD", state: Linked},
		{name: "pause queues, resume applies in order",
			life: []Action{raise("J", "PLB001"), assign("J", "a", "7"), op(Pause, "J"), status(Primary, "J", "On Hold"), op(Pause, "J"),
				op(Resume, "J"), status(Primary, "J", "Cancelled"), op(Resume, "J")},
			secondary: "job line:J-a event:status:On Hold=PHOLD event:status:Cancelled=PCAN", state: Linked, refusedIdx: []int{4, 7}},
		{name: "paused at the end: nothing written since",
			life:      []Action{raise("J", "PLB001"), assign("J", "a", "7"), op(Pause, "J"), status(Primary, "J", "On Hold")},
			secondary: "job line:J-a", state: Paused},
		{name: "unlink closes; nothing is written after it, actions are refused",
			life:      []Action{raise("J", "PLB001"), assign("J", "a", "7"), op(Unlink, "J"), status(Primary, "J", "On Hold"), op(Pause, "J")},
			secondary: "job line:J-a", state: Closed, refusedIdx: []int{4}},
		{name: "a status passed through while its webhook was lost may be missing (reconciliation.md)",
			life:      []Action{raise("J", "PLB001"), assign("J", "a", "7"), lost(status(Secondary, "J", "Accepted")), lost(status(Secondary, "J", "Completed"))},
			secondary: "job line:J-a", primary: "event:status:Accepted=SACC? event:status:Completed=SCOMP", state: Linked},
		{name: "an appointment moved twice while its webhooks were lost (reconciliation.md)",
			life: []Action{raise("J", "PLB001"), assign("J", "a", "7"), lost(appt("J", "A1", Booked, 1)), lost(appt("J", "A1", Rescheduled, 2)),
				lost(appt("J", "A1", Rescheduled, 3)), lost(appt("J", "A1", Cancelled, 3)), lost(appt("J", "A2", Booked, 4))},
			secondary: "job line:J-a",
			primary: "event:appointment:A1:created=APPT? event:appointment:A1:at:" + at(2) + "=RESCH? event:appointment:A1:at:" + at(3) + "=RESCH " +
				"event:appointment:A1:cancelled=APCAN event:appointment:A2:created=APPT", state: Linked},
		{name: "documents and status from before the assignment are learned by reading",
			cfg:       &noApproval,
			life:      []Action{raise("J", "PLB001"), doc(Upload, Primary, "J", "D1", "Photos"), status(Primary, "J", "On Hold"), assign("J", "a", "7")},
			secondary: "job line:J-a event:status:On Hold=PHOLD? document:D1", state: Linked},
		{name: "documents from before the assignment are read as they are now, not as their history",
			cfg: &primaryApproval,
			life: []Action{raise("J", "PLB001"), doc(Upload, Primary, "J", "D0", "Photos"), doc(Approve, Primary, "J", "D0", "Photos"), doc(Reject, Primary, "J", "D0", "Photos"),
				doc(Upload, Primary, "J", "D1", "Photos"), doc(Approve, Primary, "J", "D1", "Photos"), doc(Upload, Primary, "J", "D2", "Photos"), assign("J", "a", "7")},
			secondary: "job line:J-a document:D1", state: Linked},
		{name: "the systems refuse a version raised over an undecided one, and a decision of another version",
			life: []Action{raise("J", "PLB001"), assign("J", "a", "7"), raiseV(Secondary, "J", Change{"add", "PLB002", "1"}),
				raiseV(Secondary, "J", Change{"add", "PLB002", "1"}), decide(Primary, "J", 1, Approved), decide(Primary, "J", 2, VersionCanceled)},
			secondary: "job line:J-a version:2:cancelled=PVCAN", primary: "version:2", state: Linked, refusedIdx: []int{3, 4}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := acmeFixit()
			if tc.cfg != nil {
				cfg = *tc.cfg
			}
			m := run(t, cfg, tc.life, tc.refusedIdx...)
			if got := keys(m, "J", Secondary); got != tc.secondary {
				t.Errorf("secondary writes:\n got %s\nwant %s", got, tc.secondary)
			}
			if got := keys(m, "J", Primary); got != tc.primary {
				t.Errorf("primary writes:\n got %s\nwant %s", got, tc.primary)
			}
			var st State
			for _, l := range m.Expect().Links {
				st = l.State
				if (l.LastError != "") != (st == NeedsAttention) {
					t.Errorf("lastError %q with state %s", l.LastError, st)
				}
			}
			if st != tc.state {
				t.Errorf("state %q, want %q", st, tc.state)
			}
		})
	}
}
