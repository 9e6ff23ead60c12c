package simulator_test

import (
	"bytes"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/o2o-sync/o2o/simulator"
)

// A system whose workflow records job events on changes (seed
// workflowEvents) records one for every assignment, status change,
// appointment change and document upload, whoever makes it, with the
// code's numeric id: jobEventsXML finds them, which is what O2O's polling
// and discovery read.
func TestWorkflowEventsAreRecordedAndFoundByJobEventsXML(t *testing.T) {
	seed := devSeed(t)
	require.Equal(t, "acme", seed.Systems[0].Name)
	seed.Systems[0].WorkflowEvents = simulator.WorkflowEvents{Assigned: "ASSIGN", StatusChanged: "STATUS", Appointment: "APPTCH", DocumentUploaded: "DOCUP"}
	now := time.Date(2026, 7, 1, 9, 30, 0, 0, time.UTC) // 10:30 in London
	h := newHarness(t, seed, simulator.Options{Now: func() time.Time { return now }})

	jobRef, activityID := h.newAcmeJob()
	h.simOK("POST", "acme", "/activities/"+activityID+"/assign", map[string]string{"teamId": "7"}, nil)
	h.simOK("POST", "acme", "/jobs/"+jobRef+"/status", map[string]string{"status": "In Progress"}, nil)
	var appt simulator.Appointment
	h.simOK("POST", "acme", "/jobs/"+jobRef+"/appointments", map[string]string{"start": "2026-07-02T08:00:00Z", "end": "2026-07-02T10:00:00Z"}, &appt)
	h.simOK("POST", "acme", "/appointments/"+appt.ID+"/cancel", map[string]string{"reason": "No access"}, nil)
	status, _, body := h.do(http.MethodPost, "/acme/sim/jobs/"+jobRef+"/documents?category=Photos&fileName=a.jpg", nil, bytes.NewReader([]byte("jpeg")))
	require.Equal(t, http.StatusCreated, status, "%s", body)

	job, ok := h.app.Job("acme", jobRef)
	require.True(t, ok)
	type row struct{ Code, EventID, Note, AddedBy, Date string }
	var got []row
	for _, e := range job.History {
		got = append(got, row{e.Code, e.EventID, e.Note, e.AddedBy, e.Date})
	}
	require.Equal(t, []row{
		{"ASSIGN", "110", "Activity " + activityID + " (PLB001) assigned to Fixit Plumbing (subcontract) (7)", simulator.SimActor, "01-07-2026 10:30:00"},
		{"STATUS", "111", "Status changed from Newly Created to In Progress", simulator.SimActor, "01-07-2026 10:30:00"},
		{"APPTCH", "112", "Appointment " + appt.ID + " booked for 02/07/2026 09:00–11:00", simulator.SimActor, "01-07-2026 10:30:00"},
		{"APPTCH", "112", "Appointment " + appt.ID + " cancelled", simulator.SimActor, "01-07-2026 10:30:00"},
		{"DOCUP", "113", "Document D1 (a.jpg) uploaded in Photos", simulator.SimActor, "01-07-2026 10:30:00"},
	}, got)

	// jobEventsXML selects them by id: the assignments alone, or the rest.
	doc := h.eventsOK("acme", "01-Jul-2026%2010:00:00/01-Jul-2026%2011:00:00/28/110")
	require.Len(t, doc.Jobs, 1)
	require.Equal(t, jobRef, doc.Jobs[0].JobRef)
	require.Equal(t, "ASSIGN", doc.Jobs[0].EventRef)
	require.Equal(t, "01-Jul-2026 10:30:00", doc.Jobs[0].EventDateTime)
	require.Equal(t, "Activity assigned", doc.Jobs[0].EventDescription)
	doc = h.eventsOK("acme", "01-Jul-2026%2010:00:00/01-Jul-2026%2011:00:00/28/111,112,113")
	require.Len(t, doc.Jobs, 4)

	// An upload through the API is recorded too, under the API user.
	status, _, body = h.do(http.MethodPost, "/acme/rest/documents/job/"+jobRef+"?fileName=b.pdf&category=Photos",
		http.Header{"Os-Rest-Auth-Token": {acmeToken}, "Content-Type": {"application/pdf"}}, bytes.NewReader([]byte("pdf")))
	require.Equal(t, http.StatusOK, status, "%s", body)
	job, _ = h.app.Job("acme", jobRef)
	last := job.History[len(job.History)-1]
	require.Equal(t, "DOCUP", last.Code)
	require.Equal(t, "o2o-api", last.AddedBy)

	// fixit records nothing: its seed names no workflow events.
	h.simOK("POST", "fixit", "/jobs", map[string]any{"clientId": "41", "siteRef": "SITE-001", "priority": "P1 Emergency",
		"activities": []map[string]string{{"code": "PLB001"}}}, nil)
	h.simOK("POST", "fixit", "/jobs/FX000001/status", map[string]string{"status": "Accepted"}, nil)
	fx, _ := h.app.Job("fixit", "FX000001")
	require.Empty(t, fx.History)
}

func TestWorkflowEventsMustBeEventCodes(t *testing.T) {
	seed := devSeed(t)
	seed.Systems[1].WorkflowEvents = simulator.WorkflowEvents{StatusChanged: "STATUS", Appointment: "NOPE"}
	_, err := simulator.New(seed, simulator.Options{})
	require.ErrorContains(t, err, `system "fixit": workflowEvents.appointment: "NOPE" is not one of the eventCodes`)
}
