package workflows

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/o2o-sync/o2o/activities"
	"github.com/o2o-sync/o2o/config"
	"github.com/o2o-sync/o2o/events"
	"github.com/o2o-sync/o2o/internal/plural"
)

// Reconciliation: O2O reads both jobs of every open link and offers the
// link every fact it finds; the link drops those it knows and applies the
// rest through the same path as webhook events (recorded with source
// "reconcile"). A Temporal Schedule per link (ScheduleID) runs it every
// reconcileEvery; starter reconcile runs it now.

const (
	// ReconcileWorkflowName is the registered name of the Reconcile workflow.
	ReconcileWorkflowName = "Reconcile"
	// UpdateOfferFacts offers a link the facts a reconciliation read.
	UpdateOfferFacts = "offerFacts"
	// QueryUnknownFacts asks a link which of some facts it does not know
	// (their indexes), without changing it.
	QueryUnknownFacts = "unknownFacts"
	// reconcileBatch is how many links one activity reconciled before runs
	// were paced by the workflow (reconcileInBatches, kept for runs started
	// before).
	reconcileBatch = 50
	// reconcileSteps bounds the activities (each after its pacing timer) of
	// a paced run: up to 200 links, one activity a link; beyond, each reads
	// n/200 links in a row. It keeps the history of a reconciliation of
	// 10,000 links in a few thousand events.
	reconcileSteps = 200
	// maxFailuresListed bounds the failures a result names.
	maxFailuresListed = 20
	// reconcilePacedChange guards the paced run (workflow.GetVersion):
	// runs started before it go on reading in batches.
	reconcilePacedChange = "reconcile-paced"
	// ErrTypeReconcileIncomplete is the type of the error a run fails with
	// when it could not check every link; its details are the
	// ReconcileResult (ReconcileRunResult reads it).
	ErrTypeReconcileIncomplete = "ReconcileIncomplete"
)

// ScheduleID is the id of a link's reconciliation schedule (contract:
// DESIGN.md §3).
func ScheduleID(link string) string { return "o2o-reconcile:" + link }

// ReconcileInput asks for a reconciliation of a link's open links, or of
// one of its jobs.
type ReconcileInput struct {
	Link string `json:"link"`
	// PrimaryJobRef limits it to one job (starter reconcile LINK JOBREF, a nudge).
	PrimaryJobRef string `json:"primaryJobRef,omitempty"`
	// Spread is how long the reads are spread over, so that many links do
	// not make a burst of API calls (the schedule sets 80% of its interval).
	Spread time.Duration `json:"spread,omitempty"`
	// Within is how long the run may take from its start (the schedule sets
	// 90% of its interval, so that a run is over before the next is due):
	// links not read by then are counted failed, "not reached".
	Within time.Duration `json:"within,omitempty"`
	// HeartbeatTimeout is how long a read that stops heartbeating (its
	// worker gone) is given before it is tried again (default 1m; the
	// schedule sets links[].reconcileHeartbeatTimeout).
	HeartbeatTimeout time.Duration `json:"heartbeatTimeout,omitempty"`
}

// ReconcileResult is what a reconciliation did; the Web UI shows it as the
// workflow's result.
type ReconcileResult struct {
	Link string `json:"link"`
	// Checked counts the links read and offered their facts; Found the
	// facts read from the systems; Missing those the links did not know
	// (queued to be applied, in order); Failed the links that could not be
	// read, or were not reached in time (read again next time). Checked and
	// Failed add up to the open links listed (runs started before paced runs
	// counted a failed link as checked too).
	Checked  int      `json:"checked"`
	Found    int      `json:"found"`
	Missing  int      `json:"missing"`
	Failed   int      `json:"failed"`
	Calls    int      `json:"calls"`
	Failures []string `json:"failures,omitempty"`
}

func (r *ReconcileResult) add(b ReconcileResult) {
	r.Checked += b.Checked
	r.Found += b.Found
	r.Missing += b.Missing
	r.Failed += b.Failed
	r.Calls += b.Calls
	for _, f := range b.Failures {
		if len(r.Failures) < maxFailuresListed {
			r.Failures = append(r.Failures, f)
		}
	}
}

// Summary is the result in one line.
func (r ReconcileResult) Summary() string {
	return fmt.Sprintf("link %s: %d checked, %s read, %d missing and queued, %d failed", r.Link, r.Checked, plural.Count(r.Found, "fact", "facts"), r.Missing, r.Failed)
}

// incomplete is the error a run that could not check every link fails
// with: the summary and what was not checked, the result as its details.
func (r ReconcileResult) incomplete() error {
	msg := fmt.Sprintf("reconciliation incomplete: %s; not checked: %s", r.Summary(), strings.Join(r.Failures, "; "))
	return temporal.NewNonRetryableApplicationError(msg, ErrTypeReconcileIncomplete, nil, r)
}

// ReconcileRunResult waits for a reconciliation run and returns its result.
// A run that could not check every link has failed (IsReconcileIncomplete):
// its result comes with the error.
func ReconcileRunResult(ctx context.Context, run client.WorkflowRun) (ReconcileResult, error) {
	var res ReconcileResult
	err := run.Get(ctx, &res)
	var app *temporal.ApplicationError
	if errors.As(err, &app) && app.Type() == ErrTypeReconcileIncomplete && app.HasDetails() {
		if derr := app.Details(&res); derr != nil {
			return res, fmt.Errorf("%w (its result unreadable: %v)", err, derr)
		}
	}
	return res, err
}

// IsReconcileIncomplete reports whether err is a run's failure to check
// every link (its result says which), rather than a failure to run at all.
func IsReconcileIncomplete(err error) bool {
	var app *temporal.ApplicationError
	return errors.As(err, &app) && app.Type() == ErrTypeReconcileIncomplete
}

// LinkRef names one open link's jobs.
type LinkRef struct {
	PrimaryJobRef   string `json:"primaryJobRef"`
	SecondaryJobRef string `json:"secondaryJobRef,omitempty"`
}

var rec *Reconciler

// Reconcile reconciles a link's open links, spreading the reads over
// in.Spread: the workflow waits (a timer) until each link's turn and reads
// it in an activity, so no activity sits idle waiting. A link that cannot
// be read is counted and named, and the run goes on: it is read again next
// time, and the link is not blocked. A run that could not check every link
// fails, naming them, with its result as the failure's details.
func Reconcile(ctx workflow.Context, in ReconcileInput) (ReconcileResult, error) {
	res := ReconcileResult{Link: in.Link}
	if in.Link == "" {
		return res, temporal.NewNonRetryableApplicationError("link is required", activities.ErrTypeBadInput, nil)
	}
	details := func(state string) { workflow.SetCurrentDetails(ctx, "**"+state+"** "+res.Summary()) }
	if workflow.GetVersion(ctx, reconcilePacedChange, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return reconcileInBatches(ctx, in, &res, details)
	}
	err := reconcilePaced(ctx, in, &res, details)
	if err == nil && res.Failed > 0 {
		err = res.incomplete()
	}
	outcome := "complete"
	if err != nil {
		outcome = "incomplete"
	}
	recordReconcileMetrics(ctx, res, outcome)
	if err != nil {
		details("Incomplete")
		workflow.GetLogger(ctx).Warn("Reconciliation incomplete", "link", in.Link, "checked", res.Checked, "failed", res.Failed, "error", err)
		return res, err
	}
	details("Done")
	workflow.GetLogger(ctx).Info("Reconciled", "link", in.Link, "checked", res.Checked, "missing", res.Missing)
	return res, nil
}

// reconcilePaced lists the open links and reads each at its turn: link i
// of n is due in.Spread·i/n after the listing, and nothing starts after
// the run's deadline (in.Within from its start); the activity reading a
// link is bounded by it too. Up to reconcileSteps links, each has its own
// activity; beyond, an activity reads a few in a row, heartbeating its
// progress so that a retried attempt resumes after the last link done.
func reconcilePaced(ctx workflow.Context, in ReconcileInput, res *ReconcileResult, details func(string)) error {
	var deadline runDeadline
	if in.Within > 0 {
		deadline = runDeadline(workflow.GetInfo(ctx).WorkflowStartTime.Add(in.Within))
	}
	heartbeat := in.HeartbeatTimeout
	if heartbeat <= 0 {
		heartbeat = config.DefaultReconcileHeartbeatTimeout
	}
	refs, err := listOpenLinksBefore(ctx, in, deadline, details)
	if err != nil {
		return err
	}

	n := len(refs)
	step := max(1, (n+reconcileSteps-1)/reconcileSteps)
	var pace time.Duration
	if n > 0 {
		pace = in.Spread / time.Duration(n)
	}
	begin := workflow.Now(ctx)
	for i := 0; i < n; i += step {
		links := refs[i:min(i+step, n)]
		name := linksName(i, len(links), n, links)
		due := begin.Add(time.Duration(i) * pace)
		if wait := due.Sub(workflow.Now(ctx)); wait > 0 {
			if !deadline.none() && !due.Before(time.Time(deadline)) {
				res.add(notReached(i, n, in.Within))
				break
			}
			details("Waiting for " + name + "'s turn")
			summary := fmt.Sprintf("Pace: %s is due %s after the first (reads spread over %s)", name, due.Sub(begin), in.Spread)
			if err := workflow.NewTimerWithOptions(ctx, wait, workflow.TimerOptions{Summary: summary}).Get(ctx, nil); err != nil {
				return err
			}
		}
		opts, ok := deadline.bound(ctx, workflow.ActivityOptions{
			StartToCloseTimeout: 10 * time.Minute,
			HeartbeatTimeout:    heartbeat,
			RetryPolicy:         &temporal.RetryPolicy{InitialInterval: min(time.Second, heartbeat), MaximumAttempts: 5},
			Summary:             "Reconcile " + name,
		})
		if !ok {
			res.add(notReached(i, n, in.Within))
			break
		}
		details("Reconciling " + name)
		var b ReconcileResult
		err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, opts), rec.ReconcileBatch, ReconcileBatchInput{Link: in.Link, Links: links}).Get(ctx, &b)
		if err != nil {
			b = batchFailed(err, i, n, links)
		}
		res.add(b)
	}
	return nil
}

// runDeadline is when a reconciliation run must be over (ReconcileInput's
// Within after its start); the zero time for none.
type runDeadline time.Time

func (d runDeadline) none() bool { return time.Time(d).IsZero() }

// bound sets the options' ScheduleToClose to what is left of the run's
// time; false once none is left.
func (d runDeadline) bound(ctx workflow.Context, o workflow.ActivityOptions) (workflow.ActivityOptions, bool) {
	if d.none() {
		return o, true
	}
	left := time.Time(d).Sub(workflow.Now(ctx))
	o.ScheduleToCloseTimeout = left
	return o, left > 0
}

// listOpenLinksBefore lists the open links a paced run reconciles, within
// the run's deadline.
func listOpenLinksBefore(ctx workflow.Context, in ReconcileInput, deadline runDeadline, details func(string)) ([]LinkRef, error) {
	details("Listing open links")
	lopts, ok := deadline.bound(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 5 * time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 5},
		Summary:             "List open links of " + in.Link,
	})
	if !ok {
		return nil, fmt.Errorf("no time left to list the open links of %s (within %s of the run's start)", in.Link, in.Within)
	}
	var refs []LinkRef
	if err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, lopts), rec.ListOpenLinks, in.Link, in.PrimaryJobRef).Get(ctx, &refs); err != nil {
		return nil, fmt.Errorf("list the open links of %s: %w", in.Link, err)
	}
	return refs, nil
}

// linksName names links i+1..i+count of n for the Web UI: one link by its
// primary job ref.
func linksName(i, count, n int, links []LinkRef) string {
	if count == 1 {
		return fmt.Sprintf("link %d of %d (%s)", i+1, n, links[0].PrimaryJobRef)
	}
	return fmt.Sprintf("links %d–%d of %d", i+1, i+count, n)
}

// notReached counts links i+1..n, which the run had no time left to read.
func notReached(i, n int, within time.Duration) ReconcileResult {
	return ReconcileResult{Failed: n - i, Failures: []string{fmt.Sprintf(
		"links %d–%d of %d: not reached within %s of the run's start (slow reads, or a budget too small for the links: see Sizing in docs/reconciliation.md)", i+1, n, n, within)}}
}

// batchFailed counts an activity that failed for good (its attempts timed
// out, or the run's time ran out): what its last attempt had done, from its
// last heartbeat, and the links it had not done as failed.
func batchFailed(err error, i, n int, links []LinkRef) ReconcileResult {
	var p ReconcileProgress
	var timeout *temporal.TimeoutError
	if errors.As(err, &timeout) && timeout.HasLastHeartbeatDetails() {
		if timeout.LastHeartbeatDetails(&p) != nil {
			p = ReconcileProgress{}
		}
	}
	p.Next = min(max(p.Next, 0), len(links))
	b := p.Done
	rest := links[p.Next:]
	if len(rest) == 0 {
		return b // every link was done; only the answer was lost
	}
	b.Failed += len(rest)
	b.Failures = append(b.Failures, linksName(i+p.Next, len(rest), n, rest)+": "+batchError(err))
	return b
}

// batchError says why a batch failed for good, plainly: a timeout by its
// kind, without the activity error's identifiers.
func batchError(err error) string {
	var timeout *temporal.TimeoutError
	if errors.As(err, &timeout) {
		return fmt.Sprintf("its reads timed out (%s timeout, after every attempt)", timeout.TimeoutType())
	}
	return errorMessage(err)
}

// reconcileInBatches is the run as it was before runs were paced by the
// workflow (reconcilePacedChange), for runs started before: batches of
// reconcileBatch links, each activity pacing its own links.
func reconcileInBatches(ctx workflow.Context, in ReconcileInput, res *ReconcileResult, details func(string)) (ReconcileResult, error) {
	details("Listing open links")
	lctx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 5 * time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 5},
		Summary:             "List open links of " + in.Link,
	})
	var refs []LinkRef
	if err := workflow.ExecuteActivity(lctx, rec.ListOpenLinks, in.Link, in.PrimaryJobRef).Get(ctx, &refs); err != nil {
		return *res, err
	}
	batches := (len(refs) + reconcileBatch - 1) / reconcileBatch
	for i := 0; i < len(refs); i += reconcileBatch {
		batch := refs[i:min(i+reconcileBatch, len(refs))]
		spread := time.Duration(0)
		if batches > 0 {
			spread = in.Spread / time.Duration(batches)
		}
		bctx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
			StartToCloseTimeout: spread + 10*time.Minute,
			HeartbeatTimeout:    time.Minute,
			RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 3},
			Summary:             fmt.Sprintf("Reconcile links %d–%d of %d", i+1, i+len(batch), len(refs)),
		})
		var b ReconcileResult
		err := workflow.ExecuteActivity(bctx, rec.ReconcileBatch, ReconcileBatchInput{Link: in.Link, Links: batch}).Get(ctx, &b)
		if err != nil {
			b = batchFailed(err, i, len(refs), batch)
		}
		res.add(b)
		details("Reconciling")
	}
	outcome := "complete"
	if res.Failed > 0 {
		outcome = "incomplete"
	}
	recordReconcileMetrics(ctx, *res, outcome)
	details("Done")
	workflow.GetLogger(ctx).Info("Reconciled", "link", in.Link, "checked", res.Checked, "missing", res.Missing, "failed", res.Failed)
	return *res, nil
}

// Reconciler holds the reconciliation's activities: they need the Temporal
// client (to list links and offer them facts) as well as the systems'.
type Reconciler struct {
	Client client.Client
	Acts   *activities.Activities
}

// ListOpenLinks lists a link's running LinkedJob workflows through
// visibility (or the one for primaryJobRef, when given).
func (r *Reconciler) ListOpenLinks(ctx context.Context, link, primaryJobRef string) ([]LinkRef, error) {
	if primaryJobRef != "" {
		ref, err := events.CanonicalJobRef(primaryJobRef)
		if err != nil {
			return nil, temporal.NewNonRetryableApplicationError(err.Error(), activities.ErrTypeBadInput, nil)
		}
		primaryJobRef = ref
		sec, running, err := LinkedSecondaryJobRef(ctx, r.Client, link, primaryJobRef)
		if err != nil || !running {
			return nil, err
		}
		return []LinkRef{{PrimaryJobRef: primaryJobRef, SecondaryJobRef: sec}}, nil
	}
	query := fmt.Sprintf("WorkflowType = %q AND ExecutionStatus = 'Running' AND %s = %q", WorkflowName, AttrLink.GetName(), link)
	var refs []LinkRef
	err := openLinks(ctx, r.Client, query, func(primaryJobRef, secondaryJobRef string) {
		refs = append(refs, LinkRef{PrimaryJobRef: primaryJobRef, SecondaryJobRef: secondaryJobRef})
	})
	return refs, err
}

// openLinks walks the LinkedJob workflows a visibility query finds, page by
// page, handing each one's primary and secondary job refs to fn. In an
// activity it heartbeats after every page.
func openLinks(ctx context.Context, c client.Client, query string, fn func(primaryJobRef, secondaryJobRef string)) error {
	var token []byte
	seen := 0
	for {
		resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: query, NextPageToken: token, PageSize: 1000})
		if err != nil {
			return err
		}
		for _, e := range resp.Executions {
			id := e.GetExecution().GetWorkflowId()
			_, ref, ok := ParseWorkflowID(id)
			if ok && !events.IsCanonicalJobRef(ref) {
				// Started before job refs were normalised (issue 17), e.g.
				// "LinkedJob:acme-fixit:ac000005": WorkflowID(link, ref)
				// names AC000005's link, not this one, so nothing may be
				// sent to it by its ref. Left out; docs/operations.md says
				// how to close it.
				if activity.IsActivity(ctx) {
					activity.GetLogger(ctx).Warn("Link left out: its workflow id holds a job ref not in canonical form; close it by its id", "workflowId", id)
				}
				continue
			}
			if ok {
				fn(ref, keyword(e.GetSearchAttributes().GetIndexedFields()[AttrSecondaryJobRef.GetName()]))
				seen++
			}
		}
		if activity.IsActivity(ctx) {
			activity.RecordHeartbeat(ctx, seen)
		}
		if token = resp.NextPageToken; len(token) == 0 {
			return nil
		}
	}
}

// keyword decodes a Keyword search attribute's value ("" when absent).
func keyword(p *commonpb.Payload) string {
	var s string
	if p == nil || converter.GetDefaultDataConverter().FromPayload(p, &s) != nil {
		return ""
	}
	return s
}

// reconcileBeatEvery is how often a reconciliation activity heartbeats its
// progress at most: every second (the SDK sends heartbeats at most every
// activities.HeartbeatThrottle anyway), or a quarter of its heartbeat
// timeout if that is shorter.
const reconcileBeatEvery = time.Second

// ReconcileBatchInput is the links one activity of a reconciliation reads,
// in a row.
type ReconcileBatchInput struct {
	Link  string    `json:"link"`
	Links []LinkRef `json:"links"`
}

// ReconcileProgress is how far an attempt of ReconcileBatch got: its
// heartbeat details. A retried attempt resumes after the last link done,
// and a batch that fails for good is counted by it (batchFailed).
type ReconcileProgress struct {
	// Next is the index of the next link to read: the links before it are
	// done and counted in Done.
	Next int             `json:"next"`
	Done ReconcileResult `json:"done"`
}

// ReconcileBatch reads each link's facts and offers them to the link, one
// link after another (the workflow paces; this activity never waits idle),
// heartbeating its progress. A link that cannot be read, or that refuses
// the offer (it closed meanwhile, or runs code older than facts), is
// counted and named; the batch goes on. An attempt that Temporal has given
// up on (its heartbeat timed out, the run's time ran out) stops at once:
// its context is cancelled when a heartbeat learns it, or at the run's
// deadline. On a worker shutting down it stops after the link in hand.
func (r *Reconciler) ReconcileBatch(ctx context.Context, in ReconcileBatchInput) (ReconcileResult, error) {
	var (
		mu sync.Mutex
		p  ReconcileProgress
	)
	if activity.HasHeartbeatDetails(ctx) && activity.GetHeartbeatDetails(ctx, &p) != nil {
		p = ReconcileProgress{} // not this version's progress: read them all
	}
	p.Next = min(max(p.Next, 0), len(in.Links))
	every := reconcileBeatEvery
	if hb := activity.GetInfo(ctx).HeartbeatTimeout; hb > 0 {
		every = min(every, hb/4)
	}
	ctx, stop := activities.HeartbeatProgress(ctx, every, func() any {
		mu.Lock()
		defer mu.Unlock()
		c := p
		c.Done.Failures = slices.Clone(p.Done.Failures)
		return c
	})
	defer stop()
	stopping := activity.GetWorkerStopChannel(ctx)
	for i := p.Next; i < len(in.Links); i++ {
		if err := ctx.Err(); err != nil {
			return ReconcileResult{}, fmt.Errorf("reconciliation abandoned after %d of %d links: %w", i, len(in.Links), err)
		}
		select {
		case <-stopping:
			// The worker is shutting down: the next attempt, on another
			// worker, resumes from the progress heartbeat so far, rather
			// than this one holding the shutdown.
			return ReconcileResult{}, temporal.NewApplicationError(fmt.Sprintf("worker stopping after %d of %d links", i, len(in.Links)), "WorkerStopping")
		default:
		}
		b := r.reconcileLink(ctx, in.Link, in.Links[i])
		if err := ctx.Err(); err != nil {
			// The read was cut short: the link is not done.
			return ReconcileResult{}, fmt.Errorf("reconciliation abandoned after %d of %d links: %w", i, len(in.Links), err)
		}
		mu.Lock()
		p.Done.add(b)
		p.Next = i + 1
		mu.Unlock()
	}
	return p.Done, nil
}

// reconcileLink reads one link's facts and offers them to it.
func (r *Reconciler) reconcileLink(ctx context.Context, link string, l LinkRef) ReconcileResult {
	var res ReconcileResult
	read, err := r.Acts.ReadFacts(ctx, activities.ReadFactsInput{Link: link, PrimaryJobRef: l.PrimaryJobRef, SecondaryJobRef: l.SecondaryJobRef})
	res.Calls = read.Calls
	if err == nil {
		res.Found = len(read.Facts)
		res.Missing, err = OfferFacts(ctx, r.Client, link, l.PrimaryJobRef, read.Facts)
	}
	if err != nil {
		res.Failed, res.Failures = 1, []string{l.PrimaryJobRef + ": " + errorMessage(err)}
		activity.GetLogger(ctx).Warn("Link not reconciled", "link", link, "primaryJobRef", l.PrimaryJobRef, "error", err)
		return res
	}
	res.Checked = 1
	return res
}

// OfferFacts offers a link facts read from the systems and returns how many
// it did not know (and queued). It asks first (a query: no history) and
// sends the update only with the facts the link does not know, so a
// reconciliation that finds nothing new leaves no trace in the link's history.
func OfferFacts(ctx context.Context, c client.Client, link, primaryJobRef string, facts []events.Event) (int, error) {
	if len(facts) == 0 {
		return 0, nil
	}
	v, err := c.QueryWorkflow(ctx, WorkflowID(link, primaryJobRef), "", QueryUnknownFacts, facts)
	if err != nil {
		return 0, err
	}
	var unknown []int
	if err := v.Get(&unknown); err != nil {
		return 0, fmt.Errorf("decode unknown facts: %w", err)
	}
	if len(unknown) == 0 {
		return 0, nil
	}
	news := make([]events.Event, 0, len(unknown))
	for _, i := range unknown {
		if i >= 0 && i < len(facts) {
			news = append(news, facts[i])
		}
	}
	facts = news
	h, err := c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID: WorkflowID(link, primaryJobRef), UpdateName: UpdateOfferFacts,
		Args: []any{facts}, WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	var queued int
	if err == nil {
		err = h.Get(ctx, &queued)
	}
	return queued, err
}

// registerOffer offers the unknownFacts query and the offerFacts update;
// the machine says when an offer is refused (a closed link, or a run older
// than facts).
func (w *linkedJob) registerOffer(ctx workflow.Context) error {
	if err := workflow.SetQueryHandler(ctx, QueryUnknownFacts, func(facts []events.Event) ([]int, error) {
		if err := w.m.ValidateOffer(); err != nil {
			return nil, err
		}
		return w.m.Unknown(facts), nil
	}); err != nil {
		return err
	}
	return workflow.SetUpdateHandlerWithOptions(ctx, UpdateOfferFacts,
		func(ctx workflow.Context, facts []events.Event) (int, error) {
			n := w.m.Offer(workflow.Now(ctx), facts)
			if n > 0 {
				w.logger.Info("Facts offered", "queued", n, "offered", len(facts))
			}
			return n, nil
		},
		workflow.UpdateHandlerOptions{Validator: func([]events.Event) error { return w.m.ValidateOffer() }})
}

// reconcileMetric counts reconciliation results by link and kind
// (o2o_reconcile_total{kind="checked|found|missing|failed|calls"}), and
// runs by link and outcome (o2o_reconcile_runs_total{outcome="complete|incomplete"}:
// incomplete when some link was not checked, or the links could not be listed).
const reconcileMetric = "o2o_reconcile"

func recordReconcileMetrics(ctx workflow.Context, r ReconcileResult, outcome string) {
	h := workflow.GetMetricsHandler(ctx)
	for _, c := range []struct {
		kind string
		n    int
	}{{"checked", r.Checked}, {"found", r.Found}, {"missing", r.Missing}, {"failed", r.Failed}, {"calls", r.Calls}} {
		h.WithTags(map[string]string{"link": r.Link, "kind": c.kind}).Counter(reconcileMetric).Inc(int64(c.n))
	}
	h.WithTags(map[string]string{"link": r.Link, "outcome": outcome}).Counter(reconcileMetric + "_runs").Inc(1)
}
