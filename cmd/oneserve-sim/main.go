// Command oneserve-sim serves simulated Oneserve systems for local
// development (`make run`), end-to-end tests and benchmarks.
//
// Usage:
//
//	oneserve-sim [-seed dev/simulator.yaml] [-addr :9100]
//
// The seed names the environment variables holding each system's API token
// and webhook secret; the simulator refuses to start, naming the problem,
// when one is missing or the seed is inconsistent. Open http://localhost:9100/
// for an overview; see the simulator package for the API.
package main

import (
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

	"github.com/o2o-sync/o2o/simulator"
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
	sim, err := simulator.New(seed, simulator.Options{Logger: log})
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
	log.Info("serving", "addr", ln.Addr().String(), "overview", base+"/")
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

// displayAddr turns a wildcard listen address into one a browser can open.
func displayAddr(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok || !tcp.IP.IsUnspecified() {
		return a.String()
	}
	return fmt.Sprintf("localhost:%d", tcp.Port)
}
