// Package workflows holds the LinkedJob workflow: one long-lived workflow per
// linked job (per link and primary job ref) that receives both systems'
// events and applies them, in order and exactly once, through activities.
//
// The workflow is a thin shell around a lifecycle.Machine, which owns the
// queue, the de-duplication, the link's state and every transition. The
// shell receives events and operator actions, asks the machine what to do
// next, runs the activity and reports back. What each event means is
// decided by package rules; the calls to Oneserve are in package activities.
package workflows

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/o2o-sync/o2o/activities"
	"github.com/o2o-sync/o2o/events"
	"github.com/o2o-sync/o2o/internal/plural"
	"github.com/o2o-sync/o2o/lifecycle"
	"github.com/o2o-sync/o2o/rules"
)

// Input starts (or continues) a LinkedJob workflow.
type Input struct {
	Link          string `json:"link"`
	PrimaryJobRef string `json:"primaryJobRef"`
	// Carry is the state handed over by continue-as-new; nil on first start.
	Carry *lifecycle.Carry `json:"carry,omitempty"`
	// ContinueAsNewAfter overrides how many events a run processes before it
	// continues as new (0 = default). Tests use it to exercise the handover.
	ContinueAsNewAfter int `json:"continueAsNewAfter,omitempty"`
}

// Version change ids (workflow.GetVersion). Each guards a change of the
// commands the workflow issues, so that links started earlier replay.
const (
	// versionPublishOnChange: search attributes are upserted only when they change.
	versionPublishOnChange = "publish-on-change"
	// versionOperatorPublish: operator actions publish the state at once.
	versionOperatorPublish = "operator-publish"
	// versionLifecycle: the lifecycle.Compat a run behaves as (1: the machine, 2: facts).
	versionLifecycle = "lifecycle-machine"
)

// linkedJob is one run of the workflow.
type linkedJob struct {
	in     Input
	m      *lifecycle.Machine
	events workflow.ReceiveChannel
	grace  graceTimer
	logger log.Logger
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

// setup restores or creates the machine and registers every handler before
// the workflow first blocks, so that the query answers from the first moment
// and no message delivered with the start is missed.
func setup(ctx workflow.Context, in Input) (*linkedJob, error) {
	if in.Link == "" || in.PrimaryJobRef == "" {
		return nil, temporal.NewNonRetryableApplicationError("link and primaryJobRef are required", activities.ErrTypeBadInput, nil)
	}
	w := &linkedJob{
		in:     in,
		events: workflow.GetSignalChannel(ctx, SignalEvent),
		logger: log.With(workflow.GetLogger(ctx), "link", in.Link, "primaryJobRef", in.PrimaryJobRef),
	}
	opts := lifecycle.Options{
		ContinueAsNewAfter: in.ContinueAsNewAfter,
		Compat:             lifecycle.Compat(workflow.GetVersion(ctx, versionLifecycle, workflow.DefaultVersion, workflow.Version(lifecycle.CompatCurrent))),
	}
	if in.Carry != nil {
		w.m = lifecycle.Restore(*in.Carry, workflow.Now(ctx), opts)
	} else {
		w.m = lifecycle.New(in.Link, in.PrimaryJobRef, workflow.Now(ctx), opts)
	}
	if err := workflow.SetQueryHandler(ctx, QueryLinkState, func() (lifecycle.LinkState, error) {
		s := w.m.State()
		s.Pending += w.events.Len() // delivered, not yet taken in
		return s, nil
	}); err != nil {
		return nil, err
	}
	if err := w.registerOperator(ctx); err != nil {
		return nil, err
	}
	if err := w.registerOffer(ctx); err != nil {
		return nil, err
	}
	return w, nil
}

func (w *linkedJob) run(ctx workflow.Context) error {
	w.publish(ctx)
	w.grace.Set(ctx, w.m.ClosesAt()) // a grace period carried over continue-as-new
	suggested := func() bool { return workflow.GetInfo(ctx).GetContinueAsNewSuggested() }
	for {
		err := workflow.Await(ctx, func() bool {
			return w.events.Len() > 0 || w.grace.Ready() || w.m.Next(suggested()).Kind != lifecycle.Wait
		})
		if err != nil {
			return err
		}
		if at, fired := w.grace.Fired(ctx); fired {
			w.m.GraceOver(workflow.Now(ctx), at)
		}
		// Unlinking and continuing as new take in the events already
		// delivered themselves; anything else sees them first.
		if step := w.m.Next(suggested()); step.Kind == lifecycle.ContinueAsNew {
			return w.continueAsNew(ctx)
		} else if step.Kind == lifecycle.Close && w.m.Unlinking() {
			return w.close(ctx)
		}
		w.receive(ctx)
		switch step := w.m.Next(suggested()); step.Kind {
		case lifecycle.Apply:
			w.apply(ctx, step)
		case lifecycle.Close:
			return w.close(ctx)
		case lifecycle.ContinueAsNew:
			return w.continueAsNew(ctx)
		}
	}
}

// receive hands every event delivered so far to the machine. It is the only
// reader of the event signal channel.
func (w *linkedJob) receive(ctx workflow.Context) {
	for {
		var ev events.Event
		if !w.events.ReceiveAsync(&ev) {
			return
		}
		w.m.Deliver(workflow.Now(ctx), ev)
	}
}

// apply carries out one Apply step: load the configuration when asked, ask
// the rules for the command, run its activity, report the result.
func (w *linkedJob) apply(ctx workflow.Context, step lifecycle.Step) {
	w.m.Begin(workflow.Now(ctx), step)
	logger := log.With(w.logger, "eventId", step.Event.ID, "eventType", step.Event.Type)
	var res lifecycle.Result
	if !step.Duplicate {
		if step.LoadRules {
			l, err := w.loadRules(ctx)
			if err != nil {
				w.fail(ctx, logger, err)
				return
			}
			w.m.SetRules(l)
		}
		var err error
		if res, err = w.execute(ctx, step.Event, w.m.Command()); err != nil {
			w.fail(ctx, logger, err)
			return
		}
	}
	rec := w.m.Finish(workflow.Now(ctx), res)
	w.grace.Set(ctx, w.m.ClosesAt())
	logger.Info("Event processed", "outcome", rec.Outcome)
	w.publish(ctx)
}

func (w *linkedJob) fail(ctx workflow.Context, logger log.Logger, err error) {
	logger.Warn("Event blocked", "error", err)
	w.m.Fail(workflow.Now(ctx), errorMessage(err))
	w.publish(ctx)
}

func (w *linkedJob) loadRules(ctx workflow.Context) (rules.Link, error) {
	lctx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
		ScheduleToCloseTimeout: 10 * time.Second,
		RetryPolicy:            &temporal.RetryPolicy{MaximumAttempts: 3},
		Summary:                "Load configuration of link " + w.in.Link,
	})
	var l rules.Link
	err := workflow.ExecuteLocalActivity(lctx, acts.LoadLink, w.in.Link).Get(ctx, &l)
	return l, err
}

// execute runs the activity of one command. A Skip runs nothing.
func (w *linkedJob) execute(ctx workflow.Context, ev events.Event, cmd rules.Command) (lifecycle.Result, error) {
	c := w.m.Rules().Config
	st := w.m.Peek()
	system, jobRef := c.Primary.System, st.PrimaryJobRef
	if cmd.Target == events.Secondary {
		system, jobRef = c.Secondary.System, st.SecondaryJobRef
	}
	var res lifecycle.Result
	var f workflow.Future
	switch cmd.Action {
	case rules.Skip, rules.HoldDocument, rules.DropDocument:
		return res, nil // nothing to write: the machine records it
	case rules.CreateJob:
		f = workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, writeOptions(fmt.Sprintf("Create linked job for %s in %s", w.in.PrimaryJobRef, system))),
			acts.CreateLinkedJob, activities.CreateJobInput{Link: w.in.Link, PrimaryJobRef: w.in.PrimaryJobRef, ActivityIDs: cmd.ActivityIDs})
	case rules.AddActivities:
		f = workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, writeOptions(fmt.Sprintf("Add activities %s to %s in %s", strings.Join(cmd.ActivityIDs, ","), jobRef, system))),
			acts.AddActivities, activities.AddActivitiesInput{Link: w.in.Link, PrimaryJobRef: w.in.PrimaryJobRef, SecondaryJobRef: st.SecondaryJobRef, ActivityIDs: cmd.ActivityIDs})
	case rules.AddJobEvent:
		f = workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, writeOptions(fmt.Sprintf("Add job event %s to %s in %s", cmd.EventCode, jobRef, system))),
			acts.AddJobEvent, activities.JobEventInput{Link: w.in.Link, Target: cmd.Target, PrimaryJobRef: w.in.PrimaryJobRef, SecondaryJobRef: st.SecondaryJobRef,
				EventCode: cmd.EventCode, Note: cmd.Note, Date: cmd.Date, Key: ev.ID})
	case rules.CopyDocument:
		// The document's id, never its file name: a summary is not personal.
		opts := writeOptions(fmt.Sprintf("Copy document %s to %s in %s", cmd.Document.DocumentID, jobRef, system))
		opts.StartToCloseTimeout = 30 * time.Minute
		opts.HeartbeatTimeout = 30 * time.Second
		f = workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, opts), acts.CopyDocument, activities.CopyDocumentInput{
			Link: w.in.Link, From: ev.Side, SourceJobRef: ev.JobRef, TargetJobRef: jobRef, Document: *cmd.Document, TargetCategory: cmd.Category})
	case rules.ReadFacts:
		opts := writeOptions(fmt.Sprintf("Read jobs %s and %s (nudged)", w.in.PrimaryJobRef, st.SecondaryJobRef))
		f = workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, opts),
			acts.ReadJobFacts, activities.ReadFactsInput{Link: w.in.Link, PrimaryJobRef: w.in.PrimaryJobRef, SecondaryJobRef: st.SecondaryJobRef})
	case rules.CreateVersion:
		f = workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, writeOptions(fmt.Sprintf("Raise version of %s in %s (mirrors version %d)", jobRef, system, cmd.Version.SourceNumber))),
			acts.CreateVersion, activities.VersionInput{Link: w.in.Link, Target: cmd.Target, PrimaryJobRef: w.in.PrimaryJobRef,
				SecondaryJobRef: st.SecondaryJobRef, Version: *cmd.Version})
	case rules.DecideVersion:
		f = workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, writeOptions(fmt.Sprintf("%s version %d of %s in %s", cmd.Decision.Status, cmd.Decision.Number, jobRef, system))),
			acts.DecideVersion, activities.DecisionInput{Link: w.in.Link, Target: cmd.Target, PrimaryJobRef: w.in.PrimaryJobRef,
				SecondaryJobRef: st.SecondaryJobRef, Decision: *cmd.Decision, EventCode: cmd.EventCode, Note: cmd.Note, Date: cmd.Date, Key: ev.ID})
	case rules.CheckJobs:
		f = workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, writeOptions(fmt.Sprintf("Check jobs %s and %s", w.in.PrimaryJobRef, st.SecondaryJobRef))),
			acts.CheckJobs, activities.CheckJobsInput{Link: w.in.Link, PrimaryJobRef: w.in.PrimaryJobRef, SecondaryJobRef: st.SecondaryJobRef, Reason: cmd.Reason})
	default:
		return res, temporal.NewNonRetryableApplicationError("unknown action "+string(cmd.Action), activities.ErrTypeBadCommand, nil)
	}
	err := f.Get(ctx, &res)
	return res, err
}

// close finishes the link. Events that arrive from now on are recorded as
// skipped in the final state; after the workflow completes, the webhook
// answers them and does not start a new link.
func (w *linkedJob) close(ctx workflow.Context) error {
	w.m.Close(workflow.Now(ctx))
	w.receive(ctx)
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
		return err
	}
	w.receive(ctx)
	w.publish(ctx)
	w.logger.Info("Link closed", "reason", closingCause(w.m.Peek().ClosingReason))
	return nil
}

// closingCause is a closing reason fit for a log line: an unlink's reason
// is an operator's free text, which may name people, so the log says only
// that it was an unlink (the reason is in the link state).
func closingCause(reason string) string {
	if strings.HasPrefix(reason, "unlinked by ") {
		return "unlinked by an operator"
	}
	return reason
}

// continueAsNew hands the machine's carry to a fresh run, after taking in
// every event already delivered.
func (w *linkedJob) continueAsNew(ctx workflow.Context) error {
	w.receive(ctx)
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
		return err
	}
	w.receive(ctx)
	carry := w.m.Carry()
	w.logger.Info("Continuing as new", "processed", w.m.Done(), "pending", len(carry.Queue))
	in := w.in
	in.Carry = &carry
	return workflow.NewContinueAsNewError(ctx, WorkflowName, in)
}

// publish makes the state visible outside the workflow: search attributes
// (for filtering in the Web UI), the current-details text, and the event
// counter for every record made since the last publish.
func (w *linkedJob) publish(ctx workflow.Context) {
	for _, rec := range w.m.TakeRecords() {
		recordEventMetric(ctx, rec)
	}
	st := w.m.Peek()
	now := publishedAttrs{state: st.State, secondaryJobRef: st.SecondaryJobRef, aliases: strings.Join(st.AliasRefs(), " ")}
	// Upserting only on a change keeps an event from costing a history
	// event for nothing; links started before this change replay as they ran.
	onChange := workflow.GetVersion(ctx, versionPublishOnChange, workflow.DefaultVersion, 1) == 1
	if !onChange || now != w.published {
		updates := []temporal.SearchAttributeUpdate{AttrState.ValueSet(string(now.state))}
		if now.secondaryJobRef != "" {
			updates = append(updates, AttrSecondaryJobRef.ValueSet(now.secondaryJobRef))
		}
		if now.aliases != "" { // links without versions never set it: they replay as they ran
			updates = append(updates, AttrJobRefs.ValueSet(append([]string{st.PrimaryJobRef, st.SecondaryJobRef}, st.AliasRefs()...)))
		}
		if err := workflow.UpsertTypedSearchAttributes(ctx, updates...); err != nil {
			w.logger.Warn("Could not update search attributes", "error", err)
		}
		w.published = now
	}
	workflow.SetCurrentDetails(ctx, details(st))
}

// publishedAttrs are the search attribute values last upserted.
type publishedAttrs struct {
	state           lifecycle.State
	secondaryJobRef string
	aliases         string
}

func details(st lifecycle.LinkState) string {
	var b strings.Builder
	fmt.Fprintf(&b, "**State** %s\n\n", st.State)
	sec := st.SecondaryJobRef
	if sec == "" {
		sec = "(not created yet)"
	}
	fmt.Fprintf(&b, "**Primary job** `%s` · **Secondary job** `%s`\n\n", st.PrimaryJobRef, sec)
	if st.LastError != "" {
		fmt.Fprintf(&b, "**Needs attention:** %s\n\n", st.LastError)
	}
	if st.NextStep != "" {
		fmt.Fprintf(&b, "**Next step:** %s\n\n", st.NextStep)
	}
	if st.VariationPending() {
		b.WriteString("**Variation pending**: a version waits for a decision\n\n")
	}
	if n := len(st.HeldDocuments); n > 0 {
		fmt.Fprintf(&b, "**%s held for approval** (release or drop them)\n\n", plural.Count(n, "document", "documents"))
	}
	fmt.Fprintf(&b, "%s processed, %d waiting.\n", plural.Count(len(st.Events)+st.EventsDropped, "event", "events"), st.Pending)
	return b.String()
}

// errorMessage is the part of an activity failure an operator needs.
func errorMessage(err error) string {
	var app *temporal.ApplicationError
	if errors.As(err, &app) {
		return app.Message()
	}
	return err.Error()
}
