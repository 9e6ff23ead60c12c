// Package lifecycle is a link's life as one pure state machine: the events
// it has received and the order it applies them in, the memory that turns a
// redelivery into a duplicate, its state (Linking, Linked, NeedsAttention,
// Paused, Closed) and every transition between them, the grace period
// before it closes, and what is recorded for each event.
//
// It knows nothing of Temporal: no SDK, no clock, no I/O. The LinkedJob
// workflow (package workflows) is a thin shell around a Machine: it delivers
// events, operator actions, results and timer firings, asks Next what to do,
// runs the activity, and reports back. What an event means (which command)
// is decided by package rules; the transition table is in transitions.go and
// docs/lifecycle.md.
package lifecycle

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/o2o-sync/o2o/events"
	"github.com/o2o-sync/o2o/internal/plural"
	"github.com/o2o-sync/o2o/rules"
)

// Compat selects how a run behaves where the machine fixed a defect of the
// code that started it: a run's history replays only if the run keeps
// behaving as it did. The workflow takes it from workflow.GetVersion at the
// start of each run, so a link started earlier switches to the current
// behaviour at its next continue-as-new.
type Compat int

const (
	// CompatLegacy keeps three defects of the workflow before the machine:
	// an event applied while the link was paused during a retry left the
	// link blocked on the stale error; a late event could be queued in front
	// of a blocked one (and then be skipped as failed without being tried,
	// or applied by the retry instead); and a grace period that had once
	// ended stayed ended after the job reopened.
	CompatLegacy Compat = 0
	// CompatMachine fixes those defects.
	CompatMachine Compat = 1
	// CompatFacts adds facts: an event whose fact the link already knows
	// (by FactKeys, or a status equal to the one it knows) is a duplicate
	// whatever its source, a status older than the one known is not sent
	// on, and reconciliation can offer facts.
	CompatFacts Compat = 2
	// CompatCurrent is today's behaviour.
	CompatCurrent = CompatFacts
)

// DefaultContinueAsNewAfter keeps histories short (each event costs about a
// dozen history events), so replays after cache eviction stay cheap.
const DefaultContinueAsNewAfter = 200

// Options configure a Machine.
type Options struct {
	// ContinueAsNewAfter is how many events a run finishes before it
	// continues as new (0: DefaultContinueAsNewAfter).
	ContinueAsNewAfter int
	Compat             Compat
}

// Carry is everything a link remembers across continue-as-new.
type Carry struct {
	State LinkState      `json:"state"`
	Queue []events.Event `json:"queue"`
	Seen  []string       `json:"seen"`
	// Retry is an operator's retry not yet carried out.
	Retry bool `json:"retry,omitempty"`
	// Facts are the fact keys the link knows (rules.FactKeys), oldest first.
	Facts []string `json:"facts,omitempty"`
}

// StepKind is the kind of thing the workflow must do next.
type StepKind int

// The step kinds.
const (
	// Wait: nothing to do until the next input.
	Wait StepKind = iota
	// Apply: apply Step.Event (Begin, then Done or Fail).
	Apply
	// Close: the link is finished (unlinked, or its grace period is over
	// with nothing pending); call Close and end the workflow.
	Close
	// ContinueAsNew: this run has done enough; hand Carry to a new run.
	ContinueAsNew
)

func (k StepKind) String() string {
	return [...]string{"Wait", "Apply", "Close", "ContinueAsNew"}[k]
}

// Step is the next thing the workflow must do.
type Step struct {
	Kind StepKind
	// Event is the event to apply.
	Event events.Event
	// Duplicate: Event is a redelivery of an event already finished, or
	// reports a fact the link already knows; it is only recorded (Finish
	// with a zero Result).
	Duplicate bool
	// LoadRules: load the link's configuration (SetRules) before Command.
	LoadRules bool
	at        int
}

// inflight is the event being applied.
type inflight struct {
	ev    events.Event
	dup   string // why it is a duplicate; "" if it is not
	retry bool   // an operator's retry
	cmd   *rules.Command
}

// Machine is one link's life. The zero value is not usable: see New and Restore.
type Machine struct {
	st     LinkState
	queue  queue
	seen   *seenIDs
	known  *seenIDs
	rules  *rules.Link
	reload bool
	opts   Options

	// failure is the error the head event failed with; "" when not blocked.
	failure string
	// retry: an operator asked to try the blocked event again.
	retry  bool
	paused bool
	closed bool
	unlink *OperatorRequest
	// superseded is why a link that never had a linked job closes: its
	// primary job ref holds a superseded version of another job.
	superseded string
	graceOver  bool
	busy       *inflight
	done       int

	// records are the records made since TakeRecords last ran.
	records []EventRecord
}

// New starts the life of the link for one primary job.
func New(link, primaryJobRef string, now time.Time, opts Options) *Machine {
	m := &Machine{
		st:    LinkState{Link: link, PrimaryJobRef: primaryJobRef, Events: []EventRecord{}},
		seen:  newSeenIDs(nil),
		known: newSeenIDs(nil),
		opts:  opts.withDefaults(),
	}
	m.settle(now)
	return m
}

// Restore continues a link's life from a Carry.
func Restore(c Carry, now time.Time, opts Options) *Machine {
	m := &Machine{st: c.State, queue: c.Queue, seen: newSeenIDs(c.Seen), known: newSeenIDs(c.Facts), retry: c.Retry, opts: opts.withDefaults()}
	if m.st.Events == nil {
		m.st.Events = []EventRecord{}
	}
	s := m.st.State
	m.paused = s == StatePaused
	if s == StateNeedsAttention || (s == StatePaused && m.st.PausedFrom == StateNeedsAttention) {
		m.failure = m.st.LastError
		if m.failure == "" {
			m.failure = "blocked (the error was not recorded)"
		}
	}
	m.settle(now)
	return m
}

func (o Options) withDefaults() Options {
	if o.ContinueAsNewAfter <= 0 {
		o.ContinueAsNewAfter = DefaultContinueAsNewAfter
	}
	return o
}

// Carry is what the next run needs. Valid only between steps.
func (m *Machine) Carry() Carry {
	st := m.st
	st.Events = slices.Clone(st.Events)
	return Carry{State: st, Queue: slices.Clone(m.queue), Seen: slices.Clone(m.seen.order), Retry: m.retry, Facts: slices.Clone(m.known.order)}
}

// State is the link's state as the linkState query answers it: a copy the
// caller may keep.
func (m *Machine) State() LinkState {
	s := m.Peek()
	s.Events = slices.Clone(s.Events)
	s.OperatorLog = slices.Clone(s.OperatorLog)
	s.LinkedActivities = slices.Clone(s.LinkedActivities)
	s.HeldDocuments = slices.Clone(s.HeldDocuments)
	s.Versions = slices.Clone(s.Versions)
	return s
}

// Peek is the link's state without copying its lists, for a caller that
// reads it at once (the workflow, after every event) and keeps nothing.
func (m *Machine) Peek() LinkState {
	s := m.st
	s.Pending = len(m.queue)
	s.NextStep = m.nextStep()
	return s
}

// nextStep is what an operator can do for a link that waits for one.
func (m *Machine) nextStep() string {
	switch {
	case m.closed:
		return ""
	case m.paused:
		return "resume the link when ready (starter resume)"
	case m.failure != "":
		return "fix what lastError names, then retry; or skip the event (with a reason); or unlink"
	case m.st.SecondaryJobRef == "" && m.busy == nil && m.ready() < 0 && len(m.st.Events) > 0:
		return fmt.Sprintf("no linked job exists and no assignment is waiting: link the job again (starter link %s %s ACTIVITY_ID), or unlink", m.st.Link, m.st.PrimaryJobRef)
	}
	return ""
}

// Rules is the link configuration loaded last, or nil.
func (m *Machine) Rules() *rules.Link { return m.rules }

// Done counts the events this run has finished.
func (m *Machine) Done() int { return m.done }

// TakeRecords returns the event records made since it was last called.
func (m *Machine) TakeRecords() []EventRecord {
	r := m.records
	m.records = nil
	return r
}

// Deliver takes in an event. A closed link records it at once as skipped,
// with the rules' reason; otherwise it queues.
func (m *Machine) Deliver(now time.Time, ev events.Event) {
	if m.closed {
		var l rules.Link
		if m.rules != nil {
			l = *m.rules
		}
		cmd := rules.Decide(l, m.facts(), ev) // a closed link: the rules say skip, and why
		m.record(newRecord(ev, now, OutcomeSkipped, cmd.Reason))
		m.settle(now)
		return
	}
	// The head is never overtaken while it is applied or blocked: before the
	// machine, a late event could slip in front of a blocked one, and a skip
	// then recorded it, never tried, as failed.
	headFixed := m.busy != nil || (m.failure != "" && m.opts.Compat >= CompatMachine)
	m.queue = m.queue.insert(ev, headFixed)
	m.settle(now)
}

// Next says what to do now. suggested reports Temporal's suggestion to
// continue as new. It does not change the machine.
func (m *Machine) Next(suggested bool) Step {
	if m.closed || m.busy != nil {
		return Step{}
	}
	if m.unlink != nil || m.superseded != "" {
		return Step{Kind: Close}
	}
	atLimit := m.done >= m.opts.ContinueAsNewAfter || suggested
	if i := m.ready(); i >= 0 && !atLimit {
		ev := m.queue[i]
		dup := m.duplicate(ev) != ""
		return Step{Kind: Apply, Event: ev, at: i, Duplicate: dup, LoadRules: !dup && (m.rules == nil || m.reload)}
	}
	if m.closeDue() {
		return Step{Kind: Close}
	}
	if atLimit {
		return Step{Kind: ContinueAsNew}
	}
	return Step{}
}

// ready is the index of the event to apply now, or -1: nothing moves while
// the link is paused, or blocked and not asked to retry.
func (m *Machine) ready() int {
	if m.paused || (m.failure != "" && !m.retry) {
		return -1
	}
	return m.queue.ready(m.st.SecondaryJobRef != "", m.seen)
}

// closeDue: the grace period is over and nothing is waiting or blocked.
func (m *Machine) closeDue() bool {
	return m.graceOver && m.st.ClosesAt != nil && len(m.queue) == 0 && m.failure == "" && !m.paused
}

// Begin starts applying the event of an Apply step.
func (m *Machine) Begin(now time.Time, s Step) {
	if s.Kind != Apply || m.busy != nil || s.at >= len(m.queue) || m.queue[s.at].ID != s.Event.ID {
		panic(fmt.Sprintf("lifecycle: Begin(%v) does not follow Next", s.Kind))
	}
	m.queue = m.queue.toFront(s.at)
	m.busy = &inflight{ev: s.Event, dup: m.duplicate(s.Event), retry: m.retry}
	m.retry = false
	m.settle(now)
}

// SetRules gives the machine the link's configuration, loaded for a step
// that asked for it.
func (m *Machine) SetRules(l rules.Link) {
	m.rules, m.reload = &l, false
}

// Command is what the rules say to do with the event being applied.
func (m *Machine) Command() rules.Command {
	b := m.busy
	if b == nil || b.dup != "" || m.rules == nil {
		panic("lifecycle: Command without an event to decide")
	}
	if b.cmd == nil {
		cmd := rules.Decide(*m.rules, m.facts(), b.ev)
		b.cmd = &cmd
	}
	return *b.cmd
}

// Finish records the event being applied: a duplicate, or the command's
// result (a zero Result for a Skip command, which runs nothing). It returns
// the record.
func (m *Machine) Finish(now time.Time, res Result) EventRecord {
	b := m.busy
	if b == nil {
		panic("lifecycle: Finish without an event being applied")
	}
	if b.dup != "" {
		m.busy = nil
		return m.finish(now, b.ev, newRecord(b.ev, now, OutcomeDuplicate, b.dup), true)
	}
	cmd := m.Command()
	m.busy = nil
	res = res.normalize()
	outcome, detail := m.describe(cmd, res)
	if outcome == OutcomeApplied {
		switch cmd.Action {
		case rules.CreateJob:
			m.st.SecondaryJobRef = res.SecondaryJobRef
			m.linkActivities(res.ActivityIDs)
		case rules.AddActivities:
			m.linkActivities(res.ActivityIDs)
		}
	}
	if cmd.Action == rules.CreateJob && outcome == OutcomeSkipped && res.SupersededBy != "" && m.st.SecondaryJobRef == "" {
		// The job is the current version's, linked by that ref's link:
		// this one has nothing to do, now or later.
		m.superseded = fmt.Sprintf("job %s holds a superseded version of job %s, whose own link links it", m.st.PrimaryJobRef, res.SupersededBy)
	}
	m.learnVersion(b.ev, cmd, outcome, res)
	switch cmd.Action {
	case rules.HoldDocument:
		m.hold(b.ev)
	case rules.DropDocument:
		m.unhold(b.ev.Side, b.ev.Document.DocumentID)
	case rules.CopyDocument:
		if outcome == OutcomeApplied {
			m.unhold(b.ev.Side, b.ev.Document.DocumentID)
			if m.opts.Compat >= CompatFacts {
				// Its upload is known too: a late upload event is a duplicate.
				m.known.add(rules.CopiedKey(b.ev.Side, b.ev.Document.DocumentID))
				m.known.add(rules.DocumentKey(b.ev.Side, b.ev.Document.DocumentID))
			}
		}
	}
	if cmd.Status != nil {
		if note := m.applyStatus(now, *cmd.Status); note != "" {
			detail += "; " + note
		}
	}
	var offer []events.Event
	if cmd.Action == rules.ReadFacts && outcome == OutcomeApplied && m.ValidateOffer() == nil {
		offer = res.Facts
	}
	// Before the machine, an event that went through while the link was
	// paused left the failure in place (unless it created the linked job).
	unblock := m.opts.Compat >= CompatMachine || !m.paused || (cmd.Action == rules.CreateJob && outcome == OutcomeApplied)
	rec := m.finish(now, b.ev, newRecord(b.ev, now, outcome, detail), unblock)
	m.Offer(now, offer) // after the nudge itself, so they queue behind it
	return rec
}

// Fail blocks the link on the event being applied: it stays at the head of
// the queue and nothing behind it moves until an operator retries or skips
// it. message is what the operator is shown.
func (m *Machine) Fail(now time.Time, message string) {
	if m.busy == nil {
		panic("lifecycle: Fail without an event being applied")
	}
	m.busy = nil
	m.failure = message
	m.settle(now)
}

// GraceOver reports that the grace period ending at at is over.
func (m *Machine) GraceOver(now time.Time, at time.Time) {
	if m.st.ClosesAt != nil && m.st.ClosesAt.Equal(at) {
		m.graceOver = true
	}
	m.settle(now)
}

// Close ends the link: unlinked (events still queued are recorded, not
// applied) or at the end of its grace period. Events delivered afterwards
// are recorded as skipped.
func (m *Machine) Close(now time.Time) {
	if m.busy != nil {
		panic("lifecycle: Close while an event is being applied")
	}
	if u := m.unlink; u != nil {
		m.st.ClosingReason = fmt.Sprintf("unlinked by %s: %s", u.By, u.Reason)
		for i, ev := range m.queue {
			if i == 0 && m.failure != "" {
				m.record(newRecord(ev, now, OutcomeFailed, fmt.Sprintf("failed: %s; not retried: the link was %s", m.failure, m.st.ClosingReason)))
				m.learn(ev)
				continue
			}
			m.record(newRecord(ev, now, OutcomeSkipped, "not applied: the link was unlinked"))
		}
		m.queue = nil
	} else if m.superseded != "" {
		m.st.ClosingReason = m.superseded
		for _, ev := range m.queue {
			m.record(newRecord(ev, now, OutcomeSkipped, "not applied: "+m.superseded))
		}
		m.queue = nil
	}
	m.closed, m.failure, m.paused, m.retry = true, "", false, false
	m.settle(now)
}

// ClosesAt is when the grace period ends, if the link is closing.
func (m *Machine) ClosesAt() *time.Time { return m.st.ClosesAt }

// Closed reports whether the link has closed.
func (m *Machine) Closed() bool { return m.closed }

func (m *Machine) finish(now time.Time, ev events.Event, rec EventRecord, unblock bool) EventRecord {
	m.record(rec)
	m.seen.add(rec.ID)
	if rec.Outcome != OutcomeDuplicate {
		m.learn(ev)
	}
	m.queue = m.queue[1:]
	m.done++
	if unblock {
		m.failure = ""
	}
	m.settle(now)
	return rec
}

func (m *Machine) record(rec EventRecord) {
	m.st.record(rec)
	m.records = append(m.records, rec)
}

// settle is the one place the link's state is set: it follows from whether
// the link is closed, paused, blocked and linked.
func (m *Machine) settle(now time.Time) {
	s := StateLinking
	switch {
	case m.failure != "":
		s = StateNeedsAttention
	case m.st.SecondaryJobRef != "":
		s = StateLinked
	}
	m.st.PausedFrom, m.st.LastError = "", m.failure
	switch {
	case m.closed:
		s = StateClosed
	case m.paused:
		m.st.PausedFrom, s = s, StatePaused
	}
	m.st.State = s
	m.st.UpdatedAt = now
}

func (m *Machine) facts() rules.Facts {
	f := rules.Facts{
		SecondaryJobRef:  m.st.SecondaryJobRef,
		Closed:           m.closed,
		LinkedActivities: m.st.LinkedActivities,
		PrimaryEnded:     m.st.PrimaryEnded,
		SecondaryEnded:   m.st.SecondaryEnded,
		PrimaryCancelled: m.st.PrimaryCancelled,
	}
	f.PrimaryAliases, f.SecondaryAliases = m.st.PrimaryAliases, m.st.SecondaryAliases
	for _, v := range m.st.Versions {
		if v.RaisedBy == v.Side && v.Counterpart != 0 {
			p := rules.VersionPair{RaisedBy: v.Side, Primary: v.Number, Secondary: v.Counterpart}
			if v.Side == events.Secondary {
				p.Primary, p.Secondary = v.Counterpart, v.Number
			}
			f.Versions = append(f.Versions, p)
		}
	}
	if m.opts.Compat >= CompatFacts {
		f.OwnJobsOnly, f.Knows = true, m.known.has
		f.PrimaryStatus, f.SecondaryStatus = m.st.PrimaryStatus, m.st.SecondaryStatus
		f.PrimaryStatusAt, f.SecondaryStatusAt = timeOf(m.st.PrimaryStatusAt), timeOf(m.st.SecondaryStatusAt)
	}
	return f
}

func timeOf(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}

// duplicate says why ev is a duplicate, or "" when it is not: a redelivery
// of an event finished before, or a fact the link already knows.
func (m *Machine) duplicate(ev events.Event) string {
	if m.seen.has(ev.ID) {
		return "already processed: a redelivery of the same event"
	}
	if m.opts.Compat < CompatFacts {
		return ""
	}
	if keys := rules.FactKeys(ev); len(keys) > 0 && m.known.has(keys[0]) {
		return "already known: the same fact was learned before (from a webhook or a reconciliation)"
	}
	if ev.Type == events.VersionSuperseded && ev.Version != nil && slices.Contains(m.aliases(ev.Side), ev.Version.PreviousJobRef) {
		return "already known: the ref is an alias of the link's job"
	}
	if ev.Type == events.JobStatusChanged && ev.Status != nil {
		known := m.st.PrimaryStatus
		if ev.Side == events.Secondary {
			known = m.st.SecondaryStatus
		}
		if known != "" && strings.EqualFold(known, ev.Status.Status) {
			return fmt.Sprintf("already known: the %s job's status is %s", ev.Side, known)
		}
	}
	return ""
}

// learn remembers the facts an event reported, once it is finished (applied,
// skipped or given up on), so the same fact from another source is a
// duplicate.
func (m *Machine) learn(ev events.Event) {
	if m.opts.Compat < CompatFacts {
		return
	}
	for _, k := range rules.FactKeys(ev) {
		m.known.add(k)
	}
	if ev.Type != events.JobStatusChanged || ev.Status == nil {
		return
	}
	status, at := &m.st.PrimaryStatus, &m.st.PrimaryStatusAt
	if ev.Side == events.Secondary {
		status, at = &m.st.SecondaryStatus, &m.st.SecondaryStatusAt
	}
	if *at != nil && ev.OccurredAt.Before(**at) {
		return // older than what the link knows
	}
	t := ev.OccurredAt
	*status, *at = ev.Status.Status, &t
}

// ValidateOffer says whether the link takes facts now, and if not, why.
func (m *Machine) ValidateOffer() error {
	switch {
	case m.opts.Compat < CompatFacts:
		return fmt.Errorf("this link runs code older than facts; it takes them after its next continue-as-new")
	case m.closed || m.unlink != nil:
		return fmt.Errorf("the link is closed")
	}
	return nil
}

// Offer takes in facts a reconciliation read from the systems. Those the
// link already knows, or already has queued, are dropped without a record;
// the rest queue like webhook events. It returns how many were queued.
func (m *Machine) Offer(now time.Time, facts []events.Event) int {
	if m.closed {
		return 0
	}
	n := 0
	for _, ev := range facts {
		ev = m.missingLine(ev)
		if m.duplicate(ev) != "" || m.pending(ev) {
			continue
		}
		m.Deliver(now, ev)
		n++
	}
	m.settle(now)
	return n
}

// Unknown returns the indexes of the facts the link neither knows nor has
// queued, without changing anything: a reconciliation asks first (a query,
// which writes no history) and offers only when something is new.
func (m *Machine) Unknown(facts []events.Event) []int {
	var out []int
	if m.ValidateOffer() != nil {
		return out
	}
	for i, ev := range facts {
		ev = m.missingLine(ev)
		if m.duplicate(ev) == "" && !m.pending(ev) {
			out = append(out, i)
		}
	}
	return out
}

// missingLine says what a reconciliation's "line missing from the linked
// job" fact (Assignment.LineMissing) is to this link. Where the link knows
// the assignment — it believes the line is there — it is a fact of its own,
// to repair the linked job. Where it does not, it is simply the assignment,
// with the assignment's identity: the same fact as its webhook, queued or
// late.
func (m *Machine) missingLine(ev events.Event) events.Event {
	a := ev.Assignment
	if ev.Type != events.ActivityAssigned || a == nil || !a.LineMissing {
		return ev
	}
	plain := *a
	plain.LineMissing = false
	ev2 := ev
	ev2.Assignment = &plain
	if key := rules.FactKeys(ev2)[0]; m.known.has(key) {
		return ev
	}
	ev2.ID = rules.FactID(rules.FactKeys(ev2)[0])
	return ev2
}

// pending reports whether an event reporting the same fact is queued (or
// being applied).
func (m *Machine) pending(ev events.Event) bool {
	keys := rules.FactKeys(ev)
	for _, q := range m.queue {
		switch {
		case q.ID == ev.ID:
			return true
		case ev.Type == events.JobsDrifted && q.Type == events.JobsDrifted:
			return true
		case ev.Type == events.JobStatusChanged && q.Type == events.JobStatusChanged && q.Side == ev.Side &&
			q.Status != nil && ev.Status != nil && strings.EqualFold(q.Status.Status, ev.Status.Status):
			return true
		case len(keys) > 0 && slices.Contains(rules.FactKeys(q), keys[0]):
			return true
		}
	}
	return false
}

func (m *Machine) linkActivities(ids []string) {
	for _, id := range ids {
		if !slices.Contains(m.st.LinkedActivities, id) {
			m.st.LinkedActivities = append(m.st.LinkedActivities, id)
		}
	}
}

// applyStatus records what a status change means for the link's life and
// starts (or calls off) the grace period before closing.
func (m *Machine) applyStatus(now time.Time, e rules.StatusEffect) string {
	if e.Side == events.Primary {
		m.st.PrimaryEnded = e.Ended
		m.st.PrimaryCancelled = e.Cancelled
	} else {
		m.st.SecondaryEnded = e.Ended
	}
	closing, reason := rules.ShouldClose(m.facts())
	switch {
	case closing && m.st.ClosesAt == nil:
		at := now.Add(m.rules.Config.CloseAfter.D())
		m.st.ClosesAt, m.st.ClosingReason = &at, reason
		if m.opts.Compat >= CompatMachine {
			m.graceOver = false
		}
		return fmt.Sprintf("%s: the link closes at %s unless the job reopens", reason, at.UTC().Format(time.RFC3339))
	case !closing && m.st.ClosesAt != nil:
		m.st.ClosesAt, m.st.ClosingReason = nil, ""
		if m.opts.Compat >= CompatMachine {
			m.graceOver = false
		}
		return "the job reopened: the link stays open"
	}
	return ""
}

// describe is the outcome and detail recorded for a command's result.
func (m *Machine) describe(cmd rules.Command, res Result) (Outcome, string) {
	switch cmd.Action {
	case rules.Skip, rules.HoldDocument, rules.DropDocument:
		return OutcomeSkipped, cmd.Reason
	}
	if res.Outcome == OutcomeSkipped || (cmd.Action == rules.CreateJob && res.SecondaryJobRef == "") {
		return OutcomeSkipped, res.Detail
	}
	c := m.rules.Config
	system, jobRef := c.Primary.System, m.st.PrimaryJobRef
	if cmd.Target == events.Secondary {
		system, jobRef = c.Secondary.System, m.st.SecondaryJobRef
	}
	var d string
	switch cmd.Action {
	case rules.CreateJob:
		verb := "created"
		if res.Existed {
			verb = "found (created by an earlier attempt)"
		}
		d = fmt.Sprintf("linked job %s %s in %s with %s", res.SecondaryJobRef, verb, c.Secondary.System, plural.Count(len(res.ActivityIDs), "activity", "activities"))
	case rules.AddActivities:
		d = fmt.Sprintf("%s %s added to %s in %s", plural.Word(len(res.ActivityIDs), "activity", "activities"), strings.Join(res.ActivityIDs, ", "), jobRef, system)
	case rules.AddJobEvent:
		d = fmt.Sprintf("job event %s added to %s in %s", cmd.EventCode, jobRef, system)
		if res.Existed {
			d += " (found, written by an earlier attempt)"
		}
	case rules.CopyDocument:
		d = fmt.Sprintf("document %s copied to %s in %s as %s (%s, sha256 %.12s…)", cmd.Document.FileName, jobRef, system, cmd.Category, plural.Count(res.Size, "byte", "bytes"), res.SHA256)
		if res.Existed {
			d += " (found, copied by an earlier attempt)"
		}
	case rules.CheckJobs:
		d = "checked after a reconciliation found: " + cmd.Reason
	case rules.CreateVersion:
		d = fmt.Sprintf("version %d raised on %s in %s, mirroring version %d (%s)", res.Version, jobRef, system, cmd.Version.SourceNumber, plural.Count(len(cmd.Version.Lines), "line change", "line changes"))
	case rules.DecideVersion:
		d = fmt.Sprintf("version %d of %s %s in %s; job event %s added", cmd.Decision.Number, jobRef, strings.ToLower(cmd.Decision.Status), system, cmd.EventCode)
	case rules.ReadFacts:
		d = fmt.Sprintf("read both jobs: %s found (those the link did not know are queued)", plural.Count(len(res.Facts), "fact", "facts"))
	default:
		d = string(cmd.Action)
	}
	if res.Detail != "" {
		d += "; " + res.Detail
	}
	return OutcomeApplied, d
}

func newRecord(ev events.Event, now time.Time, o Outcome, detail string) EventRecord {
	return EventRecord{ID: ev.ID, Type: ev.Type, Direction: rules.Direction(ev.Side), OccurredAt: ev.OccurredAt,
		ProcessedAt: now, Outcome: o, Detail: detail, Source: ev.Source}
}

// learnVersion keeps the link's record of versions up to date with an
// event that was applied or skipped.
func (m *Machine) learnVersion(ev events.Event, cmd rules.Command, outcome Outcome, res Result) {
	v := ev.Version
	if v == nil {
		return
	}
	switch ev.Type {
	case events.VersionCreated:
		m.addAliases(ev.Side, v.PreviousJobRef)
		src := m.version(ev.Side, v.Number)
		if src == nil {
			m.st.Versions = append(m.st.Versions, VersionRecord{Side: ev.Side, Number: v.Number, Status: v.Status,
				RaisedBy: ev.Side, PreviousJobRef: v.PreviousJobRef, Lines: v.Changes, Reason: v.Reason})
			src = &m.st.Versions[len(m.st.Versions)-1]
		}
		if cmd.Action == rules.CreateVersion && outcome == OutcomeApplied {
			// The target's superseded refs, from its read after the write:
			// never only from the echo, which may not come.
			m.addAliases(cmd.Target, res.SupersededRefs...)
		}
		if cmd.Action == rules.CreateVersion && outcome == OutcomeApplied && res.Version > 0 {
			src.Counterpart = res.Version
			m.st.Versions = append(m.st.Versions, VersionRecord{Side: cmd.Target, Number: res.Version, Status: "Pending",
				RaisedBy: ev.Side, Counterpart: v.Number, Lines: cmd.Version.Lines, Reason: v.Reason})
		}
	case events.VersionSuperseded:
		m.addAliases(ev.Side, v.PreviousJobRef)
	case events.VersionStatusChanged:
		if r := m.version(ev.Side, v.Number); r != nil {
			r.Status = v.Status
		}
		if cmd.Action == rules.DecideVersion && outcome == OutcomeApplied {
			if r := m.version(cmd.Target, cmd.Decision.Number); r != nil {
				r.Status = cmd.Decision.Status
			}
		}
	}
}

// addAliases records refs held by superseded versions of side's job, so
// that their events find the link (and their assignments start none).
func (m *Machine) addAliases(side events.Side, refs ...string) {
	aliases := &m.st.PrimaryAliases
	if side == events.Secondary {
		aliases = &m.st.SecondaryAliases
	}
	for _, ref := range refs {
		if ref != "" && !slices.Contains(*aliases, ref) {
			*aliases = append(*aliases, ref)
		}
	}
}

// aliases are the refs of side's superseded versions the link knows.
func (m *Machine) aliases(side events.Side) []string {
	if side == events.Secondary {
		return m.st.SecondaryAliases
	}
	return m.st.PrimaryAliases
}

func (m *Machine) version(side events.Side, number int) *VersionRecord {
	for i := range m.st.Versions {
		if m.st.Versions[i].Side == side && m.st.Versions[i].Number == number {
			return &m.st.Versions[i]
		}
	}
	return nil
}

// hold keeps an uploaded document for approval.
func (m *Machine) hold(ev events.Event) {
	d := ev.Document
	if m.held(ev.Side, d.DocumentID) >= 0 {
		return
	}
	m.st.HeldDocuments = append(m.st.HeldDocuments, HeldDocument{Side: ev.Side, System: ev.System, JobRef: ev.JobRef,
		DocumentID: d.DocumentID, FileName: d.FileName, Category: d.Category, Size: d.Size, SHA256: d.SHA256,
		Since: ev.OccurredAt, EventID: ev.ID})
}

func (m *Machine) unhold(side events.Side, documentID string) {
	if i := m.held(side, documentID); i >= 0 {
		m.st.HeldDocuments = slices.Delete(m.st.HeldDocuments, i, i+1)
	}
}

// held is the index of a held document, or -1.
func (m *Machine) held(side events.Side, documentID string) int {
	return slices.IndexFunc(m.st.HeldDocuments, func(h HeldDocument) bool { return h.Side == side && h.DocumentID == documentID })
}

// heldByID finds a held document by its id alone (operators name only it).
func (m *Machine) heldByID(documentID string) int {
	return slices.IndexFunc(m.st.HeldDocuments, func(h HeldDocument) bool { return h.DocumentID == documentID })
}

// Unlinking reports whether an operator unlinked the link; it closes once no
// event is being applied.
func (m *Machine) Unlinking() bool { return m.unlink != nil }
