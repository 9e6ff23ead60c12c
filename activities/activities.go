// Package activities holds the LinkedJob workflow's side effects: every call
// O2O makes to a Oneserve system. Activities are methods on Activities, which
// holds the configuration and one Oneserve client per system.
//
// Every activity is idempotent: Temporal runs it at least once, so it first
// looks for the result of an earlier attempt (for a job: a secondary job at
// the same site whose client ref is the primary job ref) before writing.
package activities

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/o2o-sync/o2o/config"
	"github.com/o2o-sync/o2o/events"
	"github.com/o2o-sync/o2o/internal/plural"
	"github.com/o2o-sync/o2o/lifecycle"
	"github.com/o2o-sync/o2o/oneserve"
	"github.com/o2o-sync/o2o/rules"
)

// Activities are the LinkedJob workflow's activities.
type Activities struct {
	cfg     *config.Config
	clients map[string]*oneserve.Client
}

// New builds the activities and one Oneserve client per configured system.
// Options: WithMetrics.
func New(cfg *config.Config, opts ...Option) (*Activities, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	clients := make(map[string]*oneserve.Client, len(cfg.Systems))
	for name, s := range cfg.Systems {
		c, err := oneserve.New(oneserve.Options{
			BaseURL:  s.BaseURL,
			Token:    s.AuthToken,
			Timeout:  s.Timeout.D(),
			Paths:    s.Paths,
			Observer: o.observer(name),
			// One client per system: every activity shares its API budget.
			Limits: s.Limits,
		})
		if err != nil {
			return nil, fmt.Errorf("system %s: %w", name, err)
		}
		clients[name] = c
	}
	return &Activities{cfg: cfg, clients: clients}, nil
}

// link returns a link's configuration and both systems' clients.
func (a *Activities) link(name string) (*config.Link, *oneserve.Client, *oneserve.Client, error) {
	l := a.cfg.Link(name)
	if l == nil {
		return nil, nil, nil, configMissing("link %q is not in the configuration", name)
	}
	return l, a.clients[l.Primary.System], a.clients[l.Secondary.System], nil
}

// target is one side of a link as an activity writes to it.
type target struct {
	client         *oneserve.Client
	system, jobRef string
	clientID       string
}

// targetOf picks the side of a link an activity writes to.
func (a *Activities) targetOf(link string, side events.Side, primaryJobRef, secondaryJobRef string) (*config.Link, target, error) {
	l, primary, secondary, err := a.link(link)
	if err != nil {
		return nil, target{}, err
	}
	if side == events.Secondary {
		return l, target{secondary, l.Secondary.System, secondaryJobRef, l.Secondary.Client.ID}, nil
	}
	return l, target{primary, l.Primary.System, primaryJobRef, l.Primary.Client.ID}, nil
}

// LoadLink returns the rules' view of a link's current configuration. The
// workflow runs it as a local activity, so a changed configuration reaches
// running links when they next load it.
func (a *Activities) LoadLink(_ context.Context, name string) (rules.Link, error) {
	l := a.cfg.Link(name)
	if l == nil {
		return rules.Link{}, configMissing("link %q is not in the configuration", name)
	}
	return rules.Link{
		Config:           *l,
		PrimaryAPIUser:   a.cfg.Systems[l.Primary.System].APIUser,
		SecondaryAPIUser: a.cfg.Systems[l.Secondary.System].APIUser,
	}, nil
}

// CreateJobInput asks for the linked job of one primary job.
type CreateJobInput struct {
	Link          string   `json:"link"`
	PrimaryJobRef string   `json:"primaryJobRef"`
	ActivityIDs   []string `json:"activityIds"`
}

// CreateLinkedJob creates the secondary job for a primary job whose
// activities were assigned to the link's team. It re-reads the job and the
// activities from the primary rather than trusting the event, checks that the
// site exists in the secondary, and finds a job created by an earlier attempt
// before creating one, so it never creates two. A job it finds holds what the
// secondary says it holds: the lines assigned since the attempt that created
// it are added to it (completeLines), and the result lists the lines the job
// really holds.
func (a *Activities) CreateLinkedJob(ctx context.Context, in CreateJobInput) (lifecycle.Result, error) {
	l, primary, secondary, err := a.link(in.Link)
	if err != nil {
		return lifecycle.Result{}, err
	}
	log := activity.GetLogger(ctx)
	pSys, sSys := l.Primary.System, l.Secondary.System
	ctx, stop := keepAliveWrites(ctx)
	defer stop()

	job, err := primary.Job(ctx, in.PrimaryJobRef)
	if err != nil {
		return lifecycle.Result{}, classify(pSys, err)
	}
	if res, ok := supersededJob(l, job, in.PrimaryJobRef); ok {
		log.Info("Primary job ref holds a superseded version; not linking it", "currentJobRef", res.SupersededBy)
		return res, nil
	}

	// The assignment that triggered us must still hold at the source.
	confirmed, skipped, err := confirmAssigned(ctx, l, primary, in.ActivityIDs)
	if err != nil || skipped != "" {
		return lifecycle.Skipped(skipped), err
	}
	spec, err := linkedJobSpec(l, job, confirmed)
	if err != nil {
		return lifecycle.Result{}, err
	}

	if err := awaitLostWrite(ctx); err != nil {
		return lifecycle.Result{}, err
	}
	site, err := secondary.Site(ctx, spec.ClientID, spec.SiteRef)
	if oneserve.IsNotFound(err) {
		return lifecycle.Result{}, misaligned("site %s of primary job %s does not exist in %s for client %s; create it there, then retry",
			spec.SiteRef, in.PrimaryJobRef, sSys, l.Secondary.Client)
	}
	if err != nil {
		return lifecycle.Result{}, classify(sSys, err)
	}
	found := func(ref string) (lifecycle.Result, error) {
		return existingLinkedJob(ctx, l, secondary, in.PrimaryJobRef, ref, wantedLines(spec, job))
	}
	if ref := linkedJobAt(site, in.PrimaryJobRef); ref != "" {
		return found(ref)
	}

	req := createJobRequest(spec)
	over := sending(ctx, secondary)
	defer over()
	ref, err := secondary.CreateJob(ctx, req)
	if err != nil {
		var earlier string
		look := func(ctx context.Context) (bool, error) {
			s, err := secondary.Site(ctx, spec.ClientID, spec.SiteRef)
			if err != nil {
				return false, err
			}
			earlier = linkedJobAt(s, in.PrimaryJobRef)
			return earlier != "", nil
		}
		if settled(ctx, err, look) {
			over() // landed: what follows is a read, and a write of its own
			return found(earlier)
		}
		return lifecycle.Result{}, createRefused(classify(sSys, err), spec.ContactRef, site, in.PrimaryJobRef, sSys)
	}
	log.Info("Created linked job", "secondaryJobRef", ref, "lines", len(req.Activities))
	return lifecycle.Result{Outcome: lifecycle.OutcomeApplied, SecondaryJobRef: ref, ActivityIDs: lineIDs(spec)}, nil
}

// linkedJobSpec is what the linked job of the primary job must be, with
// the lines of the link's team among the confirmed ones.
func linkedJobSpec(l *config.Link, job *oneserve.Job, confirmed []string) (rules.JobSpec, error) {
	lines := make([]rules.Activity, 0, len(job.Activities))
	for _, line := range job.Activities {
		lines = append(lines, rules.Activity{ID: line.ID, TeamID: line.SupplierID, Code: line.Code, Quantity: line.Quantity})
	}
	pj := rules.PrimaryJob{
		JobRef: job.JobRef, SiteRef: job.SiteRef, ContactRef: job.ContactRef,
		Priority: job.Priority, Description: job.Description, ReportedDate: job.ReportedDate,
		Lines: rules.TeamLines(*l, lines, confirmed),
	}
	spec, problems := rules.LinkedJobSpec(*l, pj)
	if len(problems) > 0 {
		return rules.JobSpec{}, misaligned("cannot create the linked job: %s", strings.Join(problems, "; "))
	}
	return spec, nil
}

// wantedLines are the primary job's lines the spec puts on the linked job.
func wantedLines(spec rules.JobSpec, job *oneserve.Job) []oneserve.JobLine {
	var want []oneserve.JobLine
	for _, line := range spec.Lines {
		if i := slices.IndexFunc(job.Activities, func(a oneserve.JobLine) bool { return a.ID == line.ActivityID }); i >= 0 {
			want = append(want, job.Activities[i])
		}
	}
	return want
}

// existingLinkedJob takes over the linked job an earlier attempt created.
// It holds the lines that attempt read from the primary, not necessarily
// today's: what it holds is read from the secondary, and the lines still
// missing (of want) are added.
func existingLinkedJob(ctx context.Context, l *config.Link, secondary *oneserve.Client, primaryJobRef, ref string, want []oneserve.JobLine) (lifecycle.Result, error) {
	held, added, err := completeLines(ctx, l, secondary, primaryJobRef, ref, want)
	if err != nil {
		return lifecycle.Result{}, err
	}
	res := lifecycle.Result{Outcome: lifecycle.OutcomeApplied, SecondaryJobRef: ref, ActivityIDs: held, Existed: true}
	if n := len(added); n > 0 {
		res.Detail = fmt.Sprintf("%s %s %s not on it and %s added", plural.Word(n, "activity", "activities"),
			strings.Join(added, ", "), plural.Word(n, "was", "were"), plural.Word(n, "was", "were"))
	}
	activity.GetLogger(ctx).Info("Linked job already exists; not creating another", "secondaryJobRef", ref, "added", len(added))
	return res, nil
}

// lineIDs are the primary's activity ids of the spec's lines, which the
// created job holds.
func lineIDs(spec rules.JobSpec) []string {
	ids := make([]string, 0, len(spec.Lines))
	for _, line := range spec.Lines {
		ids = append(ids, line.ActivityID)
	}
	return ids
}

// createJobRequest is the request that creates the linked job the spec describes.
func createJobRequest(spec rules.JobSpec) oneserve.CreateJobRequest {
	req := oneserve.CreateJobRequest{
		ClientRef: spec.ClientRef, SiteRef: spec.SiteRef, ReportedDate: spec.ReportedDate,
		ContactRef: spec.ContactRef, ClientID: spec.ClientID, WorkLogTypeID: spec.WorkLogTypeID,
		WorkTypeID: spec.WorkTypeID, WorkflowID: spec.WorkflowID, ServiceID: spec.ServiceID,
		PriorityID: spec.PriorityID, Description: spec.Description,
	}
	for _, line := range spec.Lines {
		req.Activities = append(req.Activities, oneserve.JobActivity{Code: line.Code, Quantity: line.Quantity, ClientRef: line.ActivityID})
	}
	return req
}

// linkedJobAt returns the job at site that carries primaryJobRef as its
// client ref (one an earlier attempt created), or "".
func linkedJobAt(site *oneserve.Site, primaryJobRef string) string {
	for _, j := range site.Jobs {
		if j.ClientRef == primaryJobRef {
			return j.JobRef
		}
	}
	return ""
}

// createRefused turns a refused job creation into one that says what to do
// when the likely cause is visible: a contact of the primary job that the
// site in the secondary does not list. (A contact can exist apart from the
// site, so an unlisted contact alone is no reason to refuse before asking.)
func createRefused(err error, contactRef string, site *oneserve.Site, primaryJobRef, system string) error {
	var app *temporal.ApplicationError
	if contactRef == "" || !errors.As(err, &app) || app.Type() != ErrTypeRejected {
		return err
	}
	for _, c := range site.Contacts {
		if c.ContactRef == contactRef {
			return err
		}
	}
	// The target's own words (Message, not Error, which repeats them after
	// the error's type and cause), then what to do.
	return misaligned("%s; contact %s of primary job %s is not at site %s in %s: add the contact there (and link it to the site), then retry",
		app.Message(), contactRef, primaryJobRef, site.SiteRef, system)
}

// confirmAssigned re-reads activities from the primary and asks the rules
// which are still assigned to the link's team; when none is, skip says why.
func confirmAssigned(ctx context.Context, l *config.Link, primary *oneserve.Client, ids []string) (confirmed []string, skip string, err error) {
	acts, err := primary.Activities(ctx, ids)
	if err != nil {
		return nil, "", classify(l.Primary.System, err)
	}
	read := make([]rules.Activity, 0, len(acts))
	for _, act := range acts {
		read = append(read, rules.Activity{ID: act.ID, TeamID: act.SupplierID, Deleted: act.IsDeleted})
	}
	confirmed, skip = rules.StillAssigned(*l, ids, read)
	return confirmed, skip, nil
}

// keepAlive heartbeats every few seconds until stop is called. Activities
// that make a few API calls use it so that, with a short HeartbeatTimeout,
// Temporal notices a crashed worker within seconds and retries elsewhere
// instead of waiting for the whole StartToClose timeout.
func keepAlive(ctx context.Context) (stop func()) {
	if ctx.Value(progressKey{}) != nil {
		return func() {} // the caller heartbeats its progress (HeartbeatProgress)
	}
	return Heartbeat(ctx, keepAliveEvery)
}

// progressKey marks a context whose activity heartbeats its progress.
type progressKey struct{}

// HeartbeatProgress records the activity's heartbeat, with progress() as
// its details, every interval until stop is called (or the activity's
// context ends). Activities called with the returned context send no
// heartbeats of their own: theirs would carry no details and wipe the
// progress a retried attempt resumes from.
func HeartbeatProgress(ctx context.Context, every time.Duration, progress func() any) (context.Context, func()) {
	ctx = context.WithValue(ctx, progressKey{}, true)
	return ctx, heartbeat(ctx, every, progress)
}

// Heartbeat records the activity's heartbeat every interval until stop is
// called (or the activity's context ends).
func Heartbeat(ctx context.Context, every time.Duration) (stop func()) {
	return heartbeat(ctx, every, nil)
}

// heartbeat is Heartbeat with details: each heartbeat carries details()
// when it is not nil.
func heartbeat(ctx context.Context, every time.Duration, details func() any) (stop func()) {
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				if details == nil {
					activity.RecordHeartbeat(ctx)
				} else {
					activity.RecordHeartbeat(ctx, details())
				}
			}
		}
	}()
	return func() { close(done) }
}

// keepAliveEvery is well inside the workflow's HeartbeatTimeout for writes
// (5 s).
const keepAliveEvery = time.Second

// HeartbeatThrottle is the worker's MaxHeartbeatThrottleInterval. The SDK
// otherwise sends a recorded heartbeat only every 0.8 × the heartbeat
// timeout, which for the writes' 5 s leaves 1 s for the heartbeat's own trip
// before Temporal takes the attempt for dead and starts another beside it.
// Activities that finish within keepAliveEvery (nearly all) send none, and
// long ones that record often pace themselves (a reconciliation batch every
// 10 s).
const HeartbeatThrottle = time.Second
