// Command oneserve-sim serves simulated Oneserve systems for local
// development (`make run`), end-to-end tests and benchmarks.
//
// Usage:
//
//	oneserve-sim [-seed dev/simulator.yaml] [-addr :9100]
//	             [-o2o-config $O2O_CONFIG] [-temporal-ui http://localhost:8233]
//	             [-namespace $TEMPORAL_NAMESPACE] [-operator-api http://127.0.0.1:8080]
//
// The seed names the environment variables holding each system's API token
// and webhook secret; the simulator refuses to start, naming the problem,
// when one is missing or the seed is inconsistent. Open http://localhost:9100/
// for the console; see the simulator package for the API.
//
// With an O2O configuration (-o2o-config, by default the file O2O_CONFIG
// names, as `make run` sets it), the console links each linked job to its
// LinkedJob workflow in the Temporal Web UI and to its link state, read from
// the webhook server's operator API (-operator-api, by default O2O's
// O2O_WEBHOOK_ADDR or webhook.addr) with the operator token the
// configuration's webhook.apiTokenEnv names.
package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/o2o-sync/o2o/config"
	"github.com/o2o-sync/o2o/simulator"
	"github.com/o2o-sync/o2o/workflows"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stderr, nil); err != nil {
		fmt.Fprintln(os.Stderr, "oneserve-sim:", err)
		os.Exit(1)
	}
}

// run starts the simulator and serves until ctx ends. ready, when not nil,
// receives the listening address (for tests that listen on port 0).
func run(ctx context.Context, args []string, stderr io.Writer, ready chan<- string) error {
	fs := flag.NewFlagSet("oneserve-sim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	seedPath := fs.String("seed", "dev/simulator.yaml", "seed `file` describing the simulated systems")
	addr := fs.String("addr", ":9100", "listen `address`")
	o2oConfig := fs.String("o2o-config", os.Getenv(config.EnvConfigPath), "O2O configuration `file`, for the console's links to each linked job's workflow and link state")
	temporalUI := fs.String("temporal-ui", "http://localhost:8233", "Temporal Web UI base `URL`")
	namespace := fs.String("namespace", cmp.Or(os.Getenv("TEMPORAL_NAMESPACE"), "default"), "Temporal `namespace` of the links")
	operatorAPI := fs.String("operator-api", "", "webhook server base `URL`, for the link state (default from O2O_WEBHOOK_ADDR or the configuration's webhook.addr)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %v", fs.Args())
	}

	log := slog.New(slog.NewTextHandler(stderr, nil))
	seed, err := simulator.LoadSeed(*seedPath)
	if err != nil {
		return err
	}
	console, err := consoleOptions(*o2oConfig, *temporalUI, *namespace, *operatorAPI)
	if err != nil {
		return err
	}
	sim, err := simulator.New(seed, simulator.Options{Logger: log, Console: console})
	if err != nil {
		return err
	}
	defer sim.Close()

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           sim.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	base := "http://" + displayAddr(ln.Addr())
	for _, name := range sim.Systems() {
		log.Info("system ready", "system", name, "baseURL", base+"/"+name)
	}
	log.Info("serving", "addr", ln.Addr().String(), "console", base+"/")
	if ready != nil {
		ready <- ln.Addr().String()
	}

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// consoleOptions tells the console where O2O is, from O2O's configuration
// (none: no links to O2O).
func consoleOptions(cfgPath, temporalUI, namespace, operatorAPI string) (simulator.Console, error) {
	if cfgPath == "" {
		return simulator.Console{}, nil
	}
	cfg, err := config.Load(cfgPath, config.Options{SkipSecrets: true})
	if err != nil {
		return simulator.Console{}, err
	}
	if operatorAPI == "" {
		addr := cmp.Or(os.Getenv("O2O_WEBHOOK_ADDR"), cfg.Webhook.Addr)
		if host, port, err := net.SplitHostPort(addr); err == nil {
			if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
				host = "127.0.0.1"
			}
			operatorAPI = "http://" + net.JoinHostPort(host, port)
		}
	}
	c := simulator.Console{
		Links: simulator.ConsoleLinks(cfg), WorkflowID: workflows.WorkflowID,
		TemporalUI: temporalUI, Namespace: namespace, OperatorAPI: operatorAPI,
	}
	if env := cfg.Webhook.APITokenEnv; env != "" {
		c.OperatorToken = os.Getenv(env)
	}
	return c, nil
}

// displayAddr turns a wildcard listen address into one a browser can open.
func displayAddr(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok || !tcp.IP.IsUnspecified() {
		return a.String()
	}
	return fmt.Sprintf("localhost:%d", tcp.Port)
}
