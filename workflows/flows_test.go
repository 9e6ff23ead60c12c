package workflows_test

import (
	"context"
	"time"

	"github.com/stretchr/testify/mock"

	"github.com/o2o-sync/o2o/activities"
	"github.com/o2o-sync/o2o/events"
	"github.com/o2o-sync/o2o/internal/linktest"
	"github.com/o2o-sync/o2o/lifecycle"
	"github.com/o2o-sync/o2o/workflows"
)

var (
	t0          = linktest.T0
	statusEvent = linktest.Status
)

// linked makes the first event create the linked job FX000001.
func (s *linkedJobSuite) linked() {
	s.env.OnActivity(s.acts.CreateLinkedJob, mock.Anything, mock.Anything).
		Return(lifecycle.Result{SecondaryJobRef: "FX000001", ActivityIDs: []string{"137001"}}, nil).Once()
	s.signal(0, assigned("msg_a", "137001", "7"))
}

// endedOnBothSides links the job and has it completed in the primary
// (after a second) and then in the secondary (after two), which starts the
// grace period before the link closes.
func (s *linkedJobSuite) endedOnBothSides() {
	s.linked()
	s.jobEvents()
	s.signal(time.Second, statusEvent("p-done", events.Primary, "Completed", t0))
	s.signal(2*time.Second, statusEvent("s-done", events.Secondary, "Completed", t0))
}

// jobEvents records every AddJobEvent call.
func (s *linkedJobSuite) jobEvents() *[]activities.JobEventInput {
	var calls []activities.JobEventInput
	s.env.OnActivity(s.acts.AddJobEvent, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.JobEventInput) (lifecycle.Result, error) {
			calls = append(calls, in)
			return lifecycle.Result{}, nil
		}).Maybe()
	return &calls
}

func (s *linkedJobSuite) TestStatusChangesTravelBothWaysWhenMapped() {
	s.linked()
	calls := s.jobEvents()
	s.signal(time.Second, statusEvent("msg_s1", events.Secondary, "Accepted", t0))
	s.signal(2*time.Second, statusEvent("msg_p1", events.Primary, "On Hold", t0.Add(time.Hour)))
	s.signal(3*time.Second, statusEvent("msg_p2", events.Primary, "In Progress", t0.Add(2*time.Hour)))
	var st lifecycle.LinkState
	s.env.RegisterDelayedCallback(func() { st = s.query() }, time.Minute)
	s.run(input, 2*time.Minute)

	s.Require().Len(*calls, 1, "only the mapped secondary status (the config under test maps Accepted only)")
	c := (*calls)[0]
	s.Equal(events.Primary, c.Target)
	s.Equal("SACC", c.EventCode)
	s.Equal("AC000001", c.PrimaryJobRef)
	s.Equal("FX000001", c.SecondaryJobRef)
	s.Equal("msg_s1", c.Key, "the event id makes the write idempotent")
	s.Equal(t0, c.Date.UTC())
	s.Contains(c.Note, "Accepted")
	s.Require().Len(st.Events, 4)
	s.Equal(lifecycle.OutcomeApplied, st.Events[1].Outcome)
	s.Equal("secondaryToPrimary", st.Events[1].Direction)
	s.Equal(lifecycle.OutcomeSkipped, st.Events[2].Outcome)
	s.Contains(st.Events[2].Detail, `status "On Hold" is not mapped`)
}

func (s *linkedJobSuite) TestAppointmentEventsReachThePrimaryWithDateAndReason() {
	s.linked()
	calls := s.jobEvents()
	start := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	end := start.Add(2 * time.Hour)
	prev := start.Add(-24 * time.Hour)
	appt := func(id string, typ events.Type, a events.Appointment) events.Event {
		return events.Event{ID: id, System: "fixit", Side: events.Secondary, Type: typ, OccurredAt: t0, JobRef: "FX000001", JobClientRef: "AC000001", Appointment: &a}
	}
	s.signal(time.Second, appt("m1", events.AppointmentCreated, events.Appointment{AppointmentID: "5001", Start: prev, End: &end}))
	s.signal(2*time.Second, appt("m2", events.AppointmentRescheduled, events.Appointment{AppointmentID: "5001", Start: start, End: &end, PreviousStart: &prev, Reason: "Tenant away"}))
	s.signal(3*time.Second, appt("m3", events.AppointmentCancelled, events.Appointment{AppointmentID: "5001", Start: start, Reason: "No access"}))
	s.signal(4*time.Second, appt("m4", events.AppointmentCompleted, events.Appointment{AppointmentID: "5002", Start: start}))
	s.run(input, time.Minute)

	s.Require().Len(*calls, 4)
	codes := []string{}
	for _, c := range *calls {
		codes = append(codes, c.EventCode)
		s.Equal(events.Primary, c.Target)
	}
	s.Equal([]string{"APPT", "RESCH", "APCAN", "APCOM"}, codes)
	s.Contains((*calls)[1].Note, "Mon 30 Nov 2026 09:00–11:00", "UK local time")
	s.Contains((*calls)[1].Note, "was Sun 29 Nov 2026 09:00")
	s.Contains((*calls)[1].Note, "Reason: Tenant away")
	s.Contains((*calls)[2].Note, "Reason: No access")
	s.Contains((*calls)[3].Note, "appointment 5002")
}

func (s *linkedJobSuite) TestDocumentsInSharedCategoriesAreCopiedAndEchoesAreNot() {
	s.linked()
	var copies []activities.CopyDocumentInput
	s.env.OnActivity(s.acts.CopyDocument, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.CopyDocumentInput) (lifecycle.Result, error) {
			copies = append(copies, in)
			return lifecycle.Result{TargetDocumentID: "D9", Size: 10, SHA256: "ab"}, nil
		})
	doc := func(id string, side events.Side, d events.Document) events.Event {
		ev := statusEvent(id, side, "", t0)
		ev.Type, ev.Status, ev.Document = events.DocumentUploaded, nil, &d
		return ev
	}
	s.signal(time.Second, doc("d1", events.Primary, events.Document{DocumentID: "D1", FileName: "gas.pdf", Category: "Gas Certificate"}))
	s.signal(2*time.Second, doc("d2", events.Primary, events.Document{DocumentID: "D2", FileName: "memo.txt", Category: "Internal"}))
	s.signal(3*time.Second, doc("d3", events.Secondary, events.Document{DocumentID: "D9", FileName: "gas.pdf", Category: "Certificates", ClientRef: "o2o:acme-fixit:acme:D1"}))
	s.signal(4*time.Second, doc("d4", events.Secondary, events.Document{DocumentID: "D10", FileName: "after.jpg", Category: "Site Photos"}))
	var st lifecycle.LinkState
	s.env.RegisterDelayedCallback(func() { st = s.query() }, time.Minute)
	s.run(input, 2*time.Minute)

	s.Require().Len(copies, 2)
	s.Equal(events.Primary, copies[0].From)
	s.Equal("AC000001", copies[0].SourceJobRef)
	s.Equal("FX000001", copies[0].TargetJobRef)
	s.Equal("Certificates", copies[0].TargetCategory)
	s.Equal(events.Secondary, copies[1].From)
	s.Equal("FX000001", copies[1].SourceJobRef)
	s.Equal("AC000001", copies[1].TargetJobRef)
	s.Equal("Photos", copies[1].TargetCategory)
	s.Contains(st.Events[2].Detail, `category "Internal" is not shared`)
	s.Contains(st.Events[3].Detail, "a copy O2O made")
}

func (s *linkedJobSuite) TestLinkClosesAfterTheGracePeriodOnceBothSidesEnded() {
	s.endedOnBothSides()
	var closing lifecycle.LinkState
	s.env.RegisterDelayedCallback(func() { closing = s.query() }, time.Hour)
	s.env.ExecuteWorkflow(workflows.WorkflowName, input)

	s.Require().True(s.env.IsWorkflowCompleted())
	s.NoError(s.env.GetWorkflowError(), "the link completes on its own")
	s.Require().NotNil(closing.ClosesAt)
	s.Equal("the job has ended in both systems", closing.ClosingReason)
	s.True(closing.PrimaryEnded)
	s.True(closing.SecondaryEnded)
	s.Equal(lifecycle.StateLinked, closing.State, "still open during the grace period")
	final := s.query()
	s.Equal(lifecycle.StateClosed, final.State)
}

func (s *linkedJobSuite) TestPrimaryCancellationIsPropagatedThenCloses() {
	s.linked()
	calls := s.jobEvents()
	s.signal(time.Second, statusEvent("p-can", events.Primary, "Cancelled", t0))
	s.env.ExecuteWorkflow(workflows.WorkflowName, input)

	s.NoError(s.env.GetWorkflowError())
	s.Require().Len(*calls, 1)
	s.Equal("PCAN", (*calls)[0].EventCode)
	s.Equal(events.Secondary, (*calls)[0].Target)
	final := s.query()
	s.Equal(lifecycle.StateClosed, final.State)
	s.Equal("the primary cancelled the job", final.ClosingReason)
}

func (s *linkedJobSuite) TestReopeningCallsOffTheClose() {
	s.endedOnBothSides()
	s.signal(time.Hour, statusEvent("s-reopen", events.Secondary, "In Progress", t0.Add(time.Hour)))
	var st lifecycle.LinkState
	s.env.RegisterDelayedCallback(func() { st = s.query() }, 100*time.Hour)
	s.run(input, 101*time.Hour)

	s.Equal(lifecycle.StateLinked, st.State, "still open long after the grace period would have ended")
	s.Nil(st.ClosesAt)
	s.Contains(st.Events[len(st.Events)-1].Detail, "reopened")
}

func (s *linkedJobSuite) TestLateEventsFromOneSourceAreAppliedInSourceOrder() {
	s.env.OnActivity(s.acts.CreateLinkedJob, mock.Anything, mock.Anything).
		Return(lifecycle.Result{SecondaryJobRef: "FX000001", ActivityIDs: []string{"137001"}}, nil).Once()
	calls := s.jobEvents()
	// The events wait for the linked job, so they are all queued when the
	// late one (a sender's retry of an earlier event) arrives.
	s.signal(0, statusEvent("s-2", events.Secondary, "In Progress", t0.Add(2*time.Minute)))
	s.signal(0, statusEvent("s-3", events.Secondary, "Accepted", t0.Add(3*time.Minute)))
	s.signal(time.Second, statusEvent("s-1", events.Secondary, "Accepted", t0.Add(time.Minute)))
	s.signal(2*time.Second, assigned("msg_a", "137001", "7"))
	s.run(input, time.Minute)

	s.Require().Len(*calls, 3)
	s.Equal([]string{"s-1", "s-2", "s-3"}, []string{(*calls)[0].Key, (*calls)[1].Key, (*calls)[2].Key})
}
