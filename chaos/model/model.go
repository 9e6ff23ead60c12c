package model

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// State is a link's state (DESIGN.md §3, Link state; operations.md, Link states).
type State string

const (
	Linking        State = "Linking"
	Linked         State = "Linked"
	NeedsAttention State = "NeedsAttention"
	Paused         State = "Paused"
	Closed         State = "Closed"
)

// Model holds what both systems and every link must hold after the actions applied
// so far. It applies each action completely before the next (see doc.go).
type Model struct {
	links   []*Link
	systems map[string]*System
	jobs    map[string]*job  // primary jobs by system/ref
	lives   map[string]*life // links started, by link/job
	order   []*life
}

// New makes a model of the given links over the given systems' reference data. The
// model keeps (and changes, on AddSite...) its own copies.
func New(links []Link, systems []System) *Model {
	m := &Model{systems: map[string]*System{}, jobs: map[string]*job{}, lives: map[string]*life{}}
	for _, l := range links {
		l := l.WithDefaults()
		m.links = append(m.links, &l)
	}
	for _, s := range systems {
		c := System{Name: s.Name, Sites: map[string][]string{}, Codes: map[string]bool{}}
		for k, v := range s.Sites {
			c.Sites[k] = append([]string(nil), v...)
		}
		for k, v := range s.Codes {
			c.Codes[k] = v
		}
		m.systems[s.Name] = &c
	}
	return m
}

// job is a primary job as its users left it.
type job struct {
	system, ref             string
	site, contact, priority string
	lines                   []Line
	team                    map[string]string // activity → team it is assigned to
	status                  string
	docs                    []Action // uploads, approvals and rejections, in order
}

// life is one link of one primary job: the LinkedJob workflow (lifecycle.md).
type life struct {
	m       *Model
	cfg     *Link
	job     *job
	created bool            // the linked job exists
	lines   map[string]bool // activities in the linked job
	queue   []*event
	blocked bool // the head was refused: NeedsAttention
	lastErr string
	paused  bool
	retry   bool // a retry sent while paused runs once resumed
	closed  bool
	closing bool // the grace period (closeAfter) runs
	grace   bool // ... and is over
	known   [2]string
	docs    [2]map[string]*linkDoc
	vers    [2][]*version
	writes  [2][]Write
	lossy   map[string]int // the last lossy write of a status side or appointment: its index+1
}

type event struct {
	assign bool // an assignment: it goes first while the linked job does not exist
	apply  func(l *life) (refusal string)
}

type linkDoc struct {
	category                        string // the target category
	approved, held, copied, dropped bool
}

type version struct {
	status   string // New/Pending until decided
	mirrorOf int    // the other side's version it mirrors; 0 for its own side's
}

// Apply applies one action. An error is a refusal: an operator action the link
// refuses (lifecycle.md, transition table), or an action that cannot happen (a
// secondary action on a linked job that does not exist). A refused action changes
// nothing.
func (m *Model) Apply(a Action) error {
	switch a.Kind {
	case Raise:
		if m.jobs[a.System+"/"+a.Job] != nil {
			return fmt.Errorf("job %s already exists in %s", a.Job, a.System)
		}
		j := &job{system: a.System, ref: a.Job, site: a.Site, contact: a.Contact, priority: a.Priority,
			lines: append([]Line(nil), a.Lines...), team: map[string]string{}}
		m.jobs[a.System+"/"+a.Job] = j
		return nil
	case AddSite, AddContact, AddCode: // reference data, as the system's administrator adds it
		s := m.systems[a.System]
		if s == nil {
			return fmt.Errorf("unknown system %s", a.System)
		}
		switch a.Kind {
		case AddSite:
			s.Sites[a.Site] = nil
		case AddCode:
			s.Codes[a.Code] = true
		}
		if a.Contact != "" {
			s.Sites[a.Site] = append(s.Sites[a.Site], a.Contact)
		}
		return nil
	case MapPriority:
		// configuration.md, Changing the configuration: a link picks up a new mapping
		// when an operator retries it.
		for _, l := range m.links {
			if l.Name == a.Link {
				l.Priorities = append(l.Priorities, a.Priority)
				return nil
			}
		}
		return fmt.Errorf("unknown link %s", a.Link)
	case Elapse:
		for _, l := range m.order {
			if l.closing {
				l.grace = true
				l.tryClose()
			}
		}
		return nil
	case Assign:
		return m.assign(a)
	case Pause, Resume, Retry, Skip, Release, Drop, Unlink:
		l := m.lives[a.Link+"/"+a.Job]
		if l == nil {
			return fmt.Errorf("no link %s for job %s", a.Link, a.Job)
		}
		return l.operator(a)
	}
	if a.Kind == Appointment && a.Side != Secondary {
		return errors.New("appointments are the secondary's (README, What syncs)")
	}
	// A user's action in either system reaches every open link of its job; events
	// after closing are recorded skipped, never applied (lifecycle.md, Closing).
	var ls []*life
	if a.Side == Primary {
		j := m.jobs[a.System+"/"+a.Job]
		if j == nil {
			return fmt.Errorf("no primary job %s in %s", a.Job, a.System)
		}
		for _, l := range m.order {
			if l.job == j && !l.closed {
				ls = append(ls, l)
			}
		}
		if err := versionable(a, ls); err != nil {
			return err
		}
		switch a.Kind {
		case Status:
			j.status = a.Status
		case Upload, Approve, Reject:
			j.docs = append(j.docs, a)
		}
	} else {
		l := m.lives[a.Link+"/"+a.Job]
		if l == nil || !l.created {
			return fmt.Errorf("link %s has no linked job for %s", a.Link, a.Job)
		}
		if !l.closed {
			ls = append(ls, l)
		}
		if err := versionable(a, ls); err != nil {
			return err
		}
	}
	for _, l := range ls {
		l.user(a)
	}
	return nil
}

// versionable refuses what the system itself refuses (oneserve-api.md, Job versions):
// raising a version while the current one is undecided, deciding one that is not
// the current, undecided version.
func versionable(a Action, ls []*life) error {
	for _, l := range ls {
		if !l.cfg.Versions {
			continue
		}
		vs := l.vers[a.Side]
		cur := vs[len(vs)-1]
		switch {
		case a.Kind == RaiseVersion && cur.status == "Pending":
			return fmt.Errorf("version %d of the %s job is undecided", len(vs), a.Side)
		case a.Kind == DecideVersion && (a.Version != len(vs) || cur.status != "Pending"):
			return fmt.Errorf("version %d is not the %s job's undecided version", a.Version, a.Side)
		}
	}
	return nil
}

// assign: README, What syncs, row 1; events.md, ACTIVITY_ASSIGNED and Routing (an
// assignment to the link's team starts the link, to any other team concerns no link).
func (m *Model) assign(a Action) error {
	j := m.jobs[a.System+"/"+a.Job]
	if j == nil {
		return fmt.Errorf("no primary job %s in %s", a.Job, a.System)
	}
	if j.team[a.Activity] == a.Team {
		return nil // the same fact again (reconciliation.md: assigned:{side}:{activity}:{team})
	}
	j.team[a.Activity] = a.Team
	for _, cfg := range m.links {
		if cfg.Primary != j.system || cfg.Team != a.Team {
			continue
		}
		key := cfg.Name + "/" + j.ref
		l := m.lives[key]
		if l == nil {
			l = m.start(cfg, j)
			m.lives[key] = l
			m.order = append(m.order, l)
		}
		if l.closed {
			continue // events.md, Responses: a closed link is not revived
		}
		act := a.Activity
		l.enqueue(&event{assign: true, apply: func(l *life) string { return l.applyAssign(act) }})
	}
	return nil
}

// start starts a link. What the primary job already holds is learned by reading it
// (README, Nothing missed): its documents and its status (QUESTIONS.md).
func (m *Model) start(cfg *Link, j *job) *life {
	l := &life{m: m, cfg: cfg, job: j, lines: map[string]bool{}, lossy: map[string]int{}}
	l.docs[Primary], l.docs[Secondary] = map[string]*linkDoc{}, map[string]*linkDoc{}
	l.vers[Primary], l.vers[Secondary] = []*version{{status: "Approved"}}, []*version{{status: "Approved"}}
	if j.status != "" {
		st := j.status
		l.queue = append(l.queue, &event{apply: func(l *life) string {
			l.applyStatus(Primary, st, Lost, true)
			return ""
		}})
	}
	// A read sees each document as it is now, not its history.
	now := map[string]Kind{}
	var ids []Action
	for _, d := range j.docs {
		if d.Kind == Upload {
			ids = append(ids, d)
		}
		now[d.Document] = d.Kind
	}
	for _, d := range ids {
		d.Delivery = Lost
		l.user(d)
		if k := now[d.Document]; k != Upload {
			d.Kind = k
			l.user(d)
		}
	}
	return l
}

// applyAssign creates the linked job, or adds the activity to it (README, What syncs,
// row 1). The job is created from the primary as it is now (events.md,
// ACTIVITY_ASSIGNED: "it re-reads the job"), so it holds every activity assigned to
// the team by then: lines are compared as a set (AddLine writes are unordered).
func (l *life) applyAssign(act string) string {
	sec := l.m.systems[l.cfg.Secondary]
	if !l.created {
		j := l.job
		// configuration.md, priorities: an unlisted priority is not created.
		if !l.cfg.priorityMapped(j.priority) {
			return "priority " + j.priority + " is not mapped"
		}
		// README, Try it by hand: a site missing in the secondary stops the link.
		contacts, ok := sec.Sites[j.site]
		if !ok {
			return "site " + j.site + " does not exist in " + sec.Name
		}
		if j.contact != "" && !has(contacts, j.contact) {
			return "contact " + j.contact + " is not a contact of site " + j.site + " in " + sec.Name
		}
		var lines []Line
		for _, ln := range j.lines {
			if j.team[ln.Activity] == l.cfg.Team {
				if !sec.Codes[ln.Code] { // operations.md, Known limits: SOR codes checked on create
					return "SOR code " + ln.Code + " unknown in " + sec.Name
				}
				lines = append(lines, ln)
			}
		}
		l.created = true
		l.emit(Secondary, Write{Kind: CreateJob})
		for _, ln := range lines {
			l.lines[ln.Activity] = true
			l.emit(Secondary, Write{Kind: AddLine, Activity: ln.Activity, LineCode: ln.Code, Unordered: true})
		}
		return ""
	}
	if l.lines[act] || l.job.team[act] != l.cfg.Team {
		return "" // already in the linked job, or no longer the team's
	}
	for _, ln := range l.job.lines {
		if ln.Activity == act {
			if !sec.Codes[ln.Code] {
				return "SOR code " + ln.Code + " unknown in " + sec.Name
			}
			l.lines[act] = true
			l.emit(Secondary, Write{Kind: AddLine, Activity: act, LineCode: ln.Code, Unordered: true})
		}
	}
	return ""
}

// user queues a user's action of either side on this link.
func (l *life) user(a Action) {
	s := a.Side
	switch a.Kind {
	case Status:
		l.enqueue(&event{apply: func(l *life) string { l.applyStatus(s, a.Status, a.Delivery, false); return "" }})
	case Appointment:
		l.enqueue(&event{apply: func(l *life) string { l.applyAppointment(a); return "" }})
	case Upload, Approve, Reject:
		l.enqueue(&event{apply: func(l *life) string { l.applyDocument(a); return "" }})
	case RaiseVersion:
		if !l.cfg.Versions {
			return // configuration.md, versions.enabled (default false)
		}
		l.vers[s] = append(l.vers[s], &version{status: "Pending"})
		n := len(l.vers[s])
		l.enqueue(&event{apply: func(l *life) string { return l.applyVersion(s, n, a) }})
	case DecideVersion:
		if !l.cfg.Versions {
			return
		}
		v := l.vers[s][a.Version-1]
		v.status = string(a.Decision)
		if v.mirrorOf == 0 {
			return // operations.md, Known limits: a side deciding its own version is not sent on
		}
		n := v.mirrorOf
		l.enqueue(&event{apply: func(l *life) string { l.applyDecision(s, n, a.Decision); return "" }})
	}
}

// applyStatus: README, What syncs, rows 2 and 3 (mapped statuses; unmapped ones are
// skipped); reconciliation.md: a status equal to the one the link knows is a
// duplicate; lifecycle.md, Closing.
func (l *life) applyStatus(s Side, st string, d Delivery, preLink bool) {
	if st == l.known[s] {
		return
	}
	l.known[s] = st
	key := "status:" + s.String()
	l.supersede(s.Other(), key)
	if code, ok := l.cfg.StatusEvents[s][st]; ok {
		w := Write{Kind: JobEvent, Status: st, Code: code, Optional: preLink, Unordered: d != Prompt || preLink}
		i := l.emit(s.Other(), w)
		// reconciliation.md, What a read cannot know: a status whose webhook was lost
		// or overtaken is not sent once a later one is known.
		if d != Prompt {
			l.lossy[key] = i + 1
		}
	}
	p, q := l.known[Primary], l.known[Secondary]
	ended := has(l.cfg.PrimaryCancelled, p) || (has(l.cfg.PrimaryEnd, p) && has(l.cfg.SecondaryEnd, q))
	switch {
	case ended && !l.closing:
		l.closing, l.grace = true, false
	case !ended: // lifecycle.md, Closing: a reopening calls the grace period off
		l.closing, l.grace = false, false
	}
}

// supersede makes the last lossy write of key optional: a later fact of the same
// kind is known, so a read would not find it.
func (l *life) supersede(target Side, key string) {
	if i := l.lossy[key]; i > 0 {
		l.writes[target][i-1].Optional = true
		delete(l.lossy, key)
	}
}

// applyAppointment: README, What syncs, row 4: a job event in the primary with the
// date and time (UK) and any reason.
func (l *life) applyAppointment(a Action) {
	key := "appointment:" + a.Appointment
	moved := a.AppointmentKind == Rescheduled
	if moved {
		// reconciliation.md: a read cannot know "an appointment moved twice between
		// reads" (nor, QUESTIONS.md 16, the date a booking had before its move).
		l.supersede(Primary, key)
	}
	w := Write{Kind: JobEvent, Appointment: a.Appointment, AppointmentKind: a.AppointmentKind,
		Start: a.Start, Code: l.cfg.AppointmentEvents[a.AppointmentKind], Unordered: a.Delivery != Prompt}
	i := l.emit(Primary, w)
	if a.Delivery == Lost && (moved || a.AppointmentKind == Booked) {
		l.lossy[key] = i + 1
	}
}

// applyDocument: README, What syncs, rows 5 and 6; configuration.md, documentApproval;
// operations.md, Documents held for approval.
func (l *life) applyDocument(a Action) {
	s := a.Side
	cat, shared := l.cfg.category(s, a.Category)
	if !shared {
		return // unshared categories are recorded skipped
	}
	d := l.docs[s][a.Document]
	if d == nil {
		d = &linkDoc{category: cat}
		l.docs[s][a.Document] = d
	}
	required := l.cfg.Approval[s]
	unordered := a.Delivery != Prompt
	switch a.Kind {
	case Upload:
		if d.held || d.copied || d.dropped {
			return
		}
		if required && !d.approved {
			d.held = true // held until approved
			return
		}
		l.copyDoc(s, a.Document, d, unordered)
	case Approve:
		if !required {
			return
		}
		d.approved = true
		if d.held {
			d.held = false
			l.copyDoc(s, a.Document, d, unordered)
		}
	case Reject:
		if !required {
			return
		}
		was := d.approved
		d.approved = false
		switch {
		case d.held: // a rejection drops it (QUESTIONS.md: for good)
			d.held, d.dropped = false, true
		case d.copied && was && l.cfg.Withdrawn[s] != "":
			// an approval withdrawn after the copy: the copy stays, a job event says so
			l.emit(s.Other(), Write{Kind: JobEvent, Document: a.Document, Code: l.cfg.Withdrawn[s], Unordered: unordered})
		}
	}
}

func (l *life) copyDoc(s Side, id string, d *linkDoc, unordered bool) {
	d.copied = true
	l.emit(s.Other(), Write{Kind: CopyDocument, Document: id, Category: d.category, Unordered: unordered})
}

// applyVersion: README, What syncs, row 7: a version raised on one side is raised on
// the other with the same changes; an SOR code the target does not know is refused
// there (operations.md, Variations), as is a raise while the target's current version
// is undecided (oneserve-api.md, Job versions).
func (l *life) applyVersion(s Side, n int, a Action) string {
	t := s.Other()
	sys := l.cfg.Primary
	if t == Secondary {
		sys = l.cfg.Secondary
	}
	if cur := l.vers[t][len(l.vers[t])-1]; cur.status == "Pending" || cur.status == "New" {
		return fmt.Sprintf("version %d of the %s job is undecided", len(l.vers[t]), t)
	}
	for _, c := range a.Changes {
		if c.Change == "add" && !l.m.systems[sys].Codes[c.Code] {
			return "SOR code " + c.Code + " unknown in " + sys
		}
	}
	l.vers[t] = append(l.vers[t], &version{status: "Pending", mirrorOf: n})
	l.emit(t, Write{Kind: RaiseVersionW, Version: n, Changes: append([]Change(nil), a.Changes...)})
	return ""
}

// applyDecision: README, What syncs, rows 8 and 9. The primary deciding the mirror of
// the secondary's version n decides version n in the secondary, with its job event;
// the secondary deciding the mirror of the primary's version n adds a job event in
// the primary.
func (l *life) applyDecision(s Side, n int, d Decision) {
	code := l.cfg.VersionEvents[s][d]
	if s == Primary {
		l.vers[Secondary][n-1].status = string(d)
		l.emit(Secondary, Write{Kind: DecideVersionW, Version: n, Decision: d, Code: code})
		return
	}
	l.emit(Primary, Write{Kind: JobEvent, Version: n, Decision: d, Code: code})
}

func (l *life) emit(t Side, w Write) int {
	l.writes[t] = append(l.writes[t], w)
	return len(l.writes[t]) - 1
}

func (l *life) enqueue(e *event) {
	l.queue = append(l.queue, e)
	l.drain()
}

// drain applies queued events in order until one is refused, the link is paused or
// closed, or the rest wait for the linked job (lifecycle.md, The rules of the
// machine: Order, Blocked).
func (l *life) drain() {
	for !l.closed && !l.paused && !l.blocked && len(l.queue) > 0 {
		i := 0
		if !l.created { // events that need the linked job wait; an assignment goes first
			i = -1
			for k, e := range l.queue {
				if e.assign {
					i = k
					break
				}
			}
			if i < 0 {
				break
			}
		}
		e := l.queue[i]
		l.queue = append(l.queue[:i], l.queue[i+1:]...)
		if r := e.apply(l); r != "" {
			l.queue = append([]*event{e}, l.queue...) // it stays at the head
			l.blocked, l.lastErr = true, r
			break
		}
	}
	l.tryClose()
}

// tryClose: lifecycle.md, Closing: the link closes when the grace period is over and
// nothing is queued, blocked or paused.
func (l *life) tryClose() {
	if l.closing && l.grace && !l.blocked && !l.paused && len(l.queue) == 0 {
		l.closed = true
	}
}

// operator: lifecycle.md, transition table (the refusals) and operations.md.
func (l *life) operator(a Action) error {
	if l.closed {
		return errors.New("already closed")
	}
	switch a.Kind {
	case Pause:
		if l.paused {
			return errors.New("link is already paused")
		}
		l.paused = true
	case Resume:
		if !l.paused {
			return errors.New("nothing to resume")
		}
		l.paused = false
		if l.retry {
			l.retry, l.blocked, l.lastErr = false, false, ""
		}
		l.drain()
	case Retry:
		if !l.blocked {
			return errors.New("nothing to retry")
		}
		if l.retry {
			return errors.New("a retry is already waiting for resume")
		}
		if l.paused {
			l.retry = true // runs once resumed
			return nil
		}
		l.blocked, l.lastErr = false, ""
		l.drain()
	case Skip:
		if !l.blocked {
			return errors.New("nothing to skip")
		}
		l.queue = l.queue[1:] // recorded failed
		l.blocked, l.lastErr, l.retry = false, "", false
		l.drain()
	case Unlink: // queued events skipped, a blocked one failed; both jobs stay
		l.closed, l.queue, l.blocked, l.lastErr, l.paused = true, nil, false, "", false
	case Release, Drop:
		d := l.docs[a.Side][a.Document]
		if d == nil || !d.held {
			return errors.New("no such document is held for approval on this link")
		}
		d.held = false
		if a.Kind == Drop {
			d.dropped = true // never copied, even if approved later
			return nil
		}
		s, id := a.Side, a.Document
		l.enqueue(&event{apply: func(l *life) string { // copied in its turn
			if !d.copied {
				l.copyDoc(s, id, d, false)
			}
			return ""
		}})
	}
	return nil
}

func (l *life) state() State {
	switch {
	case l.closed:
		return Closed
	case l.paused:
		return Paused
	case l.blocked:
		return NeedsAttention
	case l.created:
		return Linked
	}
	return Linking
}

// LinkState is what the model says of one link.
type LinkState struct {
	Link, Job string
	State     State
	LinkedJob bool   // the linked job exists in the secondary
	LastError string // the model's words; the check compares only its presence
	Closing   bool   // ended, grace period not elapsed (no Elapse since)
	Held      []string
	Queued    int // events waiting: behind a refusal, a pause, or for the linked job
}

// Expected is what both systems and the links must hold.
type Expected struct {
	Writes map[Target][]Write
	Links  []LinkState
}

// Expect returns what must hold now, every delivery having been applied.
func (m *Model) Expect() Expected {
	e := Expected{Writes: map[Target][]Write{}}
	for _, l := range m.order {
		for _, s := range []Side{Primary, Secondary} {
			if len(l.writes[s]) > 0 {
				e.Writes[Target{l.cfg.Name, l.job.ref, s}] = append([]Write(nil), l.writes[s]...)
			}
		}
		st := LinkState{Link: l.cfg.Name, Job: l.job.ref, State: l.state(), LinkedJob: l.created,
			LastError: l.lastErr, Closing: l.closing && !l.closed, Queued: len(l.queue)}
		for _, s := range []Side{Primary, Secondary} {
			for id, d := range l.docs[s] {
				if d.held {
					st.Held = append(st.Held, s.String()+":"+id)
				}
			}
		}
		sort.Strings(st.Held)
		e.Links = append(e.Links, st)
	}
	sort.Slice(e.Links, func(i, j int) bool {
		return e.Links[i].Link+"/"+e.Links[i].Job < e.Links[j].Link+"/"+e.Links[j].Job
	})
	return e
}

// Describe renders the expectation for a divergence report.
func (e Expected) Describe() string {
	var b strings.Builder
	for _, l := range e.Links {
		fmt.Fprintf(&b, "link %s/%s: %s", l.Link, l.Job, l.State)
		if l.LastError != "" {
			fmt.Fprintf(&b, " (%s)", l.LastError)
		}
		b.WriteString("\n")
		for _, s := range []Side{Secondary, Primary} {
			for _, w := range e.Writes[Target{l.Link, l.Job, s}] {
				fmt.Fprintf(&b, "  → %s: %s\n", s, w)
			}
		}
	}
	return b.String()
}
