package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/o2o-sync/o2o/oneserve"
)

// The raw baseline: the least a Temporal application can do for one
// webhook event — SignalWithStart a workflow per job, which runs one
// activity per signal making the same call to the target O2O makes for an
// appointment (one job event written in acme through the same Oneserve
// client, with the same API budget). Its worker is a process of its own,
// like O2O's, with the SDK's default options.

const (
	rawTaskQueue = "o2o-bench-raw"
	rawWorkflow  = "BenchRaw"
	rawActivity  = "BenchRawApply"
	rawSignal    = "event"
)

// rawEvent is one raw signal: the job event to write.
type rawEvent struct {
	JobRef string    `json:"jobRef"`
	Code   string    `json:"code"`
	Note   string    `json:"note"`
	At     time.Time `json:"at"`
}

// RawWorkflow applies each signal, in order, with one activity.
func RawWorkflow(ctx workflow.Context, jobRef string) error {
	ch := workflow.GetSignalChannel(ctx, rawSignal)
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 30 * time.Second})
	for {
		var ev rawEvent
		ch.Receive(ctx, &ev)
		if err := workflow.ExecuteActivity(ctx, rawActivity, ev).Get(ctx, nil); err != nil {
			return err
		}
	}
}

type rawActivities struct{ acme *oneserve.Client }

func (a *rawActivities) Apply(ctx context.Context, ev rawEvent) error {
	return a.acme.AddEventByClientRef(ctx, oneserve.JobEvent{JobRef: ev.JobRef, ClientID: "28", EventCode: ev.Code, Note: ev.Note, Date: ev.At})
}

// rawWorkerMain is `o2obench raw-worker`: the baseline's worker process.
func rawWorkerMain() error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	acme, err := oneserve.New(oneserve.Options{
		BaseURL: os.Getenv("O2O_BENCH_SIM_URL") + "/acme",
		Token:   os.Getenv("O2O_ACME_TOKEN"),
		Limits:  oneserve.Limits{RequestsPerSecond: 1000, Concurrency: 100}, // benchLimits
	})
	if err != nil {
		return err
	}
	tc, err := client.DialContext(ctx, client.Options{
		HostPort:  os.Getenv("TEMPORAL_ADDRESS"),
		Namespace: os.Getenv("TEMPORAL_NAMESPACE"),
		Logger:    quietLogger(),
	})
	if err != nil {
		return err
	}
	defer tc.Close()
	w := worker.New(tc, rawTaskQueue, worker.Options{})
	w.RegisterWorkflowWithOptions(RawWorkflow, workflow.RegisterOptions{Name: rawWorkflow})
	w.RegisterActivityWithOptions((&rawActivities{acme: acme}).Apply, activity.RegisterOptions{Name: rawActivity})
	if err := w.Start(); err != nil {
		return err
	}
	defer w.Stop()
	// Ready once polling: the bench waits for this.
	l, err := net.Listen("tcp", os.Getenv("O2O_BENCH_READY_ADDR"))
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) }),
		ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintln(os.Stderr, "raw-worker: ready endpoint:", err)
		}
	}()
	<-ctx.Done()
	_ = srv.Close()
	return nil
}

// quietLogger passes on the SDK's warnings and errors only.
func quietLogger() log.Logger {
	return log.NewStructuredLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
}
