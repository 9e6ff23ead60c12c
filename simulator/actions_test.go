package simulator_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/o2o-sync/o2o/events"
	"github.com/o2o-sync/o2o/simulator"
)

// decodeOutbox runs every outbox body through events.Decode, as O2O's
// webhook server would.
func decodeOutbox(t *testing.T, h *harness, system string) []events.Event {
	t.Helper()
	var out []simulator.OutboxEvent
	h.simOK("GET", system, "/outbox", nil, &out)
	evs := make([]events.Event, len(out))
	for i, ob := range out {
		ev, err := events.Decode(ob.Body, ob.ID, system)
		require.NoError(t, err, "event %d: %s", i, ob.Body)
		require.Equal(t, ob.Type, ev.Type)
		require.Equal(t, i+1, ob.Seq)
		evs[i] = ev
	}
	return evs
}

func TestSimActionsEmitDecodableEvents(t *testing.T) {
	h := startDev(t)
	start := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	rfc := func(t time.Time) string { return t.Format(time.RFC3339) }

	// A job in fixit with a client ref, as O2O would have created it, so
	// that events carry jobClientRef.
	var job simulator.SimJobResponse
	h.simOK("POST", "fixit", "/jobs", map[string]any{
		"clientId": "41", "clientRef": "AC000001", "siteRef": "SITE-001", "contactRef": "CON-001",
		"priority": "P1 Emergency", "activities": []map[string]string{{"code": "PLB001"}},
	}, &job)
	require.Equal(t, "FX000001", job.JobRef)
	require.Equal(t, "1", job.Activities[0].Quantity, "quantity defaults to 1")
	require.Empty(t, decodeOutbox(t, h, "fixit"), "creating a job emits nothing")

	var assigned struct {
		simulator.Activity
		EventID string `json:"eventId"`
	}
	h.simOK("POST", "fixit", "/activities/"+job.Activities[0].ID+"/assign", map[string]string{"teamId": "21"}, &assigned)
	require.Equal(t, "21", assigned.SupplierID)

	var st struct {
		PreviousStatus string `json:"previousStatus"`
		EventID        string `json:"eventId"`
	}
	h.simOK("POST", "fixit", "/jobs/FX000001/status", map[string]string{"status": "Accepted"}, &st)
	require.Equal(t, simulator.StatusNewlyCreated, st.PreviousStatus)

	var appt struct {
		simulator.Appointment
		EventID string `json:"eventId"`
	}
	require.Equal(t, http.StatusCreated, h.sim("POST", "fixit", "/jobs/FX000001/appointments",
		map[string]string{"start": rfc(start), "end": rfc(start.Add(2 * time.Hour))}, &appt))
	require.NotEmpty(t, appt.ID)
	h.simOK("POST", "fixit", "/appointments/"+appt.ID+"/reschedule",
		map[string]string{"start": rfc(start.Add(24 * time.Hour)), "end": rfc(start.Add(26 * time.Hour)), "reason": "Tenant away"}, nil)
	h.simOK("POST", "fixit", "/appointments/"+appt.ID+"/complete", map[string]string{}, nil)

	var appt2 struct {
		simulator.Appointment
	}
	h.simOK("POST", "fixit", "/jobs/FX000001/appointments",
		map[string]string{"start": rfc(start.Add(48 * time.Hour)), "end": rfc(start.Add(49 * time.Hour))}, &appt2)
	h.simOK("POST", "fixit", "/appointments/"+appt2.ID+"/cancel", map[string]string{"reason": "No access"}, nil)

	content := []byte("%PDF-1.4 fake certificate")
	sum := sha256.Sum256(content)
	var doc struct {
		simulator.Document
		EventID string `json:"eventId"`
	}
	status, _, raw := h.do("POST", "/fixit/sim/jobs/FX000001/documents?category=Certificates&fileName=gas-cert.pdf",
		http.Header{"Content-Type": {"application/pdf"}}, bytes.NewReader(content))
	require.Equal(t, http.StatusCreated, status, string(raw))
	require.NoError(t, json.Unmarshal(raw, &doc))

	evs := decodeOutbox(t, h, "fixit")
	require.Len(t, evs, 8)
	for _, ev := range evs {
		require.Equal(t, "FX000001", ev.JobRef)
		require.Equal(t, "AC000001", ev.JobClientRef)
		require.Equal(t, simulator.SimActor, ev.Actor)
		require.WithinDuration(t, time.Now(), ev.OccurredAt, time.Minute)
	}
	require.Equal(t, assigned.EventID, evs[0].ID, "actions answer the id of the event they emitted")
	require.Equal(t, events.ActivityAssigned, evs[0].Type)
	require.Equal(t, &events.Assignment{ActivityID: "245000", TeamID: "21", TeamName: "Fixit Engineers"}, evs[0].Assignment)

	require.Equal(t, st.EventID, evs[1].ID)
	require.Equal(t, &events.StatusChange{Status: "Accepted", StatusID: "2", PreviousStatus: "Newly Created"}, evs[1].Status)

	require.Equal(t, appt.EventID, evs[2].ID)
	require.Equal(t, events.AppointmentCreated, evs[2].Type)
	require.Equal(t, appt.ID, evs[2].Appointment.AppointmentID)
	require.True(t, start.Equal(evs[2].Appointment.Start))
	require.True(t, start.Add(2*time.Hour).Equal(*evs[2].Appointment.End))
	require.Nil(t, evs[2].Appointment.PreviousStart)

	require.Equal(t, events.AppointmentRescheduled, evs[3].Type)
	require.True(t, start.Add(24*time.Hour).Equal(evs[3].Appointment.Start))
	require.True(t, start.Equal(*evs[3].Appointment.PreviousStart))
	require.Equal(t, "Tenant away", evs[3].Appointment.Reason)

	require.Equal(t, events.AppointmentCompleted, evs[4].Type)
	require.True(t, start.Add(24*time.Hour).Equal(evs[4].Appointment.Start))

	require.Equal(t, events.AppointmentCreated, evs[5].Type)
	require.Equal(t, events.AppointmentCancelled, evs[6].Type)
	require.Equal(t, appt2.ID, evs[6].Appointment.AppointmentID)
	require.Equal(t, "No access", evs[6].Appointment.Reason)

	require.Equal(t, doc.EventID, evs[7].ID)
	require.Equal(t, &events.Document{
		DocumentID: doc.DocumentID, FileName: "gas-cert.pdf", Category: "Certificates",
		Size: int64(len(content)), SHA256: hex.EncodeToString(sum[:]),
	}, evs[7].Document)

	// The job shows everything.
	var full simulator.Job
	h.simOK("GET", "fixit", "/jobs/FX000001", nil, &full)
	require.Equal(t, "Accepted", full.Status)
	require.Equal(t, "21", full.Activities[0].SupplierID)
	require.Len(t, full.Appointments, 2)
	require.Equal(t, simulator.AppointmentCompleted, full.Appointments[0].Status)
	require.Equal(t, simulator.AppointmentCancelled, full.Appointments[1].Status)
	require.Len(t, full.Documents, 1)
	require.Equal(t, simulator.SimActor, full.Documents[0].UploadedBy)

	var list []simulator.Job
	h.simOK("GET", "fixit", "/jobs?clientRef=AC000001", nil, &list)
	require.Len(t, list, 1)
	h.simOK("GET", "fixit", "/jobs?clientRef=NOPE", nil, &list)
	require.Empty(t, list)
}

func TestSimActionErrors(t *testing.T) {
	h := startDev(t)
	jobRef, actID := h.newAcmeJob()
	var appt simulator.Appointment
	h.simOK("POST", "acme", "/jobs/"+jobRef+"/appointments",
		map[string]string{"start": "2026-11-28T09:00:00Z", "end": "2026-11-28T10:00:00Z"}, &appt)
	h.simOK("POST", "acme", "/appointments/"+appt.ID+"/cancel", nil, nil)

	for _, c := range []struct {
		method, system, path string
		body                 any
		status               int
		want                 string
	}{
		{"POST", "nosuch", "/jobs", map[string]string{}, 404, `unknown system "nosuch"`},
		{"POST", "acme", "/jobs", map[string]string{"clientId": "28", "siteRef": "SITE-001"}, 400, "priority is required"},
		{"POST", "acme", "/jobs", map[string]string{"clientId": "28", "siteRef": "SITE-001", "priority": "P1 Emergency"}, 400, `priority "P1 Emergency" is not a known priority`},
		{"POST", "fixit", "/jobs", map[string]string{"clientId": "41", "siteRef": "SITE-003", "priority": "P1 Emergency"}, 400, `siteRef "SITE-003" does not exist`},
		{"POST", "acme", "/jobs", map[string]any{"clientId": "28", "siteRef": "SITE-001", "priority": "Routine", "activities": []map[string]string{{"code": "XYZ"}}}, 400, `activities[0].code "XYZ"`},
		{"POST", "acme", "/activities/1/assign", map[string]string{"teamId": "7"}, 404, `activity "1" not found`},
		{"POST", "acme", "/activities/" + actID + "/assign", map[string]string{"teamId": "21"}, 400, `teamId "21" is not a known team`},
		{"POST", "acme", "/activities/" + actID + "/assign", map[string]string{}, 400, "teamId is required"},
		{"POST", "acme", "/jobs/" + jobRef + "/status", map[string]string{"status": "Accepted"}, 400, `status "Accepted" is not a known status`},
		{"POST", "acme", "/jobs/AC999999/status", map[string]string{"status": "On Hold"}, 404, "not found"},
		{"POST", "acme", "/jobs/" + jobRef + "/appointments", map[string]string{"start": "tomorrow", "end": "2026-11-28T10:00:00Z"}, 400, `start "tomorrow" must be an RFC 3339`},
		{"POST", "acme", "/jobs/" + jobRef + "/appointments", map[string]string{"start": "2026-11-28T10:00:00Z", "end": "2026-11-28T09:00:00Z"}, 400, "end must be after start"},
		{"POST", "acme", "/jobs/" + jobRef + "/appointments", map[string]string{"end": "2026-11-28T09:00:00Z"}, 400, "start is required"},
		{"POST", "acme", "/appointments/" + appt.ID + "/complete", nil, 409, "is cancelled"},
		{"POST", "acme", "/appointments/" + appt.ID + "/reschedule", map[string]string{"start": "2026-11-29T09:00:00Z", "end": "2026-11-29T10:00:00Z"}, 409, "is cancelled"},
		{"POST", "acme", "/appointments/1/cancel", nil, 404, "not found"},
		{"POST", "acme", "/jobs/" + jobRef + "/documents?category=Nope&fileName=a.txt", "x", 400, `category "Nope"`},
		{"GET", "acme", "/jobs/AC999999", nil, 404, "not found"},
	} {
		var resp map[string]string
		status := h.sim(c.method, c.system, c.path, c.body, &resp)
		require.Equal(t, c.status, status, "%s %s: %v", c.method, c.path, resp)
		require.Contains(t, resp["error"], c.want, "%s %s", c.method, c.path)
	}
	require.Len(t, h.app.Outbox("acme"), 2, "only the appointment's two events; refused actions emit nothing")
}

func TestSimAddSiteMakesTheSiteVisibleToTheAPI(t *testing.T) {
	h := newHarness(t, devSeed(t), simulator.Options{})
	code, _ := h.rest("fixit", http.MethodGet, "/contact/sites/41/SITE-003", nil)
	require.Equal(t, http.StatusNotFound, code)

	var site map[string]any
	h.simOK(http.MethodPost, "fixit", "/sites", map[string]any{"clientId": "41", "siteRef": "SITE-003", "name": "3 Low Road", "contactRefs": []string{}}, &site)
	require.Equal(t, "SITE-003", site["siteRef"], "the reply speaks the same camelCase JSON as the rest")
	require.Equal(t, "41", site["clientId"])
	code, body := h.rest("fixit", http.MethodGet, "/contact/sites/41/SITE-003", nil)
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "SITE-003", body["siteRef"])

	require.Equal(t, http.StatusConflict, h.sim(http.MethodPost, "fixit", "/sites", map[string]any{"clientId": "41", "siteRef": "SITE-003"}, nil))
	require.Equal(t, http.StatusBadRequest, h.sim(http.MethodPost, "fixit", "/sites", map[string]any{"clientId": "99", "siteRef": "X"}, nil))
	require.Equal(t, http.StatusBadRequest, h.sim(http.MethodPost, "fixit", "/sites", map[string]any{"clientId": "41", "siteRef": "X", "contactRefs": []string{"NOPE"}}, nil))
}

func TestSimDeleteJobMakesItsReadsNotFound(t *testing.T) {
	h := newHarness(t, devSeed(t), simulator.Options{})
	var job struct {
		JobRef string `json:"jobRef"`
	}
	h.simOK(http.MethodPost, "acme", "/jobs", map[string]any{"clientId": "28", "siteRef": "SITE-001", "priority": "Emergency",
		"activities": []map[string]string{{"code": "PLB001", "quantity": "1"}}}, &job)
	code, _ := h.rest("acme", http.MethodGet, "/workflow/job/"+job.JobRef, nil)
	require.Equal(t, http.StatusOK, code)

	require.Equal(t, http.StatusNoContent, h.sim(http.MethodDelete, "acme", "/jobs/"+job.JobRef, nil, nil))
	code, _ = h.rest("acme", http.MethodGet, "/workflow/job/"+job.JobRef, nil)
	require.Equal(t, http.StatusNotFound, code)
	require.Equal(t, http.StatusNotFound, h.sim(http.MethodDelete, "acme", "/jobs/"+job.JobRef, nil, nil))
}

func TestSimDeleteActivityTakesTheLineOffItsJob(t *testing.T) {
	h := newHarness(t, devSeed(t), simulator.Options{})
	var job simulator.SimJobResponse
	h.simOK(http.MethodPost, "acme", "/jobs", map[string]any{"clientId": "28", "siteRef": "SITE-001", "priority": "Emergency",
		"activities": []map[string]string{{"code": "PLB001", "quantity": "1"}, {"code": "PLB002", "quantity": "1"}}}, &job)
	gone, kept := job.Activities[0].ID, job.Activities[1].ID

	require.Equal(t, http.StatusNoContent, h.sim(http.MethodDelete, "acme", "/activities/"+gone, nil, nil))
	var read simulator.Job
	h.simOK(http.MethodGet, "acme", "/jobs/"+job.JobRef, nil, &read)
	require.Len(t, read.Activities, 1)
	require.Equal(t, kept, read.Activities[0].ID)
	require.Equal(t, http.StatusNotFound, h.sim(http.MethodPost, "acme", "/activities/"+gone+"/assign", map[string]string{"teamId": "7"}, nil))
	require.Equal(t, http.StatusNotFound, h.sim(http.MethodDelete, "acme", "/activities/"+gone, nil, nil))
}
