// Package drill is O2O's chaos drill (make drill, issue 11 item 3): many
// links, each given a short life of events, run against the simulated
// Oneserve systems while everything that can go wrong does — target calls
// answering 5xx or hanging past the client's timeout, every webhook
// delivered twice and some out of order, the worker killed with SIGKILL
// every few seconds and the Temporal server killed and restarted once —
// and then checked against the simulator's final state: every source event
// applied exactly once in its target, in source order per link.
//
// The Temporal dev server (the pinned CLI, on a database file so that its
// state survives the restart), the worker and the webhook server are
// separate processes, as in production; the simulator runs in the drill's
// own process, so the drill reads its outbox and jobs directly.
package drill

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/o2o-sync/o2o/internal/devenv"
	"github.com/o2o-sync/o2o/internal/platform"
	"github.com/o2o-sync/o2o/internal/proc"
	"github.com/o2o-sync/o2o/simulator"
	"github.com/o2o-sync/o2o/workflows"
)

// LinkName is the drilled link: the example configuration's.
const LinkName = "acme-fixit"

// Options size the drill and its faults. Defaults (Defaults) are the
// issue's: 1,000 links × 10 events, 20% 5xx, 5% timeouts, every webhook
// twice, 10% out of order, a worker kill every 10 s, one Temporal restart.
type Options struct {
	Links         int // linked jobs
	EventsPerLink int // events per link, the assignment included (at least 5)
	Concurrency   int // links driven at once

	ServerErrors float64 // share of target calls answered 5xx (500 or 503)
	Timeouts     float64 // share of target calls held past the client's timeout
	// TimeoutsApplied is the share of those timeouts whose change is made
	// before the answer is lost (the rest never reach the system).
	TimeoutsApplied float64
	CallTimeout     time.Duration // O2O's per-call timeout (systems' timeout)
	Duplicate       float64       // share of webhooks delivered twice
	Reorder         float64       // share of webhooks held back while later ones go first
	Hold            time.Duration // how long a reordered webhook is held back

	KillEvery       time.Duration // SIGKILL the worker this often (0: never)
	MaxKills        int           // at most this many worker kills (0: no limit)
	TemporalRestart bool          // kill and restart Temporal once, half-way through the events
	TemporalDown    time.Duration // how long Temporal stays down before the restart

	// RequestsPerSecond and CallConcurrency are O2O's API budget per system
	// (limits in the configuration).
	RequestsPerSecond int
	CallConcurrency   int

	DrainTimeout time.Duration // give up waiting for the last events after this
	Seed         uint64        // seeds the faults' random choices
	LogLevel     string        // O2O_LOG_LEVEL of the worker and webhook server

	BinDir      string // holds worker and webhook
	TemporalCLI string // the pinned temporal CLI
	SeedFile    string // the simulator's seed (dev/simulator.yaml)
	ConfigFile  string // O2O's configuration (o2o.example.yaml)
	WorkDir     string // logs and Temporal's database; "" is a temporary directory, removed after a clean run
	Out         io.Writer
}

// Defaults are the figures.
func Defaults() Options {
	return Options{
		Links: 1000, EventsPerLink: 10, Concurrency: 50,
		ServerErrors: 0.20, Timeouts: 0.05, TimeoutsApplied: 0.5, CallTimeout: 2 * time.Second,
		Duplicate: 1, Reorder: 0.10, Hold: 2 * time.Second,
		KillEvery: 10 * time.Second, TemporalRestart: true,
		RequestsPerSecond: 200, CallConcurrency: 32,
		DrainTimeout: 20 * time.Minute, Seed: 1, LogLevel: "warn",
		BinDir: "bin", TemporalCLI: "bin/temporal",
		SeedFile: "dev/simulator.yaml", ConfigFile: "o2o.example.yaml",
		Out: os.Stdout,
	}
}

func (o Options) validate() error {
	switch {
	case o.Links < 1:
		return errors.New("links must be at least 1")
	case o.EventsPerLink < 5:
		return errors.New("events per link must be at least 5 (assign, On Hold, Accepted, book, complete)")
	case o.Concurrency < 1:
		return errors.New("concurrency must be at least 1")
	case o.ServerErrors < 0 || o.Timeouts < 0 || o.ServerErrors+o.Timeouts >= 1:
		return errors.New("5xx and timeout shares must be at least 0 and add up to less than 1")
	case o.TimeoutsApplied < 0 || o.TimeoutsApplied > 1:
		return errors.New("the applied share of timeouts must be from 0 to 1")
	case o.Duplicate < 0 || o.Duplicate > 1 || o.Reorder < 0 || o.Reorder > 1:
		return errors.New("duplicate and reorder shares must be from 0 to 1")
	case o.CallTimeout <= 0:
		return errors.New("the call timeout must be positive")
	case o.RequestsPerSecond < 1 || o.CallConcurrency < 1:
		return errors.New("requests per second and call concurrency must be at least 1")
	}
	return nil
}

// Run runs the drill and reports what it found. An error means the drill
// itself could not run (a process did not start, ...), not that O2O failed
// it: that is Report.OK.
func Run(ctx context.Context, o Options) (*Report, error) {
	if err := o.validate(); err != nil {
		return nil, err
	}
	d := newDrill(o)
	defer d.teardown()
	if err := d.setUp(ctx); err != nil {
		return nil, err
	}
	rep, err := d.run(ctx)
	if err != nil {
		return nil, err
	}
	d.clean = rep.OK()
	return rep, nil
}

// newDrill prepares a drill with options o, already validated.
func newDrill(o Options) *drill {
	if o.Out == nil {
		o.Out = io.Discard
	}
	// The drill writes from several goroutines (chaos, progress, the
	// drivers); Out need not be safe for that (a test's bytes.Buffer is not).
	o.Out = &lockedWriter{w: o.Out}
	return &drill{o: o, start: time.Now()}
}

type drill struct {
	o     Options
	start time.Time
	dir   string
	clean bool // remove dir at the end

	temporalAddr string
	temporalArgs []string
	temporal     *proc.Process

	env         []string
	workerAddr  string // its metrics/health address
	worker      *proc.Process
	workerMu    sync.Mutex // guards worker
	webhook     *proc.Process
	webhookAddr string

	sim    *simulator.Simulator
	simSrv *http.Server
	simURL string
	tc     client.Client

	// what happened, for the report
	timelineMu sync.Mutex
	timeline   []mark
	kills      atomic.Int32
	produced   atomic.Int32
}

// lockedWriter serialises writes to w.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// mark is one chaos action on the timeline.
type mark struct {
	at   time.Time
	what string
}

func (d *drill) note(format string, args ...any) {
	d.timelineMu.Lock()
	d.timeline = append(d.timeline, mark{time.Now(), fmt.Sprintf(format, args...)})
	d.timelineMu.Unlock()
	d.logf(format, args...)
}

func (d *drill) logf(format string, args ...any) {
	fmt.Fprintf(d.o.Out, "drill %6.1fs  %s\n", time.Since(d.start).Seconds(), fmt.Sprintf(format, args...))
}

// setUp starts the drill's stack: Temporal on a database file, the
// simulated systems, O2O's worker and webhook server; then it turns the
// faults on.
func (d *drill) setUp(ctx context.Context) error {
	o := d.o
	if err := d.prepareDir(); err != nil {
		return err
	}
	ports, err := freePorts(5)
	if err != nil {
		return err
	}
	if err := d.setUpTemporal(ctx, ports[0], ports[1], ports[2]); err != nil {
		return err
	}

	// The simulated systems, sending their webhooks to the webhook server.
	d.webhookAddr = fmt.Sprintf("127.0.0.1:%d", ports[3])
	d.workerAddr = fmt.Sprintf("127.0.0.1:%d", ports[4])
	if err := d.startSimulator(); err != nil {
		return err
	}
	cfgPath := filepath.Join(d.dir, "o2o.yaml")
	if err := writeConfig(o, d.simURL, cfgPath); err != nil {
		return err
	}
	if err := d.startO2O(ctx, cfgPath); err != nil {
		return err
	}
	return d.injectFaults()
}

// prepareDir makes the work directory (a temporary one unless WorkDir is
// set), clears what an earlier run left there and checks the binaries the
// drill runs are built.
func (d *drill) prepareDir() error {
	o := d.o
	d.dir = o.WorkDir
	if d.dir == "" {
		dir, err := os.MkdirTemp("", "o2o-drill-")
		if err != nil {
			return err
		}
		d.dir = dir
	} else if err := os.MkdirAll(d.dir, 0o755); err != nil {
		return err
	}
	// A fresh start: links left in an earlier run's database would point
	// at jobs this run's simulator never made.
	for _, f := range []string{"temporal.db", "temporal.db-wal", "temporal.db-shm", "temporal.log", "worker.log", "webhook.log"} {
		if err := os.Remove(filepath.Join(d.dir, f)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	for _, p := range []string{filepath.Join(o.BinDir, "worker"), filepath.Join(o.BinDir, "webhook"), o.TemporalCLI} {
		if _, err := os.Stat(p); err != nil {
			return fmt.Errorf("%s is missing (make build builds it): %w", p, err)
		}
	}
	return nil
}

// setUpTemporal starts the Temporal dev server on a database file, so that
// a restart keeps every link, on the ports given, and dials it.
func (d *drill) setUpTemporal(ctx context.Context, port, httpPort, metricsPort int) (err error) {
	d.temporalAddr = fmt.Sprintf("127.0.0.1:%d", port)
	d.temporalArgs = append([]string{"server", "start-dev", "--headless",
		"--db-filename", filepath.Join(d.dir, "temporal.db"), "--ip", "127.0.0.1",
		"--port", fmt.Sprint(port), "--http-port", fmt.Sprint(httpPort), "--metrics-port", fmt.Sprint(metricsPort),
		"--log-level", "error",
		// Durable against a killed process (the drill's faults), not against
		// a crashed machine, and much faster than SQLite's default journal.
		"--sqlite-pragma", "journal_mode=wal", "--sqlite-pragma", "synchronous=normal",
	}, platform.DevServerFlags(workflows.SearchAttributes)...)
	if err := d.startTemporal(ctx); err != nil {
		return err
	}
	d.tc, err = client.Dial(client.Options{HostPort: d.temporalAddr, Namespace: "default", Logger: quiet{}})
	if err != nil {
		return fmt.Errorf("Temporal client: %w", err)
	}
	return nil
}

// startO2O starts O2O's worker and webhook server with the configuration at
// cfgPath and waits until both are ready.
func (d *drill) startO2O(ctx context.Context, cfgPath string) (err error) {
	o := d.o
	d.env = append(os.Environ(), devenv.List()...)
	d.env = append(d.env, "O2O_CONFIG="+cfgPath, "TEMPORAL_ADDRESS="+d.temporalAddr, "TEMPORAL_NAMESPACE=default",
		"O2O_LOG_LEVEL="+o.LogLevel)

	d.worker, err = d.startProcess("worker", filepath.Join(o.BinDir, "worker"), nil, "O2O_METRICS_ADDR="+d.workerAddr)
	if err != nil {
		return err
	}
	d.webhook, err = d.startProcess("webhook", filepath.Join(o.BinDir, "webhook"), nil,
		"O2O_WEBHOOK_ADDR="+d.webhookAddr, "O2O_METRICS_ADDR=127.0.0.1:0")
	if err != nil {
		return err
	}
	for name, url := range map[string]string{"worker": "http://" + d.workerAddr + "/readyz", "webhook": "http://" + d.webhookAddr + "/readyz"} {
		if err := waitHTTP(ctx, url, 60*time.Second); err != nil {
			return fmt.Errorf("%s did not become ready (log in %s): %w", name, d.dir, err)
		}
	}
	return nil
}

func (d *drill) startTemporal(ctx context.Context) error {
	p, err := d.startProcess("temporal", d.o.TemporalCLI, d.temporalArgs)
	if err != nil {
		return err
	}
	d.temporal = p
	deadline := time.Now().Add(90 * time.Second)
	for {
		tc, err := client.Dial(client.Options{HostPort: d.temporalAddr, Namespace: "default", Logger: quiet{}})
		if err == nil {
			_, err = tc.CheckHealth(ctx, &client.CheckHealthRequest{})
			tc.Close()
			if err == nil {
				return nil
			}
		}
		if p.Exited() {
			return fmt.Errorf("the Temporal dev server exited (log: %s)", p.LogPath)
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("the Temporal dev server did not start (log: %s): %v", p.LogPath, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func (d *drill) startSimulator() error {
	// The seed names its tokens and secrets by variable, like O2O.
	for _, kv := range devenv.List() {
		k, v, _ := strings.Cut(kv, "=")
		if os.Getenv(k) == "" {
			os.Setenv(k, v)
		}
	}
	seed, err := simulator.LoadSeed(d.o.SeedFile)
	if err != nil {
		return err
	}
	for i := range seed.Systems {
		seed.Systems[i].WebhookURL = "http://" + d.webhookAddr + "/webhooks/" + seed.Systems[i].Name
	}
	// A real sender's redelivery: quick at first, then every few seconds
	// (and never sooner than the receiver's Retry-After), and it does not
	// give up during a drill.
	sim, err := simulator.New(seed, simulator.Options{
		RetrySchedule: []time.Duration{100 * time.Millisecond, 250 * time.Millisecond, 500 * time.Millisecond,
			time.Second, 2 * time.Second, 5 * time.Second},
		MaxAttempts: 10000,
		OutboxLimit: 4*d.o.Links*d.o.EventsPerLink + 1000,
	})
	if err != nil {
		return err
	}
	d.sim = sim
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	d.simURL = "http://" + l.Addr().String()
	d.simSrv = &http.Server{Handler: sim.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = d.simSrv.Serve(l) }()
	return nil
}

// killWorker kills the worker with SIGKILL and starts another at once.
func (d *drill) killWorker() error {
	d.workerMu.Lock()
	defer d.workerMu.Unlock()
	d.worker.Kill()
	n := d.kills.Add(1)
	p, err := d.startProcess("worker", filepath.Join(d.o.BinDir, "worker"), nil, "O2O_METRICS_ADDR="+d.workerAddr)
	if err != nil {
		return err
	}
	d.worker = p
	d.note("worker killed (SIGKILL, #%d) and restarted", n)
	return nil
}

// restartTemporal kills the Temporal server with SIGKILL and starts it again
// on the same database.
func (d *drill) restartTemporal(ctx context.Context) error {
	d.temporal.Kill()
	d.note("Temporal killed (SIGKILL)")
	t0 := time.Now()
	time.Sleep(d.o.TemporalDown)
	if err := d.startTemporal(ctx); err != nil {
		return err
	}
	d.note("Temporal back after %.1fs", time.Since(t0).Seconds())
	return nil
}

func (d *drill) teardown() {
	if d.webhook != nil {
		d.webhook.Stop(stopGrace)
	}
	d.workerMu.Lock()
	if d.worker != nil {
		d.worker.Stop(stopGrace)
	}
	d.workerMu.Unlock()
	if d.tc != nil {
		d.tc.Close()
	}
	if d.simSrv != nil {
		_ = d.simSrv.Close()
	}
	if d.sim != nil {
		d.sim.Close()
	}
	if d.temporal != nil {
		d.temporal.Stop(stopGrace)
	}
	if d.dir != "" && d.o.WorkDir == "" {
		if d.clean {
			_ = os.RemoveAll(d.dir)
		} else {
			fmt.Fprintf(d.o.Out, "drill: logs and Temporal's database kept in %s\n", d.dir)
		}
	}
}

// startProcess starts a child with the drill's environment (Temporal with
// the drill's own), its output in the drill's directory.
func (d *drill) startProcess(name, path string, args []string, extraEnv ...string) (*proc.Process, error) {
	env := d.env
	if name == "temporal" {
		env = os.Environ()
	}
	env = append(append([]string{}, env...), extraEnv...)
	return proc.Start(name, path, args, env, filepath.Join(d.dir, name+".log"))
}

// stopGrace is how long a process has to stop after SIGTERM.
const stopGrace = 30 * time.Second

func freePorts(n int) ([]int, error) {
	var out []int
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		out = append(out, l.Addr().(*net.TCPAddr).Port)
	}
	return out, nil
}

func waitHTTP(ctx context.Context, url string, within time.Duration) error {
	deadline := time.Now().Add(within)
	var last error
	for time.Now().Before(deadline) {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("HTTP %d", resp.StatusCode)
		}
		last = err
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	return last
}

// quiet keeps the SDK's retries while Temporal restarts out of the output.
type quiet struct{}

func (quiet) Debug(string, ...any) {}
func (quiet) Info(string, ...any)  {}
func (quiet) Warn(string, ...any)  {}
func (quiet) Error(string, ...any) {}
