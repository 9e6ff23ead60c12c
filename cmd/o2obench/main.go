// Command o2obench measures O2O end to end on one Temporal dev server, for
// `make bench` (docs/operations.md#benchmarks):
//
//   - throughput, latency and per-event costs of O2O — signed webhooks
//     POSTed to the real webhook server, applied by the real worker into
//     the simulated target system — against a raw baseline built in (a
//     workflow per job driven by SignalWithStart, running one activity per
//     signal that makes the same call to the target), in interleaved
//     rounds (O2O, raw, O2O, raw, ...) on the same server at the same
//     concurrency, under one or more worker tuning variants;
//   - the O2O worker's memory (RSS and Go heap) per open, idle link.
//
// Every event is checked to be applied exactly once; lost or duplicated
// work fails the run.
//
// `o2obench raw-worker` is the raw baseline's worker process, started by
// the bench itself.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/o2o-sync/o2o/workflows"
)

type options struct {
	repo, bin, temporalCLI string
	links, events          int
	concurrency, rounds    int
	latencyInflight        int
	variants               []variant
	rssSizes               []int
	rssAll                 bool
	dynamicConfig          []string
	roundTimeout           time.Duration
	jobsPerSite            int
	keepLogs               bool
	showHistory            bool
}

// sites is how many bench sites each system gets: enough for every job
// the run makes at jobsPerSite each.
func (o options) sites() int {
	jobs := 2*o.links + rssWarmUp + 100
	if len(o.rssSizes) > 0 {
		n := 1
		if o.rssAll {
			n = len(o.variants)
		}
		jobs += n * (o.rssSizes[len(o.rssSizes)-1] + rssWarmUp)
	}
	return jobs/o.jobsPerSite + 1
}

// variant is a worker tuning to measure: environment variables for the
// O2O worker (worker/tuning.go), e.g. O2O_WORKER_POLLERS=auto.
type variant struct {
	env []string
}

func (v variant) name() string {
	if len(v.env) == 0 {
		// The worker inherits the environment: say what it tunes.
		var set []string
		for _, kv := range os.Environ() {
			if strings.HasPrefix(kv, "O2O_WORKER_") {
				set = append(set, kv)
			}
		}
		if len(set) == 0 {
			return "default (the worker's defaults)"
		}
		return "default (from the environment: " + strings.Join(set, " ") + ")"
	}
	return strings.Join(v.env, " ")
}

// slug names the variant's worker log file.
func (v variant) slug() string {
	if len(v.env) == 0 {
		return "default"
	}
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '=' || r == '-' {
			return r
		}
		return '_'
	}, v.name())
}

// parseVariants reads "default; O2O_WORKER_POLLERS=auto; O2O_WORKER_STICKY_CACHE=1000,O2O_WORKER_EAGER_ACTIVITIES=false":
// variants separated by semicolons, each "default" (the environment as
// it is) or variables separated by commas or spaces.
func parseVariants(s string) ([]variant, error) {
	var out []variant
	for _, item := range strings.Split(s, ";") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		if item == "default" {
			out = append(out, variant{})
			continue
		}
		var v variant
		for _, kv := range strings.FieldsFunc(item, func(r rune) bool { return r == ',' || r == ' ' }) {
			k, _, ok := strings.Cut(kv, "=")
			if !ok || k == "" || strings.ToUpper(k) != k {
				return nil, fmt.Errorf("variant %q: %q is not NAME=value", item, kv)
			}
			v.env = append(v.env, kv)
		}
		out = append(out, v)
	}
	if len(out) == 0 {
		return nil, errors.New("no variant")
	}
	return out, nil
}

func parseSizes(s string) ([]int, error) {
	var out []int
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' }) {
		n, err := strconv.Atoi(strings.ReplaceAll(f, "_", ""))
		if err != nil || n < 0 {
			return nil, fmt.Errorf("%q is not a number of links", f)
		}
		if n == 0 {
			continue
		}
		if len(out) > 0 && n <= out[len(out)-1] {
			return nil, fmt.Errorf("sizes must grow: %d after %d", n, out[len(out)-1])
		}
		out = append(out, n)
	}
	return out, nil
}

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func main() {
	if len(os.Args) > 1 && os.Args[1] == "raw-worker" {
		if err := rawWorkerMain(); err != nil {
			fmt.Fprintln(os.Stderr, "raw-worker:", err)
			os.Exit(1)
		}
		return
	}
	var o options
	var variants, sizes string
	dynamic := listFlag{}
	flag.StringVar(&o.repo, "repo", ".", "the repository (for o2o.example.yaml and dev/simulator.yaml)")
	flag.StringVar(&o.bin, "bin", "bin", "directory holding the worker and webhook binaries")
	flag.StringVar(&o.temporalCLI, "temporal", "bin/temporal", "the pinned Temporal CLI (its dev server)")
	flag.IntVar(&o.links, "links", 150, "links in the throughput rounds")
	flag.IntVar(&o.events, "events", 10, "events per link in each round")
	flag.IntVar(&o.concurrency, "concurrency", 32, "webhooks (or raw signals) in flight at once")
	flag.IntVar(&o.latencyInflight, "latency-inflight", 4, "events in flight end to end in the light-load latency rounds (0: none)")
	flag.IntVar(&o.rounds, "rounds", 3, "rounds of each (O2O, raw, O2O, raw, ...) per variant; figures are their medians")
	flag.StringVar(&variants, "variants", "default", `worker tuning variants, separated by ";": "default" or O2O_WORKER_*=value,...`)
	flag.StringVar(&sizes, "rss", "1000,10000", `open links at which the worker's memory is read ("" or 0: skip)`)
	flag.BoolVar(&o.rssAll, "rss-all-variants", false, "measure memory under every variant (default: the first only)")
	flag.Var(&dynamic, "dynamic-config", "a Temporal dynamic config value for the dev server, KEY=VALUE (repeatable; added to the tests' own)")
	flag.DurationVar(&o.roundTimeout, "round-timeout", 10*time.Minute, "how long a round may take to apply every event before the run fails")
	flag.IntVar(&o.jobsPerSite, "jobs-per-site", 25, "jobs per site (creating a linked job reads its site, with its jobs)")
	flag.BoolVar(&o.keepLogs, "keep-logs", false, "keep the processes' logs and configuration (their directory is printed)")
	flag.BoolVar(&o.showHistory, "show-history", false, "print the history event types of one O2O link and one raw workflow")
	flag.Parse()
	var err error
	if o.variants, err = parseVariants(variants); err != nil {
		fail(fmt.Errorf("-variants: %w", err))
	}
	if o.rssSizes, err = parseSizes(sizes); err != nil {
		fail(fmt.Errorf("-rss: %w", err))
	}
	if o.links < 1 || o.events < 1 || o.concurrency < 1 || o.rounds < 1 || o.jobsPerSite < 1 || o.latencyInflight < 0 {
		fail(errors.New("-links, -events, -concurrency, -rounds and -jobs-per-site must be at least 1, -latency-inflight at least 0"))
	}
	// The end-to-end tests' dynamic configuration, then the caller's.
	o.dynamicConfig = append([]string{"system.forceSearchAttributesCacheRefreshOnRead=true"}, dynamic...)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	report, err := run(ctx, o)
	fmt.Print(report)
	if err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "o2obench: FAILED:", err)
	os.Exit(1)
}

func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "o2obench: "+format+"\n", args...)
}

// run does the whole bench and returns the report (what it measured so
// far, when it fails).
func run(ctx context.Context, o options) (_ string, err error) {
	started := time.Now()
	progress("starting Temporal, the simulator, the webhook server and the raw baseline's worker")
	s, err := startStack(ctx, o)
	if err != nil {
		return "", err
	}
	defer func() {
		s.keep = s.keep || err != nil // for a look at what went wrong
		s.close()
	}()
	b, err := newBench(s, o)
	if err != nil {
		return "", err
	}
	rep := &report{o: o, cli: cliVersion(o.temporalCLI)}

	worker, _, err := s.startWorker(ctx, o.variants[0])
	if err != nil {
		return "", err
	}
	stopWorker := func() {
		if worker != nil {
			worker.Stop(stopGrace)
			worker = nil
		}
	}
	defer stopWorker()
	progress("linking %d jobs", o.links)
	if err := b.setupLinks(ctx); err != nil {
		return rep.String(), fmt.Errorf("setting up links: %w", err)
	}
	if err := b.warmUp(ctx, true); err != nil {
		return rep.String(), fmt.Errorf("raw warm-up: %w", err)
	}
	for i, v := range o.variants {
		if i > 0 {
			stopWorker()
			if worker, _, err = s.startWorker(ctx, v); err != nil {
				return rep.String(), err
			}
		}
		if err := b.warmUp(ctx, false); err != nil {
			return rep.String(), fmt.Errorf("O2O warm-up (%s): %w", v.name(), err)
		}
		vr := &variantResult{variant: v}
		rep.variants = append(rep.variants, vr)
		for r := range o.rounds {
			if err := b.rounds(ctx, v, r, vr); err != nil {
				return rep.String(), err
			}
		}
	}
	// Every event of every round and warm-up, read back from the target.
	if rep.applied, rep.rawApplied, err = b.verify(ctx); err != nil {
		return rep.String(), err
	}
	if o.showHistory {
		if err := b.printHistories(ctx); err != nil {
			return rep.String(), err
		}
	}
	stopWorker()

	if err := b.memory(ctx, rep); err != nil {
		return rep.String(), err
	}
	rep.took = time.Since(started)
	return rep.String(), nil
}

// rounds runs round r of variant v and adds its results to vr: an O2O round
// and a raw round at full load, then (with -latency-inflight) the light-load
// rounds.
func (b *bench) rounds(ctx context.Context, v variant, r int, vr *variantResult) error {
	o := b.o
	t0 := time.Now()
	evs, err := b.o2oEvents(ctx, o.events)
	if err != nil {
		return err
	}
	t1 := time.Now()
	res, err := b.round(ctx, false, evs)
	if err != nil {
		return fmt.Errorf("O2O round %d (%s): %w", r+1, v.name(), err)
	}
	vr.o2o = append(vr.o2o, res)
	t2 := time.Now()
	res2, err := b.round(ctx, true, b.rawEvents(o.events))
	if err != nil {
		return fmt.Errorf("raw round %d: %w", r+1, err)
	}
	vr.raw = append(vr.raw, res2)
	t3 := time.Now()
	if o.latencyInflight > 0 {
		if err := b.lightRounds(ctx, v, r, vr); err != nil {
			return err
		}
	}
	progress("%s, round %d/%d: O2O %.1f events/s, raw %.1f events/s (making the events %s, O2O round %s, raw round %s, each with reading histories; light-load rounds %s)",
		v.name(), r+1, o.rounds, res.throughput(), res2.throughput(), t1.Sub(t0).Round(time.Second), t2.Sub(t1).Round(time.Second), t3.Sub(t2).Round(time.Second), time.Since(t3).Round(time.Second))
	return nil
}

// lightRounds runs round r's light-load rounds, O2O's then the raw
// baseline's: one more event per link, a few in flight.
func (b *bench) lightRounds(ctx context.Context, v variant, r int, vr *variantResult) error {
	evs, err := b.o2oEvents(ctx, 1)
	if err != nil {
		return err
	}
	light, err := b.roundWith(ctx, false, evs, true)
	if err != nil {
		return fmt.Errorf("O2O light-load round %d (%s): %w", r+1, v.name(), err)
	}
	vr.o2oLight = append(vr.o2oLight, light)
	if light, err = b.roundWith(ctx, true, b.rawEvents(1), true); err != nil {
		return fmt.Errorf("raw light-load round %d: %w", r+1, err)
	}
	vr.rawLight = append(vr.rawLight, light)
	return nil
}

// printHistories prints the event types of the first link's workflow history
// and the first raw workflow's (-show-history).
func (b *bench) printHistories(ctx context.Context) error {
	for _, id := range []string{workflows.WorkflowID(linkName, b.links[0].primary), rawWorkflowID(b.raws[0].jobRef)} {
		h, err := historyTypes(ctx, b.s.tc, id)
		if err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "history of %s:\n%s\n", id, h)
	}
	return nil
}

// memory measures the worker's memory (-rss-sizes) for the first variant, or
// every variant with -rss-all, and adds it to rep.
func (b *bench) memory(ctx context.Context, rep *report) error {
	o := b.o
	rssVariants := o.variants[:1]
	if o.rssAll {
		rssVariants = o.variants
	}
	if len(o.rssSizes) > 0 {
		for _, v := range rssVariants {
			progress("worker memory (%s): linking %v jobs", v.name(), o.rssSizes)
			m, err := b.measureRSS(ctx, v)
			if err != nil {
				return fmt.Errorf("worker memory (%s): %w", v.name(), err)
			}
			rep.memory = append(rep.memory, m)
		}
	}
	return nil
}

// cliVersion is the Temporal CLI's version line.
func cliVersion(path string) string {
	out, err := exec.Command(path, "--version").Output()
	if err != nil {
		return filepath.Base(path)
	}
	return strings.TrimSpace(strings.SplitN(string(out), "\n", 2)[0])
}
