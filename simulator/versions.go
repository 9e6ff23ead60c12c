package simulator

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/o2o-sync/o2o/events"
	"github.com/o2o-sync/o2o/internal/lenient"
)

// This file simulates job versions (variations), as Oneserve describes them
// and docs/oneserve-api.md assumes them: a job starts at version 1; raising
// a version moves the old version's content to a NEW job ref (the next ref
// in the system's sequence) while the current version keeps the job's
// original ref; version statuses are New, Pending, Approved, Rejected and
// Cancelled. Versions are raised through addActivityByClientRef with
// submitVersion "1", the assumed versionLines endpoint and the /sim action
// POST /{system}/sim/jobs/{jobRef}/versions; they are decided through the
// assumed version status endpoint and the /sim actions .../approve,
// .../reject and .../cancel. Every raise emits VERSION_CREATED and every
// submission (a New version made Pending) or decision
// VERSION_STATUS_CHANGED, with the API user as actor when the API made the
// change.
//
// The API's submitVersion (ASSUMPTION, docs/oneserve-api.md): "1" submits
// the version the call writes to — a new one, Pending, when the current
// version is decided, or the current one when it is New (the call's
// changes join it and it becomes Pending) — and is refused (409) while the
// current version is Pending. versionLines with "0" raises a New version
// (not submitted) when the current one is decided, and otherwise, like
// addActivityByClientRef with "0", changes the current version in place.
// So a client can put a version together in several calls and submit it
// with the last: nobody can decide it before all its changes are in.
//
// Simplifications (ASSUMPTIONS of the simulator): version 1 starts
// Approved; a user (the /sim action) can only raise a version when the
// current one is decided (Approved, Rejected or Cancelled), so raising
// while one is New or Pending answers 409; only the current version can be
// decided, and only from New or Pending (409 otherwise); deciding changes
// the status only, not
// the lines (a rejected version's lines stay as they are). A superseded
// version keeps a copy of the lines it had (with new activity ids); the
// job's history, appointments and documents stay with the current version.
// A superseded version's ref reads and takes job events, but is not listed
// at the site nor found by client ref.

// JobVersion is one version of a job, as GET /{system}/sim/jobs/{jobRef}
// shows it.
type JobVersion struct {
	Number int `json:"number"`
	// JobRef is the ref holding the version: the job's original ref for the
	// current version, a new ref for a superseded one.
	JobRef string `json:"jobRef"`
	Status string `json:"status"`
	// Reason is why the version was raised; Changes its line changes, as
	// VERSION_CREATED reports them (plus any made later in place, with
	// submitVersion 0, while the version was New or Pending).
	Reason    string              `json:"reason,omitempty"`
	Changes   []events.LineChange `json:"changes"`
	CreatedBy string              `json:"createdBy"`
	CreatedAt time.Time           `json:"createdAt"`
	// DecidedBy and DecisionReason record the last status change.
	DecidedBy      string `json:"decidedBy,omitempty"`
	DecisionReason string `json:"decisionReason,omitempty"`
}

// startVersions gives a new job its version 1, Approved.
func (sys *system) startVersions(job *Job) {
	job.Version, job.VersionStatus = 1, events.VersionApproved
	job.Versions = []*JobVersion{{Number: 1, JobRef: job.JobRef, Status: events.VersionApproved,
		Changes: []events.LineChange{}, CreatedBy: job.CreatedBy, CreatedAt: job.CreatedAt}}
}

// versionList is the versions of job's family: its own for the job holding
// the current version, the current job's for a superseded one.
func (job *Job) versionList() []*JobVersion {
	if job.family != nil {
		return job.family.Versions
	}
	return job.Versions
}

// currentVersion returns the record of job's current version.
func (job *Job) currentVersion() *JobVersion { return job.Versions[len(job.Versions)-1] }

// open reports whether a version status is undecided.
func open(status string) bool { return status == events.VersionNew || status == events.VersionPending }

// currentJob finds a job that holds its current version: 404 when unknown,
// 409 for a superseded version's ref.
func (sys *system) currentJob(jobRef string) (*Job, *apiError) {
	job, err := sys.job(jobRef)
	if err != nil {
		return nil, err
	}
	if job.family != nil {
		return nil, conflict("job %s holds version %d of job %s, which is superseded (current version %d)",
			jobRef, job.Version, job.family.JobRef, job.family.Version)
	}
	return job, nil
}

// canRaise refuses a new version while the current one is undecided.
func canRaise(job *Job) *apiError {
	if open(job.VersionStatus) {
		return conflict("version %d of job %s is %s: approve, reject or cancel it before raising another",
			job.Version, job.JobRef, job.VersionStatus)
	}
	return nil
}

// canSubmit refuses a call that would submit a version while the current
// one is already submitted (Pending): the API may add to a New version and
// submit it, or raise a new one over a decided version.
func canSubmit(job *Job) *apiError {
	if job.VersionStatus == events.VersionPending {
		return canRaise(job)
	}
	return nil
}

// submitVersion submits job's current version, New until now: it becomes
// Pending, open for a decision. Emits VERSION_STATUS_CHANGED (Pending).
func (sys *system) submitVersion(job *Job, actor string) {
	v := job.currentVersion()
	v.Status, job.VersionStatus = events.VersionPending, events.VersionPending
	d := jobData(job, actor)
	d.Version, d.Status = strconv.Itoa(v.Number), events.VersionPending
	sys.emit(events.VersionStatusChanged, d)
}

// lineChange is one requested line change: the event's fields plus what an
// added line is created with.
type lineChange struct {
	events.LineChange
	Description, CompletedQuantity string
}

// resolved is a validated line change: for a remove or quantity change,
// the line it applies to.
type resolved struct {
	lineChange
	line *Activity
}

// checkChanges validates changes against job, in order, without changing
// anything: an add needs an SOR code of the job's client and a quantity; a
// remove or quantity change needs a line of the job, found by activityId
// (when given) or clientRef, not removed earlier in the same request. The
// first problem is returned, naming changes[i] and the value.
func (sys *system) checkChanges(job *Job, changes []lineChange) ([]resolved, *apiError) {
	if len(changes) == 0 {
		return nil, badRequest("changes is required (at least one change)")
	}
	removed := map[*Activity]bool{}
	out := make([]resolved, 0, len(changes))
	for i, c := range changes {
		field := func(name string) string { return fmt.Sprintf("changes[%d].%s", i, name) }
		for _, f := range []struct {
			name, v string
			max     int
		}{{"activityId", c.ActivityID, 50}, {"clientRef", c.ClientRef, 50}, {"code", c.Code, 20}, {"description", c.Description, 1000}} {
			if err := maxLen(field(f.name), f.v, f.max); err != nil {
				return nil, err
			}
		}
		r := resolved{lineChange: c}
		switch c.Change {
		case events.ChangeAdd:
			if c.Code == "" {
				return nil, badRequest("%s is required", field("code"))
			}
			if _, ok := sys.sor[job.ClientID+"/"+c.Code]; !ok {
				return nil, badRequest("%s %q is not an SOR code of clientId %s", field("code"), c.Code, job.ClientID)
			}
		case events.ChangeRemove, events.ChangeQuantity:
			if c.ActivityID == "" && c.ClientRef == "" {
				return nil, badRequest("%s or %s is required", field("activityId"), field("clientRef"))
			}
			r.line = findLine(job, c.ActivityID, c.ClientRef)
			if r.line == nil || removed[r.line] {
				return nil, badRequest("%s: no line with activityId %q or clientRef %q on job %s", fmt.Sprintf("changes[%d]", i),
					c.ActivityID, c.ClientRef, job.JobRef)
			}
			if c.Change == events.ChangeRemove {
				removed[r.line] = true
				r.Quantity = ""
			}
		case "":
			return nil, badRequest("%s is required", field("change"))
		default:
			return nil, badRequest("%s %q must be add, remove or quantity", field("change"), c.Change)
		}
		if c.Change != events.ChangeRemove {
			if c.Quantity == "" {
				return nil, badRequest("%s is required", field("quantity"))
			}
			if !events.IsQuantity(c.Quantity) {
				return nil, badRequest("%s %q must be a positive decimal, like 2 or 2.50", field("quantity"), c.Quantity)
			}
		}
		out = append(out, r)
	}
	return out, nil
}

// findLine finds a line of job by activity id, else by its client ref.
func findLine(job *Job, activityID, clientRef string) *Activity {
	for _, a := range job.Activities {
		if activityID != "" && a.ID == activityID {
			return a
		}
	}
	for _, a := range job.Activities {
		if clientRef != "" && a.ClientRef == clientRef {
			return a
		}
	}
	return nil
}

// addedChange is the change an added line reports.
func addedChange(a *Activity) events.LineChange {
	return events.LineChange{Change: events.ChangeAdd, ActivityID: a.ID, ClientRef: a.ClientRef, Code: a.Code, Quantity: a.Quantity}
}

// applyChanges makes validated changes to job's lines and returns them as
// VERSION_CREATED reports them: every line's activity id, client ref (when
// it has one) and code, and the quantity of an add or quantity change.
func (sys *system) applyChanges(job *Job, changes []resolved, actor string) []events.LineChange {
	now := sys.sim.now()
	out := make([]events.LineChange, 0, len(changes))
	for _, c := range changes {
		switch c.Change {
		case events.ChangeAdd:
			a := sys.addActivity(job, job.ClientID, Activity{Code: c.Code, Description: c.Description, Quantity: c.Quantity,
				CompletedQuantity: c.CompletedQuantity, ClientRef: c.ClientRef}, actor, now)
			out = append(out, addedChange(a))
		case events.ChangeRemove:
			job.Activities = removeLine(job.Activities, c.line)
			delete(sys.activities, c.line.ID)
			out = append(out, events.LineChange{Change: events.ChangeRemove, ActivityID: c.line.ID, ClientRef: c.line.ClientRef, Code: c.line.Code})
		case events.ChangeQuantity:
			c.line.Quantity, c.line.LastModified = c.Quantity, now
			out = append(out, events.LineChange{Change: events.ChangeQuantity, ActivityID: c.line.ID, ClientRef: c.line.ClientRef,
				Code: c.line.Code, Quantity: c.Quantity})
		}
	}
	return out
}

func removeLine(lines []*Activity, line *Activity) []*Activity {
	out := lines[:0:0]
	for _, a := range lines {
		if a != line {
			out = append(out, a)
		}
	}
	return out
}

// noteInPlace records a change made in place (submitVersion 0) on the
// current version when that version is a variation still being put
// together (2 or more, New or Pending). Nothing is emitted.
func (sys *system) noteInPlace(job *Job, changes ...events.LineChange) {
	if job.family != nil || job.Version < 2 || !open(job.VersionStatus) {
		return
	}
	v := job.currentVersion()
	v.Changes = append(v.Changes, changes...)
}

// supersede moves job's current version to a new job ref: a copy of the
// job with its lines, under the next ref in the system's sequence. The
// copied lines get their ids from numberLines, once the new version's own
// lines have theirs. It returns the copy.
func (sys *system) supersede(job *Job) *Job {
	n := sys.nextJob
	sys.nextJob++
	old := *job
	old.JobRef = fmt.Sprintf("%s%06d", sys.seed.JobRefPrefix, n)
	old.JobID = strconv.Itoa(firstJobID + n - 1)
	old.Activities, old.History, old.Appointments, old.Documents, old.Versions = nil, nil, nil, nil, nil
	old.CurrentJobRef, old.family = job.JobRef, job
	for _, a := range job.Activities {
		c := *a
		c.JobRef = old.JobRef
		old.Activities = append(old.Activities, &c)
	}
	sys.jobsByRef[old.JobRef] = &old
	job.currentVersion().JobRef = old.JobRef
	return &old
}

// numberLines gives a superseded version's copied lines their new ids.
func (sys *system) numberLines(old *Job) {
	for _, a := range old.Activities {
		a.ID = strconv.Itoa(sys.nextActivity)
		sys.nextActivity++
		sys.activities[a.ID] = a
	}
}

// raiseVersion creates version job.Version+1 with status (New or Pending)
// holding the validated changes, and emits VERSION_CREATED. The caller has
// checked canRaise. It returns the new version and the superseded
// version's new ref.
func (sys *system) raiseVersion(job *Job, status, reason string, changes []resolved, actor string) (*JobVersion, string) {
	old := sys.supersede(job)
	applied := sys.applyChanges(job, changes, actor)
	sys.numberLines(old)
	previous := old.JobRef
	job.Version++
	job.VersionStatus = status
	v := &JobVersion{Number: job.Version, JobRef: job.JobRef, Status: status, Reason: reason, Changes: applied,
		CreatedBy: actor, CreatedAt: sys.sim.now()}
	job.Versions = append(job.Versions, v)
	d := jobData(job, actor)
	d.Version, d.PreviousVersionJobRef, d.Status, d.Reason, d.Changes = strconv.Itoa(v.Number), previous, status, reason, applied
	sys.emit(events.VersionCreated, d)
	return v, previous
}

// raiseAsUser is a user raising a version of the job at jobRef (the /sim
// action and the console): it validates changes and makes them in a new
// version with status (emitting VERSION_CREATED), refused (409) while the
// current version is undecided. It returns the job, the new version and
// the superseded version's ref.
func (sys *system) raiseAsUser(jobRef, status, reason string, changes []lineChange, actor string) (*Job, *JobVersion, string, *apiError) {
	job, err := sys.currentJob(jobRef)
	if err != nil {
		return nil, nil, "", err
	}
	if err := maxLen("reason", reason, 1000); err != nil {
		return nil, nil, "", err
	}
	checked, err := sys.checkChanges(job, changes)
	if err != nil {
		return nil, nil, "", err
	}
	if err := canRaise(job); err != nil {
		return nil, nil, "", err
	}
	v, previous := sys.raiseVersion(job, status, reason, checked, actor)
	return job, v, previous, nil
}

// versionLinesChange is versionLines: it validates changes and makes them
// on the job at jobRef. Over a decided current version it raises a new one
// holding them (VERSION_CREATED): Pending with submit, else New. Into a New
// current version it makes them in place, and with submit submits it
// (VERSION_STATUS_CHANGED); into a Pending one only without submit (409
// with it), in place. It returns the job.
func (sys *system) versionLinesChange(jobRef string, submit bool, reason string, changes []lineChange, actor string) (*Job, *apiError) {
	job, err := sys.currentJob(jobRef)
	if err != nil {
		return nil, err
	}
	if err := maxLen("reason", reason, 1000); err != nil {
		return nil, err
	}
	checked, err := sys.checkChanges(job, changes)
	if err != nil {
		return nil, err
	}
	if submit {
		if err := canSubmit(job); err != nil {
			return nil, err
		}
	}
	if !open(job.VersionStatus) {
		status := events.VersionNew
		if submit {
			status = events.VersionPending
		}
		sys.raiseVersion(job, status, reason, checked, actor)
		return job, nil
	}
	sys.noteInPlace(job, sys.applyChanges(job, checked, actor)...)
	if submit {
		sys.submitVersion(job, actor)
	}
	return job, nil
}

// addActivitiesInVersions is addActivityByClientRef with submitVersion "1":
// items are valid and jobs[i] is item i's job. Each job, in the order of
// its first item, gets its items in one submitted version: a new Pending
// one over a decided current version (VERSION_CREATED), or its New current
// version, which they join and which is submitted (VERSION_STATUS_CHANGED).
// All or nothing: a quantity a version cannot carry, or a job whose
// current version is already Pending, refuses the whole call before any
// change.
func (sys *system) addActivitiesInVersions(items []activityByClientRefSpec, jobs []*Job, actor string) ([]*Activity, *apiError) {
	var order []*Job
	per := map[*Job][]resolved{}
	for i, a := range items {
		if !events.IsQuantity(a.TotalQuantity) {
			return nil, badRequest("activities[%d].totalQuantity %q must be a positive decimal, like 2 or 2.50", i, a.TotalQuantity)
		}
		job := jobs[i]
		if _, seen := per[job]; !seen {
			if err := canSubmit(job); err != nil {
				return nil, err
			}
			order = append(order, job)
		}
		per[job] = append(per[job], resolved{lineChange: lineChange{
			LineChange:  events.LineChange{Change: events.ChangeAdd, ClientRef: a.ClientRef, Code: a.Code, Quantity: a.TotalQuantity},
			Description: a.Description, CompletedQuantity: a.CompletedQuantity,
		}})
	}
	var added []*Activity
	for _, job := range order {
		n := len(job.Activities)
		if job.VersionStatus == events.VersionNew {
			sys.noteInPlace(job, sys.applyChanges(job, per[job], actor)...)
			sys.submitVersion(job, actor)
		} else {
			sys.raiseVersion(job, events.VersionPending, "", per[job], actor)
		}
		added = append(added, job.Activities[n:]...)
	}
	return added, nil
}

// setVersionStatus decides version number of the job at jobRef: status is
// Approved, Rejected or Cancelled. Only the current version, and only from
// New or Pending (409 otherwise); an unknown version is 404. Emits
// VERSION_STATUS_CHANGED.
func (sys *system) setVersionStatus(jobRef string, number int, status, reason, actor string) (*Job, *JobVersion, *apiError) {
	switch status {
	case events.VersionApproved, events.VersionRejected, events.VersionCancelled:
	case "":
		return nil, nil, badRequest("status is required")
	default:
		return nil, nil, badRequest("status %q must be Approved, Rejected or Cancelled", status)
	}
	if err := maxLen("reason", reason, 1000); err != nil {
		return nil, nil, err
	}
	job, err := sys.currentJob(jobRef)
	if err != nil {
		return nil, nil, err
	}
	switch {
	case number < 1 || number > job.Version:
		return nil, nil, notFound("job %s has no version %d (current version %d)", jobRef, number, job.Version)
	case number != job.Version:
		return nil, nil, conflict("version %d of job %s is superseded: only the current version (%d) can be decided", number, jobRef, job.Version)
	case !open(job.VersionStatus):
		return nil, nil, conflict("version %d of job %s is %s, not New or Pending", number, jobRef, job.VersionStatus)
	}
	v := job.currentVersion()
	v.Status, v.DecidedBy, v.DecisionReason = status, actor, reason
	job.VersionStatus = status
	d := jobData(job, actor)
	d.Version, d.Status, d.Reason = strconv.Itoa(number), status, reason
	sys.emit(events.VersionStatusChanged, d)
	return job, v, nil
}

// versionChangeWire is one change of a versionLines or /sim versions body.
type versionChangeWire struct {
	Change      lenient.Text `json:"change"`
	ActivityID  lenient.Text `json:"activityId"`
	ClientRef   lenient.Text `json:"clientRef"`
	Code        lenient.Text `json:"code"`
	Quantity    lenient.Text `json:"quantity"`
	Description lenient.Text `json:"description"`
}

func (c versionChangeWire) change() lineChange {
	return lineChange{LineChange: events.LineChange{Change: text(c.Change), ActivityID: text(c.ActivityID),
		ClientRef: text(c.ClientRef), Code: text(c.Code), Quantity: text(c.Quantity)}, Description: string(c.Description)}
}

// versionLines: POST /rest/workflow/job/{jobRef}/versionLines (assumed
// endpoint): removes lines and changes quantities (see versionLinesChange
// for which version they go to). Answers the envelope with the job's
// version number afterwards.
func (s *Simulator) versionLines(sys *system, w http.ResponseWriter, r *http.Request) {
	var in struct {
		SubmitVersion lenient.Text        `json:"submitVersion"`
		Reason        lenient.Text        `json:"reason"`
		Changes       []versionChangeWire `json:"changes"`
	}
	if err := decodeJSON(w, r, &in, false); err != nil {
		writeAPIError(w, err)
		return
	}
	submit := text(in.SubmitVersion)
	if submit != "" && submit != "0" && submit != "1" {
		writeAPIError(w, badRequest("submitVersion %q must be 0 or 1", submit))
		return
	}
	changes := make([]lineChange, 0, len(in.Changes))
	for i, c := range in.Changes {
		lc := c.change()
		if lc.Change == events.ChangeAdd {
			writeAPIError(w, badRequest("changes[%d].change %q must be remove or quantity (lines are added through addActivityByClientRef)", i, lc.Change))
			return
		}
		changes = append(changes, lc)
	}
	s.mu.Lock()
	job, err := sys.versionLinesChange(r.PathValue("jobRef"), submit == "1", string(in.Reason), changes, sys.seed.APIUser)
	var version int
	if err == nil {
		version = job.Version
	}
	s.mu.Unlock()
	if err != nil {
		writeAPIError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		envelope
		Version string `json:"version"`
	}{success, strconv.Itoa(version)})
}

// versionStatus: POST /rest/workflow/job/{jobRef}/version/{version}/status
// (assumed endpoint) {"status":"Approved|Rejected|Cancelled","reason":"..."}.
func (s *Simulator) versionStatus(sys *system, w http.ResponseWriter, r *http.Request) {
	var in struct {
		Status lenient.Text `json:"status"`
		Reason lenient.Text `json:"reason"`
	}
	if err := decodeJSON(w, r, &in, false); err != nil {
		writeAPIError(w, err)
		return
	}
	number, perr := versionParam(r)
	if perr != nil {
		writeAPIError(w, perr)
		return
	}
	s.mu.Lock()
	_, _, err := sys.setVersionStatus(r.PathValue("jobRef"), number, text(in.Status), string(in.Reason), sys.seed.APIUser)
	s.mu.Unlock()
	if err != nil {
		writeAPIError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, success)
}

func versionParam(r *http.Request) (int, *apiError) {
	v := r.PathValue("version")
	n, err := strconv.Atoi(v)
	if err != nil || !isWhole(v) {
		return 0, badRequest("version %q must be a whole number", v)
	}
	return n, nil
}

// SimVersionRequest is the body of POST /{system}/sim/jobs/{jobRef}/versions:
// the line changes as VERSION_CREATED carries them (add with code and
// quantity, and optionally clientRef and description; remove and quantity
// by activityId or clientRef, quantity with the new quantity), a reason,
// and whether the version is submitted (Pending; the default) or saved
// as New.
type SimVersionRequest struct {
	Changes []versionChangeWire `json:"changes"`
	Reason  events.Text         `json:"reason"`
	Submit  *lenient.Bool       `json:"submit"`
}

// SimVersionResponse answers the /sim version actions: the job's ref, the
// version raised or decided, the superseded version's new ref (raise only)
// and the id of the event emitted.
type SimVersionResponse struct {
	JobRef                string     `json:"jobRef"`
	Version               JobVersion `json:"version"`
	PreviousVersionJobRef string     `json:"previousVersionJobRef,omitempty"`
	EventID               string     `json:"eventId"`
}

// simRaiseVersion: POST /{system}/sim/jobs/{jobRef}/versions, a user
// raising a variation. Emits VERSION_CREATED with actor SimActor.
func simRaiseVersion(sys *system, r *http.Request, in *SimVersionRequest) (any, *apiError) {
	status := events.VersionPending
	if in.Submit != nil && !bool(*in.Submit) {
		status = events.VersionNew
	}
	changes := make([]lineChange, 0, len(in.Changes))
	for _, c := range in.Changes {
		changes = append(changes, c.change())
	}
	job, v, previous, err := sys.raiseAsUser(r.PathValue("jobRef"), status, string(in.Reason), changes, SimActor)
	if err != nil {
		return nil, err
	}
	return versionReply(sys, job, v, previous), nil
}

// versionReply answers a /sim version action. s.mu must be held.
func versionReply(sys *system, job *Job, v *JobVersion, previous string) SimVersionResponse {
	resp := SimVersionResponse{JobRef: job.JobRef, Version: *v, PreviousVersionJobRef: previous, EventID: sys.lastEventID()}
	resp.Version.Changes = append([]events.LineChange{}, v.Changes...)
	return resp
}

// simDecideVersion: POST /{system}/sim/jobs/{jobRef}/versions/{n}/approve,
// .../reject or .../cancel, {"reason":"..."} optional. Emits
// VERSION_STATUS_CHANGED with actor SimActor. An unknown decision is a 404
// before the body is read.
func simDecideVersion(s *Simulator) func(*system, http.ResponseWriter, *http.Request) {
	decide := simAction(s, http.StatusOK, true, func(sys *system, r *http.Request, in *reasonRequest) (any, *apiError) {
		number, err := versionParam(r)
		if err != nil {
			return nil, err
		}
		job, v, err := sys.setVersionStatus(r.PathValue("jobRef"), number, versionDecisions[r.PathValue("decision")], string(in.Reason), SimActor)
		if err != nil {
			return nil, err
		}
		return versionReply(sys, job, v, ""), nil
	})
	return func(sys *system, w http.ResponseWriter, r *http.Request) {
		if _, ok := versionDecisions[r.PathValue("decision")]; !ok {
			writeSimError(w, notFound("no action %q on a version (approve, reject or cancel)", r.PathValue("decision")))
			return
		}
		decide(sys, w, r)
	}
}

// versionDecisions maps the last step of a /sim version decision's path to
// the status it sets.
var versionDecisions = map[string]string{
	"approve": events.VersionApproved, "reject": events.VersionRejected, "cancel": events.VersionCancelled,
}
