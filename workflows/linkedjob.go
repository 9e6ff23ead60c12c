// Package workflows holds the LinkedJob workflow: one long-lived workflow per
// linked job (per link and primary job ref) that receives both systems' events
// and applies them, in order and exactly once, through activities.
//
// The workflow owns ordering, deduplication, waiting and the link's state.
// What each event means is decided by package rules; the calls to Oneserve
// are in package activities.
package workflows

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/o2o-sync/o2o/activities"
	"github.com/o2o-sync/o2o/events"
	"github.com/o2o-sync/o2o/rules"
)

// Input starts (or continues) a LinkedJob workflow.
type Input struct {
	Link          string `json:"link"`
	PrimaryJobRef string `json:"primaryJobRef"`
	// Carry is the state handed over by continue-as-new; nil on first start.
	Carry *Carry `json:"carry,omitempty"`
	// ContinueAsNewAfter overrides how many events a run processes before it
	// continues as new (0 = default). Tests use it to exercise the handover.
	ContinueAsNewAfter int `json:"continueAsNewAfter,omitempty"`
}

// Carry is everything a link remembers across continue-as-new.
type Carry struct {
	State LinkState      `json:"state"`
	Queue []events.Event `json:"queue"`
	Seen  []string       `json:"seen"`
}

// RetryRequest is the argument of the retry update.
type RetryRequest struct {
	// By says who asked, for the record.
	By string `json:"by"`
}

// defaultContinueAsNewAfter keeps histories short (each event costs about a
// dozen history events), so replays after cache eviction stay cheap.
const defaultContinueAsNewAfter = 200

// linkedJob is one run of the workflow.
type linkedJob struct {
	in     Input
	state  LinkState
	queue  []events.Event
	seen   *seenIDs
	rules  *rules.Link
	retry  bool
	done   int
	logger log.Logger
}

var acts *activities.Activities

// LinkedJob is the workflow for one linked job.
func LinkedJob(ctx workflow.Context, in Input) error {
	w, err := setup(ctx, in)
	if err != nil {
		return err
	}
	return w.run(ctx)
}

// setup restores or creates the state and registers every handler before the
// workflow first blocks, so that the query answers from the first moment and
// no signal delivered with the start is missed.
func setup(ctx workflow.Context, in Input) (*linkedJob, error) {
	if in.Link == "" || in.PrimaryJobRef == "" {
		return nil, temporal.NewNonRetryableApplicationError("link and primaryJobRef are required", "BadInput", nil)
	}
	w := &linkedJob{in: in, logger: log.With(workflow.GetLogger(ctx), "link", in.Link, "primaryJobRef", in.PrimaryJobRef)}
	if in.Carry != nil {
		w.state, w.queue, w.seen = in.Carry.State, in.Carry.Queue, newSeenIDs(in.Carry.Seen)
	} else {
		w.state = LinkState{Link: in.Link, PrimaryJobRef: in.PrimaryJobRef, State: StateLinking, Events: []EventRecord{}}
		w.seen = newSeenIDs(nil)
	}
	w.state.UpdatedAt = workflow.Now(ctx)

	if err := workflow.SetQueryHandler(ctx, QueryLinkState, func() (LinkState, error) {
		s := w.state
		s.Events = slices.Clone(s.Events)
		s.Pending = len(w.queue)
		return s, nil
	}); err != nil {
		return nil, err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateRetry, func(ctx workflow.Context, r RetryRequest) (string, error) {
		w.retry = true
		w.logger.Info("Retry requested", "by", r.By)
		return "retrying the blocked event", nil
	}, workflow.UpdateHandlerOptions{Validator: func(r RetryRequest) error {
		if w.state.State != StateNeedsAttention {
			return fmt.Errorf("link is %s, not %s: nothing to retry", w.state.State, StateNeedsAttention)
		}
		return nil
	}}); err != nil {
		return nil, err
	}

	ch := workflow.GetSignalChannel(ctx, SignalEvent)
	workflow.Go(ctx, func(ctx workflow.Context) {
		for {
			var ev events.Event
			ch.Receive(ctx, &ev)
			w.queue = append(w.queue, ev)
		}
	})
	return w, nil
}

func (w *linkedJob) run(ctx workflow.Context) error {
	w.publish(ctx)
	limit := w.in.ContinueAsNewAfter
	if limit <= 0 {
		limit = defaultContinueAsNewAfter
	}
	for {
		err := workflow.Await(ctx, func() bool {
			return w.next() >= 0 || w.done >= limit || workflow.GetInfo(ctx).GetContinueAsNewSuggested()
		})
		if err != nil {
			return err
		}
		if i := w.next(); i >= 0 && w.done < limit && !workflow.GetInfo(ctx).GetContinueAsNewSuggested() {
			w.process(ctx, i)
			continue
		}
		return w.continueAsNew(ctx)
	}
}

// next returns the index of the event to process now, or -1. Events that
// need the linked job wait, in order, until it exists; an assignment behind
// them may go first because it is what creates the job.
func (w *linkedJob) next() int {
	switch w.state.State {
	case StatePaused:
		return -1
	case StateNeedsAttention:
		if !w.retry {
			return -1
		}
	}
	for i, ev := range w.queue {
		if w.state.SecondaryJobRef != "" || !rules.NeedsLinkedJob(ev) || w.seen.has(ev.ID) {
			return i
		}
	}
	return -1
}

func (w *linkedJob) process(ctx workflow.Context, i int) {
	ev := w.queue[i]
	rec := EventRecord{ID: ev.ID, Type: ev.Type, Direction: rules.Direction(ev.Side), OccurredAt: ev.OccurredAt}
	logger := log.With(w.logger, "eventId", ev.ID, "eventType", ev.Type)

	if w.seen.has(ev.ID) {
		rec.Outcome, rec.Detail = OutcomeDuplicate, "already processed: a redelivery of the same event"
		w.finish(ctx, i, rec)
		return
	}
	if w.rules == nil || w.retry {
		// Load (or, on an operator retry, reload) the link's configuration.
		if err := w.loadRules(ctx); err != nil {
			w.block(ctx, err)
			return
		}
	}
	w.retry = false

	cmd := rules.Decide(*w.rules, rules.Facts{
		SecondaryJobRef:  w.state.SecondaryJobRef,
		Closed:           w.state.State == StateClosed,
		LinkedActivities: w.state.LinkedActivities,
	}, ev)

	switch cmd.Action {
	case rules.Skip:
		rec.Outcome, rec.Detail = OutcomeSkipped, cmd.Reason
	case rules.CreateJob:
		detail, err := w.createJob(ctx, cmd)
		if err != nil {
			logger.Warn("Event blocked", "error", err)
			w.block(ctx, err)
			return
		}
		rec.Outcome, rec.Detail = OutcomeApplied, detail
		if w.state.SecondaryJobRef == "" {
			rec.Outcome = OutcomeSkipped
		}
	default:
		rec.Outcome, rec.Detail = OutcomeSkipped, fmt.Sprintf("action %s is not implemented", cmd.Action)
	}
	logger.Info("Event processed", "outcome", rec.Outcome)
	w.finish(ctx, i, rec)
}

func (w *linkedJob) loadRules(ctx workflow.Context) error {
	lctx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
		ScheduleToCloseTimeout: 10 * time.Second,
		RetryPolicy:            &temporal.RetryPolicy{MaximumAttempts: 3},
		Summary:                "Load configuration of link " + w.in.Link,
	})
	var l rules.Link
	if err := workflow.ExecuteLocalActivity(lctx, acts.LoadLink, w.in.Link).Get(ctx, &l); err != nil {
		return err
	}
	w.rules = &l
	return nil
}

func (w *linkedJob) createJob(ctx workflow.Context, cmd rules.Command) (string, error) {
	l := w.rules.Config
	actx := workflow.WithActivityOptions(ctx, writeOptions(fmt.Sprintf("Create linked job for %s in %s", w.in.PrimaryJobRef, l.Secondary.System)))
	var res activities.CreateJobResult
	err := workflow.ExecuteActivity(actx, acts.CreateLinkedJob, activities.CreateJobInput{
		Link: w.in.Link, PrimaryJobRef: w.in.PrimaryJobRef, ActivityIDs: cmd.ActivityIDs,
	}).Get(ctx, &res)
	if err != nil {
		return "", err
	}
	if res.Skipped != "" {
		return res.Skipped, nil
	}
	w.state.SecondaryJobRef = res.SecondaryJobRef
	for _, id := range res.ActivityIDs {
		if !slices.Contains(w.state.LinkedActivities, id) {
			w.state.LinkedActivities = append(w.state.LinkedActivities, id)
		}
	}
	w.setState(StateLinked, "")
	verb := "created"
	if res.Existed {
		verb = "found (created by an earlier attempt)"
	}
	return fmt.Sprintf("linked job %s %s in %s with %d activities", res.SecondaryJobRef, verb, l.Secondary.System, len(res.ActivityIDs)), nil
}

// block holds the link on a failed event: it stays at the head of the queue
// and nothing behind it moves until an operator retries.
func (w *linkedJob) block(ctx workflow.Context, err error) {
	w.retry = false
	w.setState(StateNeedsAttention, errorMessage(err))
	w.publish(ctx)
}

// finish records an event's outcome and removes it from the queue.
func (w *linkedJob) finish(ctx workflow.Context, i int, rec EventRecord) {
	rec.ProcessedAt = workflow.Now(ctx)
	w.state.record(rec)
	w.seen.add(rec.ID)
	w.queue = slices.Delete(w.queue, i, i+1)
	w.done++
	if w.state.State == StateNeedsAttention {
		// The blocked event went through.
		w.setState(w.settledState(), "")
	}
	w.publish(ctx)
}

func (w *linkedJob) settledState() State {
	if w.state.SecondaryJobRef != "" {
		return StateLinked
	}
	return StateLinking
}

func (w *linkedJob) setState(s State, lastError string) {
	w.state.State, w.state.LastError = s, lastError
}

// publish makes the state visible outside the workflow: search attributes
// (for filtering in the Web UI) and the current-details text.
func (w *linkedJob) publish(ctx workflow.Context) {
	w.state.UpdatedAt = workflow.Now(ctx)
	updates := []temporal.SearchAttributeUpdate{AttrState.ValueSet(string(w.state.State))}
	if w.state.SecondaryJobRef != "" {
		updates = append(updates, AttrSecondaryJobRef.ValueSet(w.state.SecondaryJobRef))
	}
	if err := workflow.UpsertTypedSearchAttributes(ctx, updates...); err != nil {
		w.logger.Warn("Could not update search attributes", "error", err)
	}
	workflow.SetCurrentDetails(ctx, w.details())
}

func (w *linkedJob) details() string {
	var b strings.Builder
	fmt.Fprintf(&b, "**State** %s\n\n", w.state.State)
	sec := w.state.SecondaryJobRef
	if sec == "" {
		sec = "(not created yet)"
	}
	fmt.Fprintf(&b, "**Primary job** `%s` · **Secondary job** `%s`\n\n", w.state.PrimaryJobRef, sec)
	if w.state.LastError != "" {
		fmt.Fprintf(&b, "**Needs attention:** %s\n\n", w.state.LastError)
	}
	fmt.Fprintf(&b, "%d events processed, %d waiting.\n", len(w.state.Events)+w.state.EventsDropped, len(w.queue))
	return b.String()
}

// continueAsNew hands the state to a fresh run once this one's history is
// long enough, after taking in every signal already delivered.
func (w *linkedJob) continueAsNew(ctx workflow.Context) error {
	ch := workflow.GetSignalChannel(ctx, SignalEvent)
	for {
		var ev events.Event
		if !ch.ReceiveAsync(&ev) {
			break
		}
		w.queue = append(w.queue, ev)
	}
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
		return err
	}
	w.logger.Info("Continuing as new", "processed", w.done, "pending", len(w.queue))
	in := w.in
	in.Carry = &Carry{State: w.state, Queue: w.queue, Seen: w.seen.order}
	return workflow.NewContinueAsNewError(ctx, WorkflowName, in)
}

// errorMessage is the part of an activity failure an operator needs.
func errorMessage(err error) string {
	var app *temporal.ApplicationError
	if errors.As(err, &app) {
		return app.Message()
	}
	return err.Error()
}
