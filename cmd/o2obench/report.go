package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"
)

// variantResult is one tuning variant's rounds and the raw baseline's
// rounds interleaved with them.
type variantResult struct {
	variant  variant
	o2o, raw []roundResult
	// o2oLight and rawLight are the light-load latency rounds.
	o2oLight, rawLight []roundResult
}

type report struct {
	o                   options
	cli                 string
	variants            []*variantResult
	memory              []rssResult
	applied, rawApplied int
	took                time.Duration
}

// percentile is the nearest-rank p-th percentile (0 < p <= 100).
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(float64(len(s))*p/100+0.999999) - 1
	return s[min(max(i, 0), len(s)-1)]
}

// median of xs (the mean of the middle two for an even count).
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// summary is the medians over rounds of one side (O2O or raw).
type summary struct {
	throughput              float64
	p50, p99, max           float64 // latency, ms
	ack50, ack99            float64 // ms
	calls, tasks, history   float64 // per event
	retries, events, rounds int
	each                    []float64 // throughput of each round
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func summarize(rs []roundResult) summary {
	var s summary
	var tp, p50, p99, a50, a99 []float64
	var calls, tasks, hist int64
	for _, r := range rs {
		tp = append(tp, r.throughput())
		p50 = append(p50, ms(percentile(r.latencies, 50)))
		p99 = append(p99, ms(percentile(r.latencies, 99)))
		a50 = append(a50, ms(percentile(r.acks, 50)))
		a99 = append(a99, ms(percentile(r.acks, 99)))
		s.max = max(s.max, ms(percentile(r.latencies, 100)))
		calls, tasks, hist = calls+r.calls, tasks+r.wfTasks, hist+r.histEvents
		s.events += r.events
		s.retries += r.retries
	}
	s.rounds = len(rs)
	s.each = tp
	s.throughput, s.p50, s.p99, s.ack50, s.ack99 = median(tp), median(p50), median(p99), median(a50), median(a99)
	if s.events > 0 {
		n := float64(s.events)
		s.calls, s.tasks, s.history = float64(calls)/n, float64(tasks)/n, float64(hist)/n
	}
	return s
}

func (r *report) String() string {
	if len(r.variants) == 0 && len(r.memory) == 0 {
		return ""
	}
	var b strings.Builder
	o := r.o
	fmt.Fprintf(&b, "\nO2O end to end vs the raw baseline (make bench; docs/operations.md#benchmarks)\n")
	fmt.Fprintf(&b, "  %d links × %d events per round (fixit appointments → acme job events), %d in flight, %d rounds of each, interleaved; figures are medians of rounds\n",
		o.links, o.events, o.concurrency, o.rounds)
	fmt.Fprintf(&b, "  one Temporal dev server (%s), %d CPUs, %s; raw baseline: SignalWithStart → workflow → one activity making the same call to acme, SDK default worker options\n",
		r.cli, runtime.NumCPU(), runtime.Version())
	for _, v := range r.variants {
		if len(v.o2o) == 0 {
			continue
		}
		o2o, raw := summarize(v.o2o), summarize(v.raw)
		fmt.Fprintf(&b, "\nWorker tuning: %s\n", v.variant.name())
		t := table{{"", "O2O", "raw", "O2O vs raw"},
			{"Throughput, webhook POST → change in target (events/s)", f1(o2o.throughput), f1(raw.throughput), fmt.Sprintf("%.2f×", o2o.throughput/raw.throughput)},
			{"Latency p50 at that load, queueing included (ms)", f0(o2o.p50), f0(raw.p50), fmt.Sprintf("%+.0f ms", o2o.p50-raw.p50)},
			{"Latency p99 at that load (ms)", f0(o2o.p99), f0(raw.p99), fmt.Sprintf("%+.0f ms", o2o.p99-raw.p99)},
			{"Latency max at that load, any round (ms)", f0(o2o.max), f0(raw.max), ""},
		}
		if len(v.o2oLight) > 0 {
			ol, rl := summarize(v.o2oLight), summarize(v.rawLight)
			t = append(t,
				[]string{fmt.Sprintf("Latency p50 at light load, %d in flight end to end (ms)", o.latencyInflight), f1(ol.p50), f1(rl.p50), fmt.Sprintf("%+.1f ms added", ol.p50-rl.p50)},
				[]string{"Latency p99 at light load (ms)", f1(ol.p99), f1(rl.p99), fmt.Sprintf("%+.1f ms", ol.p99-rl.p99)})
		}
		t = append(t, [][]string{
			{"Ack p50 / p99 (ms; O2O: webhook 202, raw: SignalWithStart)", f1(o2o.ack50) + " / " + f1(o2o.ack99), f1(raw.ack50) + " / " + f1(raw.ack99), ""},
			{"Target calls per event", f2(o2o.calls), f2(raw.calls), ""},
			{"Workflow tasks per event", f2(o2o.tasks), f2(raw.tasks), ""},
			{"History events per event", f1(o2o.history), f1(raw.history), ""},
			{"Each round (events/s)", floats(o2o.each), floats(raw.each), ""},
			{"Deliveries retried (5xx / no answer)", fmt.Sprint(o2o.retries), fmt.Sprint(raw.retries), ""},
		}...)
		t.write(&b)
	}
	if r.applied > 0 {
		fmt.Fprintf(&b, "\nExactly once: every event read back from the target — O2O %d events over %d links, raw %d; none lost, none twice.\n", r.applied, o.links, r.rawApplied)
	}
	for _, m := range r.memory {
		cache := "the worker's default (DefaultStickyCache in worker/tuning.go)"
		env := m.variant.env
		if len(env) == 0 {
			env = os.Environ()
		}
		for _, kv := range env {
			if v, ok := strings.CutPrefix(kv, "O2O_WORKER_STICKY_CACHE="); ok {
				cache = v
			}
		}
		fmt.Fprintf(&b, "\nWorker memory per open link (tuning: %s; sticky cache %s; a fresh worker, %d links to warm it up first)\n", m.variant.name(), cache, rssWarmUp)
		t := table{{"Open links", "RSS (MiB)", "RSS per link (KiB)", "Go heap in use (MiB)", "heap per link (KiB)", "links created/s"},
			{"0", f1(mib(m.baseline.rss)), "", f1(mib(m.baseline.heap)), "", ""}}
		for _, p := range m.points {
			t = append(t, []string{thousands(p.links), f1(mib(p.rss)), f1(p.perLink / 1024), f1(mib(p.heap)), f1(p.heapLink / 1024), f1(p.rate)})
		}
		t.write(&b)
	}
	if targets := r.targets(); len(targets) > 0 {
		fmt.Fprintf(&b, "\nTargets (issue 11):\n")
		for _, t := range targets {
			fmt.Fprintf(&b, "  %s\n", t)
		}
	}
	if r.took > 0 {
		fmt.Fprintf(&b, "\n(took %s)\n", r.took.Round(time.Second))
	}
	return b.String()
}

func mib(n int64) float64 { return float64(n) / (1 << 20) }

func floats(xs []float64) string {
	var s []string
	for _, x := range xs {
		s = append(s, fmt.Sprintf("%.1f", x))
	}
	return strings.Join(s, " ")
}

func thousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func f0(x float64) string { return fmt.Sprintf("%.0f", x) }
func f1(x float64) string { return fmt.Sprintf("%.1f", x) }
func f2(x float64) string { return fmt.Sprintf("%.2f", x) }

// table is rows of cells: the first column left-aligned, the others
// right-aligned, two spaces apart, indented by two.
type table [][]string

func (t table) write(w io.Writer) {
	var width []int
	for _, row := range t {
		for i, c := range row {
			if i >= len(width) {
				width = append(width, 0)
			}
			width[i] = max(width[i], len([]rune(c)))
		}
	}
	for _, row := range t {
		var b strings.Builder
		b.WriteString("  ")
		for i, c := range row {
			pad := strings.Repeat(" ", width[i]-len([]rune(c)))
			if i == 0 {
				b.WriteString(c + pad)
			} else {
				b.WriteString("  " + pad + c)
			}
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
}

// targets says, for each of issue 11's targets this run measured, the
// figure and whether it was met.
func (r *report) targets() []string {
	met := func(ok bool) string {
		if ok {
			return "met"
		}
		return "NOT met"
	}
	var out []string
	for _, v := range r.variants {
		if len(v.o2o) == 0 {
			continue
		}
		o2o, raw := summarize(v.o2o), summarize(v.raw)
		ratio, added, load := o2o.throughput/raw.throughput, o2o.p50-raw.p50, "at full load"
		if len(v.o2oLight) > 0 {
			added, load = summarize(v.o2oLight).p50-summarize(v.rawLight).p50, "at light load"
		}
		out = append(out,
			fmt.Sprintf("%s: throughput ≥ 0.9× the raw baseline's: %.2f× — %s", v.variant.name(), ratio, met(ratio >= 0.9)),
			fmt.Sprintf("%s: added latency ≤ 10 ms p50: %+.1f ms %s — %s", v.variant.name(), added, load, met(added <= 10)))
	}
	for _, m := range r.memory {
		if len(m.points) == 0 {
			continue
		}
		p := m.points[len(m.points)-1]
		s := fmt.Sprintf("%s: worker RSS ≤ 30 KiB per open link at 10,000 open links: %.1f KiB at %s — %s", m.variant.name(), p.perLink/1024, thousands(p.links), met(p.perLink <= 30*1024))
		if p.links < 10000 {
			s += " (measured at fewer links than the target's 10,000)"
		}
		out = append(out, s)
	}
	return out
}
