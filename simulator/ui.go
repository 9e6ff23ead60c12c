package simulator

import (
	"cmp"
	"html/template"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/o2o-sync/o2o/internal/plural"
)

// This file serves GET /: the console. It shows each system's jobs (with
// their activities, appointments, documents, versions and history), sites,
// contacts and recent events, and offers a form for everything a user of
// the system does that O2O cares about; the forms post to console.go's
// actions. Each linked job links to its LinkedJob workflow in the Temporal
// Web UI and to its link state. ?refresh=N reloads the page every N
// seconds, for watching a flow (not while filling in a form).
// html/template escapes everything shown.

// uiMaxJobs and uiMaxEvents keep the page small after a benchmark.
const (
	uiMaxJobs   = 50
	uiMaxEvents = 15
)

type uiSystem struct {
	Name       string
	WebhookURL string
	Counts     map[string]int
	Jobs       []uiJob // newest first
	MoreJobs   int
	Events     []OutboxEvent // newest first
	Faults     []Fault

	Clients, Teams, Priorities, Statuses []Ref
	Categories                           []string
	SORCodes                             []SORCode
	Sites                                []uiSite
	Contacts                             []Contact
	BookStart, BookEnd                   string
}

type uiSite struct {
	Site
	Contacts []Contact
}

type uiJob struct {
	Job
	Links []jobLink
	// SORCodes are the codes of the job's client, for a version's added line.
	SORCodes []SORCode
	// Open: the current version is undecided (New or Pending).
	Open bool
}

type uiData struct {
	Now     time.Time
	Refresh int
	// System, OK and Error are the last action's outcome (console.go).
	System, OK, Error string
	Systems           []uiSystem
}

var uiTemplate = template.Must(template.New("ui").Funcs(template.FuncMap{
	"when": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.In(london).Format("02 Jan 15:04:05")
	},
	"local": func(t time.Time) string { return t.In(london).Format(consoleTimeLayout) },
	"count": plural.Count[int],
}).Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
{{if .Refresh}}<meta http-equiv="refresh" content="{{.Refresh}}">{{end}}
<title>Oneserve simulator</title>
<style>
 body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; }
 h1 { font-size: 1.3em; margin: 0 0 .2em; }
 h2 { font-size: 1.15em; margin: 1.5em 0 .3em; border-bottom: 2px solid #ccc; }
 h3 { font-size: 1em; margin: 1em 0 .3em; }
 .muted { color: #777; }
 .job { border: 1px solid #ddd; border-radius: 4px; padding: .4em .7em; margin: .5em 0; }
 .job:target { border-color: #36c; box-shadow: 0 0 0 2px #cde; }
 .job b { font-family: ui-monospace, monospace; }
 .status { background: #eef; border-radius: 3px; padding: 0 .4em; }
 ul { margin: .2em 0; padding-left: 1.3em; }
 table { border-collapse: collapse; }
 td, th { text-align: left; padding: .1em .6em .1em 0; vertical-align: top; }
 code { font-size: .9em; }
 .failed, .pending { color: #b00; }
 .delivered { color: #070; }
 form { display: inline-block; margin: .15em .6em .15em 0; padding: .2em .4em; background: #f7f7f7; border-radius: 3px; }
 form.block { display: block; }
 label { margin-right: .4em; }
 input[type=text] { width: 9em; }
 .flash { padding: .5em .8em; border-radius: 4px; margin: .8em 0; }
 .flash.ok { background: #e8f6e8; border: 1px solid #9c9; }
 .flash.error { background: #fbeaea; border: 1px solid #d99; }
 .links a { margin-right: .8em; }
 .linkstate.NeedsAttention, .lasterror { color: #b00; }
 .linkstate.NeedsAttention, .linkstate.Paused { font-weight: bold; }
 details { margin: .3em 0; }
 summary { cursor: pointer; color: #36c; }
</style>
</head>
<body>
<h1>Oneserve simulator</h1>
<div class="muted">{{when .Now}} (UK time) ·
 {{if .Refresh}}reloads every {{.Refresh}} s · <a href="/">stop reloading</a>{{else}}<a href="/">reload</a> · <a href="/?refresh=3">reload every 3 s</a>{{end}}
 · acting as <code>sim-user</code> · JSON under /{system}/sim/…</div>
{{if .Error}}<div class="flash error" id="flash" role="alert"><b>{{.System}}</b>: refused: {{.Error}}</div>{{end}}
{{if .OK}}<div class="flash ok" id="flash" role="status"><b>{{.System}}</b>: {{.OK}}</div>{{end}}
{{range .Systems}}{{$sys := .}}
<section id="{{.Name}}">
<h2>{{.Name}}</h2>
<div class="muted">
 API at <code>/{{.Name}}/rest</code> ·
 webhooks {{if .WebhookURL}}to <code>{{.WebhookURL}}</code>{{else}}recorded only{{end}} ·
 events: {{.Counts.delivered}} delivered, {{.Counts.pending}} pending, {{.Counts.failed}} failed{{if .Counts.recorded}}, {{.Counts.recorded}} recorded{{end}}{{if .Counts.dropped}}, {{.Counts.dropped}} dropped{{end}}
 {{range .Faults}}· <span class="failed">fault: {{if eq .Op "deliver"}}drop {{.Drop}} of {{if .Types}}{{.Types}}{{else}}all{{end}} webhooks{{else}}{{.Op}} → {{.Status}}{{if .Delay}} after {{.Delay}}{{end}}{{end}} ({{if eq .Count -1}}until cleared{{else}}{{.Count}} left{{end}})</span>{{end}}
</div>

<form class="block raise" id="{{.Name}}-raise" method="post" action="/{{.Name}}/console/jobs">
 <b>Raise a job</b>
 <label>client <select name="clientId">{{range .Clients}}<option value="{{.ID}}">{{.Name}} ({{.ID}})</option>{{end}}</select></label>
 <label>site <select name="siteRef">{{range .Sites}}<option value="{{.SiteRef}}">{{.SiteRef}} · {{.Name}} (client {{.ClientID}})</option>{{end}}</select></label>
 <label>contact <select name="contactRef"><option value="">none</option>{{range .Contacts}}<option value="{{.ContactRef}}">{{.ContactRef}} · {{.Name}}</option>{{end}}</select></label>
 <label>priority <select name="priorityId">{{range .Priorities}}<option value="{{.ID}}">{{.Name}}</option>{{end}}</select></label>
 <label>description <input type="text" name="description" value="Dripping tap"></label>
 <label>activity <select name="code">{{range .SORCodes}}<option value="{{.Code}}">{{.Code}} · {{.Description}} (client {{.ClientID}})</option>{{end}}<option value="">none</option></select></label>
 <label>× <input type="text" name="quantity" value="1" size="4" style="width:4em"></label>
 <label>client ref <input type="text" name="clientRef"></label>
 <button type="submit">Raise</button>
</form>

{{range .Jobs}}{{$job := .}}
<div class="job" id="{{$sys.Name}}-{{.JobRef}}">
 <b class="jobref">{{.JobRef}}</b>{{if .ClientRef}} (client ref <b class="clientref">{{.ClientRef}}</b>){{end}}
 <span class="status">{{.Status}}</span> · {{.Priority}} · {{.SiteRef}}{{if .ContactRef}} · {{.ContactRef}}{{end}} · {{.ClientName}}
 · version {{.Version}} ({{.VersionStatus}}){{if .CurrentJobRef}} · superseded: the current version is <a href="#{{$sys.Name}}-{{.CurrentJobRef}}">{{.CurrentJobRef}}</a>{{end}}
 {{if .Description}}<div>{{.Description}}</div>{{end}}
 {{range .Links}}<div class="links">link <b>{{.Link}}</b>:
  {{if .State}}<span class="linkstate {{.State}}">{{.State}}</span>{{with .LastError}} <span class="lasterror">{{.}}</span>{{end}} ·{{else if .StateError}}<span class="muted linkstate">state not read: {{.StateError}}</span> ·{{end}}
  {{if .OtherJobRef}}linked job <a class="linked" href="#{{.OtherSystem}}-{{.OtherJobRef}}">{{.OtherJobRef}} in {{.OtherSystem}}</a>{{else}}<span class="muted">no job in {{.OtherSystem}} yet</span>{{end}}
  {{if .WorkflowURL}}<a class="workflow" href="{{.WorkflowURL}}" target="_blank" rel="noopener">workflow {{.WorkflowID}} (Web UI)</a>{{else}}workflow <code>{{.WorkflowID}}</code>{{end}}
  {{if .StateURL}}<a class="state" href="{{.StateURL}}">link state</a>{{end}}
 </div>{{end}}
 <ul>
 {{range .Activities}}<li>activity {{.ID}}: {{.Code}} × {{.Quantity}} — {{.Description}}{{if .SupplierName}} · assigned to {{.SupplierName}}{{end}}</li>{{end}}
 {{range .Appointments}}<li>appointment {{.ID}}: {{when .Start}} – {{when .End}} · {{.Status}}{{if .Reason}} ({{.Reason}}){{end}}</li>{{end}}
 {{range .Documents}}<li>document {{.DocumentID}}: {{.FileName}} · {{.Category}} · {{.Size}} bytes · by {{.UploadedBy}}{{if .ClientRef}} · <code>{{.ClientRef}}</code>{{end}}{{if .ApprovalStatus}} · <span class="approval">{{.ApprovalStatus}}</span>{{if .ApprovalReason}} ({{.ApprovalReason}}){{end}}{{end}}</li>{{end}}
 {{range .Versions}}{{if gt .Number 1}}<li>version {{.Number}} ({{.JobRef}}): {{.Status}}{{if .Reason}} — {{.Reason}}{{end}}{{range .Changes}} · {{.Change}} {{.Code}}{{if .Quantity}} × {{.Quantity}}{{end}}{{end}}{{if .DecisionReason}} (decided: {{.DecisionReason}}){{end}}</li>{{end}}{{end}}
 {{range .History}}<li>event <b>{{.Code}}</b> {{.Date}} by {{.AddedBy}}: {{.Note}}</li>{{end}}
 </ul>
 {{if not .CurrentJobRef}}
 {{if .Activities}}<form class="assign" method="post" action="/{{$sys.Name}}/console/activities/assign">
  <label>assign <select name="activityId">{{range .Activities}}<option value="{{.ID}}">{{.ID}} · {{.Code}}</option>{{end}}</select></label>
  <label>to team <select name="teamId">{{range $sys.Teams}}<option value="{{.ID}}">{{.Name}} ({{.ID}})</option>{{end}}</select></label>
  <button type="submit">Assign</button>
 </form>{{end}}
 <form class="setstatus" method="post" action="/{{$sys.Name}}/console/jobs/{{.JobRef}}/status">
  <label>status <select name="statusId">{{range $sys.Statuses}}<option value="{{.ID}}"{{if eq .ID $job.StatusID}} selected{{end}}>{{.Name}}</option>{{end}}</select></label>
  <button type="submit">Set status</button>
 </form>
 <details><summary>appointments, documents, versions</summary>
  <form class="book" method="post" action="/{{$sys.Name}}/console/jobs/{{.JobRef}}/appointments">
   <b>Book</b> <input type="datetime-local" name="start" value="{{$sys.BookStart}}"> – <input type="datetime-local" name="end" value="{{$sys.BookEnd}}">
   <button type="submit">Book appointment</button>
  </form>
  {{range .Appointments}}{{if eq .Status "Booked"}}<div>
   <form method="post" action="/{{$sys.Name}}/console/appointments/{{.ID}}/reschedule"><b>{{.ID}}</b>
    <input type="datetime-local" name="start" value="{{local .Start}}"> – <input type="datetime-local" name="end" value="{{local .End}}">
    <input type="text" name="reason" placeholder="reason"> <button type="submit">Reschedule</button></form>
   <form method="post" action="/{{$sys.Name}}/console/appointments/{{.ID}}/cancel"><input type="text" name="reason" placeholder="reason"> <button type="submit">Cancel {{.ID}}</button></form>
   <form method="post" action="/{{$sys.Name}}/console/appointments/{{.ID}}/complete"><button type="submit">Complete {{.ID}}</button></form>
  </div>{{end}}{{end}}
  <form class="upload block" method="post" enctype="multipart/form-data" action="/{{$sys.Name}}/console/jobs/{{.JobRef}}/documents">
   <b>Upload</b> <input type="file" name="file" required>
   <label>category <select name="category">{{range $sys.Categories}}<option>{{.}}</option>{{end}}</select></label>
   <button type="submit">Upload document</button>
  </form>
  {{range .Documents}}<form method="post" action="/{{$sys.Name}}/console/documents/{{.DocumentID}}/approve"><b>{{.DocumentID}}</b> <input type="text" name="reason" placeholder="note (optional)"> <button type="submit">Approve</button></form>
  <form method="post" action="/{{$sys.Name}}/console/documents/{{.DocumentID}}/reject"><input type="text" name="reason" placeholder="reason (required)"> <button type="submit">Reject {{.DocumentID}}</button></form><br>{{end}}
  {{if .Open}}<form class="decide block" method="post" action="/{{$sys.Name}}/console/jobs/{{.JobRef}}/versions/{{.Version}}">
   <b>Version {{.Version}} is {{.VersionStatus}}</b> <input type="text" name="reason" placeholder="reason">
   <button type="submit" name="decision" value="approve">Approve</button>
   <button type="submit" name="decision" value="reject">Reject</button>
   <button type="submit" name="decision" value="cancel">Cancel</button>
  </form>{{else}}<form class="variation block" method="post" action="/{{$sys.Name}}/console/jobs/{{.JobRef}}/versions">
   <b>Raise a new version</b>
   <label><select name="change"><option value="add">add a line</option><option value="quantity">change the quantity of</option><option value="remove">remove</option></select></label>
   <label>line <select name="activityId">{{range .Activities}}<option value="{{.ID}}">{{.ID}} · {{.Code}} × {{.Quantity}}</option>{{end}}</select></label>
   <label>code (add) <select name="code">{{range .SORCodes}}<option value="{{.Code}}">{{.Code}} · {{.Description}}</option>{{end}}</select></label>
   <label>quantity <input type="text" name="quantity" value="1" style="width:4em"></label>
   <label>reason <input type="text" name="reason"></label>
   <label><input type="checkbox" name="submit" value="1" checked> submit for approval (Pending; else New)</label>
   <button type="submit">Raise version</button>
  </form>{{end}}
 </details>
 {{end}}
</div>
{{else}}<p class="muted">No jobs yet.</p>{{end}}
{{if .MoreJobs}}<p class="muted">… and {{count .MoreJobs "older job" "older jobs"}}.</p>{{end}}

<details id="{{.Name}}-sites"><summary>sites ({{len .Sites}}) and contacts ({{len .Contacts}})</summary>
<table>
<tr><th>client</th><th>site</th><th>name</th><th>address</th><th>contacts</th></tr>
{{range .Sites}}<tr><td>{{.ClientID}}</td><td><b>{{.SiteRef}}</b></td><td>{{.Name}}</td><td>{{.Address1}} {{.Postcode}}</td><td>{{range .Contacts}}{{.ContactRef}} ({{.Name}}) {{end}}</td></tr>{{end}}
</table>
<p>Contacts: {{range .Contacts}}<b>{{.ContactRef}}</b> {{.Name}}; {{end}}</p>
<form class="block addsite" method="post" action="/{{.Name}}/console/sites">
 <b>Add a site</b>
 <label>client <select name="clientId">{{range .Clients}}<option value="{{.ID}}">{{.Name}} ({{.ID}})</option>{{end}}</select></label>
 <label>site ref <input type="text" name="siteRef" required></label>
 <label>name <input type="text" name="name"></label>
 <label>address <input type="text" name="address1"></label>
 <label>postcode <input type="text" name="postcode" style="width:6em"></label>
 <label>contacts <select name="contactRefs" multiple size="2">{{range .Contacts}}<option value="{{.ContactRef}}">{{.ContactRef}}</option>{{end}}</select></label>
 <button type="submit">Add site</button>
</form>
<form class="block addcontact" method="post" action="/{{.Name}}/console/contacts">
 <b>Add a contact</b>
 <label>contact ref <input type="text" name="contactRef" required></label>
 <label>name <input type="text" name="name" required></label>
 <button type="submit">Add contact</button>
</form>
</details>

{{if .Events}}
<h3>Recent events</h3>
<table>
<tr><th>event</th><th>job</th><th>id</th><th>delivery</th></tr>
{{range .Events}}<tr>
 <td>{{.Type}}</td><td>{{.JobRef}}</td><td><code>{{.ID}}</code></td>
 <td class="{{.State}}">{{.State}}{{if .Attempts}} after {{count .Attempts "attempt" "attempts"}}{{end}}{{if .LastStatus}}, last HTTP {{.LastStatus}}{{end}}{{if .LastError}}, {{.LastError}}{{end}}</td>
</tr>{{end}}
</table>
{{end}}
</section>
{{end}}
</body>
</html>
`))

var linkStateTemplate = template.Must(template.New("state").Parse(`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Link state · {{.JobRef}}</title>
<style>
 body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; }
 pre { background: #f7f7f7; padding: .6em; border-radius: 4px; overflow-x: auto; }
 .error { color: #b00; }
</style></head>
<body>
<p><a href="/#{{.System}}-{{.JobRef}}">← back to the console</a></p>
<h1>Link {{.Link.Link}} · {{.Link.PrimaryJobRef}}</h1>
<p>Job {{.JobRef}} of {{.System}} · workflow <code>{{.Link.WorkflowID}}</code>{{if .Link.WorkflowURL}} · <a href="{{.Link.WorkflowURL}}">open it in the Web UI</a>{{end}}</p>
{{if .Error}}<p class="error" role="alert">{{.Error}}</p>{{end}}
{{with .State}}<p>state <b id="state">{{.state}}</b>{{with .secondaryJobRef}} · secondary job <b>{{.}}</b>{{end}}</p>
{{with .lastError}}<p class="error">last error: {{.}}</p>{{end}}
{{with .nextStep}}<p>next step: {{.}}</p>{{end}}{{end}}
{{if .JSON}}<pre>{{.JSON}}</pre>{{end}}
</body>
</html>
`))

// serveUI: GET /[?refresh=N][&system=..&ok=..|&error=..].
func (s *Simulator) serveUI(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	data := uiData{Now: s.now(), System: q.Get("system"), OK: q.Get("ok"), Error: q.Get("error")}
	if n, err := strconv.Atoi(q.Get("refresh")); err == nil && n > 0 {
		data.Refresh = max(n, 2)
	}
	bookStart, bookEnd := bookDefaults(data.Now)
	s.mu.Lock()
	for _, sys := range s.order {
		u := uiSystem{Name: sys.seed.Name, Counts: map[string]int{
			StatePending: 0, StateDelivered: 0, StateFailed: 0, StateRecorded: 0, StateDropped: 0,
		},
			Clients: sys.seed.Clients, Teams: sys.seed.Teams, Priorities: sys.seed.Priorities, Statuses: sys.seed.Statuses,
			Categories: sys.seed.DocumentCategories, SORCodes: sys.seed.SORCodes, BookStart: bookStart, BookEnd: bookEnd,
		}
		if sys.seed.sendsWebhooks() { // else "recorded only"
			u.WebhookURL = sys.seed.WebhookURL
		}
		for _, ref := range slices.Sorted(maps.Keys(sys.contacts)) {
			u.Contacts = append(u.Contacts, sys.contacts[ref])
		}
		for _, st := range sys.siteOrder {
			site := uiSite{Site: st.Site}
			site.ContactRefs = slices.Clone(st.ContactRefs)
			for _, c := range st.ContactRefs {
				site.Contacts = append(site.Contacts, sys.contacts[c])
			}
			u.Sites = append(u.Sites, site)
		}
		for i := len(sys.jobs) - 1; i >= 0 && len(u.Jobs) < uiMaxJobs; i-- {
			job := sys.jobs[i]
			uj := uiJob{Job: job.snapshot(), Links: s.jobLinks(sys, job), Open: open(job.VersionStatus)}
			for _, c := range sys.seed.SORCodes {
				if c.ClientID == job.ClientID {
					uj.SORCodes = append(uj.SORCodes, c)
				}
			}
			u.Jobs = append(u.Jobs, uj)
		}
		u.MoreJobs = len(sys.jobs) - len(u.Jobs)
		all := sys.outbox.list()
		for _, ev := range all {
			u.Counts[ev.State]++
		}
		slices.Reverse(all)
		u.Events = all[:min(len(all), uiMaxEvents)]
		for _, f := range sys.faults {
			u.Faults = append(u.Faults, *f)
		}
		data.Systems = append(data.Systems, u)
	}
	s.mu.Unlock()
	s.withLinkStates(r.Context(), data.Systems)
	data.System = cmp.Or(data.System, "console")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err := uiTemplate.Execute(w, data); err != nil {
		s.log.Warn("rendering the console", "error", err)
	}
}
