package rules

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/o2o-sync/o2o/config"
	"github.com/o2o-sync/o2o/events"
)

func testLink() Link {
	return Link{
		Config: config.Link{
			Name:       "acme-fixit",
			Primary:    config.Primary{System: "acme", Client: config.Ref{Name: "Acme", ID: "28"}, Team: config.Ref{Name: "Fixit", ID: "7"}},
			Secondary:  config.Secondary{System: "fixit", Client: config.Ref{Name: "Acme", ID: "41"}, WorkLogType: config.Ref{ID: "3"}, WorkType: config.Ref{ID: "12"}, Workflow: config.Ref{ID: "4"}, Service: config.Ref{ID: "9"}},
			Priorities: []config.PriorityMapping{{Primary: config.Ref{Name: "Emergency", ID: "1"}, Secondary: config.Ref{Name: "P1", ID: "11"}}},
		},
		PrimaryAPIUser: "o2o-api", SecondaryAPIUser: "o2o-fixit",
	}
}

func assignment(team, activity string) events.Event {
	return events.Event{ID: "m", System: "acme", Side: events.Primary, Type: events.ActivityAssigned, JobRef: "AC1",
		Assignment: &events.Assignment{ActivityID: activity, TeamID: team}}
}

func TestDecideAssignments(t *testing.T) {
	l := testLink()
	cases := []struct {
		name   string
		facts  Facts
		ev     events.Event
		action Action
		reason string
	}{
		{"first assignment creates the job", Facts{}, assignment("7", "1"), CreateJob, ""},
		{"later assignment adds to the job", Facts{SecondaryJobRef: "FX1", LinkedActivities: []string{"1"}}, assignment("7", "2"), AddActivities, ""},
		{"same activity again is skipped", Facts{SecondaryJobRef: "FX1", LinkedActivities: []string{"1"}}, assignment("7", "1"), Skip, "already on the linked job"},
		{"another team is skipped", Facts{}, assignment("8", "1"), Skip, "not to the link's team 7"},
		{"closed link records, does not act", Facts{Closed: true}, assignment("7", "1"), Skip, "closed"},
		{"secondary assignments stay there", Facts{SecondaryJobRef: "FX1"}, func() events.Event {
			e := assignment("7", "1")
			e.Side, e.System = events.Secondary, "fixit"
			return e
		}(), Skip, "stay in the secondary"},
		{"O2O's own write is an echo", Facts{}, func() events.Event { e := assignment("7", "1"); e.Actor = "o2o-api"; return e }(), Skip, "echo"},
		{"another user's change is not an echo", Facts{}, func() events.Event { e := assignment("7", "1"); e.Actor = "j.smith"; return e }(), CreateJob, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cmd := Decide(l, c.facts, c.ev)
			require.Equal(t, c.action, cmd.Action, cmd.Reason)
			require.Contains(t, cmd.Reason, c.reason)
			if c.action == CreateJob || c.action == AddActivities {
				require.Equal(t, []string{c.ev.Assignment.ActivityID}, cmd.ActivityIDs)
				require.Equal(t, events.Secondary, cmd.Target)
			}
		})
	}
}

func TestNeedsLinkedJob(t *testing.T) {
	require.False(t, NeedsLinkedJob(assignment("7", "1")))
	require.True(t, NeedsLinkedJob(events.Event{Type: events.JobStatusChanged}))
	require.True(t, NeedsLinkedJob(events.Event{Type: events.DocumentUploaded}))
}

func TestLinkedJobSpec(t *testing.T) {
	l := testLink().Config
	reported := time.Date(2026, 11, 27, 9, 30, 0, 0, time.UTC)
	spec, problems := LinkedJobSpec(l, PrimaryJob{JobRef: "AC1", SiteRef: "SITE-001", ContactRef: "CON-001",
		Priority: "emergency", Description: " Dripping tap ", ReportedDate: reported,
		Lines: []Line{{ActivityID: "1", Code: "PLB001", Quantity: "2"}}})
	require.Empty(t, problems)
	require.Equal(t, JobSpec{ClientRef: "AC1", SiteRef: "SITE-001", ContactRef: "CON-001", ReportedDate: reported,
		ClientID: "41", WorkLogTypeID: "3", WorkTypeID: "12", WorkflowID: "4", ServiceID: "9", PriorityID: "11",
		Description: "Dripping tap", Lines: []Line{{ActivityID: "1", Code: "PLB001", Quantity: "2"}}}, spec)

	_, problems = LinkedJobSpec(l, PrimaryJob{JobRef: "AC2", Priority: "Whenever"})
	require.Len(t, problems, 3)
	require.Contains(t, problems[0], `priority "Whenever" of primary job AC2 has no mapping in link acme-fixit`)
	require.Contains(t, problems[1], "no site reference")
	require.Contains(t, problems[2], "no activities assigned to team Fixit (7)")
}

func TestDirection(t *testing.T) {
	require.Equal(t, "primaryToSecondary", Direction(events.Primary))
	require.Equal(t, "secondaryToPrimary", Direction(events.Secondary))
}

func flowLink() Link {
	l := testLink()
	l.Config.Primary.EndStatuses = []string{"Completed", "Cancelled"}
	l.Config.Primary.CancelledStatuses = []string{"Cancelled"}
	l.Config.Secondary.EndStatuses = []string{"Completed", "Cancelled"}
	l.Config.Secondary.AcceptedStatus = "Accepted"
	l.Config.StatusEvents = config.StatusEvents{
		PrimaryToSecondary: []config.StatusEvent{{Status: "Cancelled", EventCode: "PCAN", Note: "Client cancelled"}},
		SecondaryToPrimary: []config.StatusEvent{{Status: "Accepted", EventCode: "SACC"}, {Status: "Completed", EventCode: "SCOMP", Note: "Done"}},
	}
	l.Config.AppointmentEvents = config.AppointmentEvents{Created: "APPT", Rescheduled: "RESCH", Cancelled: "APCAN", Completed: "APCOM"}
	l.Config.DocumentCategories = []config.CategoryMapping{{Primary: "Gas Certificate", Secondary: "Certificates"}}
	return l
}

func status(side events.Side, s string) events.Event {
	sys := "acme"
	if side == events.Secondary {
		sys = "fixit"
	}
	return events.Event{ID: "e", System: sys, Side: side, Type: events.JobStatusChanged, JobRef: "J1",
		OccurredAt: time.Date(2026, 7, 1, 8, 30, 0, 0, time.UTC), Status: &events.StatusChange{Status: s}}
}

func TestDecideStatusChanges(t *testing.T) {
	l, f := flowLink(), Facts{SecondaryJobRef: "FX1"}

	cmd := Decide(l, f, status(events.Secondary, "accepted"))
	require.Equal(t, AddJobEvent, cmd.Action)
	require.Equal(t, events.Primary, cmd.Target)
	require.Equal(t, "SACC", cmd.EventCode)
	require.Equal(t, "Accepted: fixit job J1 is now accepted", cmd.Note, "a default note, marked as the Accepted notification")
	require.Equal(t, &StatusEffect{Side: events.Secondary}, cmd.Status)

	cmd = Decide(l, f, status(events.Primary, "Cancelled"))
	require.Equal(t, AddJobEvent, cmd.Action)
	require.Equal(t, events.Secondary, cmd.Target)
	require.Equal(t, "Client cancelled", cmd.Note)
	require.Equal(t, &StatusEffect{Side: events.Primary, Ended: true, Cancelled: true}, cmd.Status)

	cmd = Decide(l, f, status(events.Primary, "Completed"))
	require.Equal(t, Skip, cmd.Action, "unmapped")
	require.Contains(t, cmd.Reason, `status "Completed" is not mapped in statusEvents.primaryToSecondary`)
	require.Equal(t, &StatusEffect{Side: events.Primary, Ended: true}, cmd.Status, "an unmapped status still ends the job")
}

func TestDecideAppointments(t *testing.T) {
	l, f := flowLink(), Facts{SecondaryJobRef: "FX1"}
	start := time.Date(2026, 7, 1, 8, 0, 0, 0, time.UTC) // 09:00 BST
	end := start.Add(90 * time.Minute)
	ev := events.Event{ID: "a", System: "fixit", Side: events.Secondary, Type: events.AppointmentCancelled, JobRef: "FX1",
		OccurredAt: start, Appointment: &events.Appointment{AppointmentID: "77", Start: start, End: &end, Reason: "No access"}}
	cmd := Decide(l, f, ev)
	require.Equal(t, AddJobEvent, cmd.Action)
	require.Equal(t, events.Primary, cmd.Target)
	require.Equal(t, "APCAN", cmd.EventCode)
	require.Equal(t, "Appointment for Wed 1 Jul 2026 09:00–10:30 cancelled by fixit. Reason: No access [fixit appointment 77, job FX1]", cmd.Note)

	ev.Side, ev.System = events.Primary, "acme"
	require.Equal(t, Skip, Decide(l, f, ev).Action, "the primary's own appointments stay there")
}

func TestDecideDocuments(t *testing.T) {
	l, f := flowLink(), Facts{SecondaryJobRef: "FX1"}
	ev := events.Event{ID: "d", System: "acme", Side: events.Primary, Type: events.DocumentUploaded, JobRef: "J1",
		Document: &events.Document{DocumentID: "D1", FileName: "cert.pdf", Category: "gas certificate"}}
	cmd := Decide(l, f, ev)
	require.Equal(t, CopyDocument, cmd.Action)
	require.Equal(t, events.Secondary, cmd.Target)
	require.Equal(t, "Certificates", cmd.Category)

	ev.Document.ClientRef = "o2o:acme-fixit:fixit:D7"
	require.Contains(t, Decide(l, f, ev).Reason, "a copy O2O made")

	ev.Document.ClientRef, ev.Document.Category = "", "Internal"
	require.Contains(t, Decide(l, f, ev).Reason, `category "Internal" is not shared`)
}

func TestShouldClose(t *testing.T) {
	closing, _ := ShouldClose(Facts{PrimaryEnded: true})
	require.False(t, closing, "one side ended is not enough")
	closing, reason := ShouldClose(Facts{PrimaryEnded: true, SecondaryEnded: true})
	require.True(t, closing)
	require.Equal(t, "the job has ended in both systems", reason)
	closing, reason = ShouldClose(Facts{PrimaryEnded: true, PrimaryCancelled: true})
	require.True(t, closing)
	require.Equal(t, "the primary cancelled the job", reason)
}

func TestStillAssignedReadsTheSourceNotTheEvent(t *testing.T) {
	l := testLink().Config
	confirmed, skip := StillAssigned(l, []string{"1", "2", "3"}, []Activity{
		{ID: "1", TeamID: "7"}, {ID: "2", TeamID: "8"}, {ID: "3", TeamID: "7", Deleted: true}})
	require.Equal(t, []string{"1"}, confirmed)
	require.Empty(t, skip)

	confirmed, skip = StillAssigned(l, []string{"2"}, []Activity{{ID: "2", TeamID: "8"}})
	require.Empty(t, confirmed)
	require.Equal(t, "activities [2] are no longer assigned to team 7 in acme", skip)
}

func TestTeamLinesTakeEveryLineOfTheTeam(t *testing.T) {
	l := testLink().Config
	lines := TeamLines(l, []Activity{
		{ID: "1", TeamID: "7", Code: "PLB001", Quantity: "2"},
		{ID: "2", TeamID: "8", Code: "ELE001", Quantity: "1"},
		{ID: "3", TeamID: "7", Code: "PLB002", Quantity: "1"},
		{ID: "4", TeamID: "", Code: "PLB003", Quantity: "5"}, // confirmed by the re-check, not yet on the job read
	}, []string{"4"})
	require.Equal(t, []Line{{ActivityID: "1", Code: "PLB001", Quantity: "2"}, {ActivityID: "3", Code: "PLB002", Quantity: "1"},
		{ActivityID: "4", Code: "PLB003", Quantity: "5"}}, lines)
}

func TestAnEventOfAnotherSecondaryJobIsNotApplied(t *testing.T) {
	l := testLink()
	ev := events.Event{ID: "m", System: "fixit", Side: events.Secondary, Type: events.JobStatusChanged, JobRef: "FX000002",
		JobClientRef: "AC1", Status: &events.StatusChange{Status: "Accepted"}}
	f := Facts{SecondaryJobRef: "FX000001", OwnJobsOnly: true}
	cmd := Decide(l, f, ev)
	require.Equal(t, Skip, cmd.Action)
	require.Equal(t, "fixit job FX000002 is not this link's linked job FX000001", cmd.Reason)

	f.OwnJobsOnly = false // links started before facts
	require.NotEqual(t, "fixit job FX000002 is not this link's linked job FX000001", Decide(l, f, ev).Reason)
}
