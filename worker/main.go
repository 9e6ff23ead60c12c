// Command worker runs O2O's Temporal worker: it polls the "o2o" task queue
// and runs the LinkedJob workflows and their activities, which call the
// Oneserve systems. It registers O2O's search attributes on start.
//
// It serves, on O2O_METRICS_ADDR (default ":9464"; "off" for none):
// GET /metrics (Prometheus text: the Temporal SDK's metrics and O2O's own,
// docs/metrics.md), GET /healthz (the process is up) and GET /readyz (the
// worker is polling and Temporal answers).
//
// Configuration: O2O_CONFIG (the YAML file), O2O_METRICS_ADDR and Temporal's
// standard client variables (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, ...).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"slices"
	"sync/atomic"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.uber.org/zap"

	"github.com/o2o-sync/o2o/activities"
	"github.com/o2o-sync/o2o/config"
	"github.com/o2o-sync/o2o/internal/platform"
	"github.com/o2o-sync/o2o/workflows"
)

func main() {
	if len(os.Args) == 2 && os.Args[1] == "healthcheck" {
		os.Exit(platform.Probe(platform.LocalURL(platform.MetricsAddr(), "/readyz")))
	}
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "worker:", err)
		os.Exit(1)
	}
}

func run() error {
	// The worker calls the systems and serves no webhooks: it reads the API
	// tokens, not the webhook credentials or the operator token.
	cfg, err := config.LoadFromEnv(config.Options{TokensOnly: true})
	if err != nil {
		return err
	}
	// Tuning is checked before anything starts: a typo stops the process at once.
	// Heartbeats go out when recorded (at most every HeartbeatThrottle), not
	// held back for 0.8 × the activities' short heartbeat timeout.
	opts := worker.Options{MaxHeartbeatThrottleInterval: activities.HeartbeatThrottle}
	stickyCache, err := tuning(os.Getenv, &opts)
	if err != nil {
		return err
	}
	log, err := platform.NewLogger("worker")
	if err != nil {
		return err
	}
	defer func() { _ = log.Sync() }()

	ctx, stop := platform.SignalContext()
	defer stop()

	metrics, err := platform.NewMetrics("worker")
	if err != nil {
		return err
	}
	defer func() { _ = metrics.Close() }()
	metrics.SetLogger(log)

	// The endpoint comes up first, so that /healthz answers while the
	// worker connects; /readyz waits for the worker.
	st := &status{}
	endpoint, endpointErr, err := serveEndpoint(platform.MetricsAddr(), newEndpoint(metrics, st), log)
	if err != nil {
		return err
	}
	defer shutdownEndpoint(endpoint, log)

	tc, err := platform.DialWait(ctx, log, metrics, platform.WithExpectedActivityErrors(refusal))
	if err != nil {
		return err
	}
	defer tc.Close()
	if err := setUpTemporal(ctx, log, tc, cfg); err != nil {
		return err
	}

	w, fatal, err := startWorker(tc, cfg, metrics, opts, stickyCache)
	if err != nil {
		return err
	}
	st.started(tc)
	log.Info("Worker started", zap.String("taskQueue", workflows.TaskQueue), zap.Int("links", len(cfg.Links)))

	var runErr error
	select {
	case <-ctx.Done():
	case err := <-fatal:
		runErr = fmt.Errorf("worker: %w", err)
	case err := <-endpointErr:
		runErr = fmt.Errorf("metrics endpoint: %w", err)
	}
	st.stopping()
	w.Stop()
	if runErr != nil {
		return runErr
	}
	log.Info("Stopped")
	return nil
}

// setUpTemporal registers O2O's search attributes and makes its schedules,
// waiting for Temporal, and logs how each system's changes are found.
func setUpTemporal(ctx context.Context, log *zap.Logger, tc client.Client, cfg *config.Config) error {
	// Temporal can answer while its database is still down (or the
	// namespace not yet made): the setup waits too, and says so.
	var polled []string
	err := platform.Await(ctx, log, "Temporal to take O2O's search attributes and schedules (is its database up? is the namespace there?)", func(ctx context.Context) error {
		if err := platform.RegisterSearchAttributes(ctx, tc, os.Getenv("TEMPORAL_NAMESPACE"), workflows.SearchAttributes); err != nil {
			return err
		}
		if err := workflows.EnsureSchedules(ctx, tc, cfg); err != nil {
			return err
		}
		var err error
		polled, err = workflows.EnsurePollSchedules(ctx, tc, cfg)
		return err
	})
	if err != nil {
		return err
	}
	for name, s := range cfg.Systems {
		switch {
		case slices.Contains(polled, name):
			log.Info("Polling the system's job events", zap.String("system", name), zap.Duration("every", s.Poll.Every.D()),
				zap.String("schedule", workflows.PollScheduleID(name)))
		case s.Polled():
			log.Warn("The system is polled but has no job events to read (systems."+name+".poll.eventIds, links[].discovery): "+
				"its changes are found only by the links' scheduled reconciliation", zap.String("system", name))
		}
	}
	return nil
}

// startWorker starts the worker on O2O's task queue with its workflows and
// activities. fatal receives the error that stops it, if one does.
func startWorker(tc client.Client, cfg *config.Config, metrics *platform.Metrics, opts worker.Options, stickyCache int) (w worker.Worker, fatal <-chan error, err error) {
	acts, err := activities.New(cfg, activities.WithMetrics(metrics.MetricsHandler()))
	if err != nil {
		return nil, nil, err
	}
	fatalCh := make(chan error, 1)
	// Let running activities finish (or heartbeat their progress) on
	// shutdown instead of cancelling them at once.
	opts.WorkerStopTimeout = platform.ShutdownTimeout
	opts.OnFatalError = func(err error) {
		select {
		case fatalCh <- err:
		default:
		}
	}
	if stickyCache > 0 {
		worker.SetStickyWorkflowCacheSize(stickyCache)
	}
	w = worker.New(tc, workflows.TaskQueue, opts)
	workflows.Register(w, acts, tc)

	if err := w.Start(); err != nil {
		return nil, nil, fmt.Errorf("worker: %w", err)
	}
	return w, fatalCh, nil
}

// refusal picks the activity errors the SDK logs at ERROR that are a link's
// business (activities.Refusal: a target's 4xx, references that disagree),
// to be logged at WARN with the link, which shows the refusal in its state.
func refusal(workflowID string, err error) ([]zap.Field, bool) {
	if !activities.Refusal(err) {
		return nil, false
	}
	if link, ref, ok := workflows.ParseWorkflowID(workflowID); ok {
		return []zap.Field{zap.String("link", link), zap.String("primaryJobRef", ref)}, true
	}
	return nil, true
}

// status is what /readyz reports: the worker has started (and is not
// stopping) and its Temporal client is set.
type status struct {
	client atomic.Pointer[client.Client]
}

func (s *status) started(c client.Client) { s.client.Store(&c) }
func (s *status) stopping()               { s.client.Store(nil) }

// newEndpoint is the worker's HTTP handler: /metrics, /healthz, /readyz.
func newEndpoint(m *platform.Metrics, st *status) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.HTTPHandler())
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		c := st.client.Load()
		if c == nil {
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "the worker is not running"})
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
		defer cancel()
		if _, err := (*c).CheckHealth(ctx, &client.CheckHealthRequest{}); err != nil {
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "Temporal is not reachable"})
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	})
	return mux
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// serveEndpoint listens on addr ("off": not at all) and serves h. The
// listener is opened here, so that a taken port fails the start; a later
// failure to serve arrives on the channel.
func serveEndpoint(addr string, h http.Handler, log *zap.Logger) (*http.Server, <-chan error, error) {
	errc := make(chan error, 1)
	if addr == "off" {
		log.Info("Metrics and health endpoint off (O2O_METRICS_ADDR=off)")
		return nil, errc, nil
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, nil, fmt.Errorf("metrics endpoint: listen on %s (set O2O_METRICS_ADDR to another address, or off): %w", addr, err)
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    16 << 10,
	}
	go func() {
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			errc <- err
		}
	}()
	log.Info("Metrics and health endpoint listening", zap.String("addr", l.Addr().String()))
	return srv, errc, nil
}

// shutdownEndpoint lets in-flight scrapes finish, then closes the endpoint.
func shutdownEndpoint(srv *http.Server, log *zap.Logger) {
	if srv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		log.Warn("Metrics endpoint shutdown", zap.Error(err))
	}
}
