package drill

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/o2o-sync/o2o/activities"
	"github.com/o2o-sync/o2o/lifecycle"
	"github.com/o2o-sync/o2o/simulator"
	"github.com/o2o-sync/o2o/workflows"
)

// Report is what the drill found.
type Report struct {
	Options Options
	Links   int // links driven
	Events  int // source events produced

	// Lost: source events never applied in their target. Duplicated: extra
	// applications (a second linked job, a job event written twice).
	// OutOfOrder: events applied after a later event of their link and side
	// although O2O had acknowledged them first — O2O's own reordering.
	Lost, Duplicated, OutOfOrder int
	// DeliveredLate: events whose webhook was first acknowledged after a
	// later event of their link and side (held back by the reorder fault,
	// or behind a failing delivery); AppliedLate: those of them applied
	// after it (no receiver can put back in order what it has not yet
	// received). Not failures.
	DeliveredLate, AppliedLate int
	// Overtook: events never applied because every delivery reached O2O
	// before the assignment that starts their link (answered 200, "no
	// running link"): O2O leaves them to the link's scheduled
	// reconciliation, which the drill switches off (docs/operations.md,
	// Known limits). Reported, not a failure; Lost does not count them.
	Overtook int
	// AckedNotStored: 202 answers beyond the deliveries the link recorded —
	// a webhook acknowledged but not stored (must be 0).
	AckedNotStored int
	// Deliveries: webhook requests answered 202; Redelivered: attempts
	// after a failed one (503 while Temporal was down, timeouts).
	Deliveries, Redelivered, Ignored int

	LongestStall time.Duration // no event applied while some were pending
	StallFrom    time.Duration // since the first event was produced
	StallNote    string        // what happened just before it
	ProduceTime  time.Duration // from the first event produced to the last
	DrainTime    time.Duration // from the last event produced to the last applied
	TotalTime    time.Duration
	Drained      bool
	WorkerKills  int
	Timeline     []string
	Examples     []string // the first few failures, explained
	Problems     []string // links not Linked, drill errors
}

// OK says the drill passed: nothing lost, duplicated or out of order, no
// acknowledged event missing, everything drained.
func (r *Report) OK() bool {
	return r.Lost == 0 && r.Duplicated == 0 && r.OutOfOrder == 0 && r.AckedNotStored == 0 && r.Drained
}

// Print writes the report.
func (r *Report) Print(w io.Writer) {
	o := r.Options
	fmt.Fprintf(w, "\nO2O drill: %d links × %d events = %d events\n", r.Links, o.EventsPerLink, r.Events)
	fmt.Fprintf(w, "faults: target calls %.0f%% 5xx, %.0f%% held past the %s client timeout (%.0f%% of those applied first); "+
		"webhooks %.0f%% delivered twice, %.0f%% held back %s (out of order); worker kill -9 every %s (%d kills); Temporal restarts: %d\n",
		100*o.ServerErrors, 100*o.Timeouts, o.CallTimeout, 100*o.TimeoutsApplied, 100*o.Duplicate, 100*o.Reorder, o.Hold,
		o.KillEvery, r.WorkerKills, map[bool]int{true: 1}[o.TemporalRestart])
	fmt.Fprintf(w, "webhooks: %d acknowledged (202), %d answered 200 (no link yet), %d redelivery attempts after a failure\n",
		r.Deliveries, r.Ignored, r.Redelivered)
	fmt.Fprintln(w, "timeline (from the first event produced):")
	for _, t := range r.Timeline {
		fmt.Fprintln(w, "  "+t)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "lost:           %d\n", r.Lost)
	fmt.Fprintf(w, "duplicated:     %d\n", r.Duplicated)
	fmt.Fprintf(w, "out-of-order:   %d\n", r.OutOfOrder)
	fmt.Fprintf(w, "  (delivered out of order: %d events reached O2O after a later event of their link; %d of them were applied after it)\n",
		r.DeliveredLate, r.AppliedLate)
	fmt.Fprintf(w, "  (overtook their link's assignment: %d events reached O2O only before their link existed, answered 200;\n"+
		"   a link's scheduled reconciliation applies them, switched off in the drill)\n", r.Overtook)
	fmt.Fprintf(w, "acked, not stored: %d\n", r.AckedNotStored)
	fmt.Fprintf(w, "longest stall:  %.1fs (from %.1fs%s)\n", r.LongestStall.Seconds(), r.StallFrom.Seconds(), r.StallNote)
	drained := "drained"
	if !r.Drained {
		drained = "NOT drained"
	}
	fmt.Fprintf(w, "time to drain:  %.1fs after the last event (%s; produced in %.1fs, %.1fs in all)\n",
		r.DrainTime.Seconds(), drained, r.ProduceTime.Seconds(), r.TotalTime.Seconds())
	for _, e := range r.Examples {
		fmt.Fprintln(w, "  ✗ "+e)
	}
	for _, p := range r.Problems {
		fmt.Fprintln(w, "  ! "+p)
	}
	if r.OK() {
		fmt.Fprintln(w, "PASS")
	} else {
		fmt.Fprintln(w, "FAIL")
	}
}

func marker(eventID string) string { return activities.EventMarker(LinkName, eventID) }

// delivery is what the sender saw of one webhook.
type delivery struct {
	acks     int       // 202 answers
	ignored  int       // 200 answers (no link)
	firstAck time.Time // the first 202 answer
}

// deliveries is what the senders saw of each webhook, by webhook id; r (if
// not nil) gets the totals.
func (d *drill) deliveries(r *Report) map[string]*delivery {
	if r == nil {
		r = &Report{}
	}
	sent := map[string]*delivery{}
	for _, sys := range []string{"acme", "fixit"} {
		for _, ev := range d.sim.Outbox(sys) {
			dv := sent[ev.ID]
			if dv == nil {
				dv = &delivery{}
				sent[ev.ID] = dv
			}
			r.Redelivered += max(ev.Attempts-1, 0)
			if !ev.Delivered || ev.LastAttemptAt == nil {
				continue
			}
			switch ev.LastStatus {
			case http.StatusAccepted:
				dv.acks++
				r.Deliveries++
				if dv.firstAck.IsZero() || ev.LastAttemptAt.Before(dv.firstAck) {
					dv.firstAck = *ev.LastAttemptAt
				}
			default:
				dv.ignored++
				r.Ignored++
			}
		}
	}
	return sent
}

// overtook reports whether every delivery of the webhook was answered 200
// (no link yet): it overtook its link's assignment (Report.Overtook).
func (dv *delivery) overtook() bool { return dv.acks == 0 && dv.ignored > 0 }

// overtaken counts the webhooks that overtook their link's assignment.
func overtaken(sent map[string]*delivery) int {
	n := 0
	for _, dv := range sent {
		if dv.overtook() {
			n++
		}
	}
	return n
}

// analyse checks the simulator's final state against what was produced.
func (d *drill) analyse(ctx context.Context, links []*link) (*Report, error) {
	a := &analysis{r: &Report{Options: d.o}}
	a.sent = d.deliveries(a.r)
	var fixitJobs []simulator.Job
	if err := d.simDo(http.MethodGet, "fixit", "/jobs", nil, &fixitJobs); err != nil {
		return nil, err
	}
	byClientRef := map[string][]simulator.Job{}
	for _, j := range fixitJobs {
		byClientRef[j.ClientRef] = append(byClientRef[j.ClientRef], j)
	}
	states := d.linkStates(ctx, links)

	r := a.r
	for _, l := range links {
		acmeRef, _, evs := l.snapshot()
		if l.err != nil {
			r.Problems = append(r.Problems, fmt.Sprintf("link %d (%s): %v", slices.Index(links, l), acmeRef, l.err))
		}
		if acmeRef == "" {
			continue
		}
		r.Links++
		r.Events += len(evs)
		acme, _ := d.sim.Job("acme", acmeRef)
		linked := byClientRef[acmeRef]
		// The history of the job(s) each side's events are written to:
		// acme's land in the linked job, fixit's in acme's.
		written := map[string][]simulator.HistoryEvent{"fixit": acme.History}
		for _, j := range linked {
			written["acme"] = append(written["acme"], j.History...)
		}
		st := states[acmeRef]
		for _, side := range []string{"acme", "fixit"} {
			a.side(linkSide{name: side, acmeRef: acmeRef, st: st}, sideEvents(evs, side), written[side], linked)
		}
		if st != nil && (st.State != lifecycle.StateLinked || st.Pending > 0) {
			r.Problems = append(r.Problems, fmt.Sprintf("link %s: %s, %d pending%s", acmeRef, st.State, st.Pending, stateNote(st)))
		}
	}
	r.LongestStall, r.StallFrom = longestStall(a.timeline)
	if len(r.Problems) > 20 {
		r.Problems = append(r.Problems[:20], fmt.Sprintf("... and %d more", len(r.Problems)-20))
	}
	return r, nil
}

// analysis is one pass of analyse: the report it fills, what the senders saw
// of each webhook, and the timeline the longest stall is read from.
type analysis struct {
	r        *Report
	sent     map[string]*delivery
	timeline []point
}

// point is one step of the timeline: an event produced (+1) or applied (-1).
type point struct {
	at    time.Time
	delta int
}

// linkSide names one side of one link, for the checks and their examples.
type linkSide struct {
	name    string // "acme" or "fixit": the system whose events these are
	acmeRef string
	st      *lifecycle.LinkState // nil if the link's state could not be read
}

// example keeps the first ten findings as examples for the report.
func (a *analysis) example(format string, args ...any) {
	if len(a.r.Examples) < 10 {
		a.r.Examples = append(a.r.Examples, fmt.Sprintf(format, args...))
	}
}

// sideEvents is the events of evs produced by system side, in order.
func sideEvents(evs []source, side string) []source {
	var srcs []source
	for _, ev := range evs {
		if ev.System == side {
			srcs = append(srcs, ev)
		}
	}
	return srcs
}

// side checks one side's events of a link against the history they are
// written to: each applied once, in order; linked is the link's fixit job(s),
// made by its assignment.
func (a *analysis) side(ls linkSide, srcs []source, written []simulator.HistoryEvent, linked []simulator.Job) {
	count, appliedAt, order := applications(srcs, written)
	for i, ev := range srcs {
		if ev.Kind == "assign" {
			count[i] = len(linked)
			if len(linked) > 0 {
				appliedAt[i] = linked[0].CreatedAt
			}
		}
		a.event(ls, ev, count[i], appliedAt[i])
	}
	a.order(ls, srcs, order)
	a.deliveredLate(srcs)
}

// applications finds each event's marker in the history written: how many
// times each event (by source position) was applied, when first, and the
// positions in the order they were first written. An assignment writes no
// marker; the caller counts it by the jobs it made.
func applications(srcs []source, written []simulator.HistoryEvent) (count []int, appliedAt []time.Time, order []int) {
	pos := map[string]int{} // marker → source position
	for i, ev := range srcs {
		if ev.Kind != "assign" {
			pos[marker(ev.ID)] = i
		}
	}
	count = make([]int, len(srcs))
	appliedAt = make([]time.Time, len(srcs))
	for _, h := range written {
		for m, i := range pos {
			if strings.Contains(h.Note, m) {
				if count[i] == 0 {
					order = append(order, i)
					appliedAt[i] = h.RecordedAt
				}
				count[i]++
			}
		}
	}
	return count, appliedAt, order
}

// event counts one event: on the timeline, and as lost, duplicated, overtaken
// or acknowledged but not recorded; count is how many times it was applied,
// appliedAt when first (zero if never).
func (a *analysis) event(ls linkSide, ev source, count int, appliedAt time.Time) {
	r := a.r
	dv := a.sent[ev.ID]
	if dv == nil {
		dv = &delivery{}
	}
	// An event that overtook its link's assignment waits for
	// reconciliation (off in the drill), not for O2O's work:
	// it would make the tail look like one long stall.
	if !(count == 0 && dv.overtook()) {
		a.timeline = append(a.timeline, point{ev.At, +1})
	}
	if !appliedAt.IsZero() {
		a.timeline = append(a.timeline, point{appliedAt, -1})
	}
	switch {
	case count == 0 && dv.overtook():
		r.Overtook++
	case count == 0:
		r.Lost++
		why := "never applied"
		switch {
		case dv.acks > 0:
			why = fmt.Sprintf("acknowledged %d time(s) (202), never applied", dv.acks)
		}
		a.example("lost: %s %s of %s (%s): %s%s", ls.name, ev.Kind, ls.acmeRef, ev.ID, why, stateNote(ls.st))
	case count > 1:
		r.Duplicated += count - 1
		a.example("duplicated: %s %s of %s (%s) applied %d times", ls.name, ev.Kind, ls.acmeRef, ev.ID, count)
	}
	if ls.st != nil && dv.acks > 0 {
		a.stored(ls, ev, dv)
	}
}

// stored checks that every acknowledged (202) delivery of ev was recorded by
// its link, unless the link has dropped old records.
func (a *analysis) stored(ls linkSide, ev source, dv *delivery) {
	stored := 0
	for _, rec := range ls.st.Events {
		if rec.ID == ev.ID {
			stored++
		}
	}
	if ls.st.EventsDropped == 0 && stored < dv.acks {
		a.r.AckedNotStored += dv.acks - stored
		a.example("acknowledged (202) %d time(s), recorded %d time(s) by its link: %s %s of %s (%s)",
			dv.acks, stored, ls.name, ev.Kind, ls.acmeRef, ev.ID)
	}
}

// order checks the order events were written in (source positions): an event
// written after a later one of its side is out of order (O2O's fault) if O2O
// acknowledged it first, else applied late (it arrived late).
func (a *analysis) order(ls linkSide, srcs []source, order []int) {
	sent := a.sent
	for j, e := range order {
		late := false
		for _, f := range order[:j] {
			if f > e {
				late = true
				break
			}
		}
		if !late {
			continue
		}
		ownFault := false
		for _, f := range order[:j] {
			if f > e && sent[srcs[e].ID] != nil && sent[srcs[f].ID] != nil &&
				sent[srcs[e].ID].firstAck.Before(sent[srcs[f].ID].firstAck) {
				ownFault = true
			}
		}
		if ownFault {
			a.r.OutOfOrder++
			a.example("out of order: %s %s of %s (%s) applied after a later event although O2O acknowledged it first",
				ls.name, srcs[e].Kind, ls.acmeRef, srcs[e].ID)
		} else {
			a.r.AppliedLate++
		}
	}
}

// deliveredLate counts the events first acknowledged after a later event of
// their side: the senders' reordering, not O2O's.
func (a *analysis) deliveredLate(srcs []source) {
	for i := range srcs {
		for k := i + 1; k < len(srcs); k++ {
			x, y := a.sent[srcs[i].ID], a.sent[srcs[k].ID]
			if x != nil && y != nil && !x.firstAck.IsZero() && !y.firstAck.IsZero() && y.firstAck.Before(x.firstAck) {
				a.r.DeliveredLate++
				break
			}
		}
	}
}

// longestStall is the longest time in which no event was applied while at
// least one had been produced and not yet applied, and when it began (from
// the first point); a stall still open at the end runs until now.
func longestStall(timeline []point) (longest, from time.Duration) {
	sort.Slice(timeline, func(i, j int) bool { return timeline[i].at.Before(timeline[j].at) })
	pending := 0
	var since, first time.Time
	for _, p := range timeline {
		if first.IsZero() {
			first = p.at
		}
		if p.delta < 0 {
			if pending > 0 && p.at.Sub(since) > longest {
				longest, from = p.at.Sub(since), since.Sub(first)
			}
			since = p.at
		} else if pending == 0 {
			since = p.at
		}
		pending += p.delta
	}
	if pending > 0 && time.Since(since) > longest {
		longest, from = time.Since(since), since.Sub(first)
	}
	return longest, from
}

func stateNote(st *lifecycle.LinkState) string {
	if st == nil {
		return " (no link state)"
	}
	if st.LastError != "" {
		return fmt.Sprintf(" (link %s: %s)", st.State, st.LastError)
	}
	return ""
}

// linkStates reads every link's state (the linkState query), a few at a
// time; a link whose query fails is left out.
func (d *drill) linkStates(ctx context.Context, links []*link) map[string]*lifecycle.LinkState {
	out := map[string]*lifecycle.LinkState{}
	var mu sync.Mutex
	refs := make(chan string)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ref := range refs {
				for attempt := range 5 {
					if ctx.Err() != nil {
						break
					}
					qctx, cancel := context.WithTimeout(ctx, 15*time.Second)
					st, err := workflows.QueryState(qctx, d.tc, LinkName, ref)
					cancel()
					if err == nil {
						mu.Lock()
						out[ref] = st
						mu.Unlock()
						break
					}
					time.Sleep(time.Duration(attempt+1) * time.Second)
				}
			}
		}()
	}
	for _, l := range links {
		if ref, _, _ := l.snapshot(); ref != "" {
			refs <- ref
		}
	}
	close(refs)
	wg.Wait()
	return out
}

// stallNote names the chaos action just before the longest stall.
func (r *Report) stallNote(start time.Time, marks []mark) {
	at := start.Add(r.StallFrom)
	var last *mark
	for i := range marks {
		if !marks[i].at.After(at.Add(time.Second)) {
			last = &marks[i]
		}
	}
	if last != nil {
		r.StallNote = fmt.Sprintf("; %.1fs after: %s", at.Sub(last.at).Seconds(), last.what)
	}
}
