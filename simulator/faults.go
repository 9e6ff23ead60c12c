package simulator

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/o2o-sync/o2o/events"
)

// This file injects faults into the REST API, so that clients' retry,
// timeout and error handling can be exercised on demand, and into webhook
// delivery (op "deliver", see drop.go), so that lost webhooks can be.

// OpDeliver is the Fault.Op of a fault on the system's webhooks rather than
// on its REST API: a share of them is never sent (Drop), sent twice
// (Duplicate) or held back while later ones go ahead (Reorder).
const OpDeliver = "deliver"

// Fault makes matching /rest requests fail or slow down, or (op "deliver")
// matching webhooks never be sent. It is set with POST /{system}/sim/faults
// and cleared with DELETE /{system}/sim/faults.
type Fault struct {
	// Op is the REST operation name (OpCreateJob, ...), "*" for all of them,
	// or OpDeliver for the system's webhooks ("*" does not include them).
	Op string `json:"op"`
	// Status is the HTTP status answered, with the error envelope. 0 means
	// the request is only delayed and then served normally. A 2xx status
	// answers result "error" inside a success status.
	Status int `json:"status"`
	// Count is how many more requests this fault applies to; -1 means until
	// cleared. For op "deliver", how many more matching webhooks it decides
	// on, dropped or not (default -1: a share only means something over
	// many).
	Count int `json:"count"`
	// RetryAfter, when set, is sent as the Retry-After header (seconds).
	RetryAfter string `json:"retryAfter,omitempty"`
	// Delay is how long the handler waits before answering, to provoke
	// client timeouts.
	Delay string `json:"delay,omitempty"`
	// After applies the fault once the request has been served: the change
	// is made, but the caller gets the fault (or waits out the delay)
	// instead of the answer — a response lost on the way back, which is what
	// makes a client's retry dangerous without idempotency.
	After bool `json:"after,omitempty"`
	// Message is the result_msg (default "simulated fault").
	Message string `json:"message,omitempty"`
	// Rate, when set, is the share of matching requests the fault applies
	// to (more than 0, at most 1), chosen at random — repeatably with Seed;
	// a request it passes over goes on to the next fault, or is served.
	// Count then counts only the requests it applied to. Without Rate a
	// fault applies to every matching request.
	Rate float64 `json:"rate,omitempty"`

	// Drop (op "deliver" only) is the share of matching webhooks that are
	// never sent: more than 0, at most 1 (every one).
	Drop float64 `json:"drop,omitempty"`
	// Types (op "deliver" only) limits the fault to these event types;
	// empty means every type.
	Types []events.Type `json:"types,omitempty"`
	// Duplicate (op "deliver" only) is the share of matching webhooks sent
	// twice: once delivered, the same webhook (same webhook-id and body) is
	// queued again, as by a sender that did not see the first answer.
	Duplicate float64 `json:"duplicate,omitempty"`
	// Reorder (op "deliver" only) is the share of matching webhooks held
	// back for Hold while the webhooks behind them are sent: they arrive
	// after later ones, as from a sender that retries one later and moves on.
	Reorder float64 `json:"reorder,omitempty"`
	// Hold (op "deliver" only) is how long a reordered webhook is held back
	// (default 1s).
	Hold string `json:"hold,omitempty"`
	// Seed seeds the random choices (op "deliver": which webhooks are
	// dropped, duplicated or reordered; a REST fault with Rate: which
	// requests fail): the same seed over the same events chooses the same
	// ones. Chosen at random when not given, and reported so that a run can
	// be repeated.
	Seed *uint64 `json:"seed,omitempty"`

	delay time.Duration
	hold  time.Duration
	rng   *rand.Rand // decides each drop, duplicate, reorder (op "deliver") or Rate
}

// faultRequest is the JSON of POST /sim/faults. Numbers may be sent as
// strings or bare numbers.
type faultRequest struct {
	Op         events.Text `json:"op"`
	Status     events.Text `json:"status"`
	Count      events.Text `json:"count"`
	RetryAfter events.Text `json:"retryAfter"`
	Delay      events.Text `json:"delay"`
	Message    events.Text `json:"message"`
	After      bool        `json:"after"`
	Drop       events.Text `json:"drop"`
	Duplicate  events.Text `json:"duplicate"`
	Reorder    events.Text `json:"reorder"`
	Hold       events.Text `json:"hold"`
	Rate       events.Text `json:"rate"`
	Types      []string    `json:"types"`
	Seed       events.Text `json:"seed"`
}

func (in faultRequest) fault() (*Fault, *apiError) {
	f := &Fault{Op: text(in.Op), RetryAfter: text(in.RetryAfter), Delay: text(in.Delay), Message: string(in.Message), Count: 1, After: in.After}
	if f.Op == OpDeliver {
		return in.deliverFault(f)
	}
	if f.Op != "*" && !slices.Contains(allOps, f.Op) {
		return nil, badRequest("op %q must be * or one of %s, or %s (webhooks)", f.Op, strings.Join(allOps, ", "), OpDeliver)
	}
	if text(in.Drop) != "" || text(in.Duplicate) != "" || text(in.Reorder) != "" || text(in.Hold) != "" || in.Types != nil {
		return nil, badRequest("drop, duplicate, reorder, hold and types are for op %q (webhooks), not for REST operations", OpDeliver)
	}
	if v := text(in.Rate); v != "" {
		rate, err := share("rate", v, "requests")
		if err != nil {
			return nil, err
		}
		f.Rate = rate
		if err := f.seed(text(in.Seed)); err != nil {
			return nil, err
		}
	} else if text(in.Seed) != "" {
		return nil, badRequest("seed is for a fault with a rate, or for op %q", OpDeliver)
	}
	if v := text(in.Status); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n != 0 && (n < 100 || n > 599) {
			return nil, badRequest("status %q must be an HTTP status code (or 0 for delay only)", v)
		}
		f.Status = n
	}
	if v := text(in.Count); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < -1 {
			return nil, badRequest("count %q must be -1 (until cleared) or a positive number", v)
		}
		if n != 0 { // 0, like absent, means once
			f.Count = n
		}
	}
	if f.RetryAfter != "" {
		if n, err := strconv.Atoi(f.RetryAfter); err != nil || n < 0 {
			return nil, badRequest("retryAfter %q must be a whole number of seconds", f.RetryAfter)
		}
	}
	if f.Delay != "" {
		d, err := time.ParseDuration(f.Delay)
		if err != nil {
			// A bare number means seconds, like retryAfter.
			n, err2 := strconv.ParseFloat(f.Delay, 64)
			if err2 != nil {
				return nil, badRequest("delay %q must be a duration such as 2s or 500ms", f.Delay)
			}
			d = time.Duration(n * float64(time.Second))
		}
		if d < 0 || d > 10*time.Minute {
			return nil, badRequest("delay %q must be between 0 and 10m", f.Delay)
		}
		f.delay = d
	}
	if f.Status == 0 && f.delay == 0 && !f.After {
		return nil, badRequest("a fault needs a status, a delay, after, or a combination")
	}
	return f, nil
}

// injectFault applies the first matching fault to a request. It reports
// whether the response has been written (or the client has gone away).
// serve runs the real handler; an After fault runs it first and discards
// its answer.
func (s *Simulator) injectFault(sys *system, op string, w http.ResponseWriter, r *http.Request, serve func(http.ResponseWriter, *http.Request)) bool {
	s.mu.Lock()
	var f Fault
	found := false
	for i, cand := range sys.faults {
		if cand.Op != "*" && cand.Op != op {
			continue
		}
		if cand.Rate > 0 && cand.rng.Float64() >= cand.Rate {
			continue // not this one: the next fault may apply
		}
		f, found = *cand, true
		if cand.Count > 0 {
			cand.Count--
			if cand.Count == 0 {
				sys.faults = slices.Delete(sys.faults, i, i+1)
			}
		}
		break
	}
	s.mu.Unlock()
	if !found {
		return false
	}
	if f.After {
		serve(httptest.NewRecorder(), r) // the change happens; its answer is lost
	}
	if f.delay > 0 {
		t := time.NewTimer(f.delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return true
		}
	}
	if f.Status == 0 {
		if f.After {
			// The answer was lost: the caller only sees the connection close.
			if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
				conn.Close()
				return true
			}
			writeError(w, http.StatusBadGateway, "simulated lost response")
			return true
		}
		return false
	}
	if f.RetryAfter != "" {
		w.Header().Set("Retry-After", f.RetryAfter)
	}
	msg := f.Message
	if msg == "" {
		msg = fmt.Sprintf("simulated fault (%d)", f.Status)
	}
	writeError(w, f.Status, msg)
	return true
}
