// Package platform is the process plumbing the worker, the webhook server and
// the starter share: structured logging, metrics, the one Temporal client per
// process, search-attribute registration and shutdown on a signal.
package platform

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"syscall"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/contrib/envconfig"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/o2o-sync/o2o/codec"
	"github.com/o2o-sync/o2o/internal/secretenv"
)

// NewLogger returns the process logger: JSON lines on stderr, or a readable
// console format when O2O_LOG_FORMAT=console. O2O_LOG_LEVEL sets the level
// (debug, info, warn, error; default info).
func NewLogger(process string) (*zap.Logger, error) {
	cfg := zap.NewProductionConfig()
	if os.Getenv("O2O_LOG_FORMAT") == "console" {
		cfg = zap.NewDevelopmentConfig()
		cfg.DisableStacktrace = true
		cfg.EncoderConfig.EncodeLevel = zapcore.CapitalColorLevelEncoder
		cfg.Level = zap.NewAtomicLevelAt(zap.InfoLevel)
	}
	cfg.EncoderConfig.TimeKey = "time"
	cfg.EncoderConfig.EncodeTime = zapcore.ISO8601TimeEncoder
	if lvl := os.Getenv("O2O_LOG_LEVEL"); lvl != "" {
		l, err := zapcore.ParseLevel(lvl)
		if err != nil {
			return nil, fmt.Errorf("O2O_LOG_LEVEL: %w", err)
		}
		cfg.Level = zap.NewAtomicLevelAt(l)
	}
	log, err := cfg.Build()
	if err != nil {
		return nil, err
	}
	return log.With(zap.String("process", process)), nil
}

// Dial connects the process's one Temporal client. The address, namespace,
// TLS and API key come from Temporal's standard environment variables
// (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS_*)
// or a temporal.toml profile, through the SDK's envconfig package. The
// client reports the SDK's metrics into m (nil: no metrics).
func Dial(ctx context.Context, log *zap.Logger, m *Metrics, dialOpts ...DialOption) (client.Client, error) {
	opts, err := clientOptions(log, m, dialOpts)
	if err != nil {
		return nil, err
	}
	c, err := client.DialContext(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("connect to Temporal at %s: %w", opts.HostPort, err)
	}
	return c, nil
}

// DialWait is Dial for a long-running process: while Temporal cannot be
// reached it waits, saying so (Await), instead of exiting.
func DialWait(ctx context.Context, log *zap.Logger, m *Metrics, dialOpts ...DialOption) (client.Client, error) {
	opts, err := clientOptions(log, m, dialOpts)
	if err != nil {
		return nil, err
	}
	var c client.Client
	err = Await(ctx, log, "Temporal at "+opts.HostPort+" to answer", func(ctx context.Context) error {
		c, err = client.DialContext(ctx, opts)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("connect to Temporal at %s: %w", opts.HostPort, err)
	}
	return c, nil
}

// DialLazy is Dial for the webhook server: it connects on first use, so the
// server starts (and answers 503, not-ready) while Temporal is unreachable,
// instead of refusing to start.
func DialLazy(log *zap.Logger, m *Metrics, dialOpts ...DialOption) (client.Client, error) {
	opts, err := clientOptions(log, m, dialOpts)
	if err != nil {
		return nil, err
	}
	c, err := client.NewLazyClient(opts)
	if err != nil {
		return nil, fmt.Errorf("Temporal client for %s: %w", opts.HostPort, err)
	}
	return c, nil
}

// DialOption changes the client Dial, DialWait and DialLazy make.
type DialOption func(*dialOptions)

type dialOptions struct {
	expected ExpectedActivityError
}

// WithExpectedActivityErrors has the client's logger write the activity
// errors f picks at WARN, with the fields it adds, instead of ERROR (a
// worker's client: the SDK logs its activities' errors).
func WithExpectedActivityErrors(f ExpectedActivityError) DialOption {
	return func(o *dialOptions) { o.expected = f }
}

func clientOptions(log *zap.Logger, m *Metrics, dialOpts []DialOption) (client.Options, error) {
	var do dialOptions
	for _, o := range dialOpts {
		o(&do)
	}
	apiKey, err := secretenv.Lookup(nil, envAPIKey)
	if err != nil {
		return client.Options{}, fmt.Errorf("temporal client configuration: %w", err)
	}
	opts, err := envconfig.LoadClientOptions(envconfig.LoadClientOptionsRequest{EnvLookup: apiKeyEnv{apiKey}})
	if err != nil {
		return client.Options{}, fmt.Errorf("temporal client configuration: %w", err)
	}
	if opts.HostPort == "" {
		opts.HostPort = client.DefaultHostPort
	}
	opts.Logger = NewTemporalLogger(log.Named("temporal"), do.expected)
	if m != nil {
		opts.MetricsHandler = m.MetricsHandler()
	}
	// Every process encodes and decodes with the same keys: the worker
	// writes what the webhook server and the starter read, and back.
	pc, err := codec.FromEnv(nil)
	if err != nil {
		return client.Options{}, err
	}
	opts.DataConverter = codec.DataConverter(pc)
	if pc.Encrypts() {
		opts.FailureConverter = codec.FailureConverter(opts.DataConverter)
		log.Info("Payload encryption on", zap.String("encryptingKey", pc.ActiveKeyID()), zap.Int("keys", len(pc.KeyIDs())))
	} else {
		log.Info("Payload encryption off: " + codec.EnvKeys + " is not set; Temporal stores payloads in plain text")
	}
	return opts, nil
}

// envAPIKey is Temporal's API key variable; O2O also reads it from a file
// (TEMPORAL_API_KEY_FILE), which Temporal's envconfig does not.
const envAPIKey = "TEMPORAL_API_KEY"

// apiKeyEnv is the process environment as envconfig reads it, with the API
// key taken from TEMPORAL_API_KEY or TEMPORAL_API_KEY_FILE.
type apiKeyEnv struct{ key string }

func (apiKeyEnv) Environ() []string { return os.Environ() }

func (e apiKeyEnv) LookupEnv(name string) (string, bool) {
	if name == envAPIKey {
		return e.key, e.key != ""
	}
	return os.LookupEnv(name)
}

// RegisterSearchAttributes makes sure the custom search attributes attrs
// (name to type; O2O's are workflows.SearchAttributes, which the caller
// passes so that this package does not depend on the workflow code) exist in
// the client's namespace. It is idempotent and safe to run from several
// processes at once.
func RegisterSearchAttributes(ctx context.Context, c client.Client, namespace string, attrs map[string]enumspb.IndexedValueType) error {
	if namespace == "" {
		namespace = client.DefaultNamespace
	}
	list, err := c.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: namespace})
	if err != nil {
		return fmt.Errorf("list search attributes: %w", err)
	}
	missing := map[string]enumspb.IndexedValueType{}
	for name, typ := range attrs {
		if _, ok := list.GetCustomAttributes()[name]; !ok {
			missing[name] = typ
		}
	}
	if len(missing) == 0 {
		return nil
	}
	_, err = c.OperatorService().AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{
		Namespace: namespace, SearchAttributes: missing,
	})
	var exists *serviceerror.AlreadyExists
	if err != nil && !errors.As(err, &exists) {
		return fmt.Errorf("add search attributes: %w", err)
	}
	return nil
}

// SignalContext returns a context cancelled on SIGINT or SIGTERM.
func SignalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

// ShutdownTimeout bounds graceful shutdown of each part of a process.
const ShutdownTimeout = 30 * time.Second

// Probe is the container health check: `worker healthcheck` / `webhook
// healthcheck` asks the running process's readiness endpoint and exits 0 when
// it answers 200. It exists because the images have no shell or curl.
func Probe(url string) int {
	c := &http.Client{Timeout: 3 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		fmt.Fprintln(os.Stderr, "healthcheck:", err)
		return 1
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintln(os.Stderr, "healthcheck:", resp.Status)
		return 1
	}
	return 0
}

// LocalURL turns a listen address (":8080", "0.0.0.0:9464") into a URL on
// the loopback interface, for Probe.
func LocalURL(addr, path string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "http://" + addr + path
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port) + path
}

// DevServerFlags are the `temporal server start-dev` flags that register the
// search attributes attrs (callers pass workflows.SearchAttributes), sorted
// by name so that the command line is stable.
func DevServerFlags(attrs map[string]enumspb.IndexedValueType) []string {
	var args []string
	for _, name := range slices.Sorted(maps.Keys(attrs)) {
		args = append(args, "--search-attribute", name+"="+attrs[name].String())
	}
	return args
}
