package simulator

import (
	"bytes"
	"cmp"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/o2o-sync/o2o/internal/lenient"
)

// This file serves the Oneserve REST API under /{system}/rest/..., as
// docs/oneserve-api.md describes it: the OS-REST-AUTH-TOKEN header, JSON
// with every number as a string, the result/result_msg envelope (also on
// errors), and per-endpoint date formats.

// AuthHeader is the header carrying the API token.
const AuthHeader = "OS-REST-AUTH-TOKEN"

// ChecksumHeader carries a document's SHA-256, in hex, on upload and download.
const ChecksumHeader = "X-Checksum-SHA256"

// The REST operation names, as faults and the request log name them.
const (
	OpCreateJob              = "createJob"
	OpAddEvent               = "addEventByClientRef"
	OpAddActivityByClientRef = "addActivityByClientRef"
	OpSite                   = "site"
	OpActivities             = "activities"
	OpJobEvents              = "jobEventsXML"
	OpJob                    = "job"
	OpDocuments              = "documents"
	OpDownloadDocument       = "downloadDocument"
	OpUploadDocument         = "uploadDocument"
	OpVersionLines           = "versionLines"
	OpVersionStatus          = "versionStatus"
)

var allOps = []string{
	OpCreateJob, OpAddEvent, OpAddActivityByClientRef, OpSite, OpActivities, OpJobEvents, OpJob,
	OpDocuments, OpDownloadDocument, OpUploadDocument, OpVersionLines, OpVersionStatus,
}

// maxJSONBody bounds JSON request bodies; documents have their own limit.
const maxJSONBody = 1 << 20

// RequestLogEntry is one /rest request, as GET /{system}/sim/requests lists it.
type RequestLogEntry struct {
	Time   time.Time `json:"time"`
	Method string    `json:"method"`
	Path   string    `json:"path"`
	Query  string    `json:"query,omitempty"`
	// Op is the operation name; empty for an unknown path.
	Op         string  `json:"op,omitempty"`
	Status     int     `json:"status"`
	DurationMS float64 `json:"durationMs"`
}

// maxRequestLog bounds each system's request log.
const maxRequestLog = 10000

// envelope is Oneserve's result/result_msg pair, embedded in every response.
type envelope struct {
	Result    string `json:"result"`
	ResultMsg string `json:"result_msg"`
}

var success = envelope{Result: "success", ResultMsg: ""}

type endpoint struct {
	op    string
	serve func(sys *system, w http.ResponseWriter, r *http.Request)
}

func (s *Simulator) restRoutes(mux *http.ServeMux) {
	route := func(path string, methods map[string]endpoint) {
		mux.HandleFunc("/{system}/rest"+path, func(w http.ResponseWriter, r *http.Request) {
			s.serveREST(w, r, methods)
		})
	}
	route("/workflow/job/createJob", map[string]endpoint{http.MethodPost: {OpCreateJob, s.createJob}})
	route("/workflow/job/addEventByClientRef", map[string]endpoint{http.MethodPost: {OpAddEvent, s.addEventByClientRef}})
	route("/workflow/job/{jobRef}", map[string]endpoint{http.MethodGet: {OpJob, s.readJob}})
	route("/workflow/job/{jobRef}/versionLines", map[string]endpoint{http.MethodPost: {OpVersionLines, s.versionLines}})
	route("/workflow/job/{jobRef}/version/{version}/status", map[string]endpoint{http.MethodPost: {OpVersionStatus, s.versionStatus}})
	route("/workflow/job/jobEventsXML/{startDate}/{endDate}/{clientRef}/{eventIdList}", map[string]endpoint{http.MethodGet: {OpJobEvents, s.jobEventsXML}})
	route("/workflow/activity/addActivityByClientRef", map[string]endpoint{http.MethodPost: {OpAddActivityByClientRef, s.addActivityByClientRef}})
	route("/contact/sites/{clientId}/{siteRef}", map[string]endpoint{http.MethodGet: {OpSite, s.readSite}})
	route("/activities", map[string]endpoint{http.MethodGet: {OpActivities, s.readActivities}})
	route("/activities/{id}", map[string]endpoint{http.MethodGet: {OpActivities, s.readActivity}})
	// /documents/job/{jobRef} and /documents/{documentId}/content overlap in
	// ServeMux's eyes (/documents/job/content matches both), so the two are
	// told apart here.
	mux.HandleFunc("/{system}/rest/documents/{a}/{b}", func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.PathValue("a") == "job":
			s.serveREST(w, r, map[string]endpoint{
				http.MethodGet:  {OpDocuments, s.listDocuments},
				http.MethodPost: {OpUploadDocument, s.uploadDocument},
			})
		case r.PathValue("b") == "content":
			s.serveREST(w, r, map[string]endpoint{http.MethodGet: {OpDownloadDocument, s.downloadDocument}})
		default:
			s.serveREST(w, r, nil)
		}
	})
	// Anything else under /rest: authenticated, then 404.
	mux.HandleFunc("/{system}/rest/", func(w http.ResponseWriter, r *http.Request) { s.serveREST(w, r, nil) })
}

// serveREST is the common path of every /rest request: find the system,
// log the request, check the token, the method and injected faults, then
// call the endpoint.
func (s *Simulator) serveREST(w http.ResponseWriter, r *http.Request, methods map[string]endpoint) {
	sys := s.systems[r.PathValue("system")] // the map is never written after New
	if sys == nil {
		writeError(w, http.StatusNotFound, fmt.Sprintf("unknown system %q", r.PathValue("system")))
		return
	}
	ep, methodOK := methods[r.Method]
	rec := &statusRecorder{ResponseWriter: w}
	start := time.Now()
	defer func() {
		entry := RequestLogEntry{
			Time: s.now(), Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery,
			Op: ep.op, Status: rec.code(r), DurationMS: float64(time.Since(start).Microseconds()) / 1000,
		}
		s.mu.Lock()
		sys.requests = append(sys.requests, entry)
		if len(sys.requests) > maxRequestLog {
			// Reslicing (not copying) keeps this O(1); append reallocates
			// from time to time and the old array is collected.
			sys.requests = sys.requests[len(sys.requests)-maxRequestLog:]
		}
		s.mu.Unlock()
	}()

	// Authentication comes first, as in a servlet container with a security
	// filter: an unauthenticated caller learns nothing about paths.
	token := r.Header.Get(AuthHeader)
	if token == "" || subtle.ConstantTimeCompare([]byte(token), []byte(sys.seed.AuthToken)) != 1 {
		writeError(rec, http.StatusUnauthorized, "REST0001 missing or invalid "+AuthHeader)
		return
	}
	if len(methods) == 0 {
		writeError(rec, http.StatusNotFound, "REST0002 no such endpoint: "+r.URL.Path)
		return
	}
	if !methodOK {
		allowed := make([]string, 0, len(methods))
		for m := range methods {
			allowed = append(allowed, m)
		}
		sort.Strings(allowed)
		rec.Header().Set("Allow", strings.Join(allowed, ", "))
		writeError(rec, http.StatusMethodNotAllowed, fmt.Sprintf("method %s not allowed here", r.Method))
		return
	}
	serve := func(w http.ResponseWriter, r *http.Request) { ep.serve(sys, w, r) }
	if s.injectFault(sys, ep.op, rec, r, serve) {
		return
	}
	ep.serve(sys, rec, r)
}

// statusRecorder remembers the status written, for the request log.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (rec *statusRecorder) WriteHeader(code int) {
	if rec.status == 0 {
		rec.status = code
	}
	rec.ResponseWriter.WriteHeader(code)
}

func (rec *statusRecorder) Write(b []byte) (int, error) {
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	return rec.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection.
func (rec *statusRecorder) Unwrap() http.ResponseWriter { return rec.ResponseWriter }

// code is the status to log: what was written, 499 if the client went away
// before anything was, else the 200 net/http sends for an empty handler.
func (rec *statusRecorder) code(r *http.Request) int {
	switch {
	case rec.status != 0:
		return rec.status
	case r.Context().Err() != nil:
		return 499
	}
	return http.StatusOK
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeError answers with the envelope carrying result "error".
func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, envelope{Result: "error", ResultMsg: msg})
}

func writeAPIError(w http.ResponseWriter, err *apiError) { writeError(w, err.status, err.msg) }

// decodeJSON reads a JSON object body into v. Scalars in v should be
// lenient.Text so that strings and bare numbers are both accepted, as
// Oneserve does, and any other type is refused naming the field; unknown
// fields are ignored. With allowEmpty, an empty body
// counts as {}.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any, allowEmpty bool) *apiError {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxJSONBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return &apiError{http.StatusRequestEntityTooLarge, fmt.Sprintf("body must be at most %d bytes", mbe.Limit)}
		}
		return badRequest("reading body: %v", err)
	}
	if allowEmpty && len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	if err := json.Unmarshal(body, v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return badRequest("%s has the wrong type (want a string)", te.Field)
		}
		if errors.As(err, &te) {
			return badRequest("body must be a JSON object with string values")
		}
		return badRequest("body is not valid JSON")
	}
	return nil
}

func text(t lenient.Text) string { return strings.TrimSpace(string(t)) }

// createJob: POST /rest/workflow/job/createJob.
func (s *Simulator) createJob(sys *system, w http.ResponseWriter, r *http.Request) {
	var in struct {
		ClientRef     lenient.Text `json:"clientRef"`
		SiteRef       lenient.Text `json:"siteRef"`
		ReportedDate  lenient.Text `json:"reportedDate"`
		ContactMode   lenient.Text `json:"contactMode"`
		ContactRef    lenient.Text `json:"contactRef"`
		ClientID      lenient.Text `json:"clientId"`
		WorkLogTypeID lenient.Text `json:"workLogTypeId"`
		WorkTypeID    lenient.Text `json:"workTypeId"`
		WorkflowID    lenient.Text `json:"workflowId"`
		ServiceID     lenient.Text `json:"serviceId"`
		PriorityID    lenient.Text `json:"priorityId"`
		Description   lenient.Text `json:"description"`
		Activities    []struct {
			Code        lenient.Text `json:"code"`
			Quantity    lenient.Text `json:"quantity"`
			Description lenient.Text `json:"description"`
			ClientRef   lenient.Text `json:"clientRef"`
		} `json:"activities"`
	}
	if err := decodeJSON(w, r, &in, false); err != nil {
		writeAPIError(w, err)
		return
	}
	spec := jobSpec{
		api:       true,
		ClientRef: text(in.ClientRef), SiteRef: text(in.SiteRef), ReportedDate: text(in.ReportedDate),
		ContactMode: text(in.ContactMode), ContactRef: text(in.ContactRef), ClientID: text(in.ClientID),
		WorkLogTypeID: text(in.WorkLogTypeID), WorkTypeID: text(in.WorkTypeID), WorkflowID: text(in.WorkflowID),
		ServiceID: text(in.ServiceID), PriorityID: text(in.PriorityID), Description: string(in.Description),
	}
	for _, a := range in.Activities {
		spec.Activities = append(spec.Activities, activitySpec{Code: text(a.Code), Quantity: text(a.Quantity), Description: string(a.Description), ClientRef: text(a.ClientRef)})
	}
	s.mu.Lock()
	job, err := sys.createJob(spec, sys.seed.APIUser)
	s.mu.Unlock()
	if err != nil {
		writeAPIError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		envelope
		JobRef string `json:"jobRef"`
	}{success, job.JobRef})
}

// addEventByClientRef: POST /rest/workflow/job/addEventByClientRef.
func (s *Simulator) addEventByClientRef(sys *system, w http.ResponseWriter, r *http.Request) {
	var in struct {
		JobRef        lenient.Text `json:"jobRef"`
		JobClientRef  lenient.Text `json:"jobClientRef"`
		ClientID      lenient.Text `json:"clientId"`
		SigEventCode  lenient.Text `json:"sigEventCode"`
		AppointmentID lenient.Text `json:"appointmentId"`
		NoteID        lenient.Text `json:"noteId"`
		Note          lenient.Text `json:"note"`
		Date          lenient.Text `json:"date"`
	}
	if err := decodeJSON(w, r, &in, false); err != nil {
		writeAPIError(w, err)
		return
	}
	spec := eventSpec{
		JobRef: text(in.JobRef), JobClientRef: text(in.JobClientRef), ClientID: text(in.ClientID),
		SigEventCode: text(in.SigEventCode), AppointmentID: text(in.AppointmentID), NoteID: text(in.NoteID),
		Note: string(in.Note), Date: text(in.Date),
	}
	s.mu.Lock()
	job, err := sys.addEvent(spec, sys.seed.APIUser)
	s.mu.Unlock()
	switch {
	case err != nil:
		writeAPIError(w, err)
	case job == nil:
		// Deliberately HTTP 200: like Oneserve, the failure is only in the
		// envelope, and clients must check it.
		writeError(w, http.StatusOK, errJobNotFound)
	default:
		writeJSON(w, http.StatusOK, success)
	}
}

// addActivityByClientRef: POST /rest/workflow/activity/addActivityByClientRef.
// All or nothing: one refused item, or one unknown job, adds nothing.
func (s *Simulator) addActivityByClientRef(sys *system, w http.ResponseWriter, r *http.Request) {
	var in struct {
		SubmitVersion lenient.Text `json:"submitVersion"`
		Activities    []struct {
			JobClientRef      lenient.Text `json:"jobClientRef"`
			ClientID          lenient.Text `json:"clientId"`
			Code              lenient.Text `json:"code"`
			ClientRef         lenient.Text `json:"clientRef"`
			Description       lenient.Text `json:"description"`
			CompletedQuantity lenient.Text `json:"completedQuantity"`
			TotalQuantity     lenient.Text `json:"totalQuantity"`
		} `json:"activities"`
	}
	if err := decodeJSON(w, r, &in, false); err != nil {
		writeAPIError(w, err)
		return
	}
	items := make([]activityByClientRefSpec, 0, len(in.Activities))
	for _, a := range in.Activities {
		items = append(items, activityByClientRefSpec{
			JobClientRef: text(a.JobClientRef), ClientID: text(a.ClientID), Code: text(a.Code),
			ClientRef: text(a.ClientRef), Description: string(a.Description),
			CompletedQuantity: text(a.CompletedQuantity), TotalQuantity: text(a.TotalQuantity),
		})
	}
	s.mu.Lock()
	added, err := sys.addActivitiesByClientRef(text(in.SubmitVersion), items, sys.seed.APIUser)
	s.mu.Unlock()
	switch {
	case err != nil:
		writeAPIError(w, err)
	case added == nil:
		// HTTP 200, as addEventByClientRef answers an unknown job.
		writeError(w, http.StatusOK, errJobNotFound)
	default:
		writeJSON(w, http.StatusOK, envelope{Result: "success", ResultMsg: "Activity(ies) Posted"})
	}
}

// readSite: GET /rest/contact/sites/{clientId}/{siteRef}.
func (s *Simulator) readSite(sys *system, w http.ResponseWriter, r *http.Request) {
	clientID, siteRef := r.PathValue("clientId"), r.PathValue("siteRef")
	type contact struct {
		ContactRef string `json:"contactRef"`
		Name       string `json:"name"`
	}
	type job struct {
		JobRef    string `json:"jobRef"`
		ClientRef string `json:"clientRef"`
		Status    string `json:"status"`
	}
	type response struct {
		envelope
		ClientID   string    `json:"clientId"`
		SiteRef    string    `json:"siteRef"`
		SiteID     string    `json:"siteId"`
		Name       string    `json:"name"`
		Address1   string    `json:"address1"`
		Postcode   string    `json:"postcode"`
		Status     string    `json:"status"`
		Contacts   []contact `json:"contacts"`
		Jobs       []job     `json:"jobs"`
		Attributes []string  `json:"attributes"`
		Assets     []string  `json:"assets"`
	}
	s.mu.Lock()
	site := sys.sites[clientID+"/"+siteRef]
	var resp response
	if site != nil {
		resp = response{
			envelope: success, ClientID: site.ClientID, SiteRef: site.SiteRef, SiteID: site.siteID,
			Name: site.Name, Address1: site.Address1, Postcode: site.Postcode, Status: "Live",
			Contacts: []contact{}, Jobs: []job{}, Attributes: []string{}, Assets: []string{},
		}
		for _, ref := range site.ContactRefs {
			resp.Contacts = append(resp.Contacts, contact{ref, sys.contacts[ref].Name})
		}
		for _, j := range sys.jobs {
			if j.ClientID == clientID && j.SiteRef == siteRef {
				resp.Jobs = append(resp.Jobs, job{j.JobRef, j.ClientRef, j.Status})
			}
		}
	}
	s.mu.Unlock()
	if site == nil {
		writeError(w, http.StatusNotFound, fmt.Sprintf("site %q not found for clientId %s", siteRef, clientID))
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

// activityWire is an activity as the activities endpoint returns it.
type activityWire struct {
	ID                string `json:"id"`
	JobID             string `json:"jobId"`
	JobRef            string `json:"jobRef"`
	Code              string `json:"code"`
	Ref               string `json:"ref"`
	Description       string `json:"description"`
	Quantity          string `json:"quantity"`
	CompletedQuantity string `json:"completedQuantity"`
	SupplierID        string `json:"supplierId,omitempty"`
	ServiceID         string `json:"serviceId,omitempty"`
	Status            string `json:"status"`
	IsDeleted         string `json:"isDeleted"`
	LastModified      string `json:"lastModified"`
}

func (sys *system) activityWire(a *Activity) activityWire {
	job := sys.jobsByRef[a.JobRef]
	return activityWire{
		ID: a.ID, JobID: job.JobID, JobRef: a.JobRef, Code: a.Code, Ref: a.Code,
		Description: a.Description, Quantity: a.Quantity, CompletedQuantity: cmp.Or(a.CompletedQuantity, "0"),
		SupplierID: a.SupplierID, ServiceID: job.ServiceID, Status: a.Status, IsDeleted: "false",
		LastModified: a.LastModified.In(london).Format(modifiedLayout),
	}
}

// readActivities: GET /rest/activities?ids=a,b,... (at most 20). Unknown
// ids are left out of the answer.
func (s *Simulator) readActivities(sys *system, w http.ResponseWriter, r *http.Request) {
	var ids []string
	for id := range strings.SplitSeq(r.URL.Query().Get("ids"), ",") {
		if id = strings.TrimSpace(id); id != "" {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		writeError(w, http.StatusBadRequest, "ids is required (comma-separated activity ids)")
		return
	}
	if len(ids) > 20 {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("ids: at most 20 activity ids per call (got %d)", len(ids)))
		return
	}
	for _, id := range ids {
		if !isWhole(id) {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("ids: %q is not an activity id", id))
			return
		}
	}
	s.mu.Lock()
	out := []activityWire{}
	for _, id := range ids {
		if a := sys.activities[id]; a != nil {
			out = append(out, sys.activityWire(a))
		}
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, struct {
		envelope
		Activities []activityWire `json:"activities"`
	}{success, out})
}

// readActivity: GET /rest/activities/{id}. The fields sit next to the
// envelope.
func (s *Simulator) readActivity(sys *system, w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	s.mu.Lock()
	a := sys.activities[id]
	var wire activityWire
	if a != nil {
		wire = sys.activityWire(a)
	}
	s.mu.Unlock()
	if a == nil {
		writeError(w, http.StatusNotFound, fmt.Sprintf("activity %q not found", id))
		return
	}
	writeJSON(w, http.StatusOK, struct {
		envelope
		activityWire
	}{success, wire})
}

// jobDocument is a job as the assumed job reads return it.
type jobDocument struct {
	envelope
	JobRef       string              `json:"jobRef"`
	ClientRef    string              `json:"clientRef"`
	ClientID     string              `json:"clientId"`
	SiteRef      string              `json:"siteRef"`
	ContactRef   string              `json:"contactRef"`
	Priority     string              `json:"priority"`
	PriorityID   string              `json:"priorityId"`
	Description  string              `json:"description"`
	ReportedDate string              `json:"reportedDate"`
	Status       string              `json:"status"`
	StatusID     string              `json:"statusId"`
	Activities   []jobDocActivity    `json:"activities"`
	Events       []jobDocEvent       `json:"events"`
	Appointments []jobDocAppointment `json:"appointments"`
	// Version, VersionStatus and Versions are ASSUMPTIONS (job versions;
	// docs/oneserve-api.md).
	Version       string          `json:"version"`
	VersionStatus string          `json:"versionStatus"`
	Versions      []jobDocVersion `json:"versions"`
}

// jobDocVersion is one version of a job as the assumed job read lists it.
type jobDocVersion struct {
	Number string `json:"number"`
	JobRef string `json:"jobRef"`
	Status string `json:"status"`
}

// jobDocAppointment is an appointment as the assumed job read returns it;
// dates as the job's events carry them.
type jobDocAppointment struct {
	AppointmentID string `json:"appointmentId"`
	Start         string `json:"start"`
	End           string `json:"end,omitempty"`
	Status        string `json:"status"`
	Reason        string `json:"reason,omitempty"`
}

type jobDocActivity struct {
	ID          string `json:"id"`
	Code        string `json:"code"`
	Description string `json:"description"`
	Quantity    string `json:"quantity"`
	SupplierID  string `json:"supplierId,omitempty"`
	Status      string `json:"status"`
	ClientRef   string `json:"clientRef"`
}

type jobDocEvent struct {
	Code string `json:"code"`
	Note string `json:"note"`
	// Date is dd-mm-yyyy HH:mm:ss, UK local time, as addEventByClientRef takes it.
	Date          string `json:"date"`
	AppointmentID string `json:"appointmentId,omitempty"`
}

// document builds the job read's answer: the job, its activities with
// their client refs, and its history events oldest first (by their date;
// events with the same date in the order they were recorded). s.mu must be
// held.
func (job *Job) document() jobDocument {
	doc := jobDocument{
		envelope: success, JobRef: job.JobRef, ClientRef: job.ClientRef, ClientID: job.ClientID,
		SiteRef: job.SiteRef, ContactRef: job.ContactRef, Priority: job.Priority, PriorityID: job.PriorityID,
		Description: job.Description, ReportedDate: job.ReportedDate, Status: job.Status, StatusID: job.StatusID,
		Activities: make([]jobDocActivity, 0, len(job.Activities)),
		Events:     make([]jobDocEvent, 0, len(job.History)),
	}
	for _, a := range job.Activities {
		doc.Activities = append(doc.Activities, jobDocActivity{a.ID, a.Code, a.Description, a.Quantity, a.SupplierID, a.Status, a.ClientRef})
	}
	history := slices.Clone(job.History)
	slices.SortStableFunc(history, func(a, b HistoryEvent) int {
		// Dates were validated when the events were added.
		ta, _ := time.ParseInLocation(eventDateLayout, a.Date, london)
		tb, _ := time.ParseInLocation(eventDateLayout, b.Date, london)
		return ta.Compare(tb)
	})
	for _, e := range history {
		doc.Events = append(doc.Events, jobDocEvent{e.Code, e.Note, e.Date, e.AppointmentID})
	}
	doc.Appointments = make([]jobDocAppointment, 0, len(job.Appointments))
	for _, a := range job.Appointments {
		d := jobDocAppointment{AppointmentID: a.ID, Start: a.Start.In(london).Format(eventDateLayout), Status: a.Status, Reason: a.Reason}
		if !a.End.IsZero() {
			d.End = a.End.In(london).Format(eventDateLayout)
		}
		doc.Appointments = append(doc.Appointments, d)
	}
	doc.Version, doc.VersionStatus = strconv.Itoa(job.Version), job.VersionStatus
	doc.Versions = []jobDocVersion{}
	for _, v := range job.versionList() {
		doc.Versions = append(doc.Versions, jobDocVersion{strconv.Itoa(v.Number), v.JobRef, v.Status})
	}
	return doc
}

// readJob: GET /rest/workflow/job/{jobRef} (assumed endpoint).
func (s *Simulator) readJob(sys *system, w http.ResponseWriter, r *http.Request) {
	jobRef := r.PathValue("jobRef")
	s.mu.Lock()
	job := sys.jobsByRef[jobRef]
	var doc jobDocument
	if job != nil {
		doc = job.document()
	}
	s.mu.Unlock()
	if job == nil {
		writeError(w, http.StatusNotFound, fmt.Sprintf("job %q not found", jobRef))
		return
	}
	writeJSON(w, http.StatusOK, doc)
}

// documentWire is a document as the document list returns it.
type documentWire struct {
	DocumentID   string `json:"documentId"`
	FileName     string `json:"fileName"`
	Category     string `json:"category"`
	Size         string `json:"size"`
	SHA256       string `json:"sha256"`
	ContentType  string `json:"contentType"`
	ClientRef    string `json:"clientRef"`
	UploadedDate string `json:"uploadedDate"`
	// ApprovalStatus is an ASSUMPTION (docs/oneserve-api.md): Pending,
	// Approved or Rejected.
	ApprovalStatus string `json:"approvalStatus"`
}

// listDocuments: GET /rest/documents/job/{jobRef} (assumed endpoint).
func (s *Simulator) listDocuments(sys *system, w http.ResponseWriter, r *http.Request) {
	jobRef := r.PathValue("b")
	s.mu.Lock()
	job := sys.jobsByRef[jobRef]
	out := []documentWire{}
	if job != nil {
		for _, d := range job.Documents {
			out = append(out, documentWire{d.DocumentID, d.FileName, d.Category, d.Size, d.SHA256, d.ContentType, d.ClientRef, d.UploadedDate, d.ApprovalStatus})
		}
	}
	s.mu.Unlock()
	if job == nil {
		writeError(w, http.StatusNotFound, fmt.Sprintf("job %q not found", jobRef))
		return
	}
	writeJSON(w, http.StatusOK, struct {
		envelope
		Documents []documentWire `json:"documents"`
	}{success, out})
}

// downloadDocument: GET /rest/documents/{documentId}/content (assumed
// endpoint). http.ServeContent handles Range, so an interrupted copy can
// resume with Range: bytes=N-.
func (s *Simulator) downloadDocument(sys *system, w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("a")
	s.mu.Lock()
	var doc Document
	d := sys.documents[id]
	if d != nil {
		doc = *d
	}
	s.mu.Unlock()
	if d == nil {
		writeError(w, http.StatusNotFound, fmt.Sprintf("document %q not found", id))
		return
	}
	f, err := os.Open(doc.path)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "document content is unavailable")
		return
	}
	defer f.Close()
	w.Header().Set("Content-Type", doc.ContentType)
	w.Header().Set(ChecksumHeader, doc.SHA256)
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": doc.FileName}))
	http.ServeContent(w, r, "", doc.UploadedAt, f)
}

// uploadDocument: POST /rest/documents/job/{jobRef}?fileName=..&category=..&clientRef=..
// (assumed endpoint). The stored document is echoed as a DOCUMENT_UPLOADED
// event whose actor is the API user and which carries the clientRef.
func (s *Simulator) uploadDocument(sys *system, w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	doc, _, err := s.storeDocument(sys, w, r, upload{
		jobRef: r.PathValue("b"), fileName: q.Get("fileName"), category: q.Get("category"),
		clientRef: q.Get("clientRef"), actor: sys.seed.APIUser,
	})
	if err != nil {
		writeAPIError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		envelope
		DocumentID string `json:"documentId"`
		Size       string `json:"size"`
		SHA256     string `json:"sha256"`
	}{success, doc.DocumentID, doc.Size, doc.SHA256})
}
