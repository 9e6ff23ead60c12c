package simulator

import (
	"bytes"
	"encoding/json"
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
	route("POST /sites", simAction(s, http.StatusCreated, false, simAddSite))
	route("POST /contacts", simAction(s, http.StatusCreated, false, simAddContact))
	route("POST /sorCodes", simAction(s, http.StatusCreated, false, simAddSORCode))
	route("POST /jobs", simAction(s, http.StatusCreated, false, simCreateJob))
	route("GET /jobs", simAction(s, http.StatusOK, false, simListJobs))
	route("GET /jobs/{jobRef}", simAction(s, http.StatusOK, false, simGetJob))
	route("DELETE /jobs/{jobRef}", simAction(s, http.StatusNoContent, false, simDeleteJob))
	route("POST /jobs/{jobRef}/status", simAction(s, http.StatusOK, false, simSetStatus))
	route("POST /jobs/{jobRef}/appointments", simAction(s, http.StatusCreated, false, simAddAppointment))
	route("POST /jobs/{jobRef}/documents", s.simUploadDocument)
	route("POST /jobs/{jobRef}/versions", simAction(s, http.StatusCreated, false, simRaiseVersion))
	route("POST /jobs/{jobRef}/versions/{version}/{decision}", simDecideVersion(s))
	route("POST /documents/{documentId}/approve", simAction(s, http.StatusOK, true, simDecideDocument(DocumentApproved)))
	route("POST /documents/{documentId}/reject", simAction(s, http.StatusOK, true, simDecideDocument(DocumentRejected)))
	route("POST /activities/{id}/assign", simAction(s, http.StatusOK, false, simAssign))
	route("DELETE /activities/{id}", simAction(s, http.StatusNoContent, false, simDeleteActivity))
	route("POST /appointments/{id}/reschedule", simAction(s, http.StatusOK, false, simReschedule))
	route("POST /appointments/{id}/cancel", simAction(s, http.StatusOK, true, simCancel))
	route("POST /appointments/{id}/complete", simAction(s, http.StatusOK, true, simComplete))
	route("GET /outbox", simAction(s, http.StatusOK, false, simOutbox))
	route("GET /requests", simAction(s, http.StatusOK, false, simRequests))
	route("GET /faults", simAction(s, http.StatusOK, false, simListFaults))
	route("POST /faults", simAction(s, http.StatusCreated, false, s.simAddFault))
	route("DELETE /faults", simAction(s, http.StatusOK, false, simClearFaults))
}

func writeSimError(w http.ResponseWriter, err *apiError) {
	writeJSON(w, err.status, map[string]string{"error": err.msg})
}

// simAction is the one way a /sim user action is written: it decodes the
// JSON body into a fresh In (an empty body allowed when emptyOK; a noBody
// In reads none), runs act with s.mu held, and answers status with the reply
// act returns (no body for 204), or with the error. act returns copies, not
// the store's own records, since the reply is encoded after the unlock; it
// wraps the reply with withEvent when the action emitted an event.
func simAction[In any](s *Simulator, status int, emptyOK bool, act func(sys *system, r *http.Request, in *In) (any, *apiError)) func(*system, http.ResponseWriter, *http.Request) {
	return func(sys *system, w http.ResponseWriter, r *http.Request) {
		var in In
		if _, none := any(&in).(*noBody); !none {
			if err := decodeJSON(w, r, &in, emptyOK); err != nil {
				writeSimError(w, err)
				return
			}
		}
		s.mu.Lock()
		reply, err := act(sys, r, &in)
		s.mu.Unlock()
		switch {
		case err != nil:
			writeSimError(w, err)
		case status == http.StatusNoContent:
			w.WriteHeader(status)
		default:
			writeJSON(w, status, reply)
		}
	}
}

// noBody is the In of a /sim action that reads no body (a GET or DELETE).
type noBody struct{}

// eventReply is a /sim reply followed by the id of the event the action
// emitted, as "eventId", the object's last field.
type eventReply struct {
	reply   any
	eventID string
}

// withEvent adds the id of the event the action just emitted to reply,
// which must encode as a JSON object. s.mu must be held.
func (sys *system) withEvent(reply any) eventReply {
	return eventReply{reply, sys.lastEventID()}
}

// MarshalJSON writes the reply's fields, then "eventId".
func (e eventReply) MarshalJSON() ([]byte, error) {
	b, err := json.Marshal(e.reply)
	if err != nil {
		return nil, err
	}
	id, _ := json.Marshal(e.eventID)
	b = bytes.TrimSuffix(b, []byte("}"))
	if len(b) > 1 {
		b = append(b, ',')
	}
	return append(append(append(b, `"eventId":`...), id...), '}'), nil
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
func simCreateJob(sys *system, _ *http.Request, in *SimJobRequest) (any, *apiError) {
	spec := jobSpec{
		ClientID: text(in.ClientID), ClientRef: text(in.ClientRef), SiteRef: text(in.SiteRef),
		ContactRef: text(in.ContactRef), PriorityName: text(in.Priority), PriorityID: text(in.PriorityID),
		Description: string(in.Description), ReportedDate: text(in.ReportedDate),
	}
	if spec.PriorityName == "" && spec.PriorityID == "" {
		return nil, badRequest("priority is required")
	}
	for _, a := range in.Activities {
		spec.Activities = append(spec.Activities, activitySpec{Code: text(a.Code), Quantity: text(a.Quantity), Description: string(a.Description)})
	}
	job, err := sys.createJob(spec, SimActor)
	if err != nil {
		return nil, err
	}
	resp := SimJobResponse{JobRef: job.JobRef, Activities: []SimActivityBrief{}}
	for _, a := range job.Activities {
		resp.Activities = append(resp.Activities, SimActivityBrief{a.ID, a.Code, a.Quantity, a.Description})
	}
	return resp, nil
}

// simListJobs: GET /{system}/sim/jobs[?clientRef=...].
func simListJobs(sys *system, r *http.Request, _ *noBody) (any, *apiError) {
	q := r.URL.Query()
	out := []Job{}
	for _, j := range sys.jobs {
		if !q.Has("clientRef") || j.ClientRef == q.Get("clientRef") {
			out = append(out, j.snapshot())
		}
	}
	return out, nil
}

// simGetJob: GET /{system}/sim/jobs/{jobRef}.
func simGetJob(sys *system, r *http.Request, _ *noBody) (any, *apiError) {
	job, err := sys.job(r.PathValue("jobRef"))
	if err != nil {
		return nil, err
	}
	return job.snapshot(), nil
}

// simDeleteJob: DELETE /{system}/sim/jobs/{jobRef}: the job is gone (no
// event is sent), for trying reconciliation's drift detection.
func simDeleteJob(sys *system, r *http.Request, _ *noBody) (any, *apiError) {
	return nil, sys.deleteJob(r.PathValue("jobRef"))
}

// simDeleteActivity: DELETE /{system}/sim/activities/{id}: an administrator
// deletes a line (no event).
func simDeleteActivity(sys *system, r *http.Request, _ *noBody) (any, *apiError) {
	return nil, sys.deleteActivity(r.PathValue("id"))
}

// simAssign: POST /{system}/sim/activities/{id}/assign {"teamId":"7"}.
func simAssign(sys *system, r *http.Request, in *struct {
	TeamID events.Text `json:"teamId"`
}) (any, *apiError) {
	if text(in.TeamID) == "" {
		return nil, badRequest("teamId is required")
	}
	act, err := sys.assign(r.PathValue("id"), text(in.TeamID), SimActor)
	if err != nil {
		return nil, err
	}
	return sys.withEvent(*act), nil
}

// simSetStatus: POST /{system}/sim/jobs/{jobRef}/status {"status":"Accepted"}
// (or {"statusId":"2"}).
func simSetStatus(sys *system, r *http.Request, in *struct {
	Status   events.Text `json:"status"`
	StatusID events.Text `json:"statusId"`
}) (any, *apiError) {
	job, previous, err := sys.setStatus(r.PathValue("jobRef"), text(in.Status), text(in.StatusID), SimActor)
	if err != nil {
		return nil, err
	}
	return sys.withEvent(struct {
		JobRef         string `json:"jobRef"`
		Status         string `json:"status"`
		StatusID       string `json:"statusId"`
		PreviousStatus string `json:"previousStatus"`
	}{job.JobRef, job.Status, job.StatusID, previous}), nil
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

// appointmentReply answers an appointment action with the appointment and
// the id of the event it emitted.
func (sys *system) appointmentReply(a *Appointment, err *apiError) (any, *apiError) {
	if err != nil {
		return nil, err
	}
	return sys.withEvent(*a), nil
}

// simAddAppointment: POST /{system}/sim/jobs/{jobRef}/appointments
// {"start":"<RFC 3339>","end":"<RFC 3339>"}.
func simAddAppointment(sys *system, r *http.Request, in *appointmentRequest) (any, *apiError) {
	start, end, err := in.slot()
	if err != nil {
		return nil, err
	}
	return sys.appointmentReply(sys.addAppointment(r.PathValue("jobRef"), start, end, SimActor))
}

// simReschedule: POST /{system}/sim/appointments/{id}/reschedule
// {"start","end","reason"}.
func simReschedule(sys *system, r *http.Request, in *appointmentRequest) (any, *apiError) {
	start, end, err := in.slot()
	if err != nil {
		return nil, err
	}
	return sys.appointmentReply(sys.rescheduleAppointment(r.PathValue("id"), start, end, string(in.Reason), SimActor))
}

// simCancel: POST /{system}/sim/appointments/{id}/cancel {"reason"}.
func simCancel(sys *system, r *http.Request, in *appointmentRequest) (any, *apiError) {
	return sys.appointmentReply(sys.cancelAppointment(r.PathValue("id"), string(in.Reason), SimActor))
}

// simComplete: POST /{system}/sim/appointments/{id}/complete {}.
func simComplete(sys *system, r *http.Request, _ *struct{}) (any, *apiError) {
	return sys.appointmentReply(sys.completeAppointment(r.PathValue("id"), SimActor))
}

// simUploadDocument: POST /{system}/sim/jobs/{jobRef}/documents?category=..&fileName=..[&clientRef=..]
// with the raw bytes as the body. Not a simAction: storeDocument streams
// the body outside the lock, taking it only to check and to record.
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
	writeJSON(w, http.StatusCreated, eventReply{*doc, eventID})
}

// simDecideDocument: POST /{system}/sim/documents/{documentId}/approve
// [{"reason":"..."}] (approving again is allowed and emits again), or
// .../reject {"reason":"..."} (the reason is required; rejecting an approved
// document is a withdrawn approval).
func simDecideDocument(decision string) func(*system, *http.Request, *reasonRequest) (any, *apiError) {
	return func(sys *system, r *http.Request, in *reasonRequest) (any, *apiError) {
		doc, err := sys.decideDocument(r.PathValue("documentId"), decision, text(in.Reason), SimActor)
		if err != nil {
			return nil, err
		}
		return sys.withEvent(*doc), nil
	}
}

// reasonRequest is the body of the decisions, whose reason may be optional.
type reasonRequest struct {
	Reason events.Text `json:"reason"`
}

// simOutbox: GET /{system}/sim/outbox.
func simOutbox(sys *system, _ *http.Request, _ *noBody) (any, *apiError) {
	return sys.outbox.list(), nil
}

// simRequests: GET /{system}/sim/requests.
func simRequests(sys *system, _ *http.Request, _ *noBody) (any, *apiError) {
	return append([]RequestLogEntry{}, sys.requests...), nil
}

// simListFaults: GET /{system}/sim/faults.
func simListFaults(sys *system, _ *http.Request, _ *noBody) (any, *apiError) {
	out := []Fault{}
	for _, f := range sys.faults {
		out = append(out, *f)
	}
	return out, nil
}

// simAddFault: POST /{system}/sim/faults
// {"op":"createJob","status":503,"count":3,"retryAfter":"1","delay":"0s"}.
// Faults are tried in the order they were added.
func (s *Simulator) simAddFault(sys *system, _ *http.Request, in *faultRequest) (any, *apiError) {
	f, err := in.fault()
	if err != nil {
		return nil, err
	}
	sys.faults = append(sys.faults, f)
	s.log.Info("fault injected", "system", sys.seed.Name, "op", f.Op, "status", f.Status, "count", f.Count, "delay", f.delay.String())
	return *f, nil // a copy: the fault's count changes as it fires
}

// simClearFaults: DELETE /{system}/sim/faults.
func simClearFaults(sys *system, _ *http.Request, _ *noBody) (any, *apiError) {
	n := len(sys.faults)
	sys.faults = nil
	return map[string]string{"cleared": fmt.Sprint(n)}, nil
}

// simAddSite: POST /{system}/sim/sites {"clientId","siteRef","name","address1","postcode","contactRefs"}.
// It plays an administrator adding a missing site, which is how a person
// fixes a link that needs attention because the site is missing. No event.
func simAddSite(sys *system, _ *http.Request, in *struct {
	ClientID    events.Text `json:"clientId"`
	SiteRef     string      `json:"siteRef"`
	Name        string      `json:"name"`
	Address1    string      `json:"address1"`
	Postcode    string      `json:"postcode"`
	ContactRefs []string    `json:"contactRefs"`
}) (any, *apiError) {
	site := Site{ClientID: text(in.ClientID), SiteRef: in.SiteRef, Name: in.Name, Address1: in.Address1, Postcode: in.Postcode, ContactRefs: in.ContactRefs}
	if err := sys.addSite(site); err != nil {
		return nil, err
	}
	return site, nil
}

// simAddContact: POST /{system}/sim/contacts {"contactRef","name"}: an
// administrator adding a contact person (for a site or a job). No event.
func simAddContact(sys *system, _ *http.Request, in *struct {
	ContactRef events.Text `json:"contactRef"`
	Name       events.Text `json:"name"`
}) (any, *apiError) {
	c := Contact{ContactRef: text(in.ContactRef), Name: text(in.Name)}
	if err := sys.addContact(c); err != nil {
		return nil, err
	}
	return c, nil
}

// simAddSORCode: POST /{system}/sim/sorCodes {"clientId","code","description"}:
// an administrator adding a schedule-of-rates code, which is how a person
// fixes a link refused for an SOR code the system does not know. No event.
func simAddSORCode(sys *system, _ *http.Request, in *struct {
	ClientID    events.Text `json:"clientId"`
	Code        events.Text `json:"code"`
	Description events.Text `json:"description"`
}) (any, *apiError) {
	c := SORCode{ClientID: text(in.ClientID), Code: text(in.Code), Description: text(in.Description)}
	if err := sys.addSORCode(c); err != nil {
		return nil, err
	}
	return map[string]string{"clientId": c.ClientID, "code": c.Code, "description": c.Description}, nil
}
