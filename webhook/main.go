// Command webhook is O2O's front door: it receives the Oneserve systems'
// signed Integration Events at POST /webhooks/{system}, hands each to the
// LinkedJob workflow it concerns, and serves the link state at
// GET /links/{link}/{primaryJobRef}, its metrics at GET /metrics
// (Prometheus text, unauthenticated; docs/metrics.md), and the codec server
// for the Temporal Web UI and CLI at POST /codec/{encode,decode} (codec.go).
//
// Configuration: O2O_CONFIG (the YAML file), O2O_WEBHOOK_ADDR (listen
// address, default from the file, else ":8080") and Temporal's standard
// client variables (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, ...).
package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"

	"go.temporal.io/sdk/client"
	"go.uber.org/zap"

	"github.com/o2o-sync/o2o/codec"
	"github.com/o2o-sync/o2o/config"
	"github.com/o2o-sync/o2o/internal/platform"
)

func main() {
	if len(os.Args) == 2 && os.Args[1] == "healthcheck" {
		addr := os.Getenv("O2O_WEBHOOK_ADDR")
		if addr == "" {
			addr = ":8080"
		}
		os.Exit(platform.Probe(platform.LocalURL(addr, "/healthz")))
	}
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "webhook:", err)
		os.Exit(1)
	}
}

func run() error {
	// The webhook server never calls the systems: it reads the webhook
	// credentials and the operator token, not the API tokens.
	cfg, err := config.LoadFromEnv(config.Options{WebhookOnly: true})
	if err != nil {
		return err
	}
	if cfg.Webhook.APIToken == "" {
		// The link-state and operator endpoints are never served open.
		return fmt.Errorf("config: webhook.apiTokenEnv is required: it names the variable holding the bearer token that protects GET /links/... and the operator endpoints")
	}
	log, err := platform.NewLogger("webhook")
	if err != nil {
		return err
	}
	defer func() { _ = log.Sync() }()

	ctx, stop := platform.SignalContext()
	defer stop()

	metrics, err := platform.NewMetrics("webhook")
	if err != nil {
		return err
	}
	defer func() { _ = metrics.Close() }()
	metrics.SetLogger(log)

	tc, err := platform.DialLazy(log, metrics)
	if err != nil {
		return err
	}
	defer tc.Close()
	// The server answers from the start (503 while Temporal is away); this
	// only says in the log what it waits for, until Temporal first answers.
	go func() {
		_ = platform.Await(ctx, log, "Temporal to answer; webhooks get 503 + Retry-After until it does", func(ctx context.Context) error {
			_, err := tc.CheckHealth(ctx, &client.CheckHealthRequest{})
			return err
		})
	}()

	addr := cfg.Webhook.Addr
	if v := os.Getenv("O2O_WEBHOOK_ADDR"); v != "" {
		addr = v
	}
	pc, err := codec.FromEnv(nil)
	if err != nil {
		return err
	}
	uiWithoutToken := os.Getenv(envUIWithoutToken) == "1"
	if uiWithoutToken && !loopbackListenAddr(addr) {
		return fmt.Errorf("%s=1 lets the Web UI decode payloads without a token, which is for a development machine only: the webhook server must then listen on a loopback address such as 127.0.0.1:8080, not %s", envUIWithoutToken, addr)
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	log.Info("Webhook server listening", zap.String("addr", l.Addr().String()))
	e := newServer(cfg, tc, log, metrics)
	serveCodec(e, pc, cfg.Webhook.APIToken, cfg.Webhook.Codec.UIOrigins, uiWithoutToken, log)
	return serve(ctx, limitConnections(l, cfg.Webhook.MaxConnections), newHTTPServer(e, cfg.Webhook), log)
}

// serve answers HTTP on l with srv (newHTTPServer: the edge's limits) until ctx ends, then shuts down gracefully: it
// stops taking requests and lets those in flight finish (each one either
// stores its event in Temporal or answers 503) before returning; the
// Temporal client is closed after that by the caller.
func serve(ctx context.Context, l net.Listener, srv *http.Server, log *zap.Logger) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(l) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("Shutting down: finishing in-flight requests")
	sctx, cancel := context.WithTimeout(context.Background(), platform.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shutdown: %w", err)
	}
	log.Info("Stopped")
	return nil
}
