package simulator

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/o2o-sync/o2o/events"
)

// This file serves /{system}/sim/...: the simulator's own control surface.
// It acts as a user of the simulated system (creating jobs, assigning
// activities, booking appointments, uploading, approving and rejecting
// documents, raising and deciding job versions in versions.go: each change
// emits its Integration Event with actor SimActor),
// shows the system's state, and injects faults. JSON in and out; no token, since it is not part of
// Oneserve. Errors are {"error":"..."} with a 4xx status.

// simRoute serves pattern ("METHOD /path") under /{system}/sim for the
// named system; an unknown system is a 404.
func (s *Simulator) simRoute(mux *http.ServeMux) func(pattern string, serve func(sys *system, w http.ResponseWriter, r *http.Request)) {
	return func(pattern string, serve func(sys *system, w http.ResponseWriter, r *http.Request)) {
		method, path, _ := strings.Cut(pattern, " ")
		mux.HandleFunc(method+" /{system}/sim"+path, func(w http.ResponseWriter, r *http.Request) {
			sys := s.systems[r.PathValue("system")] // never written after New
			if sys == nil {
				writeSimError(w, notFound("unknown system %q", r.PathValue("system")))
				return
			}
			serve(sys, w, r)
		})
	}
}

func (s *Simulator) simRoutes(mux *http.ServeMux) {
	route := s.simRoute(mux)
	route("POST /sites", s.simAddSite)
	route("POST /contacts", s.simAddContact)
	route("POST /sorCodes", s.simAddSORCode)
	route("POST /jobs", s.simCreateJob)
	route("GET /jobs", s.simListJobs)
	route("GET /jobs/{jobRef}", s.simGetJob)
	route("DELETE /jobs/{jobRef}", s.simDeleteJob)
	route("POST /jobs/{jobRef}/status", s.simSetStatus)
	route("POST /jobs/{jobRef}/appointments", s.simAddAppointment)
	route("POST /jobs/{jobRef}/documents", s.simUploadDocument)
	route("POST /jobs/{jobRef}/versions", s.simRaiseVersion)
	route("POST /jobs/{jobRef}/versions/{version}/{decision}", s.simDecideVersion)
	route("POST /documents/{documentId}/approve", s.simApproveDocument)
	route("POST /documents/{documentId}/reject", s.simRejectDocument)
	route("POST /activities/{id}/assign", s.simAssign)
	route("DELETE /activities/{id}", s.simDeleteActivity)
	route("POST /appointments/{id}/reschedule", s.simReschedule)
	route("POST /appointments/{id}/cancel", s.simCancel)
	route("POST /appointments/{id}/complete", s.simComplete)
	route("GET /outbox", s.simOutbox)
	route("GET /requests", s.simRequests)
	route("GET /faults", s.simListFaults)
	route("POST /faults", s.simAddFault)
	route("DELETE /faults", s.simClearFaults)
}

func writeSimError(w http.ResponseWriter, err *apiError) {
	writeJSON(w, err.status, map[string]string{"error": err.msg})
}

// lastEventID is the id of the event the operation just emitted, which the
// /sim answers include so that a test can follow it to the receiver (or to
// GET /{system}/sim/dropped, when a fault dropped it). s.mu must be held.
func (sys *system) lastEventID() string { return sys.outbox.lastID }

// SimJobRequest is the body of POST /{system}/sim/jobs. Priority is a name
// as a user picks it (PriorityID may be given instead); ContactRef, when
// set, makes the job use contact mode 2; ReportedDate defaults to now.
type SimJobRequest struct {
	ClientID     events.Text          `json:"clientId"`
	ClientRef    events.Text          `json:"clientRef"`
	SiteRef      events.Text          `json:"siteRef"`
	ContactRef   events.Text          `json:"contactRef"`
	Priority     events.Text          `json:"priority"`
	PriorityID   events.Text          `json:"priorityId"`
	Description  events.Text          `json:"description"`
	ReportedDate events.Text          `json:"reportedDate"`
	Activities   []SimActivityRequest `json:"activities"`
}

// SimActivityRequest is one activity of a SimJobRequest. Quantity defaults
// to 1 and Description to the SOR code's description.
type SimActivityRequest struct {
	Code        events.Text `json:"code"`
	Quantity    events.Text `json:"quantity"`
	Description events.Text `json:"description"`
}

// SimJobResponse is the answer to POST /{system}/sim/jobs.
type SimJobResponse struct {
	JobRef     string             `json:"jobRef"`
	Activities []SimActivityBrief `json:"activities"`
}

// SimActivityBrief identifies a created activity.
type SimActivityBrief struct {
	ID          string `json:"id"`
	Code        string `json:"code"`
	Quantity    string `json:"quantity"`
	Description string `json:"description"`
}

// simCreateJob: POST /{system}/sim/jobs. Validated like createJob; emits
// nothing, because creating a job is not an Integration Event O2O needs.
func (s *Simulator) simCreateJob(sys *system, w http.ResponseWriter, r *http.Request) {
	var in SimJobRequest
	if err := decodeJSON(w, r, &in, false); err != nil {
		writeSimError(w, err)
		return
	}
	spec := jobSpec{
		ClientID: text(in.ClientID), ClientRef: text(in.ClientRef), SiteRef: text(in.SiteRef),
		ContactRef: text(in.ContactRef), PriorityName: text(in.Priority), PriorityID: text(in.PriorityID),
		Description: string(in.Description), ReportedDate: text(in.ReportedDate),
	}
	if spec.PriorityName == "" && spec.PriorityID == "" {
		writeSimError(w, badRequest("priority is required"))
		return
	}
	for _, a := range in.Activities {
		spec.Activities = append(spec.Activities, activitySpec{Code: text(a.Code), Quantity: text(a.Quantity), Description: string(a.Description)})
	}
	s.mu.Lock()
	job, err := sys.createJob(spec, SimActor)
	var resp SimJobResponse
	if err == nil {
		resp.JobRef = job.JobRef
		resp.Activities = []SimActivityBrief{}
		for _, a := range job.Activities {
			resp.Activities = append(resp.Activities, SimActivityBrief{a.ID, a.Code, a.Quantity, a.Description})
		}
	}
	s.mu.Unlock()
	if err != nil {
		writeSimError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, resp)
}

// simListJobs: GET /{system}/sim/jobs[?clientRef=...].
func (s *Simulator) simListJobs(sys *system, w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	filter := q.Has("clientRef")
	s.mu.Lock()
	out := []Job{}
	for _, j := range sys.jobs {
		if !filter || j.ClientRef == q.Get("clientRef") {
			out = append(out, j.snapshot())
		}
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

// simGetJob: GET /{system}/sim/jobs/{jobRef}.
func (s *Simulator) simGetJob(sys *system, w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	job, err := sys.job(r.PathValue("jobRef"))
	var snap Job
	if err == nil {
		snap = job.snapshot()
	}
	s.mu.Unlock()
	if err != nil {
		writeSimError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, snap)
}

// simDeleteJob: DELETE /{system}/sim/jobs/{jobRef}: the job is gone (no
// event is sent), for trying reconciliation's drift detection.
func (s *Simulator) simDeleteJob(sys *system, w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	err := sys.deleteJob(r.PathValue("jobRef"))
	s.mu.Unlock()
	if err != nil {
		writeSimError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// simDeleteActivity: DELETE /{system}/sim/activities/{id}: an administrator
// deletes a line (no event).
func (s *Simulator) simDeleteActivity(sys *system, w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	err := sys.deleteActivity(r.PathValue("id"))
	s.mu.Unlock()
	if err != nil {
		writeSimError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// simAssign: POST /{system}/sim/activities/{id}/assign {"teamId":"7"}.
func (s *Simulator) simAssign(sys *system, w http.ResponseWriter, r *http.Request) {
	var in struct {
		TeamID events.Text `json:"teamId"`
	}
	if err := decodeJSON(w, r, &in, false); err != nil {
		writeSimError(w, err)
		return
	}
	if text(in.TeamID) == "" {
		writeSimError(w, badRequest("teamId is required"))
		return
	}
	s.mu.Lock()
	act, err := sys.assign(r.PathValue("id"), text(in.TeamID), SimActor)
	var resp struct {
		Activity
		EventID string `json:"eventId"`
	}
	if err == nil {
		resp.Activity, resp.EventID = *act, sys.lastEventID()
	}
	s.mu.Unlock()
	if err != nil {
		writeSimError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

// simSetStatus: POST /{system}/sim/jobs/{jobRef}/status {"status":"Accepted"}
// (or {"statusId":"2"}).
func (s *Simulator) simSetStatus(sys *system, w http.ResponseWriter, r *http.Request) {
	var in struct {
		Status   events.Text `json:"status"`
		StatusID events.Text `json:"statusId"`
	}
	if err := decodeJSON(w, r, &in, false); err != nil {
		writeSimError(w, err)
		return
	}
	s.mu.Lock()
	job, previous, err := sys.setStatus(r.PathValue("jobRef"), text(in.Status), text(in.StatusID), SimActor)
	var resp struct {
		JobRef         string `json:"jobRef"`
		Status         string `json:"status"`
		StatusID       string `json:"statusId"`
		PreviousStatus string `json:"previousStatus"`
		EventID        string `json:"eventId"`
	}
	if err == nil {
		resp.JobRef, resp.Status, resp.StatusID, resp.PreviousStatus = job.JobRef, job.Status, job.StatusID, previous
		resp.EventID = sys.lastEventID()
	}
	s.mu.Unlock()
	if err != nil {
		writeSimError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

// appointmentRequest is the body of the appointment actions.
type appointmentRequest struct {
	Start  events.Text `json:"start"`
	End    events.Text `json:"end"`
	Reason events.Text `json:"reason"`
}

func (in appointmentRequest) slot() (start, end time.Time, err *apiError) {
	parse := func(field, v string) (time.Time, *apiError) {
		if v == "" {
			return time.Time{}, nil // checkSlot reports it
		}
		t, e := time.Parse(time.RFC3339, v)
		if e != nil {
			return time.Time{}, badRequest("%s %q must be an RFC 3339 date-time", field, v)
		}
		return t, nil
	}
	if start, err = parse("start", text(in.Start)); err != nil {
		return
	}
	end, err = parse("end", text(in.End))
	return
}

type appointmentResponse struct {
	Appointment
	EventID string `json:"eventId"`
}

// respondAppointment runs an appointment operation under the lock and
// answers with the appointment and the id of the event it emitted.
func (s *Simulator) respondAppointment(sys *system, w http.ResponseWriter, status int, op func() (*Appointment, *apiError)) {
	s.mu.Lock()
	a, err := op()
	var resp appointmentResponse
	if err == nil {
		resp.Appointment, resp.EventID = *a, sys.lastEventID()
	}
	s.mu.Unlock()
	if err != nil {
		writeSimError(w, err)
		return
	}
	writeJSON(w, status, resp)
}

// simAddAppointment: POST /{system}/sim/jobs/{jobRef}/appointments
// {"start":"<RFC 3339>","end":"<RFC 3339>"}.
func (s *Simulator) simAddAppointment(sys *system, w http.ResponseWriter, r *http.Request) {
	var in appointmentRequest
	if err := decodeJSON(w, r, &in, false); err != nil {
		writeSimError(w, err)
		return
	}
	start, end, err := in.slot()
	if err != nil {
		writeSimError(w, err)
		return
	}
	s.respondAppointment(sys, w, http.StatusCreated, func() (*Appointment, *apiError) {
		return sys.addAppointment(r.PathValue("jobRef"), start, end, SimActor)
	})
}

// simReschedule: POST /{system}/sim/appointments/{id}/reschedule
// {"start","end","reason"}.
func (s *Simulator) simReschedule(sys *system, w http.ResponseWriter, r *http.Request) {
	var in appointmentRequest
	if err := decodeJSON(w, r, &in, false); err != nil {
		writeSimError(w, err)
		return
	}
	start, end, err := in.slot()
	if err != nil {
		writeSimError(w, err)
		return
	}
	s.respondAppointment(sys, w, http.StatusOK, func() (*Appointment, *apiError) {
		return sys.rescheduleAppointment(r.PathValue("id"), start, end, string(in.Reason), SimActor)
	})
}

// simCancel: POST /{system}/sim/appointments/{id}/cancel {"reason"}.
func (s *Simulator) simCancel(sys *system, w http.ResponseWriter, r *http.Request) {
	var in appointmentRequest
	if err := decodeJSON(w, r, &in, true); err != nil {
		writeSimError(w, err)
		return
	}
	s.respondAppointment(sys, w, http.StatusOK, func() (*Appointment, *apiError) {
		return sys.cancelAppointment(r.PathValue("id"), string(in.Reason), SimActor)
	})
}

// simComplete: POST /{system}/sim/appointments/{id}/complete {}.
func (s *Simulator) simComplete(sys *system, w http.ResponseWriter, r *http.Request) {
	var in struct{}
	if err := decodeJSON(w, r, &in, true); err != nil {
		writeSimError(w, err)
		return
	}
	s.respondAppointment(sys, w, http.StatusOK, func() (*Appointment, *apiError) {
		return sys.completeAppointment(r.PathValue("id"), SimActor)
	})
}

// simUploadDocument: POST /{system}/sim/jobs/{jobRef}/documents?category=..&fileName=..[&clientRef=..]
// with the raw bytes as the body.
func (s *Simulator) simUploadDocument(sys *system, w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	doc, eventID, err := s.storeDocument(sys, w, r, upload{
		jobRef: r.PathValue("jobRef"), fileName: q.Get("fileName"), category: q.Get("category"),
		clientRef: q.Get("clientRef"), actor: SimActor,
	})
	if err != nil {
		writeSimError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, struct {
		Document
		EventID string `json:"eventId"`
	}{*doc, eventID})
}

// simApproveDocument: POST /{system}/sim/documents/{documentId}/approve
// [{"reason":"..."}]. Approving again is allowed and emits again.
func (s *Simulator) simApproveDocument(sys *system, w http.ResponseWriter, r *http.Request) {
	s.decideDocument(sys, w, r, DocumentApproved)
}

// simRejectDocument: POST /{system}/sim/documents/{documentId}/reject
// {"reason":"..."}. The reason is required. Rejecting an approved document
// is a withdrawn approval.
func (s *Simulator) simRejectDocument(sys *system, w http.ResponseWriter, r *http.Request) {
	s.decideDocument(sys, w, r, DocumentRejected)
}

func (s *Simulator) decideDocument(sys *system, w http.ResponseWriter, r *http.Request, decision string) {
	var in struct {
		Reason events.Text `json:"reason"`
	}
	if err := decodeJSON(w, r, &in, true); err != nil {
		writeSimError(w, err)
		return
	}
	s.mu.Lock()
	doc, err := sys.decideDocument(r.PathValue("documentId"), decision, text(in.Reason), SimActor)
	var resp struct {
		Document
		EventID string `json:"eventId"`
	}
	if err == nil {
		resp.Document, resp.EventID = *doc, sys.lastEventID()
	}
	s.mu.Unlock()
	if err != nil {
		writeSimError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

// simOutbox: GET /{system}/sim/outbox.
func (s *Simulator) simOutbox(sys *system, w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	out := sys.outbox.list()
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

// simRequests: GET /{system}/sim/requests.
func (s *Simulator) simRequests(sys *system, w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	out := append([]RequestLogEntry{}, sys.requests...)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

// simListFaults: GET /{system}/sim/faults.
func (s *Simulator) simListFaults(sys *system, w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	out := []Fault{}
	for _, f := range sys.faults {
		out = append(out, *f)
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

// simAddFault: POST /{system}/sim/faults
// {"op":"createJob","status":503,"count":3,"retryAfter":"1","delay":"0s"}.
// Faults are tried in the order they were added.
func (s *Simulator) simAddFault(sys *system, w http.ResponseWriter, r *http.Request) {
	var in faultRequest
	if err := decodeJSON(w, r, &in, false); err != nil {
		writeSimError(w, err)
		return
	}
	f, err := in.fault()
	if err != nil {
		writeSimError(w, err)
		return
	}
	s.mu.Lock()
	sys.faults = append(sys.faults, f)
	s.mu.Unlock()
	s.log.Info("fault injected", "system", sys.seed.Name, "op", f.Op, "status", f.Status, "count", f.Count, "delay", f.delay.String())
	writeJSON(w, http.StatusCreated, f)
}

// simClearFaults: DELETE /{system}/sim/faults.
func (s *Simulator) simClearFaults(sys *system, w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	n := len(sys.faults)
	sys.faults = nil
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]string{"cleared": fmt.Sprint(n)})
}

// simAddSite: POST /{system}/sim/sites {"clientId","siteRef","name","address1","postcode","contactRefs"}.
// It plays an administrator adding a missing site, which is how a person
// fixes a link that needs attention because the site is missing. No event.
func (s *Simulator) simAddSite(sys *system, w http.ResponseWriter, r *http.Request) {
	var in struct {
		ClientID    events.Text `json:"clientId"`
		SiteRef     string      `json:"siteRef"`
		Name        string      `json:"name"`
		Address1    string      `json:"address1"`
		Postcode    string      `json:"postcode"`
		ContactRefs []string    `json:"contactRefs"`
	}
	if err := decodeJSON(w, r, &in, false); err != nil {
		writeSimError(w, err)
		return
	}
	site := Site{ClientID: text(in.ClientID), SiteRef: in.SiteRef, Name: in.Name, Address1: in.Address1, Postcode: in.Postcode, ContactRefs: in.ContactRefs}
	s.mu.Lock()
	err := sys.addSite(site)
	s.mu.Unlock()
	if err != nil {
		writeSimError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, site)
}

// simAddContact: POST /{system}/sim/contacts {"contactRef","name"}: an
// administrator adding a contact person (for a site or a job). No event.
func (s *Simulator) simAddContact(sys *system, w http.ResponseWriter, r *http.Request) {
	var in struct {
		ContactRef events.Text `json:"contactRef"`
		Name       events.Text `json:"name"`
	}
	if err := decodeJSON(w, r, &in, false); err != nil {
		writeSimError(w, err)
		return
	}
	c := Contact{ContactRef: text(in.ContactRef), Name: text(in.Name)}
	s.mu.Lock()
	err := sys.addContact(c)
	s.mu.Unlock()
	if err != nil {
		writeSimError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, c)
}

// simAddSORCode: POST /{system}/sim/sorCodes {"clientId","code","description"}:
// an administrator adding a schedule-of-rates code, which is how a person
// fixes a link refused for an SOR code the system does not know. No event.
func (s *Simulator) simAddSORCode(sys *system, w http.ResponseWriter, r *http.Request) {
	var in struct {
		ClientID    events.Text `json:"clientId"`
		Code        events.Text `json:"code"`
		Description events.Text `json:"description"`
	}
	if err := decodeJSON(w, r, &in, false); err != nil {
		writeSimError(w, err)
		return
	}
	c := SORCode{ClientID: text(in.ClientID), Code: text(in.Code), Description: text(in.Description)}
	s.mu.Lock()
	err := sys.addSORCode(c)
	s.mu.Unlock()
	if err != nil {
		writeSimError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]string{"clientId": c.ClientID, "code": c.Code, "description": c.Description})
}
