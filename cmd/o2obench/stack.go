package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/o2o-sync/o2o/internal/devenv"
	"github.com/o2o-sync/o2o/internal/platform"
	"github.com/o2o-sync/o2o/internal/proc"
	"github.com/o2o-sync/o2o/simulator"
	"github.com/o2o-sync/o2o/workflows"
)

// Development-only credentials, the same values make run and the
// end-to-end tests use.
var devEnv = devenv.Credentials

// benchLimits is the API budget the bench gives O2O (and the raw baseline)
// in both simulated systems: the configuration's maximum, so that the
// budget, which exists to protect a real Oneserve, does not set the pace.
const benchLimits = "limits: { requestsPerSecond: 1000, concurrency: 100 }"

// stack is everything one bench run uses: one Temporal dev server, the
// simulated systems (in this process, behind the observer), the capture
// server their webhooks go to, one O2O webhook server, the raw baseline's
// worker, and O2O workers started and stopped per tuning variant.
type stack struct {
	opts       options
	dir        string // temporary: config, process logs
	temporal   string // the dev server's frontend, host:port
	tc         client.Client
	sim        *simulator.Simulator
	simURL     string
	obs        *observer
	capture    *capture
	webhookURL string
	configPath string
	webhook    *proc.Process
	raw        *proc.Process
	closers    []func()
	keep       bool // keep dir when closing (-keep-logs, or a failure)
}

// startStack starts everything one bench run uses (stack); on an error it
// stops what it started and keeps the logs.
func startStack(ctx context.Context, o options) (_ *stack, err error) {
	s := &stack{opts: o}
	defer func() {
		if err != nil {
			s.keep = s.dir != ""
			s.close()
		}
	}()
	for k, v := range devEnv {
		os.Setenv(k, v)
	}
	if s.dir, err = os.MkdirTemp("", "o2obench-"); err != nil {
		return nil, err
	}
	s.keep = o.keepLogs
	s.closers = append(s.closers, func() {
		if s.keep {
			fmt.Fprintf(os.Stderr, "o2obench: the processes' logs and configuration are kept in %s\n", s.dir)
		} else {
			os.RemoveAll(s.dir)
		}
	})

	if err = s.startTemporal(ctx); err != nil {
		return nil, err
	}
	if err = s.startSimulator(); err != nil {
		return nil, err
	}
	if err = s.writeConfig(); err != nil {
		return nil, err
	}
	if err = s.startWebhook(ctx); err != nil {
		return nil, err
	}
	if err = s.startRawWorker(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// startTemporal starts the Temporal dev server and dials it.
func (s *stack) startTemporal(ctx context.Context) (err error) {
	// Temporal: the pinned CLI's dev server with the flags the end-to-end
	// tests start it with (testsuite.StartDevServer's: in memory, headless;
	// O2O's search attributes; the tests' dynamic configuration), plus any
	// -dynamic-config values. Started here rather than through testsuite so
	// that it dies with the bench (Pdeathsig).
	args := []string{}
	for _, dc := range s.opts.dynamicConfig {
		args = append(args, "--dynamic-config-value", dc)
	}
	args = append(args, platform.DevServerFlags(workflows.SearchAttributes)...)
	if s.temporal, err = freeAddr(); err != nil {
		return err
	}
	host, port, _ := strings.Cut(s.temporal, ":")
	// Its HTTP and metrics ports too: their defaults would clash with
	// make run or another dev server on this machine.
	httpAddr, err := freeAddr()
	if err != nil {
		return err
	}
	metricsAddr, err := freeAddr()
	if err != nil {
		return err
	}
	_, httpPort, _ := strings.Cut(httpAddr, ":")
	_, metricsPort, _ := strings.Cut(metricsAddr, ":")
	args = append([]string{"server", "start-dev", "--ip", host, "--port", port, "--http-port", httpPort, "--metrics-port", metricsPort,
		"--headless", "--log-level", "error",
		"--namespace", "default", "--dynamic-config-value", "frontend.enableServerVersionCheck=false"}, args...)
	dev, err := proc.Start("temporal", s.opts.temporalCLI, args, os.Environ(), filepath.Join(s.dir, "temporal.log"))
	if err != nil {
		return err
	}
	s.closers = append(s.closers, func() { dev.Stop(stopGrace) })
	deadline := time.Now().Add(2 * time.Minute)
	for {
		dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		s.tc, err = client.DialContext(dctx, client.Options{HostPort: s.temporal, Namespace: "default", Logger: quietLogger()})
		cancel()
		if err == nil {
			break
		}
		if dev.Exited() || time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("start the Temporal dev server (%s): %v\n%s", s.opts.temporalCLI, err, tail(dev.LogPath, 20))
		}
		time.Sleep(200 * time.Millisecond)
	}
	s.closers = append(s.closers, s.tc.Close)
	return nil
}

// startSimulator starts the simulated systems behind the observer, with the
// capture server their webhooks go to.
func (s *stack) startSimulator() (err error) {
	// The simulated systems send their webhooks to the capture server: the
	// bench delivers them to O2O itself, signed, at its own concurrency
	// (the simulator's sender is one ordered queue per system).
	s.capture = newCapture()
	capSrv := httptest.NewServer(s.capture)
	s.closers = append(s.closers, capSrv.Close)
	seed, err := simulator.LoadSeed(filepath.Join(s.opts.repo, "dev", "simulator.yaml"))
	if err != nil {
		return err
	}
	for i := range seed.Systems {
		sys := &seed.Systems[i]
		sys.WebhookURL = capSrv.URL + "/capture/" + sys.Name
		// Jobs are spread over many sites, as a housing association's are:
		// creating a linked job reads its site, jobs included.
		clientID := map[string]string{"acme": "28", "fixit": "41"}[sys.Name]
		for n := range s.opts.sites() {
			sys.Sites = append(sys.Sites, simulator.Site{ClientID: clientID, SiteRef: benchSite(n),
				Name: fmt.Sprintf("%d Bench Road", n+1), Address1: fmt.Sprintf("%d Bench Road", n+1), Postcode: "ZZ9 9ZZ"})
		}
	}
	s.sim, err = simulator.New(seed, simulator.Options{RetrySchedule: []time.Duration{100 * time.Millisecond, 300 * time.Millisecond, time.Second}})
	if err != nil {
		return err
	}
	s.obs = newObserver(s.sim.Handler())
	simSrv := httptest.NewUnstartedServer(s.obs)
	simSrv.Config.ReadHeaderTimeout = 10 * time.Second
	simSrv.Start()
	s.simURL = simSrv.URL
	s.closers = append(s.closers, func() { simSrv.Close(); s.sim.Close() })
	return nil
}

// writeConfig writes O2O's configuration for the bench to the work directory.
func (s *stack) writeConfig() error {
	// O2O's configuration: the example's, against this simulator, with the
	// bench's API budget and no scheduled reconciliation during the run.
	raw, err := os.ReadFile(filepath.Join(s.opts.repo, "o2o.example.yaml"))
	if err != nil {
		return err
	}
	cfg, err := benchConfig(string(raw), s.simURL)
	if err != nil {
		return err
	}
	s.configPath = filepath.Join(s.dir, "o2o.yaml")
	if err := os.WriteFile(s.configPath, []byte(cfg), 0o600); err != nil {
		return err
	}
	return nil
}

// startWebhook starts O2O's webhook server and waits until it is ready.
func (s *stack) startWebhook(ctx context.Context) (err error) {
	addr, err := freeAddr()
	if err != nil {
		return err
	}
	s.webhookURL = "http://" + addr
	if s.webhook, err = s.start(ctx, "webhook", filepath.Join(s.opts.bin, "webhook"), nil, []string{"O2O_WEBHOOK_ADDR=" + addr}, s.webhookURL+"/readyz"); err != nil {
		return err
	}
	return nil
}

// startRawWorker starts the raw baseline's worker (this binary, raw-worker)
// and waits until it is ready.
func (s *stack) startRawWorker(ctx context.Context) (err error) {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	rawMetrics, err := freeAddr()
	if err != nil {
		return err
	}
	if s.raw, err = s.start(ctx, "raw-worker", self, []string{"raw-worker"},
		[]string{"O2O_BENCH_SIM_URL=" + s.simURL, "O2O_BENCH_READY_ADDR=" + rawMetrics}, "http://"+rawMetrics+"/readyz"); err != nil {
		return err
	}
	return nil
}

// benchConfig is the example configuration with the simulator at simURL,
// the bench's API budget in both systems and no scheduled reconciliation.
func benchConfig(example, simURL string) (string, error) {
	cfg := strings.ReplaceAll(example, "http://localhost:9100", simURL)
	cfg, err := replaceOnce(cfg, "limits: { requestsPerSecond: 10, concurrency: 4 }", benchLimits)
	if err != nil {
		return "", err
	}
	if cfg, err = replaceOnce(cfg, "    apiUser: o2o-api\n\nlinks:", "    apiUser: o2o-api\n    "+benchLimits+"\n\nlinks:"); err != nil {
		return "", err
	}
	return replaceOnce(cfg, "    closeAfter: 72h\n", "    closeAfter: 72h\n    reconcileEvery: 8760h\n")
}

func replaceOnce(doc, old, new string) (string, error) {
	if strings.Count(doc, old) != 1 {
		return "", fmt.Errorf("o2o.example.yaml no longer holds %q exactly once; update cmd/o2obench", old)
	}
	return strings.Replace(doc, old, new, 1), nil
}

func benchSite(n int) string { return fmt.Sprintf("BENCH-%04d", n) }

// startWorker starts an O2O worker with the variant's environment and
// waits until it polls.
func (s *stack) startWorker(ctx context.Context, v variant) (*proc.Process, string, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, "", err
	}
	env := append([]string{"O2O_METRICS_ADDR=" + addr}, v.env...)
	p, err := s.start(ctx, "worker-"+v.slug(), filepath.Join(s.opts.bin, "worker"), nil, env, "http://"+addr+"/readyz")
	return p, "http://" + addr, err
}

func (s *stack) start(ctx context.Context, name, path string, args, extraEnv []string, ready string) (*proc.Process, error) {
	env := os.Environ()
	env = append(env,
		"O2O_CONFIG="+s.configPath,
		"TEMPORAL_ADDRESS="+s.temporal,
		"TEMPORAL_NAMESPACE=default",
	)
	env = append(env, extraEnv...)
	p, err := proc.Start(name, path, args, env, filepath.Join(s.dir, name+".log"))
	if err != nil {
		return nil, err
	}
	s.closers = append(s.closers, func() { p.Stop(stopGrace) })
	if err := waitReady(ctx, ready, p, 90*time.Second); err != nil {
		return nil, fmt.Errorf("%s did not become ready: %w (log: %s)\n%s", name, err, p.LogPath, tail(p.LogPath, 20))
	}
	return p, nil
}

func (s *stack) close() {
	for i := len(s.closers) - 1; i >= 0; i-- {
		s.closers[i]()
	}
	s.closers = nil
}

// stopGrace is how long a process has to stop after SIGTERM.
const stopGrace = 40 * time.Second

func waitReady(ctx context.Context, url string, p *proc.Process, within time.Duration) error {
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-p.Done():
			return fmt.Errorf("exited: %v", p.Err())
		case <-time.After(100 * time.Millisecond):
		}
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
	}
	return errors.New("not ready in time")
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// tail is the last n lines of a file, for failure reports.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
