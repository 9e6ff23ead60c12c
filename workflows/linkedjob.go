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
	// busy is set while the event at the head of the queue is being applied.
	busy bool
	// cancelClose calls off the grace-period timer; closeTimerFired is set
	// when it ends.
	cancelClose     workflow.CancelFunc
	closeTimerFired bool
	// unlink is set by the unlink action; the link closes once no event is
	// being applied.
	unlink *OperatorRequest
	// published is what publish last wrote to the search attributes.
	published publishedAttrs
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
	if err := w.registerOperator(ctx); err != nil {
		return nil, err
	}

	ch := workflow.GetSignalChannel(ctx, SignalEvent)
	workflow.Go(ctx, func(ctx workflow.Context) {
		for {
			var ev events.Event
			ch.Receive(ctx, &ev)
			w.enqueue(ev)
		}
	})
	return w, nil
}

func (w *linkedJob) run(ctx workflow.Context) error {
	w.publish(ctx)
	if w.state.ClosesAt != nil {
		w.scheduleClose(ctx) // a grace period carried over continue-as-new
	}
	limit := w.in.ContinueAsNewAfter
	if limit <= 0 {
		limit = defaultContinueAsNewAfter
	}
	for {
		err := workflow.Await(ctx, func() bool {
			return w.unlink != nil || w.next() >= 0 || w.closeDue() || w.done >= limit || workflow.GetInfo(ctx).GetContinueAsNewSuggested()
		})
		if err != nil {
			return err
		}
		if w.unlink != nil {
			return w.close(ctx)
		}
		if i := w.next(); i >= 0 && w.done < limit && !workflow.GetInfo(ctx).GetContinueAsNewSuggested() {
			w.process(ctx, i)
			continue
		}
		if w.closeDue() {
			return w.close(ctx)
		}
		return w.continueAsNew(ctx)
	}
}

// enqueue takes in a delivered event. Events of one side are kept in the
// order their source produced them: an event that arrives late (a sender's
// retry overtaken by a later event) goes before the later ones still
// waiting. The event being processed is never overtaken.
func (w *linkedJob) enqueue(ev events.Event) {
	pos := len(w.queue)
	for j := len(w.queue) - 1; j >= 0; j-- {
		if w.busy && j == 0 {
			break
		}
		q := w.queue[j]
		if q.Side != ev.Side {
			continue
		}
		if !q.OccurredAt.After(ev.OccurredAt) {
			break
		}
		pos = j
	}
	w.queue = slices.Insert(w.queue, pos, ev)
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
	if i != 0 {
		// Move it to the head, so that events arriving meanwhile queue behind it.
		w.queue = append([]events.Event{ev}, slices.Delete(w.queue, i, i+1)...)
	}
	w.busy = true
	defer func() { w.busy = false }()
	rec := EventRecord{ID: ev.ID, Type: ev.Type, Direction: rules.Direction(ev.Side), OccurredAt: ev.OccurredAt}
	logger := log.With(w.logger, "eventId", ev.ID, "eventType", ev.Type)

	if w.seen.has(ev.ID) {
		rec.Outcome, rec.Detail = OutcomeDuplicate, "already processed: a redelivery of the same event"
		w.finish(ctx, rec)
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

	cmd := rules.Decide(*w.rules, w.facts(), ev)
	detail, err := w.apply(ctx, ev, cmd)
	if err != nil {
		logger.Warn("Event blocked", "error", err)
		w.block(ctx, err)
		return
	}
	rec.Outcome, rec.Detail = OutcomeApplied, detail
	if cmd.Action == rules.Skip || (cmd.Action == rules.CreateJob && w.state.SecondaryJobRef == "") {
		rec.Outcome = OutcomeSkipped
	}
	if cmd.Status != nil {
		if note := w.applyStatus(ctx, *cmd.Status); note != "" {
			rec.Detail += "; " + note
		}
	}
	logger.Info("Event processed", "outcome", rec.Outcome)
	w.finish(ctx, rec)
}

func (w *linkedJob) facts() rules.Facts {
	return rules.Facts{
		SecondaryJobRef:  w.state.SecondaryJobRef,
		Closed:           w.state.State == StateClosed,
		LinkedActivities: w.state.LinkedActivities,
		PrimaryEnded:     w.state.PrimaryEnded,
		SecondaryEnded:   w.state.SecondaryEnded,
		PrimaryCancelled: w.state.PrimaryCancelled,
	}
}

// applyStatus records what a status change means for the link's life and
// starts (or calls off) the grace period before closing.
func (w *linkedJob) applyStatus(ctx workflow.Context, e rules.StatusEffect) string {
	if e.Side == events.Primary {
		w.state.PrimaryEnded = e.Ended
		w.state.PrimaryCancelled = e.Cancelled
	} else {
		w.state.SecondaryEnded = e.Ended
	}
	closing, reason := rules.ShouldClose(w.facts())
	switch {
	case closing && w.state.ClosesAt == nil:
		at := workflow.Now(ctx).Add(w.rules.Config.CloseAfter.D())
		w.state.ClosesAt, w.state.ClosingReason = &at, reason
		w.scheduleClose(ctx)
		return fmt.Sprintf("%s: the link closes at %s unless the job reopens", reason, at.UTC().Format(time.RFC3339))
	case !closing && w.state.ClosesAt != nil:
		w.state.ClosesAt, w.state.ClosingReason = nil, ""
		if w.cancelClose != nil {
			w.cancelClose()
			w.cancelClose = nil
		}
		return "the job reopened: the link stays open"
	}
	return ""
}

// scheduleClose starts the timer for the grace period ending at ClosesAt.
func (w *linkedJob) scheduleClose(ctx workflow.Context) {
	d := w.state.ClosesAt.Sub(workflow.Now(ctx))
	if d < 0 {
		d = 0
	}
	tctx, cancel := workflow.WithCancel(ctx)
	w.cancelClose = cancel
	timer := workflow.NewTimerWithOptions(tctx, d, workflow.TimerOptions{Summary: "Grace period before closing the link"})
	closesAt := *w.state.ClosesAt
	workflow.Go(ctx, func(gctx workflow.Context) {
		if timer.Get(gctx, nil) == nil && w.state.ClosesAt != nil && w.state.ClosesAt.Equal(closesAt) {
			w.closeTimerFired = true
		}
	})
}

// closeDue reports whether the link should close now: its grace period is
// over and nothing is waiting or blocked.
func (w *linkedJob) closeDue() bool {
	return w.closeTimerFired && w.state.ClosesAt != nil && len(w.queue) == 0 &&
		w.state.State != StateNeedsAttention && w.state.State != StatePaused
}

// close finishes the link. Events that arrive from now on are recorded as
// skipped in the final state; after the workflow completes, the webhook
// answers them and does not start a new link.
func (w *linkedJob) close(ctx workflow.Context) error {
	if u := w.unlink; u != nil {
		w.state.ClosingReason = fmt.Sprintf("unlinked by %s: %s", u.By, u.Reason)
		for _, ev := range w.queue {
			w.recordEvent(ctx, EventRecord{ID: ev.ID, Type: ev.Type, Direction: rules.Direction(ev.Side), OccurredAt: ev.OccurredAt,
				ProcessedAt: workflow.Now(ctx), Outcome: OutcomeSkipped, Detail: "not applied: the link was unlinked"})
		}
		w.queue = nil
	}
	w.state.State, w.state.LastError, w.state.PausedFrom = StateClosed, "", ""
	w.drainLate(ctx)
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
		return err
	}
	w.drainLate(ctx)
	w.publish(ctx)
	w.logger.Info("Link closed", "reason", w.state.ClosingReason)
	return nil
}

func (w *linkedJob) drainLate(ctx workflow.Context) {
	ch := workflow.GetSignalChannel(ctx, SignalEvent)
	for {
		var ev events.Event
		if !ch.ReceiveAsync(&ev) {
			return
		}
		var l rules.Link
		if w.rules != nil {
			l = *w.rules
		}
		cmd := rules.Decide(l, w.facts(), ev) // a closed link: the rules say skip, and why
		w.recordEvent(ctx, EventRecord{ID: ev.ID, Type: ev.Type, Direction: rules.Direction(ev.Side), OccurredAt: ev.OccurredAt,
			ProcessedAt: workflow.Now(ctx), Outcome: OutcomeSkipped, Detail: cmd.Reason})
	}
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

// apply carries out one command through its activity and returns the
// detail to record.
func (w *linkedJob) apply(ctx workflow.Context, ev events.Event, cmd rules.Command) (string, error) {
	l := w.rules.Config
	switch cmd.Action {
	case rules.Skip:
		return cmd.Reason, nil
	case rules.CreateJob:
		return w.createJob(ctx, cmd)
	case rules.AddActivities:
		actx := workflow.WithActivityOptions(ctx, writeOptions(fmt.Sprintf("Add activities %s to %s in %s", strings.Join(cmd.ActivityIDs, ","), w.state.SecondaryJobRef, l.Secondary.System)))
		var res activities.AddActivitiesResult
		if err := workflow.ExecuteActivity(actx, acts.AddActivities, activities.AddActivitiesInput{
			Link: w.in.Link, PrimaryJobRef: w.in.PrimaryJobRef, SecondaryJobRef: w.state.SecondaryJobRef, ActivityIDs: cmd.ActivityIDs,
		}).Get(ctx, &res); err != nil {
			return "", err
		}
		if res.Skipped != "" {
			return res.Skipped, nil
		}
		w.linkActivities(res.ActivityIDs)
		return fmt.Sprintf("activities %s added to %s in %s", strings.Join(res.ActivityIDs, ", "), w.state.SecondaryJobRef, l.Secondary.System), nil
	case rules.AddJobEvent:
		system, jobRef := w.target(cmd.Target)
		actx := workflow.WithActivityOptions(ctx, writeOptions(fmt.Sprintf("Add job event %s to %s in %s", cmd.EventCode, jobRef, system)))
		var res activities.JobEventResult
		if err := workflow.ExecuteActivity(actx, acts.AddJobEvent, activities.JobEventInput{
			Link: w.in.Link, Target: cmd.Target, PrimaryJobRef: w.in.PrimaryJobRef, SecondaryJobRef: w.state.SecondaryJobRef,
			EventCode: cmd.EventCode, Note: cmd.Note, Date: cmd.Date, Key: ev.ID,
		}).Get(ctx, &res); err != nil {
			return "", err
		}
		detail := fmt.Sprintf("job event %s added to %s in %s", cmd.EventCode, jobRef, system)
		if res.Existed {
			detail += " (found, written by an earlier attempt)"
		}
		return detail, nil
	case rules.CopyDocument:
		system, jobRef := w.target(cmd.Target)
		opts := writeOptions(fmt.Sprintf("Copy document %s to %s in %s", cmd.Document.FileName, jobRef, system))
		opts.StartToCloseTimeout = 30 * time.Minute
		opts.HeartbeatTimeout = 30 * time.Second
		actx := workflow.WithActivityOptions(ctx, opts)
		var res activities.CopyDocumentResult
		if err := workflow.ExecuteActivity(actx, acts.CopyDocument, activities.CopyDocumentInput{
			Link: w.in.Link, From: ev.Side, SourceJobRef: ev.JobRef, TargetJobRef: jobRef,
			Document: *cmd.Document, TargetCategory: cmd.Category,
		}).Get(ctx, &res); err != nil {
			return "", err
		}
		detail := fmt.Sprintf("document %s copied to %s in %s as %s (%d bytes, sha256 %.12s…)", cmd.Document.FileName, jobRef, system, cmd.Category, res.Size, res.SHA256)
		if res.Existed {
			detail += " (found, copied by an earlier attempt)"
		}
		return detail, nil
	}
	return "", temporal.NewNonRetryableApplicationError("unknown action "+string(cmd.Action), "BadCommand", nil)
}

// target names the system and job ref on one side of the link.
func (w *linkedJob) target(side events.Side) (system, jobRef string) {
	if side == events.Secondary {
		return w.rules.Config.Secondary.System, w.state.SecondaryJobRef
	}
	return w.rules.Config.Primary.System, w.in.PrimaryJobRef
}

func (w *linkedJob) linkActivities(ids []string) {
	for _, id := range ids {
		if !slices.Contains(w.state.LinkedActivities, id) {
			w.state.LinkedActivities = append(w.state.LinkedActivities, id)
		}
	}
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
	w.linkActivities(res.ActivityIDs)
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

// recordEvent adds an event's outcome to the state and counts it.
func (w *linkedJob) recordEvent(ctx workflow.Context, rec EventRecord) {
	w.state.record(rec)
	recordEventMetric(ctx, rec)
}

// finish records the outcome of the event at the head of the queue and
// removes it.
func (w *linkedJob) finish(ctx workflow.Context, rec EventRecord) {
	rec.ProcessedAt = workflow.Now(ctx)
	w.recordEvent(ctx, rec)
	w.seen.add(rec.ID)
	w.queue = w.queue[1:]
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

// setState moves the link to s. A paused link stays paused and will resume into s.
func (w *linkedJob) setState(s State, lastError string) {
	w.state.LastError = lastError
	if w.state.State == StatePaused {
		w.state.PausedFrom = s
		return
	}
	w.state.State = s
}

// publish makes the state visible outside the workflow: search attributes
// (for filtering in the Web UI) and the current-details text.
func (w *linkedJob) publish(ctx workflow.Context) {
	w.state.UpdatedAt = workflow.Now(ctx)
	now := publishedAttrs{state: w.state.State, secondaryJobRef: w.state.SecondaryJobRef}
	// Upserting only on a change keeps an event from costing a history
	// event for nothing; links started before this change replay as they ran.
	onChange := workflow.GetVersion(ctx, "publish-on-change", workflow.DefaultVersion, 1) == 1
	if !onChange || now != w.published {
		updates := []temporal.SearchAttributeUpdate{AttrState.ValueSet(string(now.state))}
		if now.secondaryJobRef != "" {
			updates = append(updates, AttrSecondaryJobRef.ValueSet(now.secondaryJobRef))
		}
		if err := workflow.UpsertTypedSearchAttributes(ctx, updates...); err != nil {
			w.logger.Warn("Could not update search attributes", "error", err)
		}
		w.published = now
	}
	workflow.SetCurrentDetails(ctx, w.details())
}

// publishedAttrs are the search attribute values last upserted.
type publishedAttrs struct {
	state           State
	secondaryJobRef string
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
		w.enqueue(ev)
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
