package activities_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/testsuite"

	"github.com/o2o-sync/o2o/activities"
	"github.com/o2o-sync/o2o/config"
	"github.com/o2o-sync/o2o/simulator"
)

// This file measures the reading half of a reconciliation (ReadFacts, what
// Reconcile's batches do for every open link) against the simulator over
// HTTP: time, calls per link, the peak request rate each system sees (it
// must stay under the configured limit), and the worker CPU a link costs.
// Offering the facts to the links (a query each, and an update when
// something is new) is Temporal's side and not measured here. Run it with
// make bench.

// benchLimit is the per-system budget the benchmark configures: above the
// default (10/s) so that 10,000 links finish in a minute or two, and low
// enough that the limiter, not the simulator, sets the pace.
const benchLimit = 400

func BenchmarkReconcileReads1000(b *testing.B)  { benchmarkReconcileReads(b, 1000) }
func BenchmarkReconcileReads10000(b *testing.B) { benchmarkReconcileReads(b, 10000) }

func benchmarkReconcileReads(b *testing.B, links int) {
	for k, v := range testEnv {
		b.Setenv(k, v)
	}
	seed, err := simulator.LoadSeed("../dev/simulator.yaml")
	if err != nil {
		b.Fatal(err)
	}
	for i := range seed.Systems {
		seed.Systems[i].WebhookURL = ""
	}
	sim, err := simulator.New(seed, simulator.Options{})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(sim.Handler())
	b.Cleanup(func() { srv.Close(); sim.Close() })

	raw, err := os.ReadFile("../o2o.example.yaml")
	if err != nil {
		b.Fatal(err)
	}
	doc := strings.ReplaceAll(string(raw), "http://localhost:9100", srv.URL)
	limits := fmt.Sprintf("limits: { requestsPerSecond: %d, concurrency: 4 }", benchLimit)
	doc = strings.Replace(doc, "limits: { requestsPerSecond: 10, concurrency: 4 }", limits, 1)
	doc = strings.Replace(doc, "    apiUser: o2o-api\n\nlinks:", "    apiUser: o2o-api\n    "+limits+"\n\nlinks:", 1)
	cfg, err := config.Parse([]byte(doc), config.Options{Getenv: func(k string) string { return testEnv[k] }})
	if err != nil {
		b.Fatal(err)
	}
	acts, err := activities.New(cfg)
	if err != nil {
		b.Fatal(err)
	}

	// The open links: a primary job with an activity assigned to the team
	// and its linked job, made through the simulator's user actions.
	type pair struct{ primary, secondary string }
	pairs := make([]pair, links)
	for i := range pairs {
		var pj struct {
			JobRef     string `json:"jobRef"`
			Activities []struct {
				ID string `json:"id"`
			} `json:"activities"`
		}
		simPost(b, srv.URL+"/acme/sim/jobs", map[string]any{"clientId": "28", "siteRef": "SITE-001", "priority": "Emergency",
			"activities": []map[string]string{{"code": "PLB001", "quantity": "1"}}}, &pj)
		simPost(b, srv.URL+"/acme/sim/activities/"+pj.Activities[0].ID+"/assign", map[string]string{"teamId": "7"}, nil)
		var sj struct {
			JobRef string `json:"jobRef"`
		}
		simPost(b, srv.URL+"/fixit/sim/jobs", map[string]any{"clientId": "41", "clientRef": pj.JobRef, "siteRef": "SITE-001", "priority": "P1 Emergency",
			"activities": []map[string]string{{"code": "PLB001", "quantity": "1"}}}, &sj)
		pairs[i] = pair{pj.JobRef, sj.JobRef}
	}
	requestsBefore := map[string]int{"acme": len(simRequests(b, srv.URL, "acme")), "fixit": len(simRequests(b, srv.URL, "fixit"))}

	var ts testsuite.WorkflowTestSuite
	ts.SetLogger(log.NewStructuredLogger(slog.New(slog.DiscardHandler)))
	env := ts.NewTestActivityEnvironment()
	env.RegisterActivity(acts)

	var calls, facts int
	var cpu time.Duration
	var elapsed time.Duration
	b.ResetTimer()
	for range b.N {
		cpu0 := cpuTime()
		start := time.Now()
		for _, p := range pairs {
			v, err := env.ExecuteActivity(acts.ReadFacts, activities.ReadFactsInput{Link: "acme-fixit", PrimaryJobRef: p.primary, SecondaryJobRef: p.secondary})
			if err != nil {
				b.Fatal(err)
			}
			var res activities.ReadFactsResult
			if err := v.Get(&res); err != nil {
				b.Fatal(err)
			}
			calls += res.Calls
			facts += len(res.Facts)
		}
		elapsed += time.Since(start)
		cpu += cpuTime() - cpu0
	}
	b.StopTimer()
	n := float64(b.N * links)
	b.ReportMetric(elapsed.Seconds()/float64(b.N), "s/run")
	b.ReportMetric(float64(calls)/n, "calls/link")
	b.ReportMetric(float64(facts)/n, "facts/link")
	// The process's CPU includes the simulator's side of every call: an
	// upper bound on what the worker spends.
	b.ReportMetric(float64(cpu.Microseconds())/n, "cpu-µs/link")
	for _, system := range []string{"acme", "fixit"} {
		peak := peakPerSecond(simRequests(b, srv.URL, system)[requestsBefore[system]:])
		b.ReportMetric(float64(peak), "peak-req/s-"+system)
		if peak > benchLimit+1 { // the limiter's burst is 1
			b.Errorf("%s saw %d requests in one second; the limit is %d", system, peak, benchLimit)
		}
	}
	b.ReportMetric(benchLimit, "limit-req/s")
}

func simPost(b *testing.B, url string, body, out any) {
	b.Helper()
	data, _ := json.Marshal(body)
	resp, err := http.Post(url, "application/json", bytes.NewReader(data))
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		b.Fatalf("POST %s: HTTP %d", url, resp.StatusCode)
	}
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			b.Fatal(err)
		}
	}
}

func simRequests(b *testing.B, base, system string) []simulator.RequestLogEntry {
	b.Helper()
	resp, err := http.Get(base + "/" + system + "/sim/requests")
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	var out []simulator.RequestLogEntry
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		b.Fatal(err)
	}
	return out
}

// peakPerSecond is the most requests in any one-second window.
func peakPerSecond(reqs []simulator.RequestLogEntry) int {
	peak, j := 0, 0
	for i := range reqs {
		for reqs[i].Time.Sub(reqs[j].Time) >= time.Second {
			j++
		}
		peak = max(peak, i-j+1)
	}
	return peak
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
