package main

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/o2o-sync/o2o/internal/proc"
)

// The worker's memory per open link: a fresh worker process, a few links
// to warm it up, its resident set size (VmRSS) and Go heap in use as the
// baseline, then links created up to each size, the worker left to go
// idle, and both read again. Every link is created through its
// assignment webhook, so each one's workflow has run and waits for its
// next event — an open, idle link.

// rssPoint is the worker's memory with some open links.
type rssPoint struct {
	links     int
	rss, heap int64 // bytes
	perLink   float64
	heapLink  float64
	rate      float64 // links created per second on the way here
}

// rssResult is one variant's memory figures.
type rssResult struct {
	variant  variant
	baseline rssPoint
	points   []rssPoint
}

// rssWarmUp links are made before the baseline is read.
const rssWarmUp = 20

// measureRSS measures variant v's worker memory: a fresh worker, warmed up
// with rssWarmUp links, read as the baseline, then read again at each of
// -rss-sizes open links.
func (b *bench) measureRSS(ctx context.Context, v variant) (rssResult, error) {
	res := rssResult{variant: v}
	w, metrics, err := b.s.startWorker(ctx, v)
	if err != nil {
		return res, err
	}
	defer w.Stop(stopGrace)
	m := &rssMeter{b: b, w: w, metrics: metrics}
	if _, err := m.grow(ctx, rssWarmUp); err != nil {
		return res, err
	}
	if res.baseline, err = m.read(ctx, 0, 0); err != nil {
		return res, err
	}
	for _, size := range b.o.rssSizes {
		rate, err := m.grow(ctx, rssWarmUp+size)
		if err != nil {
			return res, err
		}
		p, err := m.read(ctx, size, rate)
		if err != nil {
			return res, err
		}
		p.perLink = float64(p.rss-res.baseline.rss) / float64(size)
		p.heapLink = float64(p.heap-res.baseline.heap) / float64(size)
		res.points = append(res.points, p)
	}
	return res, nil
}

// rssMeter is one worker under measurement and the links made for it so far.
type rssMeter struct {
	b       *bench
	w       *proc.Process
	metrics string // the worker's metrics server, http://host:port
	created int    // links made, the warm-up included
}

// grow makes links until there are to, and returns how many it made per
// second (delivering and creating, not making the jobs).
func (m *rssMeter) grow(ctx context.Context, to int) (float64, error) {
	b, w := m.b, m.w
	n := to - m.created
	var spent time.Duration // delivering and creating, not making the jobs
	// In batches, so that the simulator's and the capture server's
	// bookkeeping stays small and the webhooks are fresh.
	for done := 0; done < n; {
		batch := min(n-done, 1000)
		refs, evs, err := b.assignments(ctx, batch)
		if err != nil {
			return 0, err
		}
		sendStart := time.Now()
		if err := b.send(ctx, evs, func(ctx context.Context, ev *event) error { return b.deliver(ctx, "acme", ev) }); err != nil {
			return 0, err
		}
		if err := b.waitCreated(ctx, refs); err != nil {
			return 0, err
		}
		spent += time.Since(sendStart)
		done += batch
		if n > 1000 {
			progress("  %d of %d links made (%.1f/s)", m.created+done-rssWarmUp, to-rssWarmUp, float64(done)/spent.Seconds())
		}
	}
	m.created = to
	if w.Exited() {
		return 0, fmt.Errorf("the worker exited: %v (log: %s)", w.Err(), w.LogPath)
	}
	return float64(n) / spent.Seconds(), nil
}

// read waits until the worker is idle and reads its memory, with links open
// links made at rate per second.
func (m *rssMeter) read(ctx context.Context, links int, rate float64) (rssPoint, error) {
	if err := waitQuiet(ctx, m.w.Pid()); err != nil {
		return rssPoint{}, err
	}
	rss, err := vmRSS(m.w.Pid())
	if err != nil {
		return rssPoint{}, err
	}
	heap, err := heapInUse(m.metrics)
	if err != nil {
		return rssPoint{}, err
	}
	return rssPoint{links: links, rss: rss, heap: heap, rate: rate}, nil
}

// waitQuiet waits until the process has used under 2% of a CPU for two
// seconds in a row (its workflows are done and idle), at most 3 minutes.
func waitQuiet(ctx context.Context, pid int) error {
	deadline := time.Now().Add(3 * time.Minute)
	quiet := 0
	prev, err := cpuTicks(pid)
	if err != nil {
		return err
	}
	for quiet < 2 && time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
		now, err := cpuTicks(pid)
		if err != nil {
			return err
		}
		// Clock ticks are 1/100 s on Linux: 2 ticks a second is 2%.
		if now-prev <= 2 {
			quiet++
		} else {
			quiet = 0
		}
		prev = now
	}
	return nil
}

// cpuTicks is the process's user and system CPU time in clock ticks
// (/proc/<pid>/stat fields 14 and 15).
func cpuTicks(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) is in parentheses and may hold spaces.
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(fields) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: too few fields", pid)
	}
	utime, err1 := strconv.ParseInt(fields[11], 10, 64)
	stime, err2 := strconv.ParseInt(fields[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc/%d/stat: bad cpu times", pid)
	}
	return utime + stime, nil
}

// vmRSS is the process's resident set size in bytes (/proc/<pid>/status).
func vmRSS(pid int) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	return parseVmRSS(f)
}

func parseVmRSS(f interface{ Read([]byte) (int, error) }) (int64, error) {
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			fields := strings.Fields(v)
			if len(fields) == 2 && fields[1] == "kB" {
				kb, err := strconv.ParseInt(fields[0], 10, 64)
				return kb << 10, err
			}
		}
	}
	return 0, fmt.Errorf("no VmRSS line")
}

// heapInUse reads go_memstats_heap_inuse_bytes from the worker's /metrics.
func heapInUse(base string) (int64, error) {
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	return parseMetric(resp.Body, "go_memstats_heap_inuse_bytes")
}

func parseMetric(r interface{ Read([]byte) (int, error) }, name string) (int64, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return int64(f), err
		}
	}
	return 0, fmt.Errorf("metric %s not found", name)
}
