package chaos

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/o2o-sync/o2o/chaos/model"
)

// Wait is what the runner waits for before a step (doc.go of package model,
// What the model assumes). The flags combine.
type Wait int

const (
	// WaitLinkedJob: the link's linked job exists (a secondary user acts on it).
	WaitLinkedJob Wait = 1 << iota
	// WaitSettled: O2O has made every write the model expects so far for the
	// link and holds it in the model's state (every delivery before an action
	// that blocks, pauses or unlinks it, or acts on a copy or a mirror).
	WaitSettled
	// WaitAttention: the link needs attention (before its gap is fixed or an
	// operator retries or skips).
	WaitAttention
	// WaitClose: closeAfter has passed (Elapse: the runner waits that long).
	WaitClose
)

// Step is one action of a life: what the runner waits for first, the faults
// it injects, and the action (whose Delivery the faults set).
type Step struct {
	Action model.Action
	Wait   Wait
	Faults []Fault
}

// Life is a seeded life: the steps, in order.
type Life struct {
	Seed  uint64
	Steps []Step
}

// MinActions is the least number of user actions in a life (issue 18, Targets).
const MinActions = 20

// userKinds are the actions of a system's users (the rest are operators,
// administrators and time).
var userKinds = map[model.Kind]bool{model.Raise: true, model.Assign: true, model.Status: true, model.Upload: true,
	model.Approve: true, model.Reject: true, model.RaiseVersion: true, model.DecideVersion: true, model.Appointment: true}

// UserActions counts the life's user actions.
func (l Life) UserActions() int {
	n := 0
	for _, s := range l.Steps {
		if userKinds[s.Action.Kind] {
			n++
		}
	}
	return n
}

// genJob is what the generator remembers of one primary job and its link.
type genJob struct {
	name, system, link string
	site               string
	lines              []model.Line
	gone               map[string]bool   // activities removed by a version: no longer assignable
	team               map[string]string // activity → team
	status             [2]string         // per side
	appts              []*genAppt
	docs               [2][]genDoc
	codes              [2]map[string]bool // SOR codes on each side's job (versions)
	nextDoc, nextAppt  int
}

type genAppt struct {
	id    string
	start time.Time
	open  bool
}

type genDoc struct{ id, category string }

// generator holds one life being made.
type generator struct {
	r     *rand.Rand
	m     *model.Model
	jobs  []*genJob
	steps []Step
	known map[string]map[string]bool // system → SOR codes it knows now
	sites map[string]map[string]bool // fixit's sites and contacts added so far ("site:" / "contact:")
}

// Generate makes the life of seed: the same seed gives the same life.
func Generate(seed uint64) Life {
	g := &generator{r: rand.New(rand.NewPCG(seed, 0x18)), m: model.New(Links(), Systems()),
		known: map[string]map[string]bool{}, sites: map[string]map[string]bool{"fixit": {}}}
	for _, s := range Systems() {
		g.known[s.Name] = map[string]bool{}
		for c := range s.Codes {
			g.known[s.Name][c] = true
		}
	}
	for i := range 2 + g.r.IntN(2) {
		sys := "acme"
		if i == 2 {
			sys = "bravo" // a hub: fixit serves two primaries with equal job refs
		}
		g.raise(fmt.Sprintf("J%d", i+1), sys, i > 0)
	}
	// Most jobs are assigned to their link's team early (the first always), so
	// that lives spend their actions on linked jobs.
	for i, j := range g.jobs {
		if i == 0 || g.r.IntN(4) > 0 {
			a := model.Action{Kind: model.Assign, System: j.system, Job: j.name, Activity: j.lines[0].Activity, Team: systems[j.system].team}
			if g.user(j, a, 0) {
				j.team[a.Activity] = a.Team
			}
		}
	}
	target := MinActions + g.r.IntN(15)
	for tries := 0; tries < 2000 && g.userActions() < target; tries++ {
		g.next()
	}
	// The end: let every closing link close.
	g.add(Step{Action: model.Action{Kind: model.Elapse}, Wait: WaitSettled | WaitClose})
	return Life{Seed: seed, Steps: g.steps}
}

func (g *generator) userActions() int { return Life{Steps: g.steps}.UserActions() }

func (g *generator) pick(xs ...string) string { return xs[g.r.IntN(len(xs))] }

// add applies a step's action to the model; a refused one is left out.
func (g *generator) add(s Step) bool {
	if err := g.m.Apply(s.Action); err != nil {
		return false
	}
	g.steps = append(g.steps, s)
	return true
}

// link is the model's state of a job's link, if it started.
func (g *generator) link(j *genJob) (model.LinkState, bool) {
	for _, l := range g.m.Expect().Links {
		if l.Link == j.link && l.Job == j.name {
			return l, true
		}
	}
	return model.LinkState{}, false
}

// raise raises a job with two or three lines of distinct codes, sometimes with
// a gap (gaps): a site or contact the secondary lacks, or a code it does not
// know. A life's first job has none, so that every life has a link to check.
func (g *generator) raise(name, sys string, gaps bool) {
	w := systems[sys]
	j := &genJob{name: name, system: sys, link: linkOf[sys], gone: map[string]bool{}, team: map[string]string{},
		codes: [2]map[string]bool{{}, {}}}
	j.site = w.sites[0]
	if gaps && len(w.sites) > 2 && g.r.IntN(3) == 0 {
		j.site = w.sites[len(w.sites)-1-g.r.IntN(2)] // acme's last two sites are gaps
	}
	codes := slices.Clone(w.codes)
	g.r.Shuffle(len(codes), func(a, b int) { codes[a], codes[b] = codes[b], codes[a] })
	if !gaps || g.r.IntN(4) > 0 { // ELE001 (unknown in fixit) in a quarter of the jobs
		codes = slices.DeleteFunc(codes, func(c string) bool { return c == "ELE001" })
	}
	n := min(len(codes), 2+g.r.IntN(2))
	a := model.Action{Kind: model.Raise, System: sys, Job: name, Site: j.site, Contact: w.contact[j.site],
		Priority: g.pick("Emergency", "Urgent", "Routine")}
	for i, c := range codes[:n] {
		ln := model.Line{Activity: fmt.Sprintf("%s-%c", name, 'a'+i), Code: c, Quantity: "1"}
		a.Lines = append(a.Lines, ln)
		j.codes[model.Primary][c] = true
	}
	j.lines = a.Lines
	j.status[model.Primary] = "Newly Created"
	g.jobs = append(g.jobs, j)
	g.add(Step{Action: a})
}

// next adds one step chosen at random among those that can happen now.
func (g *generator) next() {
	j := g.jobs[g.r.IntN(len(g.jobs))]
	l, linked := g.link(j)
	open := linked && l.State != model.Closed
	switch n := g.r.IntN(100); {
	case n < 12:
		g.assign(j)
	case n < 20:
		g.status(j, model.Primary)
	case n < 36 && open && l.LinkedJob:
		g.status(j, model.Secondary)
	case n < 48 && open && l.LinkedJob:
		g.appointment(j)
	case n < 60:
		g.document(j, l, open)
	case n < 74 && open && l.LinkedJob && l.State == model.Linked:
		g.version(j)
	case n < 88 && linked:
		g.operator(j, l)
	case n < 90 && g.r.IntN(4) == 0:
		g.add(Step{Action: model.Action{Kind: model.Elapse}, Wait: WaitSettled | WaitClose})
	}
}

// user adds a user's action with its fault plan; source is where it happens.
func (g *generator) user(j *genJob, a model.Action, wait Wait) bool {
	source, target := j.system, "fixit"
	if a.Side == model.Secondary {
		source, target = "fixit", j.system
	}
	if a.Kind == model.Raise || a.Kind == model.Assign && a.Team != systems[j.system].team {
		target = ""
	}
	faults, delivery := planFaults(g.r, a, source, target)
	a.Delivery = delivery
	before, _ := g.link(j)
	if !g.add(Step{Action: a, Wait: wait, Faults: faults}) {
		return false
	}
	// An action that blocks the link waits for every delivery before it.
	if after, ok := g.link(j); ok && after.State == model.NeedsAttention && before.State != model.NeedsAttention {
		g.steps[len(g.steps)-1].Wait |= WaitSettled
	}
	return true
}

func (g *generator) assign(j *genJob) {
	var acts []string
	for _, ln := range j.lines {
		if !j.gone[ln.Activity] {
			acts = append(acts, ln.Activity)
		}
	}
	if len(acts) == 0 {
		return
	}
	act := acts[g.r.IntN(len(acts))]
	w := systems[j.system]
	team := w.team
	if w.other != "" && g.r.IntN(5) == 0 {
		team = w.other // to a team no link watches, or away from the link's
	}
	if j.team[act] == team {
		return
	}
	if g.user(j, model.Action{Kind: model.Assign, System: j.system, Job: j.name, Activity: act, Team: team}, 0) {
		j.team[act] = team
	}
}

// status moves a side's job on, reopening and cancelling too.
func (g *generator) status(j *genJob, s model.Side) {
	st := g.pick("In Progress", "On Hold", "Completed", "Cancelled")
	wait := Wait(0)
	if s == model.Secondary {
		st = g.pick("Accepted", "In Progress", "Completed", "Cancelled")
		wait = WaitLinkedJob
	}
	if st == j.status[s] {
		return
	}
	a := model.Action{Kind: model.Status, Side: s, System: j.system, Link: j.link, Job: j.name, Status: st}
	if g.user(j, a, wait) {
		j.status[s] = st
	}
}

func (g *generator) appointment(j *genJob) {
	a := model.Action{Kind: model.Appointment, Side: model.Secondary, System: j.system, Link: j.link, Job: j.name}
	var open []*genAppt
	for _, ap := range j.appts {
		if ap.open {
			open = append(open, ap)
		}
	}
	start := t0.Add(time.Duration(24+g.r.IntN(200)) * time.Hour)
	var ap *genAppt
	if len(open) == 0 || g.r.IntN(5) == 0 {
		j.nextAppt++
		ap = &genAppt{id: fmt.Sprintf("A%d", j.nextAppt), start: start, open: true}
		a.AppointmentKind = model.Booked
	} else {
		ap = open[g.r.IntN(len(open))]
		a.AppointmentKind = []model.AppointmentKind{model.Rescheduled, model.Rescheduled, model.Cancelled, model.Completed}[g.r.IntN(4)]
		if a.AppointmentKind == model.Rescheduled {
			if start.Equal(ap.start) {
				return
			}
			a.Reason = "tenant asked"
		} else {
			start = ap.start
		}
		if a.AppointmentKind == model.Cancelled {
			a.Reason = "no access"
		}
	}
	a.Appointment, a.Start = ap.id, start
	if !g.user(j, a, WaitLinkedJob) {
		return
	}
	ap.start = start
	ap.open = a.AppointmentKind == model.Booked || a.AppointmentKind == model.Rescheduled
	if a.AppointmentKind == model.Booked {
		j.appts = append(j.appts, ap)
	}
}

// document uploads in a shared or unshared category, or approves or rejects
// an uploaded one, on either side.
func (g *generator) document(j *genJob, l model.LinkState, open bool) {
	s := model.Primary
	if open && l.LinkedJob && g.r.IntN(2) == 0 {
		s = model.Secondary
	}
	a := model.Action{Side: s, System: j.system, Link: j.link, Job: j.name}
	wait := Wait(0)
	if s == model.Secondary {
		wait = WaitLinkedJob
	}
	docs := j.docs[s]
	if len(docs) == 0 || g.r.IntN(3) == 0 {
		cats := []string{"Gas Certificate", "Photos", "Internal"}
		if s == model.Secondary {
			cats = []string{"Certificates", "Site Photos", "Internal"}
		}
		j.nextDoc++
		d := genDoc{id: fmt.Sprintf("%s-%s-D%d", j.name, s.String()[:1], j.nextDoc), category: g.pick(cats...)}
		a.Kind, a.Document, a.Category = model.Upload, d.id, d.category
		if g.user(j, a, wait) {
			j.docs[s] = append(j.docs[s], d)
		}
		return
	}
	d := docs[g.r.IntN(len(docs))]
	a.Kind, a.Document, a.Category = []model.Kind{model.Approve, model.Approve, model.Reject}[g.r.IntN(3)], d.id, d.category
	g.user(j, a, wait)
}

// version raises a version on either side with added, removed and
// re-quantified lines (adds first, as the mirror is made), or decides the
// side's undecided one. It runs only on a link that holds what the model
// says (WaitSettled), so that both sides' versions and lines are as counted.
func (g *generator) version(j *genJob) {
	s := model.Side(g.r.IntN(2))
	sys := j.system
	if s == model.Secondary {
		sys = "fixit"
	}
	// Decide the side's undecided version, if any: the model knows its number.
	decide := g.r.IntN(3) > 0
	for v := 2; v < 20 && decide; v++ {
		a := model.Action{Kind: model.DecideVersion, Side: s, System: j.system, Link: j.link, Job: j.name, Version: v,
			Decision: []model.Decision{model.Approved, model.Rejected, model.VersionCanceled}[g.r.IntN(3)]}
		if g.user(j, a, WaitLinkedJob|WaitSettled) {
			return
		}
	}
	// Lines on both sides now: the source's own and what the model says O2O wrote.
	both := g.sharedCodes(j)
	var changes []model.Change
	var fresh []string
	for _, c := range systems[sys].codes {
		if !j.codes[model.Primary][c] && !j.codes[model.Secondary][c] && c != "ELE001" {
			fresh = append(fresh, c)
		}
	}
	if len(fresh) > 0 && (len(both) == 0 || g.r.IntN(2) == 0) {
		changes = append(changes, model.Change{Change: "add", Code: fresh[g.r.IntN(len(fresh))], Quantity: "1"})
	}
	if len(both) > 0 && g.r.IntN(2) == 0 {
		c := both[g.r.IntN(len(both))]
		both = slices.DeleteFunc(both, func(x string) bool { return x == c })
		changes = append(changes, model.Change{Change: "quantity", Code: c, Quantity: g.pick("2", "3", "1.5")})
	}
	if len(both) > 1 && g.r.IntN(3) == 0 {
		changes = append(changes, model.Change{Change: "remove", Code: both[g.r.IntN(len(both))]})
	}
	if len(changes) == 0 {
		return
	}
	a := model.Action{Kind: model.RaiseVersion, Side: s, System: j.system, Link: j.link, Job: j.name, Changes: changes}
	if !g.user(j, a, WaitLinkedJob|WaitSettled) {
		return
	}
	for _, c := range changes {
		switch c.Change {
		case "add":
			j.codes[s][c.Code] = true
		case "remove":
			j.codes[s][c.Code] = false
			for _, ln := range j.lines {
				if ln.Code == c.Code {
					j.gone[ln.Activity] = true
				}
			}
		}
	}
}

// sharedCodes are the SOR codes on both sides' jobs, from the generator's own
// raises and the model's writes (the linked job's lines, mirrored versions).
func (g *generator) sharedCodes(j *genJob) []string {
	exp := g.m.Expect().Writes
	sec := map[string]bool{}
	for c, ok := range j.codes[model.Secondary] {
		sec[c] = ok
	}
	pri := map[string]bool{}
	for c, ok := range j.codes[model.Primary] {
		pri[c] = ok
	}
	for _, w := range exp[model.Target{Link: j.link, Job: j.name, Side: model.Secondary}] {
		if w.Kind == model.AddLine {
			sec[w.LineCode] = true
		}
		applyChanges(sec, w)
	}
	for _, w := range exp[model.Target{Link: j.link, Job: j.name, Side: model.Primary}] {
		applyChanges(pri, w)
	}
	var out []string
	for c := range pri {
		if pri[c] && sec[c] {
			out = append(out, c)
		}
	}
	sort.Strings(out)
	return out
}

func applyChanges(codes map[string]bool, w model.Write) {
	if w.Kind != model.RaiseVersionW {
		return
	}
	for _, c := range w.Changes {
		codes[c.Code] = c.Change != "remove"
	}
}

// operator: the operator's and administrators' actions, each when the link is
// in a state where it means something (the model refuses the rest).
func (g *generator) operator(j *genJob, l model.LinkState) {
	op := func(k model.Kind) model.Action {
		return model.Action{Kind: k, Link: j.link, Job: j.name}
	}
	switch {
	case l.State == model.NeedsAttention && g.r.IntN(3) > 0 && g.fixGap(j, l.LastError):
	case l.State == model.NeedsAttention:
		k := []model.Kind{model.Retry, model.Retry, model.Skip, model.Pause, model.Unlink}[g.r.IntN(5)]
		if k == model.Unlink && g.r.IntN(4) > 0 {
			k = model.Retry
		}
		g.add(g.faulty(j, Step{Action: op(k), Wait: WaitAttention | WaitSettled}))
	case l.State == model.Paused:
		k := []model.Kind{model.Resume, model.Resume, model.Retry}[g.r.IntN(3)]
		g.add(g.faulty(j, Step{Action: op(k), Wait: WaitSettled}))
	case len(l.Held) > 0 && g.r.IntN(2) == 0:
		side, id, _ := strings.Cut(l.Held[g.r.IntN(len(l.Held))], ":")
		a := op([]model.Kind{model.Release, model.Drop}[g.r.IntN(2)])
		a.Document, a.Side = id, model.Primary
		if side == "secondary" {
			a.Side = model.Secondary
		}
		g.add(g.faulty(j, Step{Action: a, Wait: WaitSettled}))
	case l.State != model.Closed && g.r.IntN(10) == 0:
		g.add(Step{Action: op(model.Unlink), Wait: WaitSettled})
	case l.State != model.Closed:
		g.add(Step{Action: op(model.Pause), Wait: WaitSettled})
	}
}

// fixGap adds what the link's error says is missing, as the system's
// administrator would, and retries; false if it added nothing.
func (g *generator) fixGap(j *genJob, lastError string) bool {
	var a model.Action
	f := strings.Fields(lastError)
	switch {
	case strings.HasPrefix(lastError, "site "):
		a = model.Action{Kind: model.AddSite, System: "fixit", Site: f[1], Contact: systems[j.system].contact[f[1]]}
		if g.sites["fixit"]["site:"+a.Site] || g.sites["fixit"]["contact:"+a.Contact] {
			return false // added for another job: only a retry is missing (the simulator refuses a second one)
		}
		g.sites["fixit"]["site:"+a.Site], g.sites["fixit"]["contact:"+a.Contact] = true, true
	case strings.HasPrefix(lastError, "contact "):
		a = model.Action{Kind: model.AddContact, System: "fixit", Site: j.site, Contact: f[1]}
		if g.sites["fixit"]["contact:"+a.Contact] {
			return false
		}
		g.sites["fixit"]["contact:"+a.Contact] = true
	case strings.HasPrefix(lastError, "SOR code "):
		a = model.Action{Kind: model.AddCode, System: f[len(f)-1], Code: f[2]}
		if g.known[a.System][a.Code] {
			return false
		}
		g.known[a.System][a.Code] = true
	default:
		return false
	}
	g.add(Step{Action: a, Wait: WaitAttention | WaitSettled})
	g.add(g.faulty(j, Step{Action: model.Action{Kind: model.Retry, Link: j.link, Job: j.name}, Wait: WaitSettled}))
	return true
}

// faulty gives an operator's step the API faults of the writes it lets go
// ahead (a retried write that loses its answer, ...), in either system.
func (g *generator) faulty(j *genJob, s Step) Step {
	target := g.pick(j.system, "fixit")
	s.Faults, _ = planFaults(g.r, s.Action, "", target)
	return s
}

// String renders a life, one step a line, for a divergence report.
func (l Life) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "life %d (%d steps, %d user actions)\n", l.Seed, len(l.Steps), l.UserActions())
	for i, s := range l.Steps {
		fmt.Fprintf(&b, "%3d %s", i, describe(s.Action))
		if s.Wait != 0 {
			fmt.Fprintf(&b, " (after %s)", s.Wait)
		}
		for _, f := range s.Faults {
			fmt.Fprintf(&b, " [%s", f.Kind)
			if f.System != "" {
				fmt.Fprintf(&b, " in %s", f.System)
			}
			b.WriteString("]")
		}
		b.WriteString("\n")
	}
	return b.String()
}

func (w Wait) String() string {
	var ws []string
	for _, x := range []struct {
		w    Wait
		name string
	}{{WaitLinkedJob, "linked job"}, {WaitSettled, "settled"}, {WaitAttention, "needs attention"}, {WaitClose, "closeAfter"}} {
		if w&x.w != 0 {
			ws = append(ws, x.name)
		}
	}
	return strings.Join(ws, ", ")
}

// describe renders an action with the fields its kind reads.
func describe(a model.Action) string {
	s := a.Kind.String()
	add := func(format string, args ...any) { s += " " + fmt.Sprintf(format, args...) }
	switch a.Kind {
	case model.Raise:
		add("%s in %s at %s/%s %s %v", a.Job, a.System, a.Site, a.Contact, a.Priority, a.Lines)
	case model.Assign:
		add("%s %s to team %s", a.Job, a.Activity, a.Team)
	case model.AddSite, model.AddContact, model.AddCode:
		add("%s %s %s %s", a.System, a.Site, a.Contact, a.Code)
	case model.Elapse:
	default:
		add("%s", a.Job)
		if userKinds[a.Kind] {
			add("%s", a.Side)
		}
		switch a.Kind {
		case model.Status:
			add("%s", a.Status)
		case model.Upload, model.Approve, model.Reject, model.Release, model.Drop:
			add("%s %s", a.Document, a.Category)
		case model.Appointment:
			add("%s %s %s", a.Appointment, a.AppointmentKind, model.UK(a.Start))
		case model.RaiseVersion:
			add("%v", a.Changes)
		case model.DecideVersion:
			add("%d %s", a.Version, a.Decision)
		}
	}
	if a.Delivery != model.Prompt {
		add("(delivery %s)", map[model.Delivery]string{model.Late: "late", model.Lost: "lost"}[a.Delivery])
	}
	return s
}
