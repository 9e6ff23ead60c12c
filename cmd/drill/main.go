// Command drill is O2O's chaos drill (make drill): many links, each given a
// short life of events, against the simulated Oneserve systems while target
// calls fail and hang, webhooks arrive twice and out of order, the worker is
// killed with SIGKILL every few seconds and Temporal is killed and restarted
// once. It prints lost / duplicated / out-of-order (all must be 0), the
// longest stall and the time to drain, and exits 1 if any of them is not 0
// (2 if the drill itself could not run). See docs/operations.md.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/o2o-sync/o2o/cmd/drill/drill"
)

func main() {
	o := drill.Defaults()
	flag.IntVar(&o.Links, "links", o.Links, "linked jobs")
	flag.IntVar(&o.EventsPerLink, "events", o.EventsPerLink, "events per link, the assignment included (at least 5)")
	flag.IntVar(&o.Concurrency, "concurrency", o.Concurrency, "links driven at once")
	flag.Float64Var(&o.ServerErrors, "errors", o.ServerErrors, "share of target calls answered 5xx")
	flag.Float64Var(&o.Timeouts, "timeouts", o.Timeouts, "share of target calls held past the client's timeout")
	flag.Float64Var(&o.TimeoutsApplied, "timeouts-applied", o.TimeoutsApplied, "share of those timeouts whose change is made before the answer is lost")
	flag.DurationVar(&o.CallTimeout, "call-timeout", o.CallTimeout, "O2O's per-call timeout for both systems")
	flag.Float64Var(&o.Duplicate, "duplicate", o.Duplicate, "share of webhooks delivered twice")
	flag.Float64Var(&o.Reorder, "reorder", o.Reorder, "share of webhooks held back while later ones go first")
	flag.DurationVar(&o.Hold, "hold", o.Hold, "how long a reordered webhook is held back")
	flag.DurationVar(&o.KillEvery, "kill-every", o.KillEvery, "kill -9 the worker this often (0: never)")
	flag.IntVar(&o.MaxKills, "max-kills", o.MaxKills, "at most this many worker kills (0: no limit)")
	flag.BoolVar(&o.TemporalRestart, "temporal-restart", o.TemporalRestart, "kill -9 and restart Temporal once, half-way through the events")
	flag.DurationVar(&o.TemporalDown, "temporal-down", o.TemporalDown, "how long Temporal stays down before it is restarted (over 8 s, the webhook server answers 503 + Retry-After meanwhile)")
	flag.IntVar(&o.RequestsPerSecond, "rps", o.RequestsPerSecond, "O2O's API budget per system: requests per second")
	flag.IntVar(&o.CallConcurrency, "call-concurrency", o.CallConcurrency, "O2O's API budget per system: calls in flight")
	flag.DurationVar(&o.DrainTimeout, "drain-timeout", o.DrainTimeout, "give up after this long")
	flag.Uint64Var(&o.Seed, "seed", o.Seed, "seeds the faults' random choices")
	flag.StringVar(&o.LogLevel, "log-level", o.LogLevel, "the worker's and webhook server's O2O_LOG_LEVEL")
	flag.StringVar(&o.BinDir, "bin", o.BinDir, "directory holding the worker and webhook binaries")
	flag.StringVar(&o.TemporalCLI, "temporal", o.TemporalCLI, "the pinned Temporal CLI")
	flag.StringVar(&o.SeedFile, "sim-seed", o.SeedFile, "the simulator's seed file")
	flag.StringVar(&o.ConfigFile, "config", o.ConfigFile, "O2O's configuration, pointed at the simulator by the drill")
	flag.StringVar(&o.WorkDir, "dir", o.WorkDir, "keep logs and Temporal's database here (default: a temporary directory, removed after a clean run)")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := drill.Run(ctx, o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "drill:", err)
		os.Exit(2)
	}
	rep.Print(os.Stdout)
	if !rep.OK() {
		os.Exit(1)
	}
}
