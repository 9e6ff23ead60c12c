package main

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
	"sync"
	"sync/atomic"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/o2o-sync/o2o/events"
	"github.com/o2o-sync/o2o/lifecycle"
	"github.com/o2o-sync/o2o/simulator"
	"github.com/o2o-sync/o2o/workflows"
)

// linkName is the example configuration's link.
const linkName = "acme-fixit"

// link is one O2O link of the throughput rounds: an acme job assigned to
// fixit's team, and the fixit job O2O created for it. Its events are
// appointments in fixit (booked, then rescheduled, in turn), each of which
// O2O writes into the acme job as one job event (APPT, RESCH).
type link struct {
	primary, secondary string
	sent               int    // events sent so far, warm-ups included
	booked, moved      int    // of which bookings and reschedulings
	appointment        string // the last booked appointment's id
	// base is how many job events the acme job had before the first event
	// (none today: linking writes nothing there).
	base int
	mark histMark
}

// rawLink is one job of the raw baseline: an acme job that its BenchRaw
// workflow writes job events into.
type rawLink struct {
	jobRef        string
	sent          int
	booked, moved int
	mark          histMark
}

// event is one event of a round, and what happened to it.
type event struct {
	key   string // the link's primary (O2O) or raw job ref
	index int    // the event's number in its link (0-based, all rounds)
	id    string // webhook-id (O2O)
	body  []byte // the webhook (O2O) or nil (raw)
	raw   rawEvent

	posted  time.Time // the POST (or SignalWithStart) began
	acked   time.Time // 202 (or SignalWithStart returned)
	retries int       // answers other than 202 before it
	done    chan struct{}
}

// bench is one run's state.
type bench struct {
	s        *stack
	o        options
	http     *http.Client
	secret   events.Secret // fixit's, to sign its webhooks
	acmeSec  events.Secret
	site     atomic.Int64
	links    []*link
	raws     []*rawLink
	apptBase time.Time
}

func newBench(s *stack, o options) (*bench, error) {
	secret, err := events.ParseSecret(devEnv["O2O_FIXIT_WEBHOOK_SECRETS"])
	if err != nil {
		return nil, err
	}
	acmeSec, err := events.ParseSecret(devEnv["O2O_ACME_WEBHOOK_SECRETS"])
	if err != nil {
		return nil, err
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 4 * o.concurrency
	return &bench{s: s, o: o, secret: secret, acmeSec: acmeSec,
		http:     &http.Client{Transport: tr, Timeout: 60 * time.Second},
		apptBase: time.Now().Truncate(24 * time.Hour).Add(30 * 24 * time.Hour)}, nil
}

func (b *bench) nextSite() string { return benchSite(int(b.site.Add(1)-1) % b.o.sites()) }

// simPost sends a JSON request to the simulator's control surface.
func (b *bench) simPost(path string, body, out any) error {
	data, err := json.Marshal(body)
	if err != nil {
		return err
	}
	resp, err := b.http.Post(b.s.simURL+path, "application/json", bytes.NewReader(data))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	reply, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		return fmt.Errorf("POST %s: HTTP %d: %s", path, resp.StatusCode, reply)
	}
	if out != nil {
		return json.Unmarshal(reply, out)
	}
	return nil
}

// newAcmeJob creates a job in acme at the next site and returns its ref
// and its activity's id.
func (b *bench) newAcmeJob() (ref, activity string, err error) {
	var job simulator.SimJobResponse
	err = b.simPost("/acme/sim/jobs", map[string]any{"clientId": "28", "siteRef": b.nextSite(), "priority": "Emergency",
		"description": "Bench job", "activities": []map[string]string{{"code": "PLB001", "quantity": "1"}}}, &job)
	if err != nil {
		return "", "", err
	}
	if len(job.Activities) == 0 {
		return "", "", fmt.Errorf("acme job %s has no activity", job.JobRef)
	}
	return job.JobRef, job.Activities[0].ID, nil
}

// parallel runs f(i) for i in [0, n) on workers goroutines; the first
// error stops it.
func parallel(ctx context.Context, n, workers int, f func(i int) error) error {
	var next atomic.Int64
	var once sync.Once
	var first error
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	for range min(workers, max(n, 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := f(i); err != nil {
					once.Do(func() { first = err; cancel() })
					return
				}
			}
		}()
	}
	wg.Wait()
	if first == nil && ctx.Err() != nil {
		return ctx.Err()
	}
	return first
}

// assignments makes n acme jobs assigned to fixit's team and returns
// their refs and the ACTIVITY_ASSIGNED webhooks acme sent (not yet given
// to O2O).
func (b *bench) assignments(ctx context.Context, n int) ([]string, []*event, error) {
	refs := make([]string, n)
	evs := make([]*event, n)
	err := parallel(ctx, n, 8, func(i int) error {
		ref, act, err := b.newAcmeJob()
		if err != nil {
			return err
		}
		var reply struct {
			EventID string `json:"eventId"`
		}
		if err := b.simPost("/acme/sim/activities/"+act+"/assign", map[string]string{"teamId": "7"}, &reply); err != nil {
			return err
		}
		refs[i] = ref
		evs[i] = &event{key: ref, id: reply.EventID}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	if err := b.collect(ctx, evs); err != nil {
		return nil, nil, err
	}
	return refs, evs, nil
}

// collect fills in the webhook bodies of evs once the simulator has sent
// them to the capture server.
func (b *bench) collect(ctx context.Context, evs []*event) error {
	wctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if err := b.s.sim.WaitDelivered(wctx); err != nil {
		return err
	}
	for _, ev := range evs {
		body, ok := b.s.capture.take(ev.id)
		if !ok {
			return fmt.Errorf("the simulator's webhook %s never reached the capture server", ev.id)
		}
		ev.body = body
	}
	return nil
}

// deliver POSTs a captured webhook to O2O's webhook server, signed as the
// system would sign it, until it is answered 202 (a 5xx or no answer is
// retried, as a sender would; anything else is a failure of the bench).
func (b *bench) deliver(ctx context.Context, system string, ev *event) error {
	secret := b.secret
	if system == "acme" {
		secret = b.acmeSec
	}
	ev.posted = time.Now()
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			ev.retries++
			if attempt > 30 {
				return fmt.Errorf("webhook %s for %s: not accepted after %d attempts", ev.id, ev.key, attempt)
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(200 * time.Millisecond):
			}
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, b.s.webhookURL+"/webhooks/"+system, bytes.NewReader(ev.body))
		if err != nil {
			return err
		}
		ts := time.Now()
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(events.HeaderID, ev.id)
		req.Header.Set(events.HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
		req.Header.Set(events.HeaderSignature, events.Sign(secret, ev.id, ts, ev.body))
		resp, err := b.http.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			continue
		}
		reply, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		switch {
		case resp.StatusCode == http.StatusAccepted:
			ev.acked = time.Now()
			return nil
		case resp.StatusCode >= 500:
			continue
		default:
			return fmt.Errorf("webhook %s for %s answered %d, not 202: %s", ev.id, ev.key, resp.StatusCode, bytes.TrimSpace(reply))
		}
	}
}

// send delivers events with the bench's concurrency, in the order given,
// never starting an event of a link before the previous one of that link
// was acknowledged (each link's events keep their order, as a sender's
// ordered queue would).
func (b *bench) send(ctx context.Context, evs []*event, one func(context.Context, *event) error) error {
	return b.sendWith(ctx, evs, b.o.concurrency, one)
}

// sendWith is send with inflight deliveries at once, each done by one.
func (b *bench) sendWith(ctx context.Context, evs []*event, inflight int, one func(context.Context, *event) error) error {
	prev := map[string]*event{}
	after := make([]*event, len(evs))
	for i, ev := range evs {
		ev.done = make(chan struct{})
		after[i] = prev[ev.key]
		prev[ev.key] = ev
	}
	return parallel(ctx, len(evs), inflight, func(i int) error {
		if p := after[i]; p != nil {
			select {
			case <-p.done:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		err := one(ctx, evs[i])
		close(evs[i].done)
		return err
	})
}

// setupLinks creates the throughput rounds' links: assignments delivered
// to O2O, each creating its linked job in fixit.
func (b *bench) setupLinks(ctx context.Context) error {
	refs, evs, err := b.assignments(ctx, b.o.links)
	if err != nil {
		return err
	}
	if err := b.send(ctx, evs, func(ctx context.Context, ev *event) error { return b.deliver(ctx, "acme", ev) }); err != nil {
		return err
	}
	if err := b.waitCreated(ctx, refs); err != nil {
		return err
	}
	var ids []string
	for _, ref := range refs {
		ids = append(ids, workflows.WorkflowID(linkName, ref))
	}
	if err := b.waitIdle(ctx, ids); err != nil {
		return err
	}
	base := b.s.obs.writeCounts("acme", refs)
	for i, ref := range refs {
		b.links = append(b.links, &link{primary: ref, secondary: b.s.obs.createdFor("fixit", ref)[0], base: base[i]})
	}
	// The raw baseline's jobs (no link: nothing but its workflow writes to them).
	b.raws = make([]*rawLink, b.o.links)
	return parallel(ctx, b.o.links, 8, func(i int) error {
		ref, _, err := b.newAcmeJob()
		b.raws[i] = &rawLink{jobRef: ref}
		return err
	})
}

// waitCreated waits until O2O has created exactly one fixit job for each
// of refs, and fails on a second one.
func (b *bench) waitCreated(ctx context.Context, refs []string) error {
	deadline := time.Now().Add(b.o.roundTimeout)
	for {
		missing := 0
		for _, ref := range refs {
			switch n := len(b.s.obs.createdFor("fixit", ref)); {
			case n == 0:
				missing++
			case n > 1:
				return fmt.Errorf("exactly-once violated: O2O created %d fixit jobs for %s: %v", n, ref, b.s.obs.createdFor("fixit", ref))
			}
		}
		if missing == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d of %d links have no linked job after %s%s", missing, len(refs), b.o.roundTimeout, b.explainMissing(ctx, refs))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// explainMissing describes a few links that have no linked job.
func (b *bench) explainMissing(ctx context.Context, refs []string) string {
	var out []string
	for _, ref := range refs {
		if len(b.s.obs.createdFor("fixit", ref)) == 0 {
			out = append(out, b.linkState(ctx, ref))
			if len(out) == 5 {
				break
			}
		}
	}
	return "; for example: " + strings.Join(out, "; ")
}

func (b *bench) linkState(ctx context.Context, ref string) string {
	st, err := workflows.QueryState(ctx, b.s.tc, linkName, ref)
	if err != nil {
		return fmt.Sprintf("%s: %v", ref, err)
	}
	return fmt.Sprintf("%s: %s pending %d lastError %q", ref, st.State, st.Pending, st.LastError)
}

// o2oEvents makes each link's next m appointment changes in fixit and
// returns their webhooks in the order they are to be sent: every link's
// first, then every link's second, and so on.
func (b *bench) o2oEvents(ctx context.Context, m int) ([]*event, error) {
	perLink := make([][]*event, len(b.links))
	err := parallel(ctx, len(b.links), 8, func(i int) error {
		l := b.links[i]
		for k := range m {
			n := l.sent + k
			start := b.apptBase.Add(time.Duration(n) * time.Hour)
			var reply struct {
				simulator.Appointment
				EventID string `json:"eventId"`
			}
			var err error
			if n%2 == 0 {
				err = b.simPost("/fixit/sim/jobs/"+l.secondary+"/appointments",
					map[string]string{"start": start.Format(time.RFC3339), "end": start.Add(time.Hour).Format(time.RFC3339)}, &reply)
				l.appointment = reply.ID
			} else {
				err = b.simPost("/fixit/sim/appointments/"+l.appointment+"/reschedule",
					map[string]string{"start": start.Format(time.RFC3339), "end": start.Add(time.Hour).Format(time.RFC3339), "reason": "Bench"}, &reply)
			}
			if err != nil {
				return err
			}
			perLink[i] = append(perLink[i], &event{key: l.primary, index: l.base + n, id: reply.EventID})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	var evs []*event
	for k := range m {
		for i := range b.links {
			evs = append(evs, perLink[i][k])
		}
	}
	if err := b.collect(ctx, evs); err != nil {
		return nil, err
	}
	for _, l := range b.links {
		for k := range m {
			if (l.sent+k)%2 == 0 {
				l.booked++
			} else {
				l.moved++
			}
		}
		l.sent += m
	}
	return evs, nil
}

// rawEvents are the raw baseline's next m events of each job, in the same
// order as o2oEvents.
func (b *bench) rawEvents(m int) []*event {
	var evs []*event
	for k := range m {
		for _, r := range b.raws {
			n := r.sent + k
			code := "APPT"
			if n%2 == 1 {
				code = "RESCH"
			}
			evs = append(evs, &event{key: r.jobRef, index: n, raw: rawEvent{JobRef: r.jobRef, Code: code,
				Note: fmt.Sprintf("Bench raw event %d of %s", n, r.jobRef), At: b.apptBase.Add(time.Duration(n) * time.Hour)}})
		}
	}
	for _, r := range b.raws {
		for k := range m {
			if (r.sent+k)%2 == 0 {
				r.booked++
			} else {
				r.moved++
			}
		}
		r.sent += m
	}
	return evs
}

func rawWorkflowID(jobRef string) string { return rawWorkflow + ":" + jobRef }

// signalRaw is the raw baseline's delivery: SignalWithStart.
func (b *bench) signalRaw(ctx context.Context, ev *event) error {
	ev.posted = time.Now()
	for attempt := 0; ; attempt++ {
		_, err := b.s.tc.SignalWithStartWorkflow(ctx, rawWorkflowID(ev.key), rawSignal, ev.raw,
			client.StartWorkflowOptions{ID: rawWorkflowID(ev.key), TaskQueue: rawTaskQueue}, rawWorkflow, ev.key)
		if err == nil {
			ev.acked = time.Now()
			return nil
		}
		if attempt >= 30 || ctx.Err() != nil {
			return fmt.Errorf("raw SignalWithStart for %s: %w", ev.key, err)
		}
		ev.retries++
		time.Sleep(200 * time.Millisecond)
	}
}

// roundResult is what one round measured.
type roundResult struct {
	events     int
	elapsed    time.Duration // first POST to last write visible
	latencies  []time.Duration
	acks       []time.Duration
	retries    int
	calls      int64 // /rest calls to both systems
	wfTasks    int64
	histEvents int64
}

func (r roundResult) throughput() float64 { return float64(r.events) / r.elapsed.Seconds() }

// waitApplied waits until every link's job has received its expected
// number of job events, fails on more (a duplicate), and gives each
// event's latency: a link's events are written in order, one write each,
// so its n-th write is its n-th event.
func (b *bench) waitApplied(ctx context.Context, evs []*event, refs []string, want []int, describe func(string) string) (visible []time.Time, err error) {
	deadline := time.Now().Add(b.o.roundTimeout)
	for {
		counts := b.s.obs.writeCounts("acme", refs)
		missing := 0
		for i, n := range counts {
			if n > want[i] {
				return nil, fmt.Errorf("exactly-once violated: %s has %d job events written, %d expected", refs[i], n, want[i])
			}
			if n < want[i] {
				missing++
			}
		}
		if missing == 0 {
			break
		}
		if time.Now().After(deadline) {
			var ex []string
			for i, n := range counts {
				if n < want[i] && len(ex) < 5 {
					ex = append(ex, fmt.Sprintf("%s has %d of %d (%s)", refs[i], n, want[i], describe(refs[i])))
				}
			}
			return nil, fmt.Errorf("lost work: %d of %d jobs are missing events after %s; %s", missing, len(refs), b.o.roundTimeout, strings.Join(ex, "; "))
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	visible = make([]time.Time, len(evs))
	byRef := map[string][]time.Time{}
	for i, ev := range evs {
		w, ok := byRef[ev.key]
		if !ok {
			w = b.s.obs.writesTo("acme", ev.key)
			byRef[ev.key] = w
		}
		visible[i] = w[ev.index]
	}
	return visible, nil
}

// round sends evs (O2O's or the raw baseline's) as fast as they are
// acknowledged, -concurrency at a time, waits until each is applied once,
// then until every workflow is idle, and measures.
func (b *bench) round(ctx context.Context, raw bool, evs []*event) (roundResult, error) {
	return b.roundWith(ctx, raw, evs, false)
}

// roundWith is round, or with light set, a light-load round: -latency-inflight
// events at a time end to end, each sender waiting until its event is
// written in the target before sending the next, so that latencies are
// the work's own, not time spent queueing behind other events.
func (b *bench) roundWith(ctx context.Context, raw bool, evs []*event, light bool) (roundResult, error) {
	var refs []string
	var want []int
	var marks []*histMark
	var ids []string
	if raw {
		for _, r := range b.raws {
			refs, want, marks, ids = append(refs, r.jobRef), append(want, r.sent), append(marks, &r.mark), append(ids, rawWorkflowID(r.jobRef))
		}
	} else {
		for _, l := range b.links {
			refs, want, marks, ids = append(refs, l.primary), append(want, l.base+l.sent), append(marks, &l.mark), append(ids, workflows.WorkflowID(linkName, l.primary))
		}
	}
	describe := func(ref string) string {
		if raw {
			return "raw workflow " + rawWorkflowID(ref)
		}
		return b.linkState(ctx, ref)
	}
	one := func(ctx context.Context, ev *event) error { return b.deliver(ctx, "fixit", ev) }
	if raw {
		one = b.signalRaw
	}
	inflight := b.o.concurrency
	if light {
		inflight = b.o.latencyInflight
		deliver := one
		one = func(ctx context.Context, ev *event) error {
			if err := deliver(ctx, ev); err != nil {
				return err
			}
			return b.waitWritten(ctx, ev)
		}
	}
	calls0 := b.s.obs.callsTotal()
	if err := b.sendWith(ctx, evs, inflight, one); err != nil {
		return roundResult{}, err
	}
	visible, err := b.waitApplied(ctx, evs, refs, want, describe)
	if err != nil {
		return roundResult{}, err
	}
	if err := b.waitIdle(ctx, ids); err != nil {
		return roundResult{}, err
	}
	res := roundResult{events: len(evs), calls: b.s.obs.callsTotal() - calls0}
	first, last := evs[0].posted, visible[0]
	for i, ev := range evs {
		first = minTime(first, ev.posted)
		last = maxTime(last, visible[i])
		res.latencies = append(res.latencies, visible[i].Sub(ev.posted))
		res.acks = append(res.acks, ev.acked.Sub(ev.posted))
		res.retries += ev.retries
	}
	res.elapsed = last.Sub(first)
	var mu sync.Mutex
	err = parallel(ctx, len(ids), 8, func(i int) error {
		n, tasks, mark, err := countHistory(ctx, b.s.tc, ids[i], *marks[i])
		if err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		res.histEvents += n
		res.wfTasks += tasks
		*marks[i] = mark
		return nil
	})
	return res, err
}

// waitWritten waits until ev's job event is written in acme.
func (b *bench) waitWritten(ctx context.Context, ev *event) error {
	deadline := time.Now().Add(b.o.roundTimeout)
	for b.s.obs.writeCounts("acme", []string{ev.key})[0] <= ev.index {
		if time.Now().After(deadline) {
			return fmt.Errorf("lost work: event %d of %s not written in acme after %s", ev.index+1, ev.key, b.o.roundTimeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Millisecond):
		}
	}
	return nil
}

// warmUp gives every link one event outside any measurement (after a new
// worker starts, each link's first event replays its history into the
// worker's cache; the raw baseline's first event starts its workflows),
// then marks where each workflow's history stands.
func (b *bench) warmUp(ctx context.Context, raw bool) error {
	var evs []*event
	var err error
	if raw {
		evs = b.rawEvents(1)
	} else if evs, err = b.o2oEvents(ctx, 1); err != nil {
		return err
	}
	_, err = b.round(ctx, raw, evs)
	return err
}

// waitIdle waits until none of the workflows has an activity or a
// workflow task pending, so that their histories are complete.
func (b *bench) waitIdle(ctx context.Context, ids []string) error {
	deadline := time.Now().Add(2 * time.Minute)
	busy := slices.Clone(ids)
	for len(busy) > 0 {
		pending := make([]bool, len(busy))
		err := parallel(ctx, len(busy), 8, func(i int) error {
			d, err := b.s.tc.DescribeWorkflowExecution(ctx, busy[i], "")
			if err != nil {
				return fmt.Errorf("describe %s: %w", busy[i], err)
			}
			if st := d.GetWorkflowExecutionInfo().GetStatus(); st != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
				return fmt.Errorf("workflow %s is %s, not running", busy[i], st)
			}
			pending[i] = len(d.GetPendingActivities()) > 0 || d.GetPendingWorkflowTask() != nil
			return nil
		})
		if err != nil {
			return err
		}
		var still []string
		for i, id := range busy {
			if pending[i] {
				still = append(still, id)
			}
		}
		busy = still
		if len(busy) == 0 {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d workflows still busy after 2 minutes, e.g. %s", len(busy), busy[0])
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return nil
}

// histMark is where a workflow's history stood: its run and last event.
type histMark struct {
	runID string
	last  int64
}

// countHistory counts the history events after from, and the workflow
// tasks completed among them, following continue-as-new into later runs.
func countHistory(ctx context.Context, tc client.Client, id string, from histMark) (n, tasks int64, to histMark, err error) {
	run, after := from.runID, from.last
	for {
		it := tc.GetWorkflowHistory(ctx, id, run, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		var last int64
		next := ""
		for it.HasNext() {
			ev, err := it.Next()
			if err != nil {
				return 0, 0, histMark{}, fmt.Errorf("history of %s: %w", id, err)
			}
			last = ev.GetEventId()
			if last <= after {
				continue
			}
			n++
			switch ev.GetEventType() {
			case enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
				tasks++
			case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW:
				next = ev.GetWorkflowExecutionContinuedAsNewEventAttributes().GetNewExecutionRunId()
			}
		}
		if next == "" {
			if run == "" {
				d, err := tc.DescribeWorkflowExecution(ctx, id, "")
				if err != nil {
					return 0, 0, histMark{}, err
				}
				run = d.GetWorkflowExecutionInfo().GetExecution().GetRunId()
			}
			return n, tasks, histMark{runID: run, last: last}, nil
		}
		run, after = next, 0
	}
}

// historyTypes lists a workflow's history event types (its current run),
// for -show-history.
func historyTypes(ctx context.Context, tc client.Client, id string) (string, error) {
	it := tc.GetWorkflowHistory(ctx, id, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	var out []string
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			return "", err
		}
		out = append(out, strings.TrimPrefix(ev.GetEventType().String(), "EVENT_TYPE_"))
	}
	return strings.Join(out, " "), nil
}

// verify reads every job from the simulator and checks that each event was
// applied exactly once: O2O's acme jobs hold exactly one APPT per
// appointment booked and one RESCH per rescheduling, written by O2O; each
// link is Linked with nothing pending; each fixit job was created once;
// the raw baseline's jobs likewise.
func (b *bench) verify(ctx context.Context) (applied, rawApplied int, err error) {
	apiUser := "o2o-api"
	check := func(ref string, booked, moved int) error {
		resp, err := b.http.Get(b.s.simURL + "/acme/sim/jobs/" + ref)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		var job simulator.Job
		if err := json.NewDecoder(resp.Body).Decode(&job); err != nil {
			return fmt.Errorf("read acme job %s: %w", ref, err)
		}
		got := map[string]int{}
		for _, h := range job.History {
			if h.AddedBy == apiUser {
				got[h.Code]++
			}
		}
		if got["APPT"] != booked || got["RESCH"] != moved {
			return fmt.Errorf("exactly-once violated in acme job %s: job events written %v, want APPT %d, RESCH %d", ref, got, booked, moved)
		}
		return nil
	}
	for _, l := range b.links {
		if err := check(l.primary, l.booked, l.moved); err != nil {
			return 0, 0, err
		}
		if n := len(b.s.obs.createdFor("fixit", l.primary)); n != 1 {
			return 0, 0, fmt.Errorf("exactly-once violated: %d fixit jobs for %s", n, l.primary)
		}
		st, err := workflows.QueryState(ctx, b.s.tc, linkName, l.primary)
		if err != nil {
			return 0, 0, fmt.Errorf("link %s: %w", l.primary, err)
		}
		if st.State != lifecycle.StateLinked || st.Pending != 0 || st.LastError != "" || st.SecondaryJobRef != l.secondary {
			return 0, 0, fmt.Errorf("link %s is %s (pending %d, lastError %q, secondary %s, want %s)", l.primary, st.State, st.Pending, st.LastError, st.SecondaryJobRef, l.secondary)
		}
		applied += l.sent
	}
	for _, r := range b.raws {
		if err := check(r.jobRef, r.booked, r.moved); err != nil {
			return 0, 0, fmt.Errorf("raw baseline: %w", err)
		}
		rawApplied += r.sent
	}
	return applied, rawApplied, nil
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
