package workflows

import (
	"context"
	"fmt"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/o2o-sync/o2o/activities"
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
	// reconcileBatch is how many links one activity reconciles: it keeps the
	// history of a reconciliation of 10,000 links in a few hundred events.
	reconcileBatch = 50
	// maxFailuresListed bounds the failures a result names.
	maxFailuresListed = 20
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
	// not make a burst of API calls (the schedule sets most of its interval).
	Spread time.Duration `json:"spread,omitempty"`
}

// ReconcileResult is what a reconciliation did; the Web UI shows it as the
// workflow's result.
type ReconcileResult struct {
	Link string `json:"link"`
	// Checked counts the links read; Found the facts read from the systems;
	// Missing those the links did not know (queued to be applied, in order);
	// Failed the links that could not be read (retried next time).
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

// LinkRef names one open link's jobs.
type LinkRef struct {
	PrimaryJobRef   string `json:"primaryJobRef"`
	SecondaryJobRef string `json:"secondaryJobRef,omitempty"`
}

var rec *Reconciler

// Reconcile reconciles a link's open links in batches, spreading them over
// in.Spread. A link that cannot be read is counted and named, and the run
// goes on: it is read again next time, and the link is not blocked.
func Reconcile(ctx workflow.Context, in ReconcileInput) (ReconcileResult, error) {
	res := ReconcileResult{Link: in.Link}
	if in.Link == "" {
		return res, temporal.NewNonRetryableApplicationError("link is required", activities.ErrTypeBadInput, nil)
	}
	details := func(state string) { workflow.SetCurrentDetails(ctx, "**"+state+"** "+res.Summary()) }
	details("Listing open links")
	lctx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 5 * time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 5},
		Summary:             "List open links of " + in.Link,
	})
	var refs []LinkRef
	if err := workflow.ExecuteActivity(lctx, rec.ListOpenLinks, in.Link, in.PrimaryJobRef).Get(ctx, &refs); err != nil {
		return res, err
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
		err := workflow.ExecuteActivity(bctx, rec.ReconcileBatch, ReconcileBatchInput{Link: in.Link, Links: batch, Spread: spread}).Get(ctx, &b)
		if err != nil {
			// The whole batch failed (the worker died thrice, say): count
			// it and go on with the next.
			b = ReconcileResult{Failed: len(batch), Failures: []string{fmt.Sprintf("links %d–%d: %s", i+1, i+len(batch), errorMessage(err))}}
		}
		res.add(b)
		details("Reconciling")
	}
	recordReconcileMetrics(ctx, res)
	details("Done")
	workflow.GetLogger(ctx).Info("Reconciled", "link", in.Link, "checked", res.Checked, "missing", res.Missing, "failed", res.Failed)
	return res, nil
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
			if _, ref, ok := ParseWorkflowID(e.GetExecution().GetWorkflowId()); ok {
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

// reconcileBeatEvery is how often a reconciliation batch heartbeats, well
// inside its one-minute heartbeat timeout.
const reconcileBeatEvery = 10 * time.Second

// ReconcileBatchInput is one batch of a reconciliation.
type ReconcileBatchInput struct {
	Link   string        `json:"link"`
	Links  []LinkRef     `json:"links"`
	Spread time.Duration `json:"spread,omitempty"`
}

// ReconcileBatch reads each link's facts and offers them to the link,
// pacing the links evenly over in.Spread. A link that cannot be read, or
// that refuses the offer (it closed meanwhile, or runs code older than
// facts), is counted and named; the batch goes on.
func (r *Reconciler) ReconcileBatch(ctx context.Context, in ReconcileBatchInput) (ReconcileResult, error) {
	var res ReconcileResult
	pace := time.Duration(0)
	if len(in.Links) > 0 {
		pace = in.Spread / time.Duration(len(in.Links))
	}
	var beat time.Time
	for i, l := range in.Links {
		if i > 0 && pace > 0 {
			select {
			case <-ctx.Done():
				return res, ctx.Err()
			case <-time.After(pace):
			}
		}
		// Every reconcileBeatEvery, not every link: the worker sends
		// heartbeats unthrottled (activities.HeartbeatThrottle), and each
		// is a write in Temporal.
		if now := time.Now(); now.Sub(beat) >= reconcileBeatEvery {
			activity.RecordHeartbeat(ctx, i)
			beat = now
		}
		res.Checked++
		read, err := r.Acts.ReadFacts(ctx, activities.ReadFactsInput{Link: in.Link, PrimaryJobRef: l.PrimaryJobRef, SecondaryJobRef: l.SecondaryJobRef})
		res.Calls += read.Calls
		if err == nil {
			res.Found += len(read.Facts)
			var queued int
			queued, err = OfferFacts(ctx, r.Client, in.Link, l.PrimaryJobRef, read.Facts)
			res.Missing += queued
		}
		if err != nil {
			res.Failed++
			if len(res.Failures) < maxFailuresListed {
				res.Failures = append(res.Failures, l.PrimaryJobRef+": "+errorMessage(err))
			}
			activity.GetLogger(ctx).Warn("Link not reconciled", "link", in.Link, "primaryJobRef", l.PrimaryJobRef, "error", err)
		}
	}
	return res, nil
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
// (o2o_reconcile_total{kind="checked|found|missing|failed"}).
const reconcileMetric = "o2o_reconcile"

func recordReconcileMetrics(ctx workflow.Context, r ReconcileResult) {
	h := workflow.GetMetricsHandler(ctx)
	for _, c := range []struct {
		kind string
		n    int
	}{{"checked", r.Checked}, {"found", r.Found}, {"missing", r.Missing}, {"failed", r.Failed}, {"calls", r.Calls}} {
		h.WithTags(map[string]string{"link": r.Link, "kind": c.kind}).Counter(reconcileMetric).Inc(int64(c.n))
	}
	h.WithTags(map[string]string{"link": r.Link}).Counter(reconcileMetric + "_runs").Inc(1)
}
