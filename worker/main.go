// Command worker runs O2O's Temporal worker: it polls the "o2o" task queue
// and runs the LinkedJob workflows and their activities, which call the
// Oneserve systems. It registers O2O's search attributes on start.
//
// Configuration: O2O_CONFIG (the YAML file) and Temporal's standard client
// variables (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, ...).
package main

import (
	"fmt"
	"os"

	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"go.uber.org/zap"

	"github.com/o2o-sync/o2o/activities"
	"github.com/o2o-sync/o2o/config"
	"github.com/o2o-sync/o2o/internal/platform"
	"github.com/o2o-sync/o2o/workflows"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "worker:", err)
		os.Exit(1)
	}
}

func run() error {
	cfg, err := config.LoadFromEnv(config.Options{})
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

	tc, err := platform.Dial(ctx, log)
	if err != nil {
		return err
	}
	defer tc.Close()
	if err := platform.RegisterSearchAttributes(ctx, tc, os.Getenv("TEMPORAL_NAMESPACE")); err != nil {
		return err
	}

	acts, err := activities.New(cfg)
	if err != nil {
		return err
	}
	w := worker.New(tc, workflows.TaskQueue, worker.Options{
		// Let running activities finish (or heartbeat their progress) on
		// shutdown instead of cancelling them at once.
		WorkerStopTimeout: platform.ShutdownTimeout,
	})
	Register(w, acts)

	log.Info("Worker started", zap.String("taskQueue", workflows.TaskQueue), zap.Int("links", len(cfg.Links)))
	if err := w.Run(interruptOn(ctx.Done())); err != nil {
		return fmt.Errorf("worker: %w", err)
	}
	log.Info("Stopped")
	return nil
}

// Register registers O2O's workflow and activities on w.
func Register(w worker.Registry, acts *activities.Activities) {
	w.RegisterWorkflowWithOptions(workflows.LinkedJob, workflow.RegisterOptions{Name: workflows.WorkflowName})
	w.RegisterActivity(acts)
}

// interruptOn adapts a done channel to the worker's interrupt channel.
func interruptOn(done <-chan struct{}) <-chan any {
	ch := make(chan any, 1)
	go func() { <-done; ch <- struct{}{} }()
	return ch
}
