package simulator

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/o2o-sync/o2o/events"
)

// This file sends each system's Integration Events to its webhook URL the
// way a careful real sender would: one ordered queue per system, Standard
// Webhooks signatures, a stable id across redeliveries, back-off with
// Retry-After, and a final give-up.

// Outbox event states.
const (
	// StatePending: waiting for (re)delivery.
	StatePending = "pending"
	// StateDelivered: the receiver answered 2xx.
	StateDelivered = "delivered"
	// StateFailed: every attempt failed and the sender gave up.
	StateFailed = "failed"
	// StateRecorded: the system has no webhook URL, or is in poll mode; the
	// event was only kept.
	StateRecorded = "recorded"
	// StateDropped: a deliver fault dropped it: never sent (unless sent late
	// with POST /{system}/sim/dropped/{id}/deliver).
	StateDropped = "dropped"
)

// OutboxEvent is one event a system produced and how its delivery went, as
// GET /{system}/sim/outbox lists it.
type OutboxEvent struct {
	// Seq numbers the system's events in the order they were produced.
	Seq int `json:"seq"`
	// ID is the webhook-id header, the same on every attempt.
	ID     string      `json:"id"`
	Type   events.Type `json:"type"`
	JobRef string      `json:"jobRef"`
	// Body is the exact JSON body sent.
	Body      json.RawMessage `json:"body"`
	CreatedAt time.Time       `json:"createdAt"`
	State     string          `json:"state"`
	Delivered bool            `json:"delivered"`
	// Dropped says a deliver fault dropped the event, whatever became of it
	// afterwards.
	Dropped  bool `json:"dropped,omitempty"`
	Attempts int  `json:"attempts"`
	// LastStatus is the HTTP status of the last attempt; 0 when it got no
	// response (see LastError).
	LastStatus    int        `json:"lastStatus,omitempty"`
	LastError     string     `json:"lastError,omitempty"`
	LastAttemptAt *time.Time `json:"lastAttemptAt,omitempty"`
	NextAttemptAt *time.Time `json:"nextAttemptAt,omitempty"`
	// Redelivery marks the second sending of a webhook a duplicate fault
	// sends twice: the same Seq, ID and Body as the first.
	Redelivery bool `json:"redelivery,omitempty"`
	// HeldBack says a reorder fault held the webhook back, so that webhooks
	// produced after it could be sent before it.
	HeldBack bool `json:"heldBack,omitempty"`

	duplicate bool      // once delivered, queue a Redelivery
	notBefore time.Time // held back until then (reorder)
}

// DefaultRetrySchedule is the wait after each failed attempt; the last
// entry repeats until DefaultMaxAttempts.
var DefaultRetrySchedule = []time.Duration{
	100 * time.Millisecond, 500 * time.Millisecond, time.Second, 2 * time.Second,
	5 * time.Second, 10 * time.Second, 30 * time.Second,
}

// DefaultMaxAttempts is how many times an event is tried before the sender
// gives up on it and moves on to the next.
const DefaultMaxAttempts = 50

// deliveryTimeout bounds one delivery attempt.
const deliveryTimeout = 10 * time.Second

// maxFinished is how many finished events each outbox remembers by default
// (Options.OutboxLimit), so a long benchmark does not grow memory without
// limit.
const maxFinished = 10000

type outbox struct {
	pending  []*OutboxEvent // in order; the first not held back is being delivered
	finished []*OutboxEvent // oldest first, at most limit
	dropped  []*OutboxEvent // every event a fault dropped, oldest first, at most maxFinished
	lastID   string         // the id of the event emitted last
	nextSeq  int
	limit    int           // how many finished events are kept
	wake     chan struct{} // capacity 1: "there is something to send"
}

func newOutbox() outbox { return outbox{wake: make(chan struct{}, 1), limit: maxFinished} }

func (ob *outbox) finish(ev *OutboxEvent) {
	ob.finished = append(ob.finished, ev)
	if len(ob.finished) > ob.limit {
		ob.finished = ob.finished[len(ob.finished)-ob.limit:]
	}
}

// next returns the first pending event not held back, or nil and when the
// first held-back one may go (zero when none waits).
func (ob *outbox) next(now time.Time) (*OutboxEvent, time.Time) {
	var wake time.Time
	for _, ev := range ob.pending {
		if !ev.notBefore.After(now) {
			return ev, time.Time{}
		}
		if wake.IsZero() || ev.notBefore.Before(wake) {
			wake = ev.notBefore
		}
	}
	return nil, wake
}

// done removes ev from the pending events and records it as finished.
func (ob *outbox) done(ev *OutboxEvent) {
	ob.pending = slices.DeleteFunc(ob.pending, func(e *OutboxEvent) bool { return e == ev })
	ob.finish(ev)
}

// drop records an event a fault dropped.
func (ob *outbox) drop(ev *OutboxEvent) {
	ev.State, ev.Dropped = StateDropped, true
	ob.finish(ev)
	ob.dropped = append(ob.dropped, ev)
	if len(ob.dropped) > maxFinished {
		ob.dropped = ob.dropped[len(ob.dropped)-maxFinished:]
	}
}

// list returns copies of every remembered event, in production order (a
// dropped event sent late keeps its place).
func (ob *outbox) list() []OutboxEvent {
	out := make([]OutboxEvent, 0, len(ob.finished)+len(ob.pending))
	for _, ev := range ob.finished {
		out = append(out, *ev)
	}
	for _, ev := range ob.pending {
		out = append(out, *ev)
	}
	slices.SortStableFunc(out, func(a, b OutboxEvent) int { return a.Seq - b.Seq })
	return out
}

// deliver is the sender loop of one system: it delivers the head of the
// queue until it succeeds or is given up, then the next. A failing head
// blocks everything behind it, which keeps the system's events in order —
// unless a reorder fault holds an event back: the events behind it go
// first, and it is sent once its hold is over.
func (s *Simulator) deliver(sys *system) {
	defer s.wg.Done()
	for {
		s.mu.Lock()
		ev, heldUntil := sys.outbox.next(time.Now())
		s.mu.Unlock()
		if ev == nil {
			if !s.idle(sys, heldUntil) {
				return
			}
			continue
		}

		// ID and Body never change after emit, so they are read unlocked.
		status, retryAfter, err := s.attempt(sys, ev.ID, ev.Body)
		if s.ctx.Err() != nil {
			return // closing: the attempt was cut short, not failed
		}

		s.mu.Lock()
		now := time.Now()
		ev.Attempts++
		ev.LastAttemptAt = &now
		ev.LastStatus = status
		ev.LastError = ""
		if err != nil {
			ev.LastError = err.Error()
		}
		var wait time.Duration
		log := s.log.With("system", sys.seed.Name, "id", ev.ID, "type", string(ev.Type), "attempt", ev.Attempts)
		switch {
		case err == nil && status >= 200 && status < 300:
			ev.State, ev.Delivered, ev.NextAttemptAt = StateDelivered, true, nil
			sys.outbox.done(ev)
			log.Info("webhook delivered", "status", status)
			if ev.duplicate && !ev.Redelivery {
				// Sent again, as by a sender that did not see this answer.
				again := &OutboxEvent{Seq: ev.Seq, ID: ev.ID, Type: ev.Type, JobRef: ev.JobRef, Body: ev.Body,
					CreatedAt: ev.CreatedAt, State: StatePending, Redelivery: true}
				sys.outbox.pending = append(sys.outbox.pending, again)
			}
		case ev.Attempts >= s.maxAttempts:
			ev.State, ev.NextAttemptAt = StateFailed, nil
			sys.outbox.done(ev)
			log.Warn("webhook given up", "status", status, "error", ev.LastError)
		default:
			wait = s.retryDelay(ev.Attempts)
			if retryAfter > wait {
				wait = retryAfter
			}
			next := now.Add(wait)
			ev.NextAttemptAt = &next
			log.Info("webhook failed, will retry", "status", status, "error", ev.LastError, "retryIn", wait.String())
		}
		s.notifyLocked()
		s.mu.Unlock()

		if wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-s.ctx.Done():
				t.Stop()
				return
			}
		}
	}
}

// idle waits until there is something to send: a new event, or the end of
// a hold (heldUntil, when not zero). False when the simulator closes.
func (s *Simulator) idle(sys *system, heldUntil time.Time) bool {
	var held <-chan time.Time
	if !heldUntil.IsZero() {
		t := time.NewTimer(time.Until(heldUntil))
		defer t.Stop()
		held = t.C
	}
	select {
	case <-sys.outbox.wake:
	case <-held:
	case <-s.ctx.Done():
		return false
	}
	return true
}

// attempt POSTs one event once. A fresh timestamp and signature are made for
// every attempt, as Standard Webhooks senders do; the real clock is used
// (not Options.Now) because receivers check it against theirs.
func (s *Simulator) attempt(sys *system, id string, body []byte) (status int, retryAfter time.Duration, err error) {
	ctx, cancel := context.WithTimeout(s.ctx, deliveryTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, sys.seed.WebhookURL, bytes.NewReader(body))
	if err != nil {
		return 0, 0, err
	}
	ts := time.Now()
	sigs := make([]string, len(sys.seed.WebhookSecrets))
	for i, secret := range sys.seed.WebhookSecrets {
		sigs[i] = events.Sign(secret, id, ts, body)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "oneserve-sim")
	req.Header.Set(events.HeaderID, id)
	req.Header.Set(events.HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
	req.Header.Set(events.HeaderSignature, strings.Join(sigs, " "))
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	// Drain a little so the connection can be reused; the body is not used.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()), nil
}

// retryDelay is the wait after the given number of failed attempts.
func (s *Simulator) retryDelay(attempts int) time.Duration {
	i := min(attempts-1, len(s.schedule)-1)
	return s.schedule[i]
}

// parseRetryAfter reads Retry-After as seconds or an HTTP date; anything
// else counts as absent.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil {
		if n < 0 {
			return 0
		}
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// WaitDelivered blocks until no system has an event waiting for delivery
// (each was delivered or given up), or ctx ends. Systems without a webhook
// URL never have pending events. Meant for tests.
func (s *Simulator) WaitDelivered(ctx context.Context) error {
	for {
		s.mu.Lock()
		pending := 0
		for _, sys := range s.systems {
			pending += len(sys.outbox.pending)
		}
		changed := s.changed
		s.mu.Unlock()
		if pending == 0 {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return fmt.Errorf("simulator: %d event(s) still pending: %w", pending, ctx.Err())
		}
	}
}
