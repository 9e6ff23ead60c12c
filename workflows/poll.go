package workflows

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/o2o-sync/o2o/activities"
	"github.com/o2o-sync/o2o/config"
	"github.com/o2o-sync/o2o/events"
	"github.com/o2o-sync/o2o/internal/plural"
	"github.com/o2o-sync/o2o/oneserve"
)

// Polling (docs/reconciliation.md, "Polling"): for a system with events
// poll or both, a Temporal Schedule per system (PollScheduleID) runs the
// short Poll workflow every poll.every. A run reads the system's job events
// (jobEventsXML) from its high-water mark, less an overlap, up to now; each
// job event it has not seen before names a job, whose link is reconciled
// (StartReconcile), or, for a discovery assignment event on a primary job
// with no link, started as the assignment's webhook would have started it.
//
// The high-water mark and the keys of the events read within the overlap
// are the run's result: the schedule hands the last completed run's result
// to the next run (workflow.GetLastCompletionResult), so the mark is
// durable in Temporal, survives worker restarts, and a run that failed
// leaves the previous mark in place (its windows are read again).

const (
	// PollWorkflowName is the registered name of the Poll workflow.
	PollWorkflowName = "Poll"
	// pollWindowSize is the longest window one jobEventsXML read covers
	// (Oneserve allows up to a month): it keeps each read's answer small.
	pollWindowSize = time.Hour
	// maxPollWindows bounds the windows one run reads; a poll that fell
	// behind (a paused schedule, a long outage) catches up over several runs.
	maxPollWindows = 48
	// pollDispatchBatch is how many jobs one dispatch activity handles.
	pollDispatchBatch = 100
	// secondaryLookupBatch is how many secondary job refs one visibility
	// query looks up.
	secondaryLookupBatch = 50
)

// PollScheduleID is the id of a system's poll schedule: "o2o-poll:{system}".
func PollScheduleID(system string) string { return "o2o-poll:" + system }

// PollInput is what a system's schedule starts Poll with
// (systems.<name>.poll).
type PollInput struct {
	System string `json:"system"`
	// Overlap is how much of the time already read each run reads again.
	Overlap time.Duration `json:"overlap"`
	// Lookback is how far back a run reads when there is no mark yet.
	Lookback time.Duration `json:"lookback"`
}

// PollResult is what one run did, and the state the next run starts from.
// The Web UI shows it as the run's result.
type PollResult struct {
	System string `json:"system"`
	// Mark is the high-water mark: the system's job events up to it have
	// been read and handled (the next run reads from Mark - Overlap).
	Mark time.Time `json:"mark"`
	// Seen are the keys (activities.JobEventKey) of the job events dated at
	// or after Mark - Overlap that were handled: the next run reads them
	// again and skips them.
	Seen []string `json:"seen,omitempty"`

	// From and To are what this run read, in Windows reads.
	From    time.Time `json:"from"`
	To      time.Time `json:"to"`
	Windows int       `json:"windows"`
	// Read counts the job events read; New those not seen before; Jobs the
	// jobs they name.
	Read int `json:"read"`
	New  int `json:"new"`
	Jobs int `json:"jobs"`
	// Reconciled counts the links reconciled; Discovered the links started
	// by discovery; NoLink the jobs of no (running) link; Failed the jobs
	// not handled (Retry of them, with those not yet found through
	// visibility, are handled again by the next run while their events are
	// within the overlap).
	Reconciled int `json:"reconciled"`
	Discovered int `json:"discovered"`
	NoLink     int `json:"noLink"`
	Failed     int `json:"failed"`
	Retry      int `json:"retry"`
	// Calls counts the API calls made (reads, discovery, reconciliations).
	Calls    int      `json:"calls"`
	Failures []string `json:"failures,omitempty"`
}

// Summary is the result in one line.
func (r PollResult) Summary() string {
	return fmt.Sprintf("system %s: %s read (%d new, on %s): %s reconciled, %d discovered, %s of no link, %d failed",
		r.System, plural.Count(r.Read, "job event", "job events"), r.New, plural.Count(r.Jobs, "job", "jobs"),
		plural.Count(r.Reconciled, "link", "links"), r.Discovered, plural.Count(r.NoLink, "job", "jobs"), r.Failed)
}

func (r *PollResult) add(d PollDispatchResult) {
	r.Reconciled += d.Reconciled
	r.Discovered += d.Discovered
	r.NoLink += d.NoLink
	r.Failed += d.Failed
	r.Calls += d.Calls
	r.failure(d.Failures...)
}

func (r *PollResult) failure(f ...string) {
	for _, s := range f {
		if len(r.Failures) < maxFailuresListed {
			r.Failures = append(r.Failures, s)
		}
	}
}

// poller names the Poller's activities in the workflow (acts, those of
// activities.Activities).
var poller *Poller

// Poll reads one system's new job events and reconciles (or, by discovery,
// starts) the links of the jobs they name. See the comment at the top of
// this file.
func Poll(ctx workflow.Context, in PollInput) (PollResult, error) {
	res := PollResult{System: in.System}
	if in.System == "" || in.Overlap <= 0 {
		return res, temporal.NewNonRetryableApplicationError("system and overlap are required", activities.ErrTypeBadInput, nil)
	}
	log := workflow.GetLogger(ctx)
	var prev PollResult
	if workflow.HasLastCompletionResult(ctx) {
		if err := workflow.GetLastCompletionResult(ctx, &prev); err != nil || prev.System != in.System {
			log.Warn("The previous poll's result cannot be used; reading from the lookback", "error", err)
			prev = PollResult{}
		}
	}
	// Nothing read: the state carries over as it was.
	res.Mark, res.Seen = prev.Mark, prev.Seen
	windows := pollWindows(prev.Mark, workflow.Now(ctx), in.Overlap, in.Lookback)
	if len(windows) == 0 {
		return res, nil
	}
	details := func(state string) { workflow.SetCurrentDetails(ctx, "**"+state+"** "+res.Summary()) }
	res.From = windows[0].From

	read, err := readPollWindows(ctx, in.System, windows, &res, details)
	if err != nil {
		return res, err
	}
	jobs := newPolledJobs(read, prev.Seen, &res)
	retry := dispatchPolledJobs(ctx, in.System, jobs, &res, details)

	// 4. The new mark, and the events the next run, reading the overlap
	// again, must skip: those within the overlap, except the events of
	// jobs to try again.
	res.Mark = res.To
	res.Seen = seenInOverlap(read, res.Mark.Add(-in.Overlap), retry)
	recordPollMetrics(ctx, res)
	details("Done")
	log.Info("Polled", "system", in.System, "read", res.Read, "new", res.New, "reconciled", res.Reconciled,
		"discovered", res.Discovered, "failed", res.Failed, "mark", res.Mark)
	return res, nil
}

// readPollWindows is a poll's step 1: it reads the windows, oldest first. A
// window that cannot be read ends the reading: what was read before it is
// handled and the mark stops there; with nothing read, the run fails (the
// error returned) and the next one reads the same windows again.
func readPollWindows(ctx workflow.Context, system string, windows []oneserve.Window, res *PollResult, details func(string)) ([]activities.PolledEvent, error) {
	rctx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 5 * time.Minute,
		HeartbeatTimeout:    time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 3},
		Summary:             "Read the job events of " + system,
	})
	var read []activities.PolledEvent
	for _, w := range windows {
		details("Reading")
		var r activities.ReadJobEventsResult
		err := workflow.ExecuteActivity(rctx, acts.ReadJobEvents, activities.ReadJobEventsInput{System: system, From: w.From, To: w.To}).Get(ctx, &r)
		if err != nil {
			if res.Windows == 0 {
				return nil, err
			}
			res.failure(fmt.Sprintf("reading from %s: %s", w.From.Format(time.RFC3339), errorMessage(err)))
			break
		}
		res.Windows++
		res.Calls += r.Calls
		res.To = w.To
		read = append(read, r.Events...)
	}
	res.Read = len(read)
	return read, nil
}

// newPolledJobs is a poll's step 2: the jobs of the events read that were
// not seen before, each with its latest event's date.
func newPolledJobs(read []activities.PolledEvent, prevSeen []string, res *PollResult) []PollJob {
	seen := make(map[string]bool, len(prevSeen))
	for _, k := range prevSeen {
		seen[k] = true
	}
	var jobs []PollJob
	byJob := map[string]int{}
	for _, e := range read {
		if seen[e.Key] {
			continue // read before (the overlap), or twice in this run
		}
		seen[e.Key] = true
		res.New++
		k := pollJobKey(e.ClientID, e.JobRef)
		i, ok := byJob[k]
		if !ok {
			i, byJob[k] = len(jobs), len(jobs)
			jobs = append(jobs, PollJob{ClientID: e.ClientID, JobRef: e.JobRef})
		}
		jobs[i].Assignment = jobs[i].Assignment || e.Assignment
		if e.At.After(jobs[i].At) {
			jobs[i].At = e.At
		}
	}
	res.Jobs = len(jobs)
	return jobs
}

// dispatchPolledJobs is a poll's step 3: it reconciles (or discovers) the
// links of the jobs, a batch at a time, and returns the keys
// (pollJobKey) of the jobs to try again.
func dispatchPolledJobs(ctx workflow.Context, system string, jobs []PollJob, res *PollResult, details func(string)) map[string]bool {
	retry := map[string]bool{}
	for i := 0; i < len(jobs); i += pollDispatchBatch {
		batch := jobs[i:min(i+pollDispatchBatch, len(jobs))]
		details("Reconciling")
		var d PollDispatchResult
		err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
			StartToCloseTimeout: 15 * time.Minute, HeartbeatTimeout: time.Minute,
			RetryPolicy: &temporal.RetryPolicy{MaximumAttempts: 3},
			Summary:     fmt.Sprintf("Reconcile the links of jobs %d–%d of %d in %s", i+1, i+len(batch), len(jobs), system),
		}), poller.PollDispatch, PollDispatchInput{System: system, Jobs: batch}).Get(ctx, &d)
		if err != nil {
			d = PollDispatchResult{Failed: len(batch), Retry: batch,
				Failures: []string{fmt.Sprintf("jobs %d–%d: %s", i+1, i+len(batch), errorMessage(err))}}
		}
		res.add(d)
		for _, j := range d.Retry {
			retry[pollJobKey(j.ClientID, j.JobRef)] = true
		}
	}
	res.Retry = len(retry)
	return retry
}

// seenInOverlap lists the keys of the events read at or after cut (the
// overlap the next run reads again), except those of the jobs to try
// again, once each.
func seenInOverlap(read []activities.PolledEvent, cut time.Time, retry map[string]bool) []string {
	var seen []string
	kept := map[string]bool{}
	for _, e := range read {
		if e.At.Before(cut) || kept[e.Key] || retry[pollJobKey(e.ClientID, e.JobRef)] {
			continue
		}
		kept[e.Key] = true
		seen = append(seen, e.Key)
	}
	return seen
}

// pollWindows plans a run: from the mark less the overlap (with no mark
// yet, from now less the lookback) up to now, in windows of at most
// pollWindowSize, at most maxPollWindows of them. Times are whole seconds,
// as jobEventsXML takes them.
func pollWindows(mark, now time.Time, overlap, lookback time.Duration) []oneserve.Window {
	now = now.UTC().Truncate(time.Second)
	from := now.Add(-max(lookback, overlap))
	if !mark.IsZero() {
		from = mark.UTC().Add(-overlap)
	}
	from = from.Truncate(time.Second)
	var out []oneserve.Window
	for start := from; now.After(start) && len(out) < maxPollWindows; {
		end := start.Add(pollWindowSize)
		if end.After(now) {
			end = now
		}
		out = append(out, oneserve.Window{From: start, To: end})
		start = end
	}
	return out
}

func pollJobKey(clientID, jobRef string) string { return clientID + "/" + jobRef }

// pollMetric counts poll results by system and kind
// (o2o_poll_total{kind="read|new|reconciled|discovered|failed|calls"}).
const pollMetric = "o2o_poll"

func recordPollMetrics(ctx workflow.Context, r PollResult) {
	h := workflow.GetMetricsHandler(ctx)
	for _, c := range []struct {
		kind string
		n    int
	}{{"read", r.Read}, {"new", r.New}, {"reconciled", r.Reconciled}, {"discovered", r.Discovered}, {"failed", r.Failed}, {"calls", r.Calls}} {
		h.WithTags(map[string]string{"system": r.System, "kind": c.kind}).Counter(pollMetric).Inc(int64(c.n))
	}
	h.WithTags(map[string]string{"system": r.System}).Counter(pollMetric + "_runs").Inc(1)
}

// PollJob is a job a poll found new job events on.
type PollJob struct {
	ClientID string `json:"clientId"`
	JobRef   string `json:"jobRef"`
	// Assignment: one of them is a discovery assignment event.
	Assignment bool `json:"assignment,omitempty"`
	// At is the latest event's date.
	At time.Time `json:"at"`
}

// PollDispatchInput is a batch of jobs of one polled system.
type PollDispatchInput struct {
	System string    `json:"system"`
	Jobs   []PollJob `json:"jobs"`
}

// PollDispatchResult is what a dispatch did (see PollResult's fields).
type PollDispatchResult struct {
	Reconciled int `json:"reconciled"`
	Discovered int `json:"discovered"`
	NoLink     int `json:"noLink"`
	Failed     int `json:"failed"`
	Calls      int `json:"calls"`
	// Retry are the jobs to handle again: those that failed, and secondary
	// jobs no running link was found for yet (visibility can lag a new
	// link's O2OSecondaryJobRef by a moment).
	Retry    []PollJob `json:"retry,omitempty"`
	Failures []string  `json:"failures,omitempty"`
}

// Poller holds the poll's dispatch activity: it needs the Temporal client
// (to find links, and reconcile or start them) as well as the systems'.
type Poller struct {
	Client client.Client
	Acts   *activities.Activities
}

// PollDispatch maps each job to the link(s) it concerns and acts on them:
//
//   - a job of a system that is a link's primary names its link directly
//     (LinkedJob:{link}:{jobRef}): a running link is reconciled; with no
//     link, an assignment event makes O2O read the job and start the link
//     for its activities assigned to the link's team (discovery, when the
//     link has one); a closed link stays closed;
//   - a job of a system that is a link's secondary is found through the
//     O2OSecondaryJobRef search attribute of the running links, and each
//     is reconciled.
//
// It waits for the reconciliations it starts, so that a job whose
// reconciliation failed is handled again by the next poll.
func (p *Poller) PollDispatch(ctx context.Context, in PollDispatchInput) (PollDispatchResult, error) {
	links, err := p.Acts.PollLinks(ctx, in.System)
	if err != nil {
		return PollDispatchResult{}, err
	}
	defer activities.Heartbeat(ctx, 5*time.Second)()
	d := &dispatch{in: in, log: activity.GetLogger(ctx), state: make([]int, len(in.Jobs))}

	// Each job ref in its canonical form (events.CanonicalJobRef), the one
	// workflow ids and search attributes hold; "" for a text that cannot be
	// a job ref, which names no link.
	refs := make([]string, len(in.Jobs))
	for i, j := range in.Jobs {
		refs[i], _ = events.CanonicalJobRef(j.JobRef)
	}
	for _, pl := range links {
		var mine []int
		for i, j := range in.Jobs {
			if j.ClientID == pl.ClientID && refs[i] != "" {
				mine = append(mine, i)
			}
		}
		if len(mine) == 0 {
			continue
		}
		if pl.Side == events.Secondary {
			p.matchSecondary(ctx, d, pl, mine, refs)
		} else {
			p.matchPrimary(ctx, d, pl, mine, refs)
		}
	}
	p.reconcileAll(ctx, d)
	d.tally()
	return d.res, nil
}

// What became of a polled job; when several links concern a job, the
// highest wins.
const (
	jobUnhandled = iota
	jobNoLink
	jobLookAgain // a secondary job no running link was found for (yet)
	jobHandled
	jobFailed
)

// dispatch is one PollDispatch under way: what became of each job, and the
// reconciliations to run.
type dispatch struct {
	in         PollDispatchInput
	log        log.Logger
	res        PollDispatchResult
	state      []int // by job, one of the states above
	reconciles []*dispatchReconcile
}

// dispatchReconcile is one link's reconciliation, for the jobs that asked for it.
type dispatchReconcile struct {
	link, primaryJobRef string
	jobs                []int
	run                 client.WorkflowRun
}

func (d *dispatch) set(i, s int) { d.state[i] = max(d.state[i], s) }

// fail records that job i was not handled, and why.
func (d *dispatch) fail(i int, what string, err error) {
	d.set(i, jobFailed)
	if len(d.res.Failures) < maxFailuresListed {
		d.res.Failures = append(d.res.Failures, fmt.Sprintf("%s %s: %s", what, d.in.Jobs[i].JobRef, errorMessage(err)))
	}
	d.log.Warn("Polled job not handled", "system", d.in.System, "jobRef", d.in.Jobs[i].JobRef, "error", err)
}

// toReconcile adds job i to the reconciliation of a link's job, once per
// link and job however many polled jobs ask for it.
func (d *dispatch) toReconcile(link, primaryJobRef string, i int) {
	for _, r := range d.reconciles {
		if r.link == link && r.primaryJobRef == primaryJobRef {
			r.jobs = append(r.jobs, i)
			return
		}
	}
	d.reconciles = append(d.reconciles, &dispatchReconcile{link: link, primaryJobRef: primaryJobRef, jobs: []int{i}})
}

// matchSecondary finds, all at once, the running links of the jobs (mine)
// of a system that is pl's secondary, and marks them to reconcile.
func (p *Poller) matchSecondary(ctx context.Context, d *dispatch, pl activities.PollLink, mine []int, refs []string) {
	secondary := make([]string, len(mine))
	for k, i := range mine {
		secondary[k] = refs[i]
	}
	found, err := p.linksBySecondary(ctx, pl.Link.Name, secondary)
	for _, i := range mine {
		switch primaryJobRef, ok := found[refs[i]]; {
		case err != nil:
			d.fail(i, "looking up the link of "+d.in.System+" job", err)
		case ok:
			d.set(i, jobHandled)
			d.toReconcile(pl.Link.Name, primaryJobRef, i)
		default:
			d.set(i, jobLookAgain)
		}
	}
}

// matchPrimary looks up the link of each job (mine) of a system that is
// pl's primary: a running one is marked to reconcile, a closed one stays
// closed, and a job with none is discovered when it has an assignment.
func (p *Poller) matchPrimary(ctx context.Context, d *dispatch, pl activities.PollLink, mine []int, refs []string) {
	for _, i := range mine {
		j := d.in.Jobs[i]
		j.JobRef = refs[i]
		running, exists, err := p.linkStatus(ctx, pl.Link.Name, j.JobRef)
		switch {
		case err != nil:
			d.fail(i, "looking up the link of "+d.in.System+" job", err)
		case running:
			d.set(i, jobHandled)
			d.toReconcile(pl.Link.Name, j.JobRef, i)
		case exists:
			d.set(i, jobHandled) // closed: it stays closed
		case j.Assignment && pl.Link.Discovery.AssignmentEventID != "":
			n, err := p.discover(ctx, &d.res, pl.Link, j)
			switch {
			case err != nil:
				d.fail(i, "discovering the assignments of "+d.in.System+" job", err)
			case n > 0:
				d.set(i, jobHandled)
			default:
				d.set(i, jobNoLink)
			}
		default:
			d.set(i, jobNoLink)
		}
	}
}

// reconcileAll starts the reconciliations all at once, and waits for each.
func (p *Poller) reconcileAll(ctx context.Context, d *dispatch) {
	for _, r := range d.reconciles {
		var err error
		r.run, err = StartReconcile(ctx, p.Client, r.link, r.primaryJobRef)
		if err != nil {
			for _, i := range r.jobs {
				d.fail(i, "starting the reconciliation of "+r.link+" job", err)
			}
		}
	}
	for _, r := range d.reconciles {
		if r.run == nil {
			continue
		}
		rr, err := ReconcileRunResult(ctx, r.run)
		d.res.Calls += rr.Calls
		if IsReconcileIncomplete(err) || err == nil && rr.Failed > 0 { // the latter: a run started before runs failed
			err = errors.New(strings.Join(rr.Failures, "; "))
		}
		if err != nil {
			for _, i := range r.jobs {
				d.fail(i, "reconciling link "+r.link+" of job", err)
			}
			continue
		}
		d.res.Reconciled++
	}
}

// tally counts the jobs by what became of them, and lists those to handle again.
func (d *dispatch) tally() {
	for i, s := range d.state {
		switch s {
		case jobFailed:
			d.res.Failed++
			d.res.Retry = append(d.res.Retry, d.in.Jobs[i])
		case jobLookAgain:
			d.res.NoLink++
			d.res.Retry = append(d.res.Retry, d.in.Jobs[i])
		case jobNoLink, jobUnhandled:
			d.res.NoLink++
		}
	}
}

// linkStatus says whether the link of a primary job runs, or exists at all.
func (p *Poller) linkStatus(ctx context.Context, link, primaryJobRef string) (running, exists bool, err error) {
	d, err := describeLink(ctx, p.Client, link, primaryJobRef)
	return d.running, d.exists, err
}

// linksBySecondary finds the running links of link whose linked job is one
// of refs (O2OSecondaryJobRef), and returns their primary job refs by
// secondary job ref.
func (p *Poller) linksBySecondary(ctx context.Context, link string, refs []string) (map[string]string, error) {
	out := map[string]string{}
	for i := 0; i < len(refs); i += secondaryLookupBatch {
		batch := refs[i:min(i+secondaryLookupBatch, len(refs))]
		quoted := make([]string, len(batch))
		for k, r := range batch {
			quoted[k] = "'" + r + "'" // canonical: no quotes or backslashes
		}
		query := fmt.Sprintf("WorkflowType = %q AND ExecutionStatus = 'Running' AND %s = %q AND %s IN (%s)",
			WorkflowName, AttrLink.GetName(), link, AttrSecondaryJobRef.GetName(), strings.Join(quoted, ", "))
		err := openLinks(ctx, p.Client, query, func(primaryJobRef, secondaryJobRef string) {
			if slices.Contains(batch, secondaryJobRef) {
				out[secondaryJobRef] = primaryJobRef
			}
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// discover reads a primary job with an assignment event and no link, and
// starts the link for its activities assigned to the link's team, as the
// assignments' webhooks would have (Deliver with start). It returns how
// many assignments it delivered.
func (p *Poller) discover(ctx context.Context, res *PollDispatchResult, l config.Link, j PollJob) (int, error) {
	found, err := p.Acts.DiscoverAssignments(ctx, activities.DiscoverInput{Link: l.Name, PrimaryJobRef: j.JobRef, At: j.At})
	res.Calls += found.Calls
	if err != nil {
		return 0, err
	}
	n := 0
	for _, ev := range found.Assignments {
		err := Deliver(ctx, p.Client, &l, j.JobRef, ev, true)
		switch {
		case errors.Is(err, ErrLinkClosed):
			return max(n, 1), nil // closed meanwhile: it stays closed
		case err != nil:
			return n, err
		}
		n++
	}
	if n > 0 {
		res.Discovered++
		activity.GetLogger(ctx).Info("Link started by discovery", "link", l.Name, "primaryJobRef", j.JobRef, "assignments", n)
	}
	return n, nil
}

// EnsurePollSchedules makes sure every polled system (events poll or both)
// with job events to read has its poll schedule (PollScheduleID), running
// Poll every poll.every; an existing schedule is brought up to date (its
// high-water mark is kept). The schedule of a configured system that is
// not polled, or has nothing to read, is deleted. Every worker calls it on
// start; it is idempotent. It returns the systems polled.
func EnsurePollSchedules(ctx context.Context, c client.Client, cfg *config.Config) ([]string, error) {
	sc := c.ScheduleClient()
	var polled []string
	names := make([]string, 0, len(cfg.Systems))
	for name := range cfg.Systems {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		s := cfg.Systems[name]
		changes, assignments := cfg.PollEventIDs(name)
		id := PollScheduleID(name)
		if len(changes)+len(assignments) == 0 {
			err := sc.GetHandle(ctx, id).Delete(ctx)
			var nf *serviceerror.NotFound
			if err != nil && !errors.As(err, &nf) {
				return polled, fmt.Errorf("poll schedule of system %s: %w", name, err)
			}
			continue
		}
		every := s.Poll.Every.D()
		action := &client.ScheduleWorkflowAction{
			ID:        id,
			Workflow:  PollWorkflowName,
			Args:      []any{PollInput{System: name, Overlap: s.Poll.Overlap.D(), Lookback: s.Poll.Lookback.D()}},
			TaskQueue: TaskQueue,
			// A stuck run is a problem to see, not to pile up behind.
			WorkflowExecutionTimeout: max(4*every, 10*time.Minute),
			StaticSummary:            fmt.Sprintf("Poll %s's job events (jobEventsXML) every %s", name, every),
		}
		err := ensureSchedule(ctx, sc, client.ScheduleOptions{
			ID: id, Spec: client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: every}}}, Action: action,
			Overlap:            enumspb.SCHEDULE_OVERLAP_POLICY_SKIP,
			TriggerImmediately: true,
			Note:               "Created by the O2O worker from the configuration (systems." + name + ".poll).",
		})
		if err != nil {
			return polled, fmt.Errorf("poll schedule of system %s: %w", name, err)
		}
		polled = append(polled, name)
	}
	return polled, nil
}
