package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/o2o-sync/o2o/config"
)

func TestPercentileAndMedian(t *testing.T) {
	var ds []time.Duration
	for i := 1; i <= 100; i++ {
		ds = append(ds, time.Duration(101-i)*time.Millisecond)
	}
	require.Equal(t, 50*time.Millisecond, percentile(ds, 50))
	require.Equal(t, 99*time.Millisecond, percentile(ds, 99))
	require.Equal(t, 100*time.Millisecond, percentile(ds, 100))
	require.Equal(t, time.Duration(0), percentile(nil, 50))
	require.Equal(t, 2.0, median([]float64{3, 1, 2}))
	require.Equal(t, 2.5, median([]float64{4, 1, 2, 3}))
}

func TestParseVariants(t *testing.T) {
	vs, err := parseVariants("default; O2O_WORKER_POLLERS=auto ;O2O_WORKER_STICKY_CACHE=1000,O2O_WORKER_EAGER_ACTIVITIES=false")
	require.NoError(t, err)
	require.Len(t, vs, 3)
	require.Contains(t, vs[0].name(), "default")
	require.Equal(t, []string{"O2O_WORKER_POLLERS=auto"}, vs[1].env)
	require.Equal(t, "O2O_WORKER_STICKY_CACHE=1000 O2O_WORKER_EAGER_ACTIVITIES=false", vs[2].name())
	require.Equal(t, "O2O_WORKER_STICKY_CACHE=1000_O2O_WORKER_EAGER_ACTIVITIES=false", vs[2].slug())
	_, err = parseVariants("pollers")
	require.ErrorContains(t, err, "not NAME=value")
	_, err = parseVariants(" ; ")
	require.Error(t, err)
}

func TestParseSizes(t *testing.T) {
	s, err := parseSizes("1000,10_000")
	require.NoError(t, err)
	require.Equal(t, []int{1000, 10000}, s)
	s, err = parseSizes("0")
	require.NoError(t, err)
	require.Empty(t, s)
	_, err = parseSizes("1000,100")
	require.ErrorContains(t, err, "must grow")
}

func TestProcReaders(t *testing.T) {
	rss, err := parseVmRSS(strings.NewReader("Name:\tworker\nVmPeak:\t 9 kB\nVmRSS:\t   40960 kB\n"))
	require.NoError(t, err)
	require.Equal(t, int64(40960<<10), rss)
	heap, err := parseMetric(strings.NewReader("# HELP x\ngo_memstats_heap_inuse_bytes_total 1\ngo_memstats_heap_inuse_bytes 1.2e+07\n"), "go_memstats_heap_inuse_bytes")
	require.NoError(t, err)
	require.Equal(t, int64(12_000_000), heap)
}

// The observer counts every /rest call and records only writes the
// system accepted: Oneserve reports some failures inside an HTTP 200.
func TestObserver(t *testing.T) {
	fail := false
	o := newObserver(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case fail:
			_, _ = w.Write([]byte(`{"result":"failure","result_msg":"no such job"}`))
		case strings.HasSuffix(r.URL.Path, "createJob"):
			_, _ = w.Write([]byte(`{"result":"success","jobRef":"FX000001"}`))
		default:
			_, _ = w.Write([]byte(`{"result":"success"}`))
		}
	}))
	post := func(path, body string) {
		o.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, path, strings.NewReader(body)))
	}
	post("/acme/rest/workflow/job/addEventByClientRef", `{"jobRef":"AC000001","sigEventCode":"APPT"}`)
	post("/fixit/rest/workflow/job/createJob", `{"clientRef":"AC000001"}`)
	o.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/acme/rest/workflow/job/AC000001", nil))
	o.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/acme/sim/jobs", nil)) // not /rest
	fail = true
	post("/acme/rest/workflow/job/addEventByClientRef", `{"jobRef":"AC000001","sigEventCode":"APPT"}`)

	require.Equal(t, int64(4), o.callsTotal())
	require.Len(t, o.writesTo("acme", "AC000001"), 1)
	require.Equal(t, []int{1, 0}, o.writeCounts("acme", []string{"AC000001", "AC000002"}))
	require.Equal(t, []string{"FX000001"}, o.createdFor("fixit", "AC000001"))
	require.Equal(t, int64(1), o.createCount())
}

func TestTable(t *testing.T) {
	var b strings.Builder
	table{{"", "O2O", "raw"}, {"Throughput", "45.1", "60.0"}, {"p50", "1", "2"}}.write(&b)
	require.Equal(t, "               O2O   raw\n  Throughput  45.1  60.0\n  p50            1     2\n", b.String())
}

// The bench edits o2o.example.yaml by anchors: an edit of the example
// that removes one must fail here, not in make bench.
func TestBenchConfig(t *testing.T) {
	example, err := os.ReadFile("../../o2o.example.yaml")
	require.NoError(t, err)
	doc, err := benchConfig(string(example), "http://127.0.0.1:1234")
	require.NoError(t, err)
	cfg, err := config.Parse([]byte(doc), config.Options{Getenv: func(k string) string { return devEnv[k] }})
	require.NoError(t, err)
	for _, name := range []string{"acme", "fixit"} {
		sys := cfg.System(name)
		require.NotNil(t, sys)
		require.Equal(t, "http://127.0.0.1:1234/"+name, sys.BaseURL)
		require.Equal(t, 1000.0, float64(sys.Limits.RequestsPerSecond))
		require.Equal(t, 100, sys.Limits.Concurrency)
	}
	require.Len(t, cfg.Links, 1)
	require.Equal(t, linkName, cfg.Links[0].Name)
	require.Equal(t, 8760*time.Hour, cfg.Links[0].ReconcileEvery.D())
}
