package platform

import (
	"fmt"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/uber-go/tally/v4"
	tallyprom "github.com/uber-go/tally/v4/prometheus"
	"go.temporal.io/sdk/client"
	sdktally "go.temporal.io/sdk/contrib/tally"
	"go.uber.org/zap"
)

// DefaultMetricsAddr is where the worker serves /metrics, /healthz and
// /readyz unless O2O_METRICS_ADDR says otherwise (9464 is the port commonly
// used for Prometheus exporters, and clashes with nothing `make run` starts).
const DefaultMetricsAddr = ":9464"

// MetricsAddr is the worker's metrics and health address: O2O_METRICS_ADDR,
// else DefaultMetricsAddr. "off" turns the endpoint off.
func MetricsAddr() string {
	if v := os.Getenv("O2O_METRICS_ADDR"); v != "" {
		return v
	}
	return DefaultMetricsAddr
}

// metricsReportInterval is how often counters and gauges reach the
// Prometheus registry (tally buffers them between reports; timers are
// reported at once). A scrape sees a counter at most this late.
const metricsReportInterval = time.Second

// timerBuckets are the histogram buckets (seconds) of every timer: from a
// millisecond (a webhook answered) to ten minutes (a large document copied,
// a workflow task waiting for a worker that is down).
var timerBuckets = []float64{
	0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
	1, 2.5, 5, 10, 30, 60, 120, 300, 600,
}

// Metrics is a process's one metrics registry. The Temporal SDK reports into
// it through MetricsHandler (set in client.Options by Dial and DialLazy), and
// so does O2O's own code, so that both share one endpoint and one naming
// scheme: counters end in _total and timers are histograms ending in
// _seconds (sdktally.NewPrometheusNamingScope). HTTPHandler serves it in the
// Prometheus text format.
//
// A nil *Metrics is valid: it records nothing.
type Metrics struct {
	handler client.MetricsHandler
	http    http.Handler
	closer  interface{ Close() error }

	errors prometheus.Counter
	log    atomic.Pointer[zap.Logger]
	mu     sync.Mutex
	logged map[string]bool
}

// NewMetrics builds the registry of the named process ("worker", "webhook").
// Every series carries the label process="<process>", so that a dashboard
// can tell the worker's Temporal client from the webhook server's even when
// both are scraped under one job. The registry also holds the standard Go
// runtime (go_*) and process (process_*) collectors. Close flushes it.
func NewMetrics(process string) (*Metrics, error) {
	if process == "" {
		return nil, fmt.Errorf("metrics: process name is required")
	}
	reg := prometheus.NewRegistry()
	m := &Metrics{
		logged: map[string]bool{},
		errors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "o2o_metrics_errors_total",
			Help: "Metrics that could not be registered (a name reused with other labels); they are dropped. The log says which.",
		}),
	}
	for _, c := range []prometheus.Collector{
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.errors,
	} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("metrics: %w", err)
		}
	}
	reporter := tallyprom.NewReporter(tallyprom.Options{
		Registerer:              reg,
		Gatherer:                reg,
		DefaultTimerType:        tallyprom.HistogramTimerType,
		DefaultHistogramBuckets: timerBuckets,
		// The reporter panics by default when a name comes back with other
		// labels; a metric must never take the process down.
		OnRegisterError: m.registerError,
	})
	scope, closer := tally.NewRootScope(tally.ScopeOptions{
		Tags:            map[string]string{"process": process},
		CachedReporter:  reporter,
		Separator:       tallyprom.DefaultSeparator,
		SanitizeOptions: &sdktally.PrometheusSanitizeOptions,
		// tally's own tally_internal_* gauges carry an "instance" label that
		// would clash with the one Prometheus adds to every target.
		OmitCardinalityMetrics: true,
	}, metricsReportInterval)
	m.closer = closer
	m.handler = sdktally.NewMetricsHandler(sdktally.NewPrometheusNamingScope(scope))
	m.http = promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorHandling:       promhttp.ContinueOnError,
		MaxRequestsInFlight: 4,
		Timeout:             10 * time.Second,
	})
	return m, nil
}

// MetricsHandler is what the Temporal client and O2O's own code record
// into. On a nil *Metrics it is client.MetricsNopHandler.
func (m *Metrics) MetricsHandler() client.MetricsHandler {
	if m == nil {
		return client.MetricsNopHandler
	}
	return m.handler
}

// HTTPHandler serves the registry in the Prometheus text format (for GET
// /metrics). On a nil *Metrics it answers 404.
func (m *Metrics) HTTPHandler() http.Handler {
	if m == nil {
		return http.NotFoundHandler()
	}
	return m.http
}

// SetLogger sets where registration errors are logged (once each); until it
// is called they go to stderr.
func (m *Metrics) SetLogger(log *zap.Logger) {
	if m != nil && log != nil {
		m.log.Store(log)
	}
}

// Close reports the last buffered values and stops the reporting loop.
func (m *Metrics) Close() error {
	if m == nil {
		return nil
	}
	return m.closer.Close()
}

func (m *Metrics) registerError(err error) {
	m.errors.Inc()
	msg := err.Error()
	m.mu.Lock()
	first := !m.logged[msg] && len(m.logged) < 100
	if first {
		m.logged[msg] = true
	}
	m.mu.Unlock()
	if !first {
		return
	}
	if log := m.log.Load(); log != nil {
		log.Warn("Metric dropped: registration failed", zap.Error(err))
		return
	}
	fmt.Fprintln(os.Stderr, "metric dropped: registration failed:", msg)
}
