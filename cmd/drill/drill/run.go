package drill

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/o2o-sync/o2o/lifecycle"
)

// writeConfig writes the example configuration pointed at the simulator,
// with the drill's per-call timeout and API budget, and reconciliation
// pushed out of the drill's way: a lost event must show as lost, not be
// quietly found by a reconciliation.
func writeConfig(o Options, simURL, path string) error {
	src, err := os.ReadFile(o.ConfigFile)
	if err != nil {
		return err
	}
	src = bytes.ReplaceAll(src, []byte("http://localhost:9100"), []byte(simURL))
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return fmt.Errorf("%s: %w", o.ConfigFile, err)
	}
	root := doc.Content[0]
	systems := mapValue(root, "systems")
	links := mapValue(root, "links")
	if systems == nil || links == nil || len(links.Content) == 0 {
		return fmt.Errorf("%s: no systems or links", o.ConfigFile)
	}
	for i := 1; i < len(systems.Content); i += 2 {
		sys := systems.Content[i]
		setScalar(sys, "timeout", o.CallTimeout.String())
		limits := &yaml.Node{Kind: yaml.MappingNode}
		setScalar(limits, "requestsPerSecond", fmt.Sprint(o.RequestsPerSecond))
		setScalar(limits, "concurrency", fmt.Sprint(o.CallConcurrency))
		setNode(sys, "limits", limits)
	}
	link := links.Content[0]
	if v := mapValue(link, "name"); v == nil || v.Value != LinkName {
		return fmt.Errorf("%s: the first link is not %s", o.ConfigFile, LinkName)
	}
	setScalar(link, "reconcileEvery", "8760h")
	out, err := yaml.Marshal(&doc)
	if err != nil {
		return err
	}
	return os.WriteFile(path, out, 0o600)
}

func mapValue(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

func setNode(m *yaml.Node, key string, v *yaml.Node) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content[i+1] = v
			return
		}
	}
	m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: key}, v)
}

func setScalar(m *yaml.Node, key, value string) {
	setNode(m, key, &yaml.Node{Kind: yaml.ScalarNode, Value: value})
}

// injectFaults sets the faults on both simulated systems: the target calls'
// 5xx and timeouts (each a share of all calls, drawn one fault after the
// other), and the webhooks' duplicates and reorders.
func (d *drill) injectFaults() error {
	o := d.o
	hold := (o.CallTimeout + time.Second).String()
	type share struct {
		of    float64
		fault map[string]any
	}
	rest := []share{
		{o.ServerErrors / 2, map[string]any{"status": 500}},
		{o.ServerErrors / 2, map[string]any{"status": 503}},
		{o.Timeouts * (1 - o.TimeoutsApplied), map[string]any{"delay": hold}},
		{o.Timeouts * o.TimeoutsApplied, map[string]any{"delay": hold, "after": true}},
	}
	for si, sys := range []string{"acme", "fixit"} {
		taken := 0.0
		for i, s := range rest {
			if s.of <= 0 {
				continue
			}
			f := map[string]any{"op": "*", "count": -1, "rate": min(1, s.of/(1-taken)), "seed": o.Seed*100 + uint64(si*10+i)}
			for k, v := range s.fault {
				f[k] = v
			}
			taken += s.of
			if err := d.simPost(sys, "/faults", f, nil); err != nil {
				return err
			}
		}
		if o.Duplicate > 0 || o.Reorder > 0 {
			f := map[string]any{"op": "deliver", "seed": o.Seed*100 + uint64(si*10+9)}
			if o.Duplicate > 0 {
				f["duplicate"] = o.Duplicate
			}
			if o.Reorder > 0 {
				f["reorder"], f["hold"] = o.Reorder, o.Hold.String()
			}
			if err := d.simPost(sys, "/faults", f, nil); err != nil {
				return err
			}
		}
	}
	return nil
}

// simPost calls the simulator's control surface.
func (d *drill) simPost(system, path string, body, out any) error {
	return d.simDo(http.MethodPost, system, path, body, out)
}

func (d *drill) simDo(method, system, path string, body, out any) error {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, d.simURL+"/"+system+"/sim"+path, r)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode >= 300 {
		return fmt.Errorf("simulator %s %s/sim%s: HTTP %d: %s", method, system, path, resp.StatusCode, b)
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

// source is one event a simulated user caused: its webhook's id, where it
// came from and what O2O must make of it.
type source struct {
	ID     string
	System string // acme or fixit: where it happened
	Kind   string // assign, On Hold, Accepted, book, reschedule, complete
	At     time.Time
}

// link is one drilled link: its primary job, the linked job once O2O made
// it, and its source events in the order they happened.
type link struct {
	mu       sync.Mutex // the driver writes while progress reads
	acmeRef  string
	fixitRef string
	events   []source
	err      error // the drill could not drive it to the end
}

// snapshot is a copy of the link as it is now.
func (l *link) snapshot() (acmeRef, fixitRef string, evs []source) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.acmeRef, l.fixitRef, append([]source(nil), l.events...)
}

// drive gives one link its life: assigned to the Fixit team and put On
// Hold in acme; once the linked job exists in fixit, Accepted there, an
// appointment booked, rescheduled and completed. A failure is left in l.err.
func (d *drill) drive(ctx context.Context, i int, l *link) {
	activityID := d.createJob(i, l)
	if l.err != nil {
		return
	}
	d.act(l, "acme", "assign", "/activities/"+activityID+"/assign", map[string]string{"teamId": "7"})
	d.act(l, "acme", "On Hold", "/jobs/"+l.acmeRef+"/status", map[string]string{"status": "On Hold"})
	if l.err != nil {
		return
	}
	// The rest happens in fixit, once O2O has created the linked job.
	if l.err = d.waitLinked(ctx, l); l.err != nil {
		return
	}
	d.act(l, "fixit", "Accepted", "/jobs/"+l.fixitRef+"/status", map[string]string{"status": "Accepted"})
	d.appointment(i, l)
}

// createJob creates link i's primary job in acme (on one of two sites, in
// turn) and returns its activity's id.
func (d *drill) createJob(i int, l *link) (activityID string) {
	site, contact, code := "SITE-001", "CON-001", "PLB001"
	if i%2 == 1 {
		site, contact, code = "SITE-002", "CON-002", "PLB002"
	}
	var job struct {
		JobRef     string `json:"jobRef"`
		Activities []struct {
			ID string `json:"id"`
		} `json:"activities"`
	}
	if l.err = d.simPost("acme", "/jobs", map[string]any{"clientId": "28", "siteRef": site, "contactRef": contact,
		"priority": "Emergency", "description": fmt.Sprintf("Drill job %d", i),
		"activities": []map[string]string{{"code": code, "quantity": "1", "description": "Drill work"}}}, &job); l.err != nil {
		return ""
	}
	l.mu.Lock()
	l.acmeRef = job.JobRef
	l.mu.Unlock()
	return job.Activities[0].ID
}

// act is a simulated user's action on the link (a POST to system's path),
// recorded as one of its source events; it returns the simulator's answer,
// or nil once the link has failed.
func (d *drill) act(l *link, system, kind, path string, body any) map[string]any {
	if l.err != nil {
		return nil
	}
	var out map[string]any
	if l.err = d.simPost(system, path, body, &out); l.err != nil {
		return nil
	}
	id, _ := out["eventId"].(string)
	if id == "" {
		l.err = fmt.Errorf("%s %s: no eventId in %v", system, path, out)
		return nil
	}
	l.mu.Lock()
	l.events = append(l.events, source{ID: id, System: system, Kind: kind, At: time.Now()})
	l.mu.Unlock()
	d.produced.Add(1)
	return out
}

// waitLinked waits until O2O has created the link's job in fixit and records
// its reference.
func (d *drill) waitLinked(ctx context.Context, l *link) error {
	for l.fixitRef == "" {
		var jobs []struct {
			JobRef string `json:"jobRef"`
		}
		if err := d.simDo(http.MethodGet, "fixit", "/jobs?clientRef="+l.acmeRef, nil, &jobs); err != nil {
			return err
		}
		if len(jobs) > 0 {
			l.mu.Lock()
			l.fixitRef = jobs[0].JobRef
			l.mu.Unlock()
			break
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("no linked job for %s: %w", l.acmeRef, ctx.Err())
		case <-time.After(250 * time.Millisecond):
		}
	}
	return nil
}

// appointment books an appointment on link i's fixit job, reschedules it
// as often as EventsPerLink leaves room for (the other five events are the
// assignment, On Hold, Accepted, the booking and the completion), and
// completes it.
func (d *drill) appointment(i int, l *link) {
	start := time.Date(2027, 1, 4, 8, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Hour)
	slot := func(k int) map[string]string {
		s := start.Add(time.Duration(k) * 24 * time.Hour)
		return map[string]string{"start": s.Format(time.RFC3339), "end": s.Add(time.Hour).Format(time.RFC3339), "reason": fmt.Sprintf("drill move %d", k)}
	}
	a := d.act(l, "fixit", "book", "/jobs/"+l.fixitRef+"/appointments", slot(0))
	if l.err != nil {
		return
	}
	appt := fmt.Sprint(a["appointmentId"])
	for k := 1; k <= d.o.EventsPerLink-5; k++ {
		d.act(l, "fixit", "reschedule", "/appointments/"+appt+"/reschedule", slot(k))
	}
	d.act(l, "fixit", "complete", "/appointments/"+appt+"/complete", map[string]string{})
}

// run produces the events with the chaos going on, waits for them to drain,
// and checks the result.
func (d *drill) run(ctx context.Context) (*Report, error) {
	o := d.o
	total := o.Links * o.EventsPerLink
	d.logf("%d links × %d events = %d events; Temporal %s, webhook %s, simulator %s, logs in %s",
		o.Links, o.EventsPerLink, total, d.temporalAddr, d.webhookAddr, d.simURL, d.dir)
	links := make([]*link, o.Links)
	for i := range links {
		links[i] = &link{}
	}

	driveCtx, stopDriving := context.WithTimeout(ctx, o.DrainTimeout)
	defer stopDriving()
	chaosCtx, stopChaos := context.WithCancel(ctx)
	chaosDone := make(chan error, 1)
	go func() { chaosDone <- d.chaos(chaosCtx, total) }()
	progressDone := make(chan struct{})
	progressCtx, stopProgress := context.WithCancel(ctx)
	go func() { defer close(progressDone); d.progress(progressCtx, links, total) }()

	produceStart := time.Now()
	d.produce(driveCtx, links)
	produced := time.Now()
	d.note("all events produced (%d) in %.1fs", d.produced.Load(), produced.Sub(produceStart).Seconds())

	drained, err := d.waitDrained(driveCtx, links)
	stopChaos()
	if cerr := <-chaosDone; cerr != nil {
		err = errors.Join(err, cerr)
	}
	stopProgress()
	<-progressDone
	if ctx.Err() != nil {
		return nil, fmt.Errorf("interrupted: %w", ctx.Err())
	}
	if err != nil && !drained {
		d.logf("not drained: %v", err)
	}
	drainedAt := time.Now()
	// A worker must run for the link states; late duplicates get a moment.
	if serr := d.ensureWorker(); serr != nil {
		return nil, serr
	}
	d.waitQuiet(ctx, links, 2*time.Minute)
	rep, aerr := d.analyse(ctx, links)
	if aerr != nil {
		return nil, aerr
	}
	rep.ProduceTime = produced.Sub(produceStart)
	rep.Drained = drained
	rep.DrainTime = drainedAt.Sub(produced)
	if !drained {
		rep.Problems = append(rep.Problems, fmt.Sprintf("not drained (drain timeout %s): %v", o.DrainTimeout, err))
	}
	rep.TotalTime = drainedAt.Sub(produceStart)
	rep.WorkerKills = int(d.kills.Load())
	d.addTimeline(rep, produceStart)
	return rep, nil
}

// produce drives every link, Concurrency at a time, and returns when all
// are driven (or have failed).
func (d *drill) produce(ctx context.Context, links []*link) {
	next := make(chan int)
	var wg sync.WaitGroup
	for range d.o.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				d.drive(ctx, i, links[i])
			}
		}()
	}
	for i := range links {
		next <- i
	}
	close(next)
	wg.Wait()
}

// ensureWorker starts a worker if the last one was killed and not restarted.
func (d *drill) ensureWorker() error {
	d.workerMu.Lock()
	defer d.workerMu.Unlock()
	if d.worker.Exited() {
		p, err := d.startProcess("worker", d.o.BinDir+"/worker", nil, "O2O_METRICS_ADDR="+d.workerAddr)
		if err != nil {
			return err
		}
		d.worker = p
	}
	return nil
}

// addTimeline adds the drill's marks (kills, restarts, phases) to the
// report, timed from the start of production, and the note on the longest
// stall.
func (d *drill) addTimeline(rep *Report, produceStart time.Time) {
	d.timelineMu.Lock()
	for _, m := range d.timeline {
		rep.Timeline = append(rep.Timeline, fmt.Sprintf("%7.1fs  %s", m.at.Sub(produceStart).Seconds(), m.what))
	}
	d.timelineMu.Unlock()
	rep.stallNote(produceStart, d.timeline)
}

// chaos kills the worker every KillEvery and restarts Temporal once, when
// half the events have been produced.
func (d *drill) chaos(ctx context.Context, total int) error {
	o := d.o
	var kill <-chan time.Time
	if o.KillEvery > 0 {
		t := time.NewTicker(o.KillEvery)
		defer t.Stop()
		kill = t.C
	}
	restart := o.TemporalRestart
	check := time.NewTicker(100 * time.Millisecond)
	defer check.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-kill:
			if o.MaxKills > 0 && int(d.kills.Load()) >= o.MaxKills {
				kill = nil
				continue
			}
			if err := d.killWorker(); err != nil {
				return err
			}
		case <-check.C:
			if restart && int(d.produced.Load()) >= total/2 {
				restart = false
				if err := d.restartTemporal(ctx); err != nil {
					return err
				}
			}
		}
	}
}

// progress prints how far the drill is every 10 s.
func (d *drill) progress(ctx context.Context, links []*link, total int) {
	t := time.NewTicker(10 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			applied := d.appliedCount(links)
			d.logf("produced %d/%d, applied %d, webhooks pending %d", d.produced.Load(), total, applied, d.pendingWebhooks())
		}
	}
}

func (d *drill) pendingWebhooks() int {
	n := 0
	for _, sys := range []string{"acme", "fixit"} {
		for _, ev := range d.sim.Outbox(sys) {
			if ev.State == "pending" {
				n++
			}
		}
	}
	return n
}

// waitDrained waits until every produced event is applied in its target
// and no webhook waits to be sent.
//
// When every webhook has been sent and nothing has been applied for 30 s,
// it asks the links: if none has an event waiting (pending 0) that it can
// still apply (a NeedsAttention link waits for an operator), the missing
// events will never come — O2O never stored them — and it stops waiting.
func (d *drill) waitDrained(ctx context.Context, links []*link) (bool, error) {
	want := int(d.produced.Load())
	last, lastAt := -1, time.Now()
	for {
		applied := d.appliedCount(links)
		if applied != last {
			last, lastAt = applied, time.Now()
		}
		webhooks := d.pendingWebhooks()
		// Events that overtook their link's assignment are left to the
		// link's reconciliation (switched off here): not waited for.
		skipped := 0
		if webhooks == 0 {
			skipped = overtaken(d.deliveries(nil))
		}
		if applied >= want-skipped && webhooks == 0 {
			d.note("drained: %d events applied (%d overtook their link's assignment), no webhook pending", applied, skipped)
			return true, nil
		}
		if webhooks == 0 && time.Since(lastAt) > 30*time.Second {
			busy := 0
			for _, st := range d.linkStates(ctx, links) {
				if st.Pending > 0 && st.State != lifecycle.StateNeedsAttention {
					busy++ // a blocked link waits for an operator, not for time
				}
			}
			if busy == 0 {
				d.note("settled with %d of %d events applied: no webhook pending, no link has an event waiting", applied, want)
				return false, fmt.Errorf("%d event(s) will never be applied", want-applied)
			}
			lastAt = time.Now() // ask again in 30 s
		}
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// waitQuiet waits, at most limit, until no link has an event it has
// received but not yet processed (a NeedsAttention link waits for an
// operator, not for time). Everything can be applied in the targets while a
// link still has work: after a worker kill its workflow task waits out the
// sticky queue's timeout before it records the last result and the
// redeliveries behind it, and a report read then would count those
// redeliveries as acknowledged but not stored.
func (d *drill) waitQuiet(ctx context.Context, links []*link, limit time.Duration) {
	deadline := time.Now().Add(limit)
	for {
		busy := 0
		for _, st := range d.linkStates(ctx, links) {
			if st.Pending > 0 && st.State != lifecycle.StateNeedsAttention {
				busy++
			}
		}
		if busy == 0 || time.Now().After(deadline) || ctx.Err() != nil {
			if busy > 0 {
				d.logf("%d link(s) still have events to process after %s; reporting anyway", busy, limit)
			}
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}

// appliedCount counts the produced events that have reached their target:
// an assignment once its linked job exists, any other once its job event
// (found by O2O's marker) is in the other system's job.
func (d *drill) appliedCount(links []*link) int {
	n := 0
	for _, l := range links {
		acmeRef, fixitRef, evs := l.snapshot()
		if acmeRef == "" {
			continue
		}
		acme, _ := d.sim.Job("acme", acmeRef)
		var fixitNotes []string
		if fixitRef != "" {
			fx, _ := d.sim.Job("fixit", fixitRef)
			for _, h := range fx.History {
				fixitNotes = append(fixitNotes, h.Note)
			}
		}
		var acmeNotes []string
		for _, h := range acme.History {
			acmeNotes = append(acmeNotes, h.Note)
		}
		for _, ev := range evs {
			if ev.Kind == "assign" {
				if fixitRef != "" {
					n++
				}
				continue
			}
			notes := fixitNotes
			if ev.System == "fixit" {
				notes = acmeNotes
			}
			m := marker(ev.ID)
			for _, note := range notes {
				if strings.Contains(note, m) {
					n++
					break
				}
			}
		}
	}
	return n
}
