package activities_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/testsuite"

	"github.com/o2o-sync/o2o/activities"
	"github.com/o2o-sync/o2o/config"
	"github.com/o2o-sync/o2o/events"
	"github.com/o2o-sync/o2o/lifecycle"
)

// This file measures what a document copy costs the worker: two minimal
// Oneserve stand-ins (only the three document endpoints of
// docs/oneserve-api.md) generate and swallow the bytes without storing them,
// so the heap measured is the worker's. Run it with make bench.

// BenchmarkCopyDocument100MB copies a 100 MiB document.
func BenchmarkCopyDocument100MB(b *testing.B) { benchmarkCopy(b, 100<<20) }

// BenchmarkCopyDocument1MB copies a 1 MiB document, the baseline for the
// 100 MiB case: bounded memory means both grow the heap by about the same.
func BenchmarkCopyDocument1MB(b *testing.B) { benchmarkCopy(b, 1<<20) }

func benchmarkCopy(b *testing.B, size int64) {
	src := newFakeSource(size, true, true)
	b.Cleanup(src.Close)
	dst := newFakeTarget()
	b.Cleanup(dst.Close)
	acts := fakeLinkActivities(b, src.URL(), dst.URL(), nil)
	var ts testsuite.WorkflowTestSuite
	ts.SetLogger(log.NewStructuredLogger(slog.New(slog.DiscardHandler)))
	env := ts.NewTestActivityEnvironment()
	env.RegisterActivity(acts)
	in := activities.CopyDocumentInput{
		Link: "acme-fixit", From: events.Primary, SourceJobRef: "AC000001", TargetJobRef: "FX000001",
		Document:       events.Document{DocumentID: "D1", FileName: "big.bin", Category: "Gas Certificate"},
		TargetCategory: "Certificates",
	}

	var maxHeap, maxSys float64
	var copied int64
	var spent time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		runtime.GC()
		var base runtime.MemStats
		runtime.ReadMemStats(&base)
		stop := make(chan struct{})
		peak := make(chan runtime.MemStats, 1)
		go samplePeakMemory(2*time.Millisecond, stop, peak)
		b.StartTimer()

		start := time.Now()
		v, err := env.ExecuteActivity(acts.CopyDocument, in)
		elapsed := time.Since(start)

		b.StopTimer()
		close(stop)
		p := <-peak
		if err != nil {
			b.Fatal(err)
		}
		var res lifecycle.Result
		if err := v.Get(&res); err != nil {
			b.Fatal(err)
		}
		if res.Size != size || res.SHA256 != src.sha {
			b.Fatalf("copied %d bytes with sha256 %s, want %d and %s", res.Size, res.SHA256, size, src.sha)
		}
		maxHeap = max(maxHeap, mib(int64(p.HeapInuse)-int64(base.HeapInuse)))
		maxSys = max(maxSys, mib(int64(p.Sys)-int64(base.Sys)))
		copied += size
		spent += elapsed
		b.StartTimer()
	}
	b.StopTimer()
	if got := dst.completed(); got != b.N {
		b.Fatalf("target received %d whole documents, want %d", got, b.N)
	}
	b.ReportMetric(maxHeap, "heap-growth-MB")
	b.ReportMetric(maxSys, "sys-growth-MB")
	b.ReportMetric(mib(copied)/spent.Seconds(), "MB/s")
}

func mib(n int64) float64 { return float64(n) / (1 << 20) }

// samplePeakMemory reads the memory statistics every interval until stop is
// closed, then sends the largest HeapInuse and Sys seen (in one MemStats).
func samplePeakMemory(every time.Duration, stop <-chan struct{}, out chan<- runtime.MemStats) {
	var peak, m runtime.MemStats
	sample := func() {
		runtime.ReadMemStats(&m)
		peak.HeapInuse = max(peak.HeapInuse, m.HeapInuse)
		peak.Sys = max(peak.Sys, m.Sys)
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		sample()
		select {
		case <-stop:
			sample()
			out <- peak
			return
		case <-t.C:
		}
	}
}

// fakeLinkActivities configures the example link with acme at srcURL and
// fixit at dstURL; tweak, if not nil, edits the configuration first.
func fakeLinkActivities(tb testing.TB, srcURL, dstURL string, tweak func(string) string) *activities.Activities {
	tb.Helper()
	raw, err := os.ReadFile("../o2o.example.yaml")
	if err != nil {
		tb.Fatal(err)
	}
	doc := strings.ReplaceAll(string(raw), "http://localhost:9100/acme", srcURL)
	doc = strings.ReplaceAll(doc, "http://localhost:9100/fixit", dstURL)
	if tweak != nil {
		doc = tweak(doc)
	}
	cfg, err := config.Parse([]byte(doc), config.Options{Getenv: func(k string) string { return testEnv[k] }})
	if err != nil {
		tb.Fatal(err)
	}
	acts, err := activities.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return acts
}

// patternBlock is the content of fake documents, repeated.
var patternBlock = func() []byte {
	r := rand.New(rand.NewPCG(1, 2))
	b := make([]byte, 64<<10)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}()

// patternReader generates n bytes of the repeated patternBlock.
type patternReader struct {
	n   int64
	off int
}

func (p *patternReader) Read(b []byte) (int, error) {
	if p.n <= 0 {
		return 0, io.EOF
	}
	if int64(len(b)) > p.n {
		b = b[:p.n]
	}
	k := 0
	for k < len(b) {
		c := copy(b[k:], patternBlock[p.off:])
		k += c
		p.off = (p.off + c) % len(patternBlock)
	}
	p.n -= int64(k)
	return k, nil
}

// patternSHA256 is the sha256 of the first n bytes of the pattern.
func patternSHA256(n int64) string {
	h := sha256.New()
	if _, err := io.Copy(h, &patternReader{n: n}); err != nil {
		panic(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// fakeSource is a Oneserve system whose every job holds one document, D1,
// of n generated bytes: the download is generated on the fly.
type fakeSource struct {
	srv  *httptest.Server
	size int64
	sha  string
	// declareSize and declareSHA choose whether the download sends
	// Content-Length and X-Checksum-SHA256.
	declareSize, declareSHA bool
	// stallAfter, when set before use, is where the download stops sending
	// (and waits for the client to give up).
	stallAfter int64
}

func newFakeSource(size int64, declareSize, declareSHA bool) *fakeSource {
	s := &fakeSource{size: size, sha: patternSHA256(size), declareSize: declareSize, declareSHA: declareSHA}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

func (s *fakeSource) URL() string { return s.srv.URL }
func (s *fakeSource) Close()      { s.srv.Close() }

func (s *fakeSource) serve(w http.ResponseWriter, r *http.Request) {
	switch kind, _ := documentPath(r.URL.Path); {
	case kind == "list" && r.Method == http.MethodGet:
		writeEnvelope(w, http.StatusOK, map[string]any{"documents": []any{
			map[string]string{"documentId": "D1", "fileName": "big.bin", "category": "Gas Certificate", "size": strconv.FormatInt(s.size, 10)}}})
	case kind == "content" && r.Method == http.MethodGet:
		w.Header().Set("Content-Type", "application/octet-stream")
		if s.declareSHA {
			w.Header().Set("X-Checksum-SHA256", s.sha)
		}
		if s.declareSize {
			w.Header().Set("Content-Length", strconv.FormatInt(s.size, 10))
		}
		if s.stallAfter > 0 {
			_, _ = io.Copy(w, &patternReader{n: s.stallAfter})
			http.NewResponseController(w).Flush()
			<-r.Context().Done()
			return
		}
		_, _ = io.Copy(w, &patternReader{n: s.size})
	default:
		http.NotFound(w, r)
	}
}

// fakeTarget is a Oneserve system that accepts any upload: it reads the body
// to the end while hashing it, checks X-Checksum-SHA256 when sent, and
// stores nothing. The list is always empty.
type fakeTarget struct {
	srv *httptest.Server
	mu  sync.Mutex
	// whole counts uploads received to the end; cut counts bodies that
	// ended in an error (an aborted upload).
	whole, cut int
	lastBytes  int64
	// answerSHA, when set before use, is the sha256 the upload answers
	// (a target that stored something else).
	answerSHA string
}

func newFakeTarget() *fakeTarget {
	t := &fakeTarget{}
	t.srv = httptest.NewServer(http.HandlerFunc(t.serve))
	return t
}

func (t *fakeTarget) URL() string { return t.srv.URL }
func (t *fakeTarget) Close()      { t.srv.Close() }

func (t *fakeTarget) completed() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.whole
}

func (t *fakeTarget) aborted() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.cut
}

func (t *fakeTarget) serve(w http.ResponseWriter, r *http.Request) {
	kind, _ := documentPath(r.URL.Path)
	switch {
	case kind == "list" && r.Method == http.MethodGet:
		writeEnvelope(w, http.StatusOK, map[string]any{"documents": []any{}})
	case kind == "list" && r.Method == http.MethodPost:
		var h hash.Hash = sha256.New()
		n, err := io.Copy(h, r.Body)
		t.mu.Lock()
		t.lastBytes = n
		if err != nil {
			t.cut++
		} else {
			t.whole++
		}
		t.mu.Unlock()
		if err != nil {
			return // the client has gone
		}
		sum := hex.EncodeToString(h.Sum(nil))
		if want := r.Header.Get("X-Checksum-SHA256"); want != "" && !strings.EqualFold(want, sum) {
			writeEnvelope(w, http.StatusBadRequest, map[string]any{"result": "error", "result_msg": "checksum mismatch"})
			return
		}
		if t.answerSHA != "" {
			sum = t.answerSHA
		}
		writeEnvelope(w, http.StatusOK, map[string]any{"documentId": "T1", "size": strconv.FormatInt(n, 10), "sha256": sum})
	default:
		http.NotFound(w, r)
	}
}

// documentPath recognises /rest/documents/job/{jobRef} ("list", also the
// upload) and /rest/documents/{documentId}/content ("content").
func documentPath(p string) (kind, id string) {
	rest, ok := strings.CutPrefix(p, "/rest/documents/")
	if !ok {
		return "", ""
	}
	a, b, ok := strings.Cut(rest, "/")
	switch {
	case !ok || strings.Contains(b, "/"):
		return "", ""
	case b == "content":
		return "content", a
	case a == "job":
		return "list", b
	}
	return "", ""
}

func writeEnvelope(w http.ResponseWriter, status int, fields map[string]any) {
	out := map[string]any{"result": "success", "result_msg": ""}
	for k, v := range fields {
		out[k] = v
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if err := json.NewEncoder(w).Encode(out); err != nil {
		fmt.Fprintln(os.Stderr, "fake oneserve:", err)
	}
}
