package chaos

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/o2o-sync/o2o/chaos/model"
	"github.com/o2o-sync/o2o/simulator"
)

// IDs are the ids the simulated systems handed out for a life's names, so
// that later actions, the observer and the model speak of the same things.
// Model job names are unique across systems in a life (J1, J2, ...).
type IDs struct {
	System       map[string]string // job → its primary system
	JobRef       map[string]string // job → the primary job's ref
	Activity     map[string]string // model activity → primary activity id
	Code         map[string]string // model activity → its SOR code
	Appointment  map[string]string // job/appointment → appointment id in the secondary
	Document     map[string]string // model document → document id in its system
	Versions     map[string][]int  // job/side → the numbers of the versions its users raised, in order
	documentName map[string]string // system:document id → model document
	addedBy      map[string]int    // system:activity id → the number of the version that added it
}

// NewIDs makes an empty record.
func NewIDs() *IDs {
	return &IDs{System: map[string]string{}, JobRef: map[string]string{}, Activity: map[string]string{},
		Code: map[string]string{}, Appointment: map[string]string{}, Document: map[string]string{},
		Versions: map[string][]int{}, documentName: map[string]string{}, addedBy: map[string]int{}}
}

// ErrNotUser is returned for actions that are not a system user's or
// administrator's: the operator's (the runner sends them to O2O) and time.
var ErrNotUser = errors.New("not an action in a simulated system")

// ErrNoLinkedJob is returned for a secondary user's action when the linked job
// does not exist (yet): O2O has not created it.
var ErrNoLinkedJob = errors.New("no linked job")

// SimError is an action the simulator refused.
type SimError struct {
	Status int
	Body   string
}

func (e *SimError) Error() string { return fmt.Sprintf("simulator answered %d: %s", e.Status, e.Body) }

// Executor performs a life's user actions in the simulated systems over
// HTTP, through the simulator's /sim API, as the systems' users would.
type Executor struct {
	Base   string // the simulator's base URL, e.g. http://localhost:9100
	Client *http.Client
	IDs    *IDs
}

// Do performs one action. The operator's actions and Elapse are ErrNotUser.
func (e *Executor) Do(ctx context.Context, a model.Action) error {
	switch a.Kind {
	case model.Raise:
		return e.raise(ctx, a)
	case model.Assign:
		id, ok := e.IDs.Activity[a.Activity]
		if !ok {
			return fmt.Errorf("assign: unknown activity %s", a.Activity)
		}
		return e.call(ctx, "POST", "/"+a.System+"/sim/activities/"+id+"/assign", map[string]string{"teamId": a.Team}, nil)
	case model.AddSite:
		return e.addSite(ctx, a)
	case model.AddContact:
		return e.addContact(ctx, a.System, a.Contact)
	case model.AddCode:
		return e.addCode(ctx, a)
	case model.Status, model.Upload, model.Approve, model.Reject, model.RaiseVersion, model.DecideVersion, model.Appointment:
		sys, ref, err := e.jobOf(ctx, a)
		if err != nil {
			return err
		}
		return e.onJob(ctx, a, sys, ref)
	}
	return ErrNotUser
}

// jobOf is the system and job ref a user's action of either side is done in.
func (e *Executor) jobOf(ctx context.Context, a model.Action) (sys, ref string, err error) {
	primary, ok := e.IDs.JobRef[a.Job]
	if !ok {
		return "", "", fmt.Errorf("unknown job %s", a.Job)
	}
	if a.Side == model.Primary {
		return e.IDs.System[a.Job], primary, nil
	}
	jobs, err := e.linkedJobs(ctx, linkOf[e.IDs.System[a.Job]], primary)
	if err != nil {
		return "", "", err
	}
	if len(jobs) == 0 {
		return "", "", fmt.Errorf("%s of %s: %w", a.Kind, a.Job, ErrNoLinkedJob)
	}
	return "fixit", jobs[0].JobRef, nil
}

// linkedJobs are the jobs O2O created in the secondary for a primary job ref
// of link: its client ref, the link's client, the current version's ref.
func (e *Executor) linkedJobs(ctx context.Context, link, primaryRef string) ([]simulator.Job, error) {
	var all []simulator.Job
	if err := e.call(ctx, "GET", "/fixit/sim/jobs?clientRef="+url.QueryEscape(primaryRef), nil, &all); err != nil {
		return nil, err
	}
	var out []simulator.Job
	for _, j := range all {
		if j.ClientID == secondaryClient[link] && j.CurrentJobRef == "" && j.CreatedBy == APIUser {
			out = append(out, j)
		}
	}
	return out, nil
}

func (e *Executor) raise(ctx context.Context, a model.Action) error {
	body := map[string]any{"clientId": systems[a.System].clientID, "siteRef": a.Site, "contactRef": a.Contact,
		"priority": a.Priority, "description": "chaos " + a.Job, "clientRef": "CH-" + a.Job}
	var acts []map[string]string
	for _, ln := range a.Lines {
		acts = append(acts, map[string]string{"code": ln.Code, "quantity": ln.Quantity})
	}
	body["activities"] = acts
	var resp simulator.SimJobResponse
	if err := e.call(ctx, "POST", "/"+a.System+"/sim/jobs", body, &resp); err != nil {
		return err
	}
	if len(resp.Activities) != len(a.Lines) {
		return fmt.Errorf("raise %s: %d activities for %d lines", a.Job, len(resp.Activities), len(a.Lines))
	}
	e.IDs.System[a.Job], e.IDs.JobRef[a.Job] = a.System, resp.JobRef
	for i, ln := range a.Lines {
		e.IDs.Activity[ln.Activity], e.IDs.Code[ln.Activity] = resp.Activities[i].ID, ln.Code
	}
	return nil
}

// clients are the clients of a system an administrator's addition is made for
// (the model's reference data is per system).
func clients(sys string) []string {
	if sys == "fixit" {
		return []string{"41", "42"}
	}
	return []string{systems[sys].clientID}
}

func (e *Executor) addContact(ctx context.Context, sys, contact string) error {
	err := e.call(ctx, "POST", "/"+sys+"/sim/contacts", map[string]string{"contactRef": contact, "name": "Contact " + contact}, nil)
	var se *SimError
	if errors.As(err, &se) && se.Status == http.StatusConflict {
		return nil // it exists already (added with a site)
	}
	return err
}

func (e *Executor) addSite(ctx context.Context, a model.Action) error {
	refs := []string{}
	if a.Contact != "" {
		if err := e.addContact(ctx, a.System, a.Contact); err != nil {
			return err
		}
		refs = append(refs, a.Contact)
	}
	for _, c := range clients(a.System) {
		body := map[string]any{"clientId": c, "siteRef": a.Site, "name": a.Site, "address1": a.Site, "postcode": "ZZ1 9ZZ", "contactRefs": refs}
		if err := e.call(ctx, "POST", "/"+a.System+"/sim/sites", body, nil); err != nil {
			return err
		}
	}
	return nil
}

func (e *Executor) addCode(ctx context.Context, a model.Action) error {
	for _, c := range clients(a.System) {
		if err := e.call(ctx, "POST", "/"+a.System+"/sim/sorCodes", map[string]string{"clientId": c, "code": a.Code}, nil); err != nil {
			return err
		}
	}
	return nil
}

// onJob performs a user's action on the job ref of system sys.
func (e *Executor) onJob(ctx context.Context, a model.Action, sys, ref string) error {
	base := "/" + sys + "/sim"
	switch a.Kind {
	case model.Status:
		return e.call(ctx, "POST", base+"/jobs/"+ref+"/status", map[string]string{"status": a.Status}, nil)
	case model.Upload:
		q := url.Values{"category": {a.Category}, "fileName": {a.Document + ".pdf"}}
		var doc simulator.Document
		if err := e.send(ctx, "POST", base+"/jobs/"+ref+"/documents?"+q.Encode(), "application/pdf",
			strings.NewReader("%PDF-1.4 chaos "+a.Document), &doc); err != nil {
			return err
		}
		e.IDs.Document[a.Document] = doc.DocumentID
		e.IDs.documentName[sys+":"+doc.DocumentID] = a.Document
		return nil
	case model.Approve, model.Reject:
		id, ok := e.IDs.Document[a.Document]
		if !ok {
			return fmt.Errorf("%s: unknown document %s", a.Kind, a.Document)
		}
		verb := map[model.Kind]string{model.Approve: "approve", model.Reject: "reject"}[a.Kind]
		return e.call(ctx, "POST", base+"/documents/"+id+"/"+verb, map[string]string{"reason": "chaos " + verb}, nil)
	case model.RaiseVersion:
		var job simulator.Job
		if err := e.call(ctx, "GET", base+"/jobs/"+ref, nil, &job); err != nil {
			return err
		}
		var changes []map[string]string
		for _, c := range a.Changes {
			ch := map[string]string{"change": c.Change}
			if c.Change == "add" {
				ch["code"], ch["quantity"] = c.Code, c.Quantity
			} else {
				line := lineWithCode(job, c.Code)
				if line == "" {
					return fmt.Errorf("raise version: no line %s on %s", c.Code, ref)
				}
				ch["activityId"] = line
				if c.Change == "quantity" {
					ch["quantity"] = c.Quantity
				}
			}
			changes = append(changes, ch)
		}
		// The reason names the version's number, which O2O may copy to the
		// mirror, and the lines it adds carry their ids there as client refs:
		// the observer reads the source version from either.
		var resp simulator.SimVersionResponse
		if err := e.call(ctx, "POST", base+"/jobs/"+ref+"/versions",
			map[string]any{"changes": changes, "reason": versionReason(a.Side, job.Version+1)}, &resp); err != nil {
			return err
		}
		n := resp.Version.Number
		e.IDs.Versions[a.Job+"/"+a.Side.String()] = append(e.IDs.Versions[a.Job+"/"+a.Side.String()], n)
		for _, c := range resp.Version.Changes {
			if c.Change == "add" {
				e.IDs.addedBy[sys+":"+c.ActivityID] = n
			}
		}
		return nil
	case model.DecideVersion:
		verb := map[model.Decision]string{model.Approved: "approve", model.Rejected: "reject", model.VersionCanceled: "cancel"}[a.Decision]
		return e.call(ctx, "POST", fmt.Sprintf("%s/jobs/%s/versions/%d/%s", base, ref, a.Version, verb),
			map[string]string{"reason": "chaos " + verb}, nil)
	case model.Appointment:
		return e.appointment(ctx, a, base, ref)
	}
	return ErrNotUser
}

func (e *Executor) appointment(ctx context.Context, a model.Action, base, ref string) error {
	key := a.Job + "/" + a.Appointment
	slot := map[string]string{"start": a.Start.Format(time.RFC3339), "end": a.Start.Add(2 * time.Hour).Format(time.RFC3339)}
	if a.AppointmentKind == model.Booked {
		var ap simulator.Appointment
		if err := e.call(ctx, "POST", base+"/jobs/"+ref+"/appointments", slot, &ap); err != nil {
			return err
		}
		e.IDs.Appointment[key] = ap.ID
		return nil
	}
	id, ok := e.IDs.Appointment[key]
	if !ok {
		return fmt.Errorf("appointment %s was never booked", key)
	}
	switch a.AppointmentKind {
	case model.Rescheduled:
		slot["reason"] = a.Reason
		return e.call(ctx, "POST", base+"/appointments/"+id+"/reschedule", slot, nil)
	case model.Cancelled:
		return e.call(ctx, "POST", base+"/appointments/"+id+"/cancel", map[string]string{"reason": a.Reason}, nil)
	}
	return e.call(ctx, "POST", base+"/appointments/"+id+"/complete", map[string]string{}, nil)
}

// versionReason is the reason a chaos version is raised with; the observer
// reads the source side and number back from O2O's mirror.
func versionReason(s model.Side, n int) string { return fmt.Sprintf("chaos %s version %d", s, n) }

func lineWithCode(job simulator.Job, code string) string {
	for _, a := range job.Activities {
		if a.Code == code {
			return a.ID
		}
	}
	return ""
}

// call sends JSON (none when in is nil) and decodes the answer into out.
func (e *Executor) call(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		raw, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(raw)
	}
	return e.send(ctx, method, path, "application/json", body, out)
}

func (e *Executor) send(ctx context.Context, method, path, contentType string, body io.Reader, out any) error {
	return do(ctx, e.client(), method, e.Base+path, contentType, nil, body, out)
}

func (e *Executor) client() *http.Client {
	if e.Client != nil {
		return e.Client
	}
	return http.DefaultClient
}

func do(ctx context.Context, c *http.Client, method, u, contentType string, header http.Header, body io.Reader, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if body != nil {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, u, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, u, err)
	}
	if resp.StatusCode >= 300 {
		return fmt.Errorf("%s %s: %w", method, u, &SimError{Status: resp.StatusCode, Body: strings.TrimSpace(string(raw))})
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return fmt.Errorf("%s %s: decoding the answer: %w", method, u, err)
		}
	}
	return nil
}
