package chaos

import (
	"context"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/o2o-sync/o2o/chaos/model"
	"github.com/o2o-sync/o2o/simulator"
)

// Observer reads back what O2O wrote into the simulated systems for a life's
// jobs, in the form model.Compare takes: per target, O2O's writes (those
// recorded under the systems' APIUser) in the order the system received them.
type Observer struct {
	Base   string
	Client *http.Client
	IDs    *IDs
}

// timed is an observed write and when the system received it.
type timed struct {
	at time.Time
	w  model.Write
}

// Observe reads every job of the life. A target with no write is left out.
func (o *Observer) Observe(ctx context.Context) (map[model.Target][]model.Write, error) {
	e := &Executor{Base: o.Base, Client: o.Client, IDs: o.IDs}
	cfg := map[string]model.Link{}
	for _, l := range Links() {
		cfg[l.Name] = l
	}
	out := map[model.Target][]model.Write{}
	for job, ref := range o.IDs.JobRef {
		sys := o.IDs.System[job]
		link := linkOf[sys]
		var primary simulator.Job
		if err := e.call(ctx, "GET", "/"+sys+"/sim/jobs/"+ref, nil, &primary); err != nil {
			return nil, err
		}
		put := func(s model.Side, ws []timed) {
			sort.SliceStable(ws, func(i, j int) bool { return ws[i].at.Before(ws[j].at) })
			for _, t := range ws {
				tg := model.Target{Link: link, Job: job, Side: s}
				out[tg] = append(out[tg], t.w)
			}
		}
		put(model.Primary, o.jobWrites(cfg[link], model.Primary, job, primary))
		linked, err := e.linkedJobs(ctx, link, ref)
		if err != nil {
			return nil, err
		}
		for _, lj := range linked {
			ws := []timed{{lj.CreatedAt, model.Write{Kind: model.CreateJob}}}
			ws = append(ws, o.lines(job, lj)...)
			put(model.Secondary, append(ws, o.jobWrites(cfg[link], model.Secondary, job, lj)...))
		}
	}
	return out, nil
}

var (
	// The notes O2O writes with its job events (README, What syncs): the
	// appointment and its date and time (UK), the version, the document.
	apptNote      = regexp.MustCompile(`\[\S+ appointment (\S+), job \S+\]`)
	apptWhen      = regexp.MustCompile(`(?:for|to) ([A-Z][a-z]{2} \d{1,2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2})`)
	versionNote   = regexp.MustCompile(`\[version (\d+) here\]`)
	withdrawnNote = regexp.MustCompile(`document (\S+)\.pdf withdrawn`)
	chaosReason   = regexp.MustCompile(`chaos (primary|secondary) version (\d+)`)
	london, _     = time.LoadLocation("Europe/London")
)

// jobWrites are O2O's job events, document copies and versions in job, a job
// of side s.
func (o *Observer) jobWrites(cfg model.Link, s model.Side, job string, j simulator.Job) []timed {
	var out []timed
	decided := map[int]string{} // version → status O2O set
	source := map[model.Side]string{model.Primary: o.IDs.System[job], model.Secondary: "fixit"}[s.Other()]
	raised := o.IDs.Versions[job+"/"+s.Other().String()]
	mirrors := 0
	for _, v := range j.Versions {
		if v.DecidedBy == APIUser {
			decided[v.Number] = v.Status
		}
		if v.CreatedBy != APIUser || v.Number == 1 { // version 1 comes with the job
			continue
		}
		// The source version: named in the reason, or by the source activity id
		// an added line carries as client ref, or else the next one raised.
		w := model.Write{Kind: model.RaiseVersionW}
		if m := chaosReason.FindStringSubmatch(v.Reason); m != nil && m[1] == s.Other().String() {
			w.Version, _ = strconv.Atoi(m[2])
		}
		for _, c := range v.Changes {
			if n := o.IDs.addedBy[source+":"+c.ClientRef]; w.Version == 0 && c.Change == "add" && n > 0 {
				w.Version = n
			}
		}
		if w.Version == 0 && mirrors < len(raised) {
			w.Version = raised[mirrors]
		}
		mirrors++
		if i := slices.Index(raised, w.Version); i >= 0 {
			mirrors = i + 1
		}
		for _, c := range v.Changes {
			ch := model.Change{Change: c.Change, Code: c.Code}
			if c.Change != "remove" {
				ch.Quantity = c.Quantity
			}
			w.Changes = append(w.Changes, ch)
		}
		out = append(out, timed{v.CreatedAt, w})
	}
	for _, h := range j.History {
		if h.AddedBy != APIUser {
			continue
		}
		w := cfg.JobEvent(s, h.Code)
		if s == model.Secondary {
			// The primary's decision of the secondary's version: a version-decided
			// write, joined with the version's status O2O set (QUESTIONS.md 11).
			for d, code := range cfg.VersionEvents[model.Primary] {
				if code == h.Code {
					w = model.Write{Kind: model.DecideVersionW, Decision: d, Code: h.Code}
				}
			}
		}
		if m := versionNote.FindStringSubmatch(h.Note); m != nil && w.Decision != "" {
			w.Version, _ = strconv.Atoi(m[1])
		}
		if w.Kind == model.DecideVersionW && !strings.EqualFold(decided[w.Version], string(w.Decision)) {
			w.Code += " (version " + strconv.Itoa(w.Version) + " not decided so)"
		}
		if w.AppointmentKind != "" {
			if m := apptNote.FindStringSubmatch(h.Note); m != nil {
				w.Appointment = o.appointmentName(job, m[1])
			}
			if m := apptWhen.FindStringSubmatch(h.Note); m != nil {
				w.Start, _ = time.ParseInLocation("Mon 2 Jan 2006 15:04", m[1], london)
			}
		}
		if w.Status == "" && w.AppointmentKind == "" && w.Decision == "" {
			if m := withdrawnNote.FindStringSubmatch(h.Note); m != nil {
				w.Document = m[1]
			}
		}
		out = append(out, timed{h.RecordedAt, w})
	}
	for _, d := range j.Documents {
		if d.UploadedBy != APIUser {
			continue
		}
		w := model.Write{Kind: model.CopyDocument, Category: d.Category, Document: d.ClientRef}
		// The copy's marker: o2o:<link>:<source system>:<source document id>.
		if f := strings.Split(d.ClientRef, ":"); len(f) == 4 && f[0] == "o2o" {
			if name, ok := o.IDs.documentName[f[2]+":"+f[3]]; ok {
				w.Document = name
			}
		}
		out = append(out, timed{d.UploadedAt, w})
	}
	return out
}

func (o *Observer) appointmentName(job, id string) string {
	for k, v := range o.IDs.Appointment {
		if v == id && strings.HasPrefix(k, job+"/") {
			return strings.TrimPrefix(k, job+"/")
		}
	}
	return id
}

// lines are the linked job's lines O2O added for the primary's activities:
// those there now and those a version removed since, but not the lines a
// version added. Their place is not promised (model: AddLine is unordered).
func (o *Observer) lines(job string, lj simulator.Job) []timed {
	byVersion := map[string]bool{}
	type line struct{ id, clientRef, code string }
	var ls []line
	for _, a := range lj.Activities {
		ls = append(ls, line{a.ID, a.ClientRef, a.Code})
	}
	for _, v := range lj.Versions {
		for _, c := range v.Changes {
			switch c.Change {
			case "add":
				byVersion[c.ActivityID] = true
			case "remove":
				ls = append(ls, line{c.ActivityID, c.ClientRef, c.Code})
			}
		}
	}
	var out []timed
	seen := map[string]bool{}
	for _, l := range ls {
		if byVersion[l.id] || seen[l.id] {
			continue
		}
		seen[l.id] = true
		out = append(out, timed{lj.CreatedAt, model.Write{Kind: model.AddLine, Activity: o.activityName(job, l.clientRef, l.code), LineCode: l.code}})
	}
	return out
}

// activityName is the model activity a secondary line stands for: by the
// primary activity id it carries as client ref, else by its code among the
// job's activities (a life's codes are distinct within a job).
func (o *Observer) activityName(job, clientRef, code string) string {
	var names []string
	for n := range o.IDs.Activity {
		if strings.HasPrefix(n, job+"-") {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	for _, n := range names {
		if clientRef != "" && o.IDs.Activity[n] == clientRef {
			return n
		}
	}
	for _, n := range names {
		if o.IDs.Code[n] == code {
			return n
		}
	}
	return "?" + clientRef + ":" + code
}
