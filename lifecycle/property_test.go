package lifecycle

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/o2o-sync/o2o/events"
	"github.com/o2o-sync/o2o/rules"
)

// Property tests: random lives of a link — events from both sides, each
// delivered once or more and out of order, operator actions at any moment,
// activities that succeed, find nothing to do or are refused, grace periods
// that end, continue-as-new at any point — checked after every input for
// the properties the link promises.

// choices is where a simulated life takes its decisions from: a seeded
// generator (TestRandomLives) or the fuzzer's bytes (FuzzLife).
type choices interface {
	intn(n int) int
}

type seeded struct{ r *rand.Rand }

func (s seeded) intn(n int) int { return s.r.IntN(n) }

type fuzzBytes struct {
	b []byte
	i int
}

func (f *fuzzBytes) intn(n int) int {
	if f.i >= len(f.b) {
		return 0
	}
	v := int(f.b[f.i])
	f.i++
	return v % n
}

// propertyLives is how many random lives TestRandomLives runs; make fuzz
// runs FuzzLife for more. O2O_PROPERTY_LIVES overrides it.
var propertyLives = 3000

var debugLife bool

func TestRandomLives(t *testing.T) {
	n := propertyLives
	if v, err := strconv.Atoi(os.Getenv("O2O_PROPERTY_LIVES")); err == nil && v > 0 {
		n = v
	}
	if testing.Short() {
		n /= 10
	}
	inputs := 0
	for seed := range n {
		r := rand.New(rand.NewPCG(uint64(seed), 0x02))
		inputs += live(t, seeded{r}, fmt.Sprintf("seed %d", seed))
		if t.Failed() {
			return
		}
	}
	t.Logf("%d random lives, %d inputs, every property held", n, inputs)
}

func FuzzLife(f *testing.F) {
	for seed := range 8 {
		b := make([]byte, 512)
		r := rand.New(rand.NewPCG(uint64(seed), 7))
		for i := 0; i < len(b); i += 8 {
			binary.LittleEndian.PutUint64(b[i:], r.Uint64())
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		live(t, &fuzzBytes{b: b}, "fuzz input")
	})
}

// model is what the test knows independently of the machine.
type model struct {
	deliveries map[string]int    // deliveries per event id
	attempts   map[string]string // the last attempt's result per event id: applied, skipped, failed
	successes  map[string]int    // activity successes per event id
	records    []EventRecord     // every record the machine made, in order
	byID       map[string]events.Event
	begun      int // events begun after the link closed must stay 0
}

// live simulates one life and checks the properties; it returns how many
// inputs it fed.
func live(t *testing.T, c choices, name string) int {
	t.Helper()
	// Runs of both behaviours a link can have today (CompatMachine: links
	// started before facts, until their next continue-as-new).
	compat := CompatCurrent
	if c.intn(4) == 0 {
		compat = CompatMachine
	}
	h := newHarness(t, Options{ContinueAsNewAfter: 1 + c.intn(40), Compat: compat})
	md := &model{deliveries: map[string]int{}, attempts: map[string]string{}, successes: map[string]int{}, byID: map[string]events.Event{}}
	pending := lifeEvents(c)
	for _, ev := range pending {
		md.byID[ev.ID] = ev
	}
	var facts []events.Event // what a reconciliation could read: the facts delivered so far
	var inflight bool
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("%s: %s\nstate %+v", name, fmt.Sprintf(format, args...), h.m.st)
	}
	take := func() { md.records = append(md.records, h.m.TakeRecords()...) }
	restore := func() {
		take()
		h.m = Restore(h.m.Carry(), h.tick(), h.m.opts)
	}
	begin := func() bool {
		s := h.m.Next(false)
		if s.Kind != Apply {
			return false
		}
		if h.m.Closed() {
			md.begun++
		}
		// Source order: when an event is first tried, nothing of the same
		// side that happened earlier may still be waiting, unless it waits
		// for the linked job. (A retry tries the blocked event again first:
		// what arrived after it blocked waits behind it.)
		tried := md.attempts[s.Event.ID] != ""
		for _, q := range h.m.queue {
			if tried {
				break
			}
			if q.ID != s.Event.ID && q.Side == s.Event.Side && q.OccurredAt.Before(s.Event.OccurredAt) &&
				!(rules.NeedsLinkedJob(q) && h.m.st.SecondaryJobRef == "") && !h.m.seen.has(q.ID) {
				fail("%s begun before %s of the same side, which happened earlier", s.Event.ID, q.ID)
			}
		}
		h.begin()
		inflight = true
		return true
	}
	settle := func(kind int) {
		b := h.m.busy
		inflight = false
		if b.dup != "" {
			h.m.Finish(h.tick(), Result{})
			return
		}
		cmd := h.m.Command()
		switch {
		case cmd.Action == rules.Skip:
			md.attempts[b.ev.ID] = "skipped"
			h.m.Finish(h.tick(), Result{})
		case kind < 6:
			md.attempts[b.ev.ID] = "applied"
			md.successes[b.ev.ID]++
			h.m.Finish(h.tick(), result(cmd))
		case kind < 7:
			md.attempts[b.ev.ID] = "skipped"
			h.m.Finish(h.tick(), Skipped("nothing to do at the source"))
		default:
			md.attempts[b.ev.ID] = "failed"
			h.m.Fail(h.tick(), "refused: "+b.ev.ID)
		}
	}
	steps := 0
	for ; steps < 400 && !(len(pending) == 0 && h.m.Closed()); steps++ {
		switch op := c.intn(20); {
		case op < 6 && len(pending) > 0: // a delivery, possibly out of order
			i := 0
			if c.intn(4) == 0 {
				i = c.intn(len(pending))
			}
			ev := pending[i]
			pending = append(pending[:i:i], pending[i+1:]...)
			if c.intn(5) == 0 { // a webhook lost on the way: only a reconciliation will find it
				facts = append(facts, ev)
				break
			}
			md.deliveries[ev.ID]++
			h.deliver(ev)
			facts = append(facts, ev)
		case op < 11: // the workflow's loop
			if inflight {
				settle(c.intn(9))
				break
			}
			switch h.m.Next(false).Kind {
			case Apply:
				begin()
				if c.intn(3) > 0 { // most activities end within the same step
					settle(c.intn(9))
				}
			case Close:
				h.m.Close(h.tick())
			case ContinueAsNew:
				restore()
			}
		case op < 16: // an operator
			action := Actions[c.intn(len(Actions))]
			if action == ActionUnlink && c.intn(4) > 0 {
				action = ActionResume // unlink ends the life: keep it rarer
			}
			reason := ""
			if c.intn(5) > 0 {
				reason = "because"
			}
			r := OperatorRequest{By: "ops", Reason: reason}
			if err := h.m.Validate(action, r); err == nil {
				h.m.Operate(h.tick(), action, r)
			}
		case op < 17 && len(facts) > 0 && h.m.ValidateOffer() == nil: // a reconciliation offers a fact it read
			f := facts[c.intn(len(facts))]
			f.ID, f.Source = "r:"+f.ID+":"+strconv.Itoa(steps), events.FromReconcile
			md.byID[f.ID] = f
			if h.m.Offer(h.tick(), []events.Event{f}) == 1 {
				md.deliveries[f.ID]++
			}
		case op < 18: // the grace period's timer
			if at := h.m.ClosesAt(); at != nil {
				h.m.GraceOver(h.tick(), *at)
			}
		default: // continue-as-new, whenever Temporal suggests it
			if !inflight && !h.m.Closed() {
				restore()
			}
		}
		take()
		checkInvariants(t, h.m)
	}
	// The end of the life: everything delivered, then an operator who
	// resolves whatever is blocked until nothing is left.
	for _, ev := range pending {
		md.deliveries[ev.ID]++
		h.deliver(ev)
	}
	// And a reconciliation reads every fact, lost webhooks included.
	if h.m.ValidateOffer() != nil {
		facts = nil // a run older than facts, or closed: nothing to offer
	}
	for i, f := range facts {
		f.ID, f.Source = "final:"+f.ID+":"+strconv.Itoa(i), events.FromReconcile
		md.byID[f.ID] = f
		if h.m.Offer(h.tick(), []events.Event{f}) == 1 {
			md.deliveries[f.ID]++
		}
	}
	for range 2000 {
		if inflight {
			settle(c.intn(9))
		}
		if h.m.Closed() {
			break
		}
		switch h.m.Next(false).Kind {
		case Apply:
			begin()
			continue
		case Close:
			h.m.Close(h.tick())
			continue
		case ContinueAsNew:
			restore()
			continue
		}
		switch {
		case h.m.paused:
			h.mustOperate(ActionResume)
		case h.m.failure != "" && c.intn(2) == 0:
			h.mustOperate(ActionRetry)
		case h.m.failure != "":
			h.mustOperate(ActionSkip)
		}
		if h.m.Next(false).Kind == Wait && !h.m.paused && h.m.failure == "" {
			break
		}
		take()
		checkInvariants(t, h.m)
	}
	take()
	checkInvariants(t, h.m)
	// Nothing missed: once the link has drained, it knows every fact any
	// source reported (unless it closed, or waits for a linked job).
	if !h.m.Closed() && len(h.m.queue) == 0 {
		for _, f := range facts {
			if rules.FactKeys(f) != nil && h.m.duplicate(f) == "" {
				fail("fact %s (%s) was never learned", f.ID, rules.FactKeys(f)[0])
			}
		}
	}
	// What is left waits for a linked job that no assignment created.
	for _, ev := range h.m.queue {
		if h.m.st.SecondaryJobRef != "" || !rules.NeedsLinkedJob(ev) {
			fail("%s left in the queue with nothing blocking it", ev.ID)
		}
	}
	if debugLife {
		t.Logf("closed %v busy %v inflight %v queue %d state %+v", h.m.Closed(), h.m.busy, inflight, len(h.m.queue), h.m.st)
	}
	checkRecords(t, name, md, h.m.queue, compat)
	return steps
}

// checkRecords holds the machine's records against the model.
func checkRecords(t *testing.T, name string, md *model, waiting []events.Event, compat Compat) {
	t.Helper()
	held := map[string]int{}
	for _, ev := range waiting {
		held[ev.ID]++
	}
	per := map[string][]EventRecord{}
	for _, r := range md.records {
		per[r.ID] = append(per[r.ID], r)
	}
	if md.begun > 0 {
		t.Fatalf("%s: %d events begun after the link closed", name, md.begun)
	}
	// A fact is applied once, whichever source reported it first.
	appliedFacts := map[string]string{}
	for _, r := range md.records {
		if r.Outcome != OutcomeApplied || compat < CompatFacts {
			continue
		}
		if keys := rules.FactKeys(md.byID[r.ID]); len(keys) > 0 {
			if first, ok := appliedFacts[keys[0]]; ok {
				t.Fatalf("%s: fact %s applied twice: by %s and by %s", name, keys[0], first, r.ID)
			}
			appliedFacts[keys[0]] = r.ID
		}
	}
	for id, n := range md.deliveries {
		recs := per[id]
		// No event lost: every delivery ends in exactly one record, or is
		// still held, waiting for the linked job.
		if len(recs)+held[id] != n {
			t.Fatalf("%s: %s delivered %d times, recorded %d times, held %d: %+v", name, id, n, len(recs), held[id], recs)
		}
		applied, failed := 0, 0
		for _, r := range recs {
			switch r.Outcome {
			case OutcomeApplied:
				applied++
			case OutcomeFailed:
				failed++
				// Failed only if tried, and the last try failed.
				if md.attempts[id] != "failed" {
					t.Fatalf("%s: %s recorded failed, but its last attempt was %q: %s", name, id, md.attempts[id], r.Detail)
				}
			}
		}
		// Never applied twice; applied exactly when an activity applied it.
		if applied+failed > 1 || applied != md.successes[id] {
			t.Fatalf("%s: %s applied %d times (activity successes %d), failed %d: %+v", name, id, applied, md.successes[id], failed, recs)
		}
	}
}

// lifeEvents are the deliveries of one life, in source order per side:
// assignments (the link's team and another), primary and secondary status
// changes (mapped, unmapped, ending, cancelling, reopening), appointments,
// and redeliveries of any of them.
func lifeEvents(c choices) []events.Event {
	var evs []events.Event
	at := [2]time.Time{t0, t0}
	n := 3 + c.intn(25)
	for i := range n {
		side := events.Primary
		if c.intn(2) == 0 {
			side = events.Secondary
		}
		s := 0
		if side == events.Secondary {
			s = 1
		}
		at[s] = at[s].Add(time.Duration(1+c.intn(120)) * time.Minute)
		id := fmt.Sprintf("e%02d", i)
		var ev events.Event
		switch k := c.intn(10); {
		case side == events.Primary && k < 3:
			team := "7"
			if k == 2 {
				team = "8"
			}
			ev = assignment(id, fmt.Sprintf("1370%02d", c.intn(4)), team, at[s])
		case k < 7:
			statuses := []string{"Accepted", "On Hold", "Completed", "In Progress", "Cancelled"}
			ev = status(id, side, statuses[c.intn(len(statuses))], at[s])
		default:
			ev = status(id, side, "Accepted", at[s])
			ev.Type, ev.Status = events.AppointmentCreated, nil
			ev.Appointment = &events.Appointment{AppointmentID: "5001", Start: at[s].Add(24 * time.Hour)}
		}
		evs = append(evs, ev)
		for range c.intn(8) / 5 * (1 + c.intn(3)) { // now and then a redelivery or three
			evs = append(evs, ev)
		}
	}
	return evs
}
