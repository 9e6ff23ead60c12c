package simulator

import (
	cryptorand "crypto/rand"
	"encoding/binary"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/o2o-sync/o2o/events"
)

// This file loses webhooks on purpose: a fault with op "deliver" drops a
// share of a system's webhooks (never sent, as when a sender gives up or a
// URL is wrong), deterministically when seeded. It can also send a share
// twice (duplicate) or hold a share back while later ones go ahead
// (reorder), as at-least-once senders do. Dropped webhooks are kept:
// GET /{system}/sim/dropped lists them, and
// POST /{system}/sim/dropped/{id}/deliver sends one late, with its original
// webhook-id, as a sender's manual replay would.

// maxSeed bounds random seeds to what a JSON number holds exactly everywhere.
const maxSeed = 1<<53 - 1

// defaultHold is how long a reorder fault holds a webhook back.
const defaultHold = time.Second

// deliverFault completes a fault with op "deliver" from its request:
// {"op":"deliver","drop":0.3,"types":["JOB_STATUS_CHANGED"],"seed":42,"count":-1}
// or {"op":"deliver","duplicate":1,"reorder":0.1,"hold":"2s"}.
func (in faultRequest) deliverFault(f *Fault) (*Fault, *apiError) {
	if f.Delay != "" || f.RetryAfter != "" || f.Message != "" || f.After || text(in.Status) != "" || text(in.Rate) != "" {
		return nil, badRequest("a %q fault takes drop, duplicate, reorder, hold, types, seed and count only", OpDeliver)
	}
	for _, sh := range []struct {
		name string
		v    events.Text
		into *float64
	}{{"drop", in.Drop, &f.Drop}, {"duplicate", in.Duplicate, &f.Duplicate}, {"reorder", in.Reorder, &f.Reorder}} {
		if text(sh.v) == "" {
			continue
		}
		x, err := share(sh.name, text(sh.v), "webhooks")
		if err != nil {
			return nil, err
		}
		*sh.into = x
	}
	if f.Drop == 0 && f.Duplicate == 0 && f.Reorder == 0 {
		return nil, badRequest("drop %q must be a share of the webhooks: more than 0, at most 1 (or give duplicate or reorder)", text(in.Drop))
	}
	f.Hold = text(in.Hold)
	if f.Hold != "" {
		if f.Reorder == 0 {
			return nil, badRequest("hold is how long reordered webhooks are held back: it needs reorder")
		}
		d, err := time.ParseDuration(f.Hold)
		if err != nil || d <= 0 || d > 10*time.Minute {
			return nil, badRequest("hold %q must be a duration such as 2s or 500ms, at most 10m", f.Hold)
		}
		f.hold = d
	} else if f.Reorder > 0 {
		f.hold, f.Hold = defaultHold, defaultHold.String()
	}
	f.Count = -1
	if v := text(in.Count); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < -1 {
			return nil, badRequest("count %q must be -1 (until cleared) or a positive number", v)
		}
		if n != 0 { // 0, like absent, means the default
			f.Count = n
		}
	}
	for _, t := range in.Types {
		if !events.Type(t).Handled() {
			return nil, badRequest("type %q is not an event type the simulator sends", t)
		}
		if !slices.Contains(f.Types, events.Type(t)) {
			f.Types = append(f.Types, events.Type(t))
		}
	}
	if err := f.seed(text(in.Seed)); err != nil {
		return nil, err
	}
	return f, nil
}

// share reads a share (more than 0, at most 1) named name, of what.
func share(name, v, what string) (float64, *apiError) {
	x, err := strconv.ParseFloat(v, 64)
	if err != nil || !(x > 0 && x <= 1) {
		return 0, badRequest("%s %q must be a share of the %s: more than 0, at most 1", name, v, what)
	}
	return x, nil
}

// seed sets the fault's random choices from v, or from a random seed when
// v is empty (reported in Seed so that the run can be repeated).
func (f *Fault) seed(v string) *apiError {
	var seed uint64
	if v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil || n > maxSeed {
			return badRequest("seed %q must be a whole number from 0 to %d", v, uint64(maxSeed))
		}
		seed = n
	} else {
		var b [8]byte
		_, _ = cryptorand.Read(b[:]) // never fails (crypto/rand since Go 1.24)
		seed = binary.LittleEndian.Uint64(b[:]) & maxSeed
	}
	f.Seed = &seed
	f.rng = rand.New(rand.NewPCG(seed, 0x6f326f2d64726f70)) // "o2o-drop"
	return nil
}

// fate is what the deliver faults make of one webhook.
type fate struct {
	drop      bool
	duplicate bool
	hold      time.Duration // held back this long (reorder)
}

// fateOf decides, with the system's first deliver fault that matches type
// t, whether the webhook being emitted is dropped, sent twice or held back,
// and uses up one of the fault's decisions. Only the shares the fault has
// are drawn, so a drop-only fault's seed drops the same webhooks as before
// duplicates and reorders existed. s.mu must be held.
func (sys *system) fateOf(t events.Type) fate {
	for i, f := range sys.faults {
		if f.Op != OpDeliver || len(f.Types) > 0 && !slices.Contains(f.Types, t) {
			continue
		}
		var out fate
		if f.Drop > 0 {
			out.drop = f.rng.Float64() < f.Drop
		}
		if f.Duplicate > 0 {
			out.duplicate = f.rng.Float64() < f.Duplicate
		}
		if f.Reorder > 0 && f.rng.Float64() < f.Reorder {
			out.hold = f.hold
		}
		if f.Count > 0 {
			f.Count--
			if f.Count == 0 {
				sys.faults = slices.Delete(sys.faults, i, i+1)
			}
		}
		return out
	}
	return fate{}
}

func (s *Simulator) dropRoutes(mux *http.ServeMux) {
	route := s.simRoute(mux)
	route("GET /dropped", s.simDropped)
	route("POST /dropped/{id}/deliver", s.simDeliverDropped)
}

// simDropped: GET /{system}/sim/dropped: every webhook a deliver fault
// dropped, in the order they were produced, with its state now: "dropped",
// or "pending"/"delivered"/"failed" once sent late.
func (s *Simulator) simDropped(sys *system, w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	out := make([]OutboxEvent, 0, len(sys.outbox.dropped))
	for _, ev := range sys.outbox.dropped {
		out = append(out, *ev)
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

// simDeliverDropped: POST /{system}/sim/dropped/{id}/deliver: the dropped
// webhook joins the end of the system's queue and is sent like any other
// (signed afresh, retried), with its original webhook-id and body. 202 with
// the event; 404 for an id that was not dropped; 409 once it has been sent.
func (s *Simulator) simDeliverDropped(sys *system, w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	s.mu.Lock()
	defer s.mu.Unlock()
	i := slices.IndexFunc(sys.outbox.dropped, func(ev *OutboxEvent) bool { return ev.ID == id })
	if i < 0 {
		writeSimError(w, notFound("no dropped webhook %q", id))
		return
	}
	ev := sys.outbox.dropped[i]
	if ev.State != StateDropped {
		writeSimError(w, conflict("webhook %q was already sent late (state %s)", id, ev.State))
		return
	}
	if !sys.seed.sendsWebhooks() {
		writeSimError(w, conflict("system %s sends no webhooks", sys.seed.Name))
		return
	}
	ob := &sys.outbox
	ob.finished = slices.DeleteFunc(ob.finished, func(e *OutboxEvent) bool { return e == ev })
	ev.State = StatePending
	ob.pending = append(ob.pending, ev)
	select {
	case ob.wake <- struct{}{}:
	default: // already signalled
	}
	s.log.Info("dropped webhook sent late", "system", sys.seed.Name, "id", ev.ID, "type", string(ev.Type))
	s.notifyLocked()
	writeJSON(w, http.StatusAccepted, *ev)
}
