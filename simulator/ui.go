package simulator

import (
	"html/template"
	"net/http"
	"slices"
	"time"
)

// This file serves GET /: a plain page showing each system's jobs and
// recent events, refreshed every 3 seconds, for a developer watching a
// `make run` flow. html/template escapes everything shown.

// uiMaxJobs and uiMaxEvents keep the page small after a benchmark.
const (
	uiMaxJobs   = 50
	uiMaxEvents = 15
)

type uiSystem struct {
	Name       string
	WebhookURL string
	Counts     map[string]int
	Jobs       []Job // newest first
	MoreJobs   int
	Events     []OutboxEvent // newest first
	Faults     []Fault
}

type uiData struct {
	Now     time.Time
	Systems []uiSystem
}

var uiTemplate = template.Must(template.New("ui").Funcs(template.FuncMap{
	"when": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.In(london).Format("02 Jan 15:04:05")
	},
}).Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="refresh" content="3">
<title>Oneserve simulator</title>
<style>
 body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; }
 h1 { font-size: 1.3em; margin: 0 0 .2em; }
 h2 { font-size: 1.15em; margin: 1.5em 0 .3em; border-bottom: 2px solid #ccc; }
 .muted { color: #777; }
 .job { border: 1px solid #ddd; border-radius: 4px; padding: .4em .7em; margin: .5em 0; }
 .job b { font-family: ui-monospace, monospace; }
 .status { background: #eef; border-radius: 3px; padding: 0 .4em; }
 ul { margin: .2em 0; padding-left: 1.3em; }
 table { border-collapse: collapse; }
 td, th { text-align: left; padding: .1em .6em .1em 0; vertical-align: top; }
 code { font-size: .9em; }
 .failed, .pending { color: #b00; }
 .delivered { color: #070; }
</style>
</head>
<body>
<h1>Oneserve simulator</h1>
<div class="muted">{{when .Now}} (UK time) · refreshes every 3 seconds · JSON under /{system}/sim/…</div>
{{range .Systems}}
<h2>{{.Name}}</h2>
<div class="muted">
 API at <code>/{{.Name}}/rest</code> ·
 webhooks {{if .WebhookURL}}to <code>{{.WebhookURL}}</code>{{else}}recorded only{{end}} ·
 events: {{.Counts.delivered}} delivered, {{.Counts.pending}} pending, {{.Counts.failed}} failed{{if .Counts.recorded}}, {{.Counts.recorded}} recorded{{end}}{{if .Counts.dropped}}, {{.Counts.dropped}} dropped{{end}}
 {{range .Faults}}· <span class="failed">fault: {{if eq .Op "deliver"}}drop {{.Drop}} of {{if .Types}}{{.Types}}{{else}}all{{end}} webhooks{{else}}{{.Op}} → {{.Status}}{{if .Delay}} after {{.Delay}}{{end}}{{end}} ({{if eq .Count -1}}until cleared{{else}}{{.Count}} left{{end}})</span>{{end}}
</div>
{{range .Jobs}}
<div class="job">
 <b>{{.JobRef}}</b>{{if .ClientRef}} (client ref <b>{{.ClientRef}}</b>){{end}}
 <span class="status">{{.Status}}</span> · {{.Priority}} · {{.SiteRef}} · {{.ClientName}}
 {{if .Description}}<div>{{.Description}}</div>{{end}}
 <ul>
 {{range .Activities}}<li>activity {{.ID}}: {{.Code}} × {{.Quantity}} — {{.Description}}{{if .SupplierName}} · assigned to {{.SupplierName}}{{end}}</li>{{end}}
 {{range .Appointments}}<li>appointment {{.ID}}: {{when .Start}} – {{when .End}} · {{.Status}}{{if .Reason}} ({{.Reason}}){{end}}</li>{{end}}
 {{range .Documents}}<li>document {{.DocumentID}}: {{.FileName}} · {{.Category}} · {{.Size}} bytes · by {{.UploadedBy}}{{if .ClientRef}} · <code>{{.ClientRef}}</code>{{end}}{{if .ApprovalStatus}} · <span class="approval">{{.ApprovalStatus}}</span>{{if .ApprovalReason}} ({{.ApprovalReason}}){{end}}{{end}}</li>{{end}}
 {{range .History}}<li>event <b>{{.Code}}</b> {{.Date}} by {{.AddedBy}}: {{.Note}}</li>{{end}}
 </ul>
</div>
{{else}}<p class="muted">No jobs yet.</p>{{end}}
{{if .MoreJobs}}<p class="muted">… and {{.MoreJobs}} older jobs.</p>{{end}}
{{if .Events}}
<table>
<tr><th>event</th><th>job</th><th>id</th><th>delivery</th></tr>
{{range .Events}}<tr>
 <td>{{.Type}}</td><td>{{.JobRef}}</td><td><code>{{.ID}}</code></td>
 <td class="{{.State}}">{{.State}}{{if .Attempts}} after {{.Attempts}} attempt(s){{end}}{{if .LastStatus}}, last HTTP {{.LastStatus}}{{end}}{{if .LastError}}, {{.LastError}}{{end}}</td>
</tr>{{end}}
</table>
{{end}}
{{end}}
</body>
</html>
`))

// serveUI: GET /.
func (s *Simulator) serveUI(w http.ResponseWriter, _ *http.Request) {
	data := uiData{Now: s.now()}
	s.mu.Lock()
	for _, sys := range s.order {
		u := uiSystem{Name: sys.seed.Name, Counts: map[string]int{
			StatePending: 0, StateDelivered: 0, StateFailed: 0, StateRecorded: 0, StateDropped: 0,
		}}
		if sys.seed.sendsWebhooks() { // else "recorded only"
			u.WebhookURL = sys.seed.WebhookURL
		}
		for i := len(sys.jobs) - 1; i >= 0 && len(u.Jobs) < uiMaxJobs; i-- {
			u.Jobs = append(u.Jobs, sys.jobs[i].snapshot())
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
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := uiTemplate.Execute(w, data); err != nil {
		s.log.Warn("rendering the overview page", "error", err)
	}
}
