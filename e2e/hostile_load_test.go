//go:build integration

package e2e

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/o2o-sync/o2o/lifecycle"
)

// loadSize is how hard TestHostileLoad pushes. make test runs the small
// one; make hostile the full one (O2O_HOSTILE=full).
type loadSize struct {
	name             string
	duration         time.Duration // of the hostile load
	links            int           // links the valid events go to
	validRate        int           // valid events a second, with and without load
	baseline         int           // valid events sent before the load
	badSigWorkers    int           // each sends bad signatures back to back
	oversizedWorkers int           // each sends 2 MiB bodies back to back
	slowBodies       int           // connections trickling a body at 1 byte/s
	idleConns        int           // connections that send nothing
	// timeouts: webhook.readHeaderTimeout and readTimeout ("": defaults).
	readHeaderTimeout, readTimeout string
}

var (
	smallLoad = loadSize{name: "small", duration: 5 * time.Second, links: 3, validRate: 10, baseline: 20,
		badSigWorkers: 4, oversizedWorkers: 2, slowBodies: 20, idleConns: 100, readHeaderTimeout: "1s", readTimeout: "2s"}
	fullLoad = loadSize{name: "full", duration: 30 * time.Second, links: 5, validRate: 10, baseline: 100,
		badSigWorkers: 16, oversizedWorkers: 4, slowBodies: 100, idleConns: 800}
)

// TestHostileLoad keeps valid events flowing while the webhook server takes
// requests at the highest rate this test's Go load generator reaches (closed
// loops, keep-alive): bad signatures, oversized bodies (declared and
// chunked), bodies trickled at one byte a second, and many connections that
// send nothing. Every valid event must be acknowledged 202 and applied;
// every hostile request gets its status or is cut off by the read timeouts;
// the webhook process's memory stays bounded; nothing starts a workflow.
// It prints the figures (go test -v; make hostile runs the full size).
func TestHostileLoad(t *testing.T) {
	size := smallLoad
	if os.Getenv("O2O_HOSTILE") == "full" {
		size = fullLoad
	}
	s := newStackWith(t, "HL", func(cfg []byte) []byte {
		if size.readTimeout != "" {
			cfg = bytes.Replace(cfg, []byte("  readHeaderTimeout: 5s\n"), []byte("  readHeaderTimeout: "+size.readHeaderTimeout+"\n"), 1)
			cfg = bytes.Replace(cfg, []byte("  readTimeout: 15s\n"), []byte("  readTimeout: "+size.readTimeout+"\n"), 1)
		}
		return cfg
	})
	readHeaderTimeout, readTimeout := 5*time.Second, 15*time.Second
	if size.readTimeout != "" {
		readHeaderTimeout, _ = time.ParseDuration(size.readHeaderTimeout)
		readTimeout, _ = time.ParseDuration(size.readTimeout)
	}
	pid := s.webhook.cmd.Process.Pid

	// The links valid events go to.
	type link struct{ ref, fx string }
	var links []link
	for range size.links {
		job := s.createAcmeJob("SITE-001", "CON-001", [2]string{"PLB001", "1"})
		s.assign("acme", job.Activities[0].ID, "7")
		links = append(links, link{job.JobRef, s.settle(job.JobRef, 1).SecondaryJobRef})
	}
	linksBefore := countLinks(t)

	// Valid events: a new appointment in fixit each, a fact each link applies.
	v := &validFlow{url: s.webhookURL, client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}
	sendValid := func(n int, phase string) {
		tick := time.NewTicker(time.Second / time.Duration(size.validRate))
		defer tick.Stop()
		for range n {
			<-tick.C
			i := v.next()
			l := links[i%len(links)]
			v.send(i, l.ref, l.fx, phase)
		}
	}
	sendValid(size.baseline, "idle")
	v.wg.Wait()

	// The load.
	rss := newProcWatch(pid)
	rssBefore := rss.rssNow()
	stopWatch := rss.watch()
	ctx, cancel := context.WithTimeout(context.Background(), size.duration)
	defer cancel()
	h := &hostileLoad{url: s.webhookURL, addr: strings.TrimPrefix(s.webhookURL, "http://"), codes: map[string]map[string]int{}}
	var load sync.WaitGroup
	for range size.badSigWorkers {
		load.Go(func() { h.badSignatures(ctx) })
	}
	for w := range size.oversizedWorkers {
		load.Go(func() { h.oversized(ctx, w%2 == 1) })
	}
	for range size.slowBodies {
		load.Go(func() { h.slowBody(ctx, readTimeout) })
	}
	for range size.idleConns {
		load.Go(func() { h.idle(ctx, readHeaderTimeout) })
	}
	sendValid(int(size.duration.Seconds())*size.validRate, "load")
	<-ctx.Done()
	load.Wait() // the slow and idle connections still open are cut too
	v.wg.Wait()
	time.Sleep(2 * time.Second)
	rssPeak, fdPeak := stopWatch()
	rssAfter := rss.rssNow()

	// Every valid event acknowledged 202...
	for _, r := range v.results() {
		require.Equal(t, http.StatusAccepted, r.code, "valid event %d (%s): %s", r.i, r.phase, r.err)
	}
	// ...and applied, once, by its link.
	for li, l := range links {
		var want []string
		for _, r := range v.results() {
			if r.i%len(links) == li {
				want = append(want, r.id)
			}
		}
		require.EventuallyWithT(t, func(c *assert.CollectT) {
			st, code := s.linkState("acme-fixit", l.ref)
			if !assert.Equal(c, http.StatusOK, code) {
				return
			}
			applied := map[string]int{}
			for _, e := range st.Events {
				if e.Outcome == lifecycle.OutcomeApplied {
					applied[e.ID]++
				}
			}
			for _, id := range want {
				assert.Equal(c, 1, applied[id], "valid event %s applied once by %s", id, l.ref)
			}
		}, 3*time.Minute, time.Second)
	}
	require.Equal(t, linksBefore, countLinks(t), "no request started a workflow")

	// Every hostile request got what it should, or was cut off.
	h.mu.Lock()
	defer h.mu.Unlock()
	onlyCodes := func(category string, allowed ...string) {
		for code := range h.codes[category] {
			require.Contains(t, allowed, code, "%s: %v", category, h.codes[category])
		}
		require.NotEmpty(t, h.codes[category], "%s: none sent", category)
	}
	onlyCodes("bad signature", "401")
	// A declared oversized body is answered 413 before it is read; the
	// connection then closes, and a client still writing may see it reset.
	onlyCodes("oversized, declared", "413", "reset while sending")
	onlyCodes("oversized, chunked", "413", "reset while sending")
	require.Positive(t, h.codes["oversized, declared"]["413"]+h.codes["oversized, chunked"]["413"])
	onlyCodes("slow body (1 byte/s)", "408", "closed")
	onlyCodes("silent connection", "closed")
	require.Zero(t, h.uncut.Load(), "every slow body and silent connection was cut off by the server")
	const rssLimit = 512 << 20
	require.Less(t, rssPeak, int64(rssLimit), "the webhook process's memory stays bounded")

	// The figures.
	mib := func(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }
	idle, loaded := v.latencies("idle"), v.latencies("load")
	t.Logf("hostile load (%s): %s on loopback, one webhook server, the Temporal dev server, a worker and the simulated systems on this machine (%d CPUs)",
		size.name, size.duration, runtime.NumCPU())
	t.Logf("  concurrent: %d bad-signature and %d oversized senders (closed loops, kept alive), %d slow bodies, %d silent connections",
		size.badSigWorkers, size.oversizedWorkers, size.slowBodies, size.idleConns)
	t.Logf("  valid events: sent %d, accepted (202) %d, applied once each %d", len(v.results()), v.accepted(), len(v.results()))
	t.Logf("  valid event ack without load: p50 %s, p99 %s (%d events at %d/s)", pct(idle, 50), pct(idle, 99), len(idle), size.validRate)
	t.Logf("  valid event ack under load:   p50 %s, p99 %s (%d events at %d/s)", pct(loaded, 50), pct(loaded, 99), len(loaded), size.validRate)
	for _, c := range h.order {
		var parts []string
		total := 0
		for _, code := range slices.Sorted(maps.Keys(h.codes[c])) {
			parts = append(parts, fmt.Sprintf("%s ×%d", code, h.codes[c][code]))
			total += h.codes[c][code]
		}
		verb := "sent"
		if c == "silent connection" || strings.HasPrefix(c, "slow body") {
			verb = "opened" // one after another on each of the concurrent ones
		}
		t.Logf("  %-22s %s %6d (%.0f/s): %s", c, verb, total, float64(total)/size.duration.Seconds(), strings.Join(parts, ", "))
	}
	t.Logf("  slow bodies cut off after %s–%s (webhook.readTimeout %s); silent connections after %s–%s (readHeaderTimeout %s)",
		h.cut["slow body (1 byte/s)"].min, h.cut["slow body (1 byte/s)"].max, readTimeout,
		h.cut["silent connection"].min, h.cut["silent connection"].max, readHeaderTimeout)
	t.Logf("  webhook RSS: before %s, peak %s, after %s; open file descriptors at peak %d (webhook.maxConnections 1024)",
		mib(rssBefore), mib(rssPeak), mib(rssAfter), fdPeak)
}

// validFlow sends valid events and keeps their acknowledgements.
type validFlow struct {
	url    string
	client *http.Client
	n      atomic.Int64
	wg     sync.WaitGroup
	mu     sync.Mutex
	done   []validResult
}

type validResult struct {
	i         int
	id, phase string
	code      int
	err       string
	took      time.Duration
}

func (v *validFlow) next() int { return int(v.n.Add(1)) - 1 }

// send delivers valid event i (an APPOINTMENT_CREATED of fixit job fx,
// linked to acme job ref) without waiting for its answer.
func (v *validFlow) send(i int, ref, fx, phase string) {
	id := fmt.Sprintf("hl-valid-%d", i)
	start := time.Date(2027, 1, 4, 8, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Hour)
	body := fmt.Sprintf(`{"type":"APPOINTMENT_CREATED","timestamp":%q,"data":{"jobRef":%q,"jobClientRef":%q,"appointmentId":"HL%d","start":%q,"end":%q}}`,
		time.Now().UTC().Format(time.RFC3339), fx, ref, i, start.Format(time.RFC3339), start.Add(time.Hour).Format(time.RFC3339))
	v.wg.Go(func() {
		r := validResult{i: i, id: id, phase: phase}
		req, err := hostileHTTPRequest(v.url, hostileRequest{system: "fixit", id: id, body: body, sign: "ok"})
		if err == nil {
			began := time.Now()
			var resp *http.Response
			if resp, err = v.client.Do(req); err == nil {
				r.took = time.Since(began)
				r.code = resp.StatusCode
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				r.err = string(b)
			}
		}
		if err != nil {
			r.err = err.Error()
		}
		v.mu.Lock()
		v.done = append(v.done, r)
		v.mu.Unlock()
	})
}

func (v *validFlow) results() []validResult {
	v.mu.Lock()
	defer v.mu.Unlock()
	return slices.Clone(v.done)
}

func (v *validFlow) accepted() int {
	n := 0
	for _, r := range v.results() {
		if r.code == http.StatusAccepted {
			n++
		}
	}
	return n
}

func (v *validFlow) latencies(phase string) []time.Duration {
	var out []time.Duration
	for _, r := range v.results() {
		if r.phase == phase && r.code == http.StatusAccepted {
			out = append(out, r.took)
		}
	}
	slices.Sort(out)
	return out
}

// pct is the p-th percentile (nearest rank) of sorted durations.
func pct(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := (len(sorted)*p + 99) / 100
	return sorted[max(i, 1)-1].Round(100 * time.Microsecond)
}

// hostileLoad sends the hostile requests and tallies what they got.
type hostileLoad struct {
	url, addr string
	mu        sync.Mutex
	codes     map[string]map[string]int // category → status code or what happened → count
	order     []string
	cut       map[string]span
	uncut     atomic.Int64
}

type span struct{ min, max time.Duration }

func (h *hostileLoad) record(category, code string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.codes[category] == nil {
		h.codes[category] = map[string]int{}
		h.order = append(h.order, category)
	}
	h.codes[category][code]++
}

func (h *hostileLoad) recordCut(category string, after time.Duration) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.cut == nil {
		h.cut = map[string]span{}
	}
	sp, ok := h.cut[category]
	if !ok || after < sp.min {
		sp.min = after.Round(10 * time.Millisecond)
	}
	if after > sp.max {
		sp.max = after.Round(10 * time.Millisecond)
	}
	h.cut[category] = sp
}

func (h *hostileLoad) do(ctx context.Context, client *http.Client, category string, req *http.Request) {
	resp, err := client.Do(req.WithContext(ctx))
	if err != nil {
		if ctx.Err() == nil { // not the end of the load cutting it short
			h.record(category, "reset while sending")
		}
		return
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	h.record(category, strconv.Itoa(resp.StatusCode))
}

// badSignatures sends well-formed events with wrong, tampered, missing or
// stale signatures, back to back on one kept-alive connection.
func (h *hostileLoad) badSignatures(ctx context.Context) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
	defer client.CloseIdleConnections()
	signs := []string{"wrong-secret", "tampered", "none", "stale"}
	for i := 0; ctx.Err() == nil; i++ {
		req, err := hostileHTTPRequest(h.url, hostileRequest{system: "acme", id: fmt.Sprintf("hl-bad-%d", i), body: assignBody("HX1"), sign: signs[i%len(signs)]})
		if err != nil {
			panic(err)
		}
		h.do(ctx, client, "bad signature", req)
	}
}

// oversizedBody is 2 MiB: twice webhook.maxBodyBytes.
var oversizedBody = []byte(`{"type":"ACTIVITY_ASSIGNED","pad":"` + strings.Repeat("A", 2<<20) + `"}`)

// oversized sends 2 MiB bodies back to back: with a Content-Length, or
// chunked (no length: the server must read up to its limit to know).
func (h *hostileLoad) oversized(ctx context.Context, chunked bool) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
	defer client.CloseIdleConnections()
	category := "oversized, declared"
	if chunked {
		category = "oversized, chunked"
	}
	for i := 0; ctx.Err() == nil; i++ {
		req, err := hostileHTTPRequest(h.url, hostileRequest{system: "acme", id: fmt.Sprintf("hl-big-%d", i), body: "", sign: "ok"})
		if err != nil {
			panic(err)
		}
		if chunked {
			req.Body, req.ContentLength = io.NopCloser(io.MultiReader(bytes.NewReader(oversizedBody))), -1
		} else {
			req.Body, req.ContentLength = io.NopCloser(bytes.NewReader(oversizedBody)), int64(len(oversizedBody))
		}
		h.do(ctx, client, category, req)
	}
}

// slowBody opens connections that send their headers and then one byte of
// a 1,000-byte body a second, one after another until ctx ends; each must
// be cut off by the server (webhook.readTimeout), answered 408 or closed.
func (h *hostileLoad) slowBody(ctx context.Context, readTimeout time.Duration) {
	for ctx.Err() == nil {
		began := time.Now()
		c, err := net.Dial("tcp", h.addr)
		if err != nil {
			h.record("slow body (1 byte/s)", "dial: "+err.Error())
			return
		}
		_, err = io.WriteString(c, "POST /webhooks/acme HTTP/1.1\r\nHost: o2o\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{")
		if err == nil {
			go func() {
				for {
					time.Sleep(time.Second)
					if _, err := c.Write([]byte(" ")); err != nil {
						return
					}
				}
			}()
		}
		// The server must end it well before the body would (1,000 s).
		_ = c.SetReadDeadline(time.Now().Add(readTimeout + 30*time.Second))
		br := bufio.NewReader(c)
		resp, err := http.ReadResponse(br, nil)
		switch {
		case err == nil:
			resp.Body.Close()
			h.record("slow body (1 byte/s)", strconv.Itoa(resp.StatusCode))
			h.recordCut("slow body (1 byte/s)", time.Since(began))
		case isTimeout(err):
			h.uncut.Add(1)
		default:
			h.record("slow body (1 byte/s)", "closed")
			h.recordCut("slow body (1 byte/s)", time.Since(began))
		}
		c.Close()
	}
}

// idle opens connections that send nothing, one after another until ctx
// ends; the server must close each (webhook.readHeaderTimeout).
func (h *hostileLoad) idle(ctx context.Context, readHeaderTimeout time.Duration) {
	for ctx.Err() == nil {
		began := time.Now()
		c, err := net.Dial("tcp", h.addr)
		if err != nil {
			h.record("silent connection", "dial: "+err.Error())
			return
		}
		_ = c.SetReadDeadline(time.Now().Add(readHeaderTimeout + 30*time.Second))
		_, err = c.Read(make([]byte, 1))
		if isTimeout(err) {
			h.uncut.Add(1)
		} else {
			h.record("silent connection", "closed")
			h.recordCut("silent connection", time.Since(began))
		}
		c.Close()
	}
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

// procWatch samples a process's resident memory and open file descriptors.
type procWatch struct{ pid int }

func newProcWatch(pid int) *procWatch { return &procWatch{pid} }

// rssNow is the process's resident set size (VmRSS), in bytes.
func (p *procWatch) rssNow() int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

func (p *procWatch) fds() int {
	entries, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", p.pid))
	return len(entries)
}

// watch samples until the returned function is called, which returns the
// peaks.
func (p *procWatch) watch() func() (rssPeak int64, fdPeak int) {
	var rssPeak int64
	var fdPeak int
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			rssPeak = max(rssPeak, p.rssNow())
			fdPeak = max(fdPeak, p.fds())
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	return func() (int64, int) {
		close(stop)
		<-done
		return rssPeak, fdPeak
	}
}
