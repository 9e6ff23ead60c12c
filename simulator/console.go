package simulator

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/o2o-sync/o2o/config"
	"github.com/o2o-sync/o2o/events"
)

// This file serves the console's actions: the HTML forms of the page at
// GET / (ui.go) post to /{system}/console/..., each action makes its change
// through the same domain operation as its /sim action (store.go,
// documents.go, versions.go), as SimActor, so the same Integration Event is
// emitted and delivered, and then redirects back to the page (POST,
// redirect, GET) with a message saying what happened or why it was
// refused.

// Console tells the console where O2O is, so that each linked job links to
// its LinkedJob workflow in the Temporal Web UI and to its link state. The
// zero value shows no such links.
type Console struct {
	// Links are O2O's links between the simulated systems.
	Links []ConsoleLink
	// WorkflowID is the id of a link's workflow (workflows.WorkflowID).
	// Without it, no link is shown.
	WorkflowID func(link, primaryJobRef string) string
	// TemporalUI is the Web UI's base URL, e.g. http://localhost:8233, and
	// Namespace the links' namespace (default "default").
	TemporalUI string
	Namespace  string
	// OperatorAPI is the webhook server's base URL, e.g.
	// http://localhost:8080, and OperatorToken its operator bearer token:
	// the console's link-state page reads GET /links/{link}/{primaryJobRef}
	// there. Without them, the link state is the Web UI's (query tab).
	OperatorAPI   string
	OperatorToken string
	// HTTPClient reads the link state (default: 10 s timeout).
	HTTPClient *http.Client
}

// ConsoleLink is one O2O link, as much of it as the console needs to tell
// a linked job: which system is its primary, and the team there whose
// assignment links a job; which its secondary, where the linked job carries
// the primary job's ref as its client ref. The client ids, when set, narrow
// the jobs to the link's clients (a secondary serving several primaries).
type ConsoleLink struct {
	Name              string
	Primary           string
	PrimaryClientID   string
	TeamID            string
	Secondary         string
	SecondaryClientID string
}

// ConsoleLinks lists the links of an O2O configuration for Console.Links.
func ConsoleLinks(cfg *config.Config) []ConsoleLink {
	out := make([]ConsoleLink, 0, len(cfg.Links))
	for _, l := range cfg.Links {
		out = append(out, ConsoleLink{
			Name: l.Name, Primary: l.Primary.System, PrimaryClientID: l.Primary.Client.ID, TeamID: l.Primary.Team.ID,
			Secondary: l.Secondary.System, SecondaryClientID: l.Secondary.Client.ID,
		})
	}
	return out
}

// consoleMaxForm bounds a console form other than an upload.
const consoleMaxForm = 1 << 20

// consoleAction is one console form's action: it reads the form, makes the
// change and says what happened, naming the job (or other anchor) the page
// should scroll to.
type consoleAction func(sys *system, w http.ResponseWriter, r *http.Request) (msg, anchor string, err *apiError)

func (s *Simulator) consoleRoutes(mux *http.ServeMux) {
	serve := func(pattern string, act consoleAction) {
		mux.HandleFunc("POST /{system}/console"+pattern, func(w http.ResponseWriter, r *http.Request) {
			s.serveConsoleAction(w, r, act)
		})
	}
	// route serves a form whose action runs whole under the lock, as every
	// console action but the upload does.
	route := func(pattern string, act func(sys *system, r *http.Request) (msg, anchor string, err *apiError)) {
		serve(pattern, func(sys *system, _ http.ResponseWriter, r *http.Request) (string, string, *apiError) {
			s.mu.Lock()
			defer s.mu.Unlock()
			return act(sys, r)
		})
	}
	route("/jobs", conRaiseJob)
	route("/sites", conAddSite)
	route("/contacts", conAddContact)
	route("/activities/assign", conAssign)
	route("/jobs/{jobRef}/status", conSetStatus)
	route("/jobs/{jobRef}/appointments", conBook)
	route("/appointments/{id}/{action}", conAppointment)
	serve("/jobs/{jobRef}/documents", s.conUpload) // streams the file outside the lock
	route("/documents/{documentId}/{decision}", conDecideDocument)
	route("/jobs/{jobRef}/versions", conRaiseVersion)
	route("/jobs/{jobRef}/versions/{version}", conDecideVersion)
	mux.HandleFunc("GET /{system}/console/jobs/{jobRef}/link", s.serveLinkState)
}

// serveConsoleAction runs a console action and redirects to the page with
// its message: ?system=..&ok=.. or &error=.., and the anchor.
func (s *Simulator) serveConsoleAction(w http.ResponseWriter, r *http.Request, act consoleAction) {
	// A form on another site must not drive the console (the browser says
	// where a form was posted from; curl and tests say nothing).
	if r.Header.Get("Sec-Fetch-Site") == "cross-site" {
		http.Error(w, "cross-site form posts are refused", http.StatusForbidden)
		return
	}
	sys := s.systems[r.PathValue("system")] // never written after New
	if sys == nil {
		http.Error(w, fmt.Sprintf("unknown system %q", r.PathValue("system")), http.StatusNotFound)
		return
	}
	q := url.Values{"system": {sys.seed.Name}}
	msg, anchor, err := "", "", (*apiError)(nil)
	if perr := parseConsoleForm(w, r); perr != nil {
		err = perr
	} else {
		msg, anchor, err = act(sys, w, r)
	}
	if err != nil {
		q.Set("error", err.msg)
	} else {
		q.Set("ok", msg)
	}
	target := "/?" + q.Encode()
	if anchor != "" {
		target += "#" + url.PathEscape(sys.seed.Name+"-"+anchor)
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// parseConsoleForm reads a URL-encoded form, or a multipart one (an
// upload, whose file may be large: ParseMultipartForm keeps big parts on
// disk).
func parseConsoleForm(w http.ResponseWriter, r *http.Request) *apiError {
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		r.Body = http.MaxBytesReader(w, r.Body, maxDocumentBytes+consoleMaxForm)
		if err := r.ParseMultipartForm(8 << 20); err != nil {
			return badRequest("reading the form: %v", err)
		}
		return nil
	}
	r.Body = http.MaxBytesReader(w, r.Body, consoleMaxForm)
	if err := r.ParseForm(); err != nil {
		return badRequest("reading the form: %v", err)
	}
	return nil
}

// field is a trimmed form value.
func field(r *http.Request, name string) string { return strings.TrimSpace(r.PostFormValue(name)) }

// sent names the event an action emitted, for its message.
func (sys *system) sent(t events.Type) string {
	return fmt.Sprintf("%s %s", t, sys.lastEventID())
}

func conRaiseJob(sys *system, r *http.Request) (string, string, *apiError) {
	spec := jobSpec{
		ClientID: field(r, "clientId"), ClientRef: field(r, "clientRef"), SiteRef: field(r, "siteRef"),
		ContactRef: field(r, "contactRef"), PriorityID: field(r, "priorityId"),
		Description: r.PostFormValue("description"),
	}
	if code := field(r, "code"); code != "" {
		spec.Activities = []activitySpec{{Code: code, Quantity: field(r, "quantity"), Description: r.PostFormValue("activityDescription")}}
	}
	job, err := sys.createJob(spec, SimActor)
	if err != nil {
		return "", "", err
	}
	msg := "Raised job " + job.JobRef
	for _, a := range job.Activities {
		msg += fmt.Sprintf(" with activity %s (%s)", a.ID, a.Code)
	}
	return msg + " (no event: raising a job is not one)", job.JobRef, nil
}

func conAssign(sys *system, r *http.Request) (string, string, *apiError) {
	id, team := field(r, "activityId"), field(r, "teamId")
	if id == "" {
		return "", "", badRequest("activityId is required")
	}
	if team == "" {
		return "", "", badRequest("teamId is required")
	}
	act, err := sys.assign(id, team, SimActor)
	if err != nil {
		return "", "", err
	}
	return fmt.Sprintf("Assigned activity %s of job %s to %s: %s", act.ID, act.JobRef, act.SupplierName, sys.sent(events.ActivityAssigned)), act.JobRef, nil
}

func conSetStatus(sys *system, r *http.Request) (string, string, *apiError) {
	ref := r.PathValue("jobRef")
	job, previous, err := sys.setStatus(ref, "", field(r, "statusId"), SimActor)
	if err != nil {
		return "", ref, err
	}
	return fmt.Sprintf("Job %s: %s → %s: %s", job.JobRef, previous, job.Status, sys.sent(events.JobStatusChanged)), ref, nil
}

// consoleTimeLayout is an <input type="datetime-local"> value, UK time.
const consoleTimeLayout = "2006-01-02T15:04"

// slotFromForm reads the start and end of an appointment form.
func slotFromForm(r *http.Request) (start, end time.Time, _ *apiError) {
	parse := func(name string) (time.Time, *apiError) {
		v := field(r, name)
		if v == "" {
			return time.Time{}, badRequest("%s is required", name)
		}
		t, err := time.ParseInLocation(consoleTimeLayout, v, london)
		if err != nil {
			if t, err = time.Parse(time.RFC3339, v); err != nil {
				return time.Time{}, badRequest("%s %q must be a date and time (yyyy-mm-ddThh:mm, UK time)", name, v)
			}
		}
		return t, nil
	}
	start, err := parse("start")
	if err != nil {
		return start, end, err
	}
	end, err = parse("end")
	return start, end, err
}

func conBook(sys *system, r *http.Request) (string, string, *apiError) {
	ref := r.PathValue("jobRef")
	start, end, err := slotFromForm(r)
	if err != nil {
		return "", ref, err
	}
	a, err := sys.addAppointment(ref, start, end, SimActor)
	if err != nil {
		return "", ref, err
	}
	return fmt.Sprintf("Booked appointment %s on job %s for %s: %s", a.ID, ref, slotText(a), sys.sent(events.AppointmentCreated)), ref, nil
}

func conAppointment(sys *system, r *http.Request) (string, string, *apiError) {
	id, action := r.PathValue("id"), r.PathValue("action")
	var start, end time.Time
	if action == "reschedule" {
		var err *apiError
		if start, end, err = slotFromForm(r); err != nil {
			return "", "", err
		}
	}
	anchor := ""
	if a := sys.appointments[id]; a != nil {
		anchor = a.JobRef
	}
	var a *Appointment
	var err *apiError
	var t events.Type
	switch action {
	case "reschedule":
		a, err = sys.rescheduleAppointment(id, start, end, r.PostFormValue("reason"), SimActor)
		t = events.AppointmentRescheduled
	case "cancel":
		a, err = sys.cancelAppointment(id, r.PostFormValue("reason"), SimActor)
		t = events.AppointmentCancelled
	case "complete":
		a, err = sys.completeAppointment(id, SimActor)
		t = events.AppointmentCompleted
	default:
		return "", anchor, notFound("no action %q on an appointment (reschedule, cancel or complete)", action)
	}
	if err != nil {
		return "", anchor, err
	}
	return fmt.Sprintf("Appointment %s of job %s is %s (%s): %s", a.ID, a.JobRef, strings.ToLower(a.Status), slotText(a), sys.sent(t)), anchor, nil
}

func (s *Simulator) conUpload(sys *system, w http.ResponseWriter, r *http.Request) (string, string, *apiError) {
	ref := r.PathValue("jobRef")
	file, header, ferr := r.FormFile("file")
	if ferr != nil {
		return "", ref, badRequest("choose a file to upload")
	}
	defer file.Close()
	// The upload is stored as the /sim upload stores a raw body: the file
	// is the body, with its content type.
	body := r.Clone(r.Context())
	body.Body = io.NopCloser(file)
	body.Header = http.Header{}
	if ct := header.Header.Get("Content-Type"); ct != "" {
		body.Header.Set("Content-Type", ct)
	}
	doc, eventID, err := s.storeDocument(sys, w, body, upload{
		jobRef: ref, fileName: cmp.Or(field(r, "fileName"), header.Filename), category: field(r, "category"),
		clientRef: field(r, "clientRef"), actor: SimActor,
	})
	if err != nil {
		return "", ref, err
	}
	return fmt.Sprintf("Uploaded %s (%s bytes) to job %s as document %s in %s: %s %s",
		doc.FileName, doc.Size, ref, doc.DocumentID, doc.Category, events.DocumentUploaded, eventID), ref, nil
}

func conDecideDocument(sys *system, r *http.Request) (string, string, *apiError) {
	id := r.PathValue("documentId")
	decision, t := "", events.Type("")
	switch r.PathValue("decision") {
	case "approve":
		decision, t = DocumentApproved, events.DocumentApproved
	case "reject":
		decision, t = DocumentRejected, events.DocumentRejected
	default:
		return "", "", notFound("no decision %q on a document (approve or reject)", r.PathValue("decision"))
	}
	anchor := ""
	if d := sys.documents[id]; d != nil {
		anchor = d.JobRef
	}
	doc, err := sys.decideDocument(id, decision, field(r, "reason"), SimActor)
	if err != nil {
		return "", anchor, err
	}
	return fmt.Sprintf("Document %s (%s) of job %s is %s: %s", doc.DocumentID, doc.FileName, doc.JobRef,
		strings.ToLower(doc.ApprovalStatus), sys.sent(t)), anchor, nil
}

func conRaiseVersion(sys *system, r *http.Request) (string, string, *apiError) {
	ref := r.PathValue("jobRef")
	c := lineChange{LineChange: events.LineChange{Change: field(r, "change"), Quantity: field(r, "quantity")},
		Description: r.PostFormValue("description")}
	if c.Change == events.ChangeAdd {
		c.Code = field(r, "code")
	} else {
		c.ActivityID = field(r, "activityId")
	}
	status := events.VersionPending
	if field(r, "submit") == "" {
		status = events.VersionNew
	}
	job, v, previous, err := sys.raiseAsUser(ref, status, r.PostFormValue("reason"), []lineChange{c}, SimActor)
	if err != nil {
		return "", ref, err
	}
	return fmt.Sprintf("Raised version %d of job %s (%s; version %d is now %s): %s", v.Number, job.JobRef, v.Status,
		v.Number-1, previous, sys.sent(events.VersionCreated)), ref, nil
}

func conDecideVersion(sys *system, r *http.Request) (string, string, *apiError) {
	ref := r.PathValue("jobRef")
	status, ok := map[string]string{
		"approve": events.VersionApproved, "reject": events.VersionRejected, "cancel": events.VersionCancelled,
	}[field(r, "decision")]
	if !ok {
		return "", ref, badRequest("decision %q must be approve, reject or cancel", field(r, "decision"))
	}
	number, err := versionParam(r)
	if err != nil {
		return "", ref, err
	}
	job, v, err := sys.setVersionStatus(ref, number, status, r.PostFormValue("reason"), SimActor)
	if err != nil {
		return "", ref, err
	}
	return fmt.Sprintf("Version %d of job %s is %s: %s", v.Number, job.JobRef, v.Status, sys.sent(events.VersionStatusChanged)), ref, nil
}

func conAddSite(sys *system, r *http.Request) (string, string, *apiError) {
	site := Site{ClientID: field(r, "clientId"), SiteRef: field(r, "siteRef"), Name: field(r, "name"),
		Address1: field(r, "address1"), Postcode: field(r, "postcode")}
	for _, c := range r.PostForm["contactRefs"] {
		if c = strings.TrimSpace(c); c != "" {
			site.ContactRefs = append(site.ContactRefs, c)
		}
	}
	if err := sys.addSite(site); err != nil {
		return "", "sites", err
	}
	return fmt.Sprintf("Added site %s for client %s (no event)", site.SiteRef, site.ClientID), "sites", nil
}

func conAddContact(sys *system, r *http.Request) (string, string, *apiError) {
	c := Contact{ContactRef: field(r, "contactRef"), Name: field(r, "name")}
	if err := sys.addContact(c); err != nil {
		return "", "sites", err
	}
	return fmt.Sprintf("Added contact %s, %s (no event)", c.ContactRef, c.Name), "sites", nil
}

// jobLink is a link a job takes part in, with where to see it.
type jobLink struct {
	Link          string
	PrimaryJobRef string
	WorkflowID    string
	WorkflowURL   string // the Web UI's page of the workflow
	StateURL      string // the console's link-state page
	// Other is the linked job in the other system, when it exists there.
	OtherSystem, OtherJobRef string
	// State and LastError are the link's, as its link-state page shows
	// them, read for the job's card (withLinkStates); StateError says why
	// they could not be read.
	State, LastError, StateError string
}

// jobLinks finds the links job takes part in: as a primary job once one of
// its activities is assigned to a link's team, as a secondary job by the
// primary job's ref it carries as its client ref. s.mu must be held.
func (s *Simulator) jobLinks(sys *system, job *Job) []jobLink {
	c := s.console
	if c.WorkflowID == nil {
		return nil
	}
	var out []jobLink
	for _, l := range c.Links {
		var jl jobLink
		switch {
		case l.Primary == sys.seed.Name && (l.PrimaryClientID == "" || l.PrimaryClientID == job.ClientID):
			ref := cmp.Or(job.CurrentJobRef, job.JobRef)
			assigned := false
			for _, a := range job.Activities {
				assigned = assigned || (a.SupplierID != "" && a.SupplierID == l.TeamID)
			}
			if !assigned {
				continue
			}
			jl = jobLink{Link: l.Name, PrimaryJobRef: ref, OtherSystem: l.Secondary}
			if other := s.systems[l.Secondary]; other != nil {
				for _, j := range other.jobs {
					if j.ClientRef == ref && (l.SecondaryClientID == "" || j.ClientID == l.SecondaryClientID) {
						jl.OtherJobRef = j.JobRef
						break
					}
				}
			}
		case l.Secondary == sys.seed.Name && job.ClientRef != "" && (l.SecondaryClientID == "" || l.SecondaryClientID == job.ClientID):
			jl = jobLink{Link: l.Name, PrimaryJobRef: job.ClientRef, OtherSystem: l.Primary}
			if other := s.systems[l.Primary]; other != nil && other.jobsByRef[job.ClientRef] != nil {
				jl.OtherJobRef = job.ClientRef
			}
		default:
			continue
		}
		jl.WorkflowID = c.WorkflowID(jl.Link, jl.PrimaryJobRef)
		if c.TemporalUI != "" {
			jl.WorkflowURL = strings.TrimRight(c.TemporalUI, "/") + "/namespaces/" + url.PathEscape(cmp.Or(c.Namespace, "default")) +
				"/workflows/" + url.PathEscape(jl.WorkflowID)
		}
		if c.OperatorAPI != "" {
			jl.StateURL = "/" + url.PathEscape(sys.seed.Name) + "/console/jobs/" + url.PathEscape(job.JobRef) + "/link?link=" + url.QueryEscape(jl.Link)
		}
		out = append(out, jl)
	}
	return out
}

// linkStateData is the link-state page.
type linkStateData struct {
	System, JobRef string
	Link           jobLink
	State          map[string]any
	JSON           string
	Error          string
}

// serveLinkState: GET /{system}/console/jobs/{jobRef}/link?link=...: the
// link's state as the webhook server's operator API answers it.
func (s *Simulator) serveLinkState(w http.ResponseWriter, r *http.Request) {
	sys := s.systems[r.PathValue("system")]
	if sys == nil {
		http.Error(w, fmt.Sprintf("unknown system %q", r.PathValue("system")), http.StatusNotFound)
		return
	}
	data := linkStateData{System: sys.seed.Name, JobRef: r.PathValue("jobRef")}
	s.mu.Lock()
	var links []jobLink
	if job := sys.jobsByRef[data.JobRef]; job != nil {
		links = s.jobLinks(sys, job)
	}
	s.mu.Unlock()
	found := false
	for _, l := range links {
		if l.Link == r.URL.Query().Get("link") || (r.URL.Query().Get("link") == "" && !found) {
			data.Link, found = l, true
		}
	}
	status := http.StatusOK
	switch {
	case !found:
		status, data.Error = http.StatusNotFound, fmt.Sprintf("job %s of %s is not linked (yet)", data.JobRef, data.System)
	case s.console.OperatorAPI == "":
		status, data.Error = http.StatusNotFound, "the console was not told where the operator API is"
	default:
		data.State, data.JSON, data.Error = s.readLinkState(r.Context(), data.Link)
		if data.Error != "" {
			status = http.StatusBadGateway
		}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := linkStateTemplate.Execute(w, data); err != nil {
		s.log.Warn("rendering the link state page", "error", err)
	}
}

// readLinkState reads GET {OperatorAPI}/links/{link}/{primaryJobRef}: the
// state document, pretty-printed too, or why it could not be read.
func (s *Simulator) readLinkState(ctx context.Context, l jobLink) (map[string]any, string, string) {
	status, doc, b, err := s.getLinkState(ctx, l)
	switch {
	case err != nil:
		return nil, "", err.Error()
	case doc == nil:
		return nil, "", fmt.Sprintf("the operator API answered %d: %.200s", status, b)
	}
	pretty, _ := json.MarshalIndent(doc, "", "  ")
	if status != http.StatusOK {
		return nil, string(pretty), fmt.Sprintf("the operator API answered %d: %v", status, doc["error"])
	}
	return doc, string(pretty), ""
}

// getLinkState asks the operator API for a link's state: its status, the
// answer as JSON (nil when it is not) and as bytes.
func (s *Simulator) getLinkState(ctx context.Context, l jobLink) (int, map[string]any, []byte, error) {
	c := s.console
	client := c.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	u := strings.TrimRight(c.OperatorAPI, "/") + "/links/" + url.PathEscape(l.Link) + "/" + url.PathEscape(l.PrimaryJobRef)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, nil, nil, err
	}
	if c.OperatorToken != "" {
		req.Header.Set("Authorization", "Bearer "+c.OperatorToken)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("the operator API (%s) did not answer: %w", c.OperatorAPI, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return 0, nil, nil, fmt.Errorf("reading the operator API's answer: %w", err)
	}
	var doc map[string]any
	if json.Unmarshal(b, &doc) != nil {
		doc = nil
	}
	return resp.StatusCode, doc, b, nil
}

// cardStatesTimeout bounds the reads of the link states a console page
// shows: without an answer in time (no worker, say) the page comes back
// saying so, rather than hang.
const cardStatesTimeout = 3 * time.Second

// cardStatesInFlight bounds the reads made at once for one page.
const cardStatesInFlight = 8

// withLinkStates reads the state of every link the page's job cards show,
// so that a card says a link is stuck (NeedsAttention, and why) where the
// job is, not only on the link-state page. A link on two cards (its two
// jobs) is read once. s.mu must not be held: the reads wait on O2O.
func (s *Simulator) withLinkStates(ctx context.Context, systems []uiSystem) {
	if s.console.OperatorAPI == "" {
		return
	}
	type key struct{ link, ref string }
	cards := map[key][]*jobLink{}
	for i := range systems {
		for j := range systems[i].Jobs {
			for k := range systems[i].Jobs[j].Links {
				l := &systems[i].Jobs[j].Links[k]
				cards[key{l.Link, l.PrimaryJobRef}] = append(cards[key{l.Link, l.PrimaryJobRef}], l)
			}
		}
	}
	ctx, cancel := context.WithTimeout(ctx, cardStatesTimeout)
	defer cancel()
	slots := make(chan struct{}, cardStatesInFlight)
	var wg sync.WaitGroup
	for _, links := range cards {
		wg.Go(func() {
			slots <- struct{}{}
			defer func() { <-slots }()
			var state, lastError, why string
			status, doc, _, err := s.getLinkState(ctx, *links[0])
			switch {
			case err != nil && ctx.Err() != nil:
				why = "O2O did not answer in time"
			case err != nil:
				why = err.Error()
			case status == http.StatusOK && doc != nil:
				state, _ = doc["state"].(string)
				lastError, _ = doc["lastError"].(string)
			case doc != nil && doc["error"] != nil:
				why = fmt.Sprint(doc["error"])
			default:
				why = fmt.Sprintf("the operator API answered %d", status)
			}
			for _, l := range links { // each card's own: no other goroutine writes them
				l.State, l.LastError, l.StateError = state, lastError, why
			}
		})
	}
	wg.Wait()
}

// bookDefaults are the booking form's prefilled slot: tomorrow 09:00 to
// 11:00, UK time.
func bookDefaults(now time.Time) (start, end string) {
	d := now.In(london).AddDate(0, 0, 1)
	s := time.Date(d.Year(), d.Month(), d.Day(), 9, 0, 0, 0, london)
	return s.Format(consoleTimeLayout), s.Add(2 * time.Hour).Format(consoleTimeLayout)
}
