package platform

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.uber.org/zap"
)

// scrape returns the metrics endpoint's answer.
func scrape(t *testing.T, h http.Handler) string {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	require.Equal(t, http.StatusOK, rec.Code)
	require.True(t, strings.HasPrefix(rec.Header().Get("Content-Type"), "text/plain"), rec.Header().Get("Content-Type"))
	b, err := io.ReadAll(rec.Body)
	require.NoError(t, err)
	return string(b)
}

func TestMetricsServesPrometheusTextWithPrometheusNames(t *testing.T) {
	m, err := NewMetrics("test")
	require.NoError(t, err)
	defer m.Close()

	h := m.MetricsHandler().WithTags(map[string]string{"system": "acme"})
	h.Counter("o2o_example_requests").Inc(2)
	h.Timer("o2o_example_latency").Record(30 * time.Millisecond)

	// Counters reach the registry on the next report (at most a second).
	var body string
	require.Eventually(t, func() bool {
		body = scrape(t, m.HTTPHandler())
		return strings.Contains(body, `o2o_example_requests_total{process="test",system="acme"} 2`)
	}, 5*time.Second, 20*time.Millisecond)

	// Timers are histograms in seconds.
	require.Contains(t, body, "# TYPE o2o_example_latency_seconds histogram")
	require.Contains(t, body, `o2o_example_latency_seconds_bucket{process="test",system="acme",le="0.05"} 1`)
	require.Contains(t, body, `o2o_example_latency_seconds_count{process="test",system="acme"} 1`)
	require.Contains(t, body, "# TYPE o2o_example_requests_total counter")
	// The standard runtime collectors share the endpoint.
	require.Contains(t, body, "go_goroutines ")
	require.Contains(t, body, "o2o_metrics_errors_total 0")
	require.NotContains(t, body, "tally_internal")
}

func TestMetricsNameReusedWithOtherLabelsIsDroppedNotFatal(t *testing.T) {
	m, err := NewMetrics("test")
	require.NoError(t, err)
	h := m.MetricsHandler()
	h.WithTags(map[string]string{"a": "1"}).Counter("o2o_clash").Inc(1)
	h.WithTags(map[string]string{"b": "1"}).Counter("o2o_clash").Inc(1)
	require.NoError(t, m.Close()) // flushes: the second registration fails
	body := scrape(t, m.HTTPHandler())
	require.Contains(t, body, "o2o_metrics_errors_total 1")
}

func TestNilMetricsRecordsNothing(t *testing.T) {
	var m *Metrics
	require.Equal(t, client.MetricsNopHandler, m.MetricsHandler())
	m.MetricsHandler().Counter("x").Inc(1)
	m.SetLogger(nil)
	require.NoError(t, m.Close())
	rec := httptest.NewRecorder()
	m.HTTPHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	require.Equal(t, http.StatusNotFound, rec.Code)
}

func TestClientOptionsCarryTheMetricsHandler(t *testing.T) {
	m, err := NewMetrics("test")
	require.NoError(t, err)
	defer m.Close()
	t.Setenv("TEMPORAL_ADDRESS", "localhost:7233")
	opts, err := clientOptions(zap.NewNop(), m, nil)
	require.NoError(t, err)
	require.Equal(t, m.MetricsHandler(), opts.MetricsHandler)
	opts, err = clientOptions(zap.NewNop(), nil, nil)
	require.NoError(t, err)
	require.Nil(t, opts.MetricsHandler)
}

func TestLocalURL(t *testing.T) {
	for addr, want := range map[string]string{
		":8080":          "http://127.0.0.1:8080/healthz",
		"0.0.0.0:9464":   "http://127.0.0.1:9464/healthz",
		"10.0.0.5:9000":  "http://10.0.0.5:9000/healthz",
		"[::]:8080":      "http://127.0.0.1:8080/healthz",
		"localhost:8081": "http://localhost:8081/healthz",
	} {
		if got := LocalURL(addr, "/healthz"); got != want {
			t.Errorf("LocalURL(%q) = %q, want %q", addr, got, want)
		}
	}
}

func TestProbe(t *testing.T) {
	ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	defer ok.Close()
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) }))
	defer down.Close()
	if Probe(ok.URL) != 0 {
		t.Error("a 200 must pass")
	}
	if Probe(down.URL) != 1 {
		t.Error("a 503 must fail")
	}
	if Probe("http://127.0.0.1:1/") != 1 {
		t.Error("no answer must fail")
	}
}

func TestDevServerFlagsRegisterEverySearchAttribute(t *testing.T) {
	require.Equal(t, []string{
		"--search-attribute", "O2OLink=Keyword",
		"--search-attribute", "O2OPrimaryJobRef=Keyword",
		"--search-attribute", "O2OSecondaryJobRef=Keyword",
		"--search-attribute", "O2OState=Keyword",
		"--search-attribute", "Size=Int",
	}, DevServerFlags(map[string]enumspb.IndexedValueType{
		"O2OState":           enumspb.INDEXED_VALUE_TYPE_KEYWORD,
		"Size":               enumspb.INDEXED_VALUE_TYPE_INT,
		"O2OLink":            enumspb.INDEXED_VALUE_TYPE_KEYWORD,
		"O2OSecondaryJobRef": enumspb.INDEXED_VALUE_TYPE_KEYWORD,
		"O2OPrimaryJobRef":   enumspb.INDEXED_VALUE_TYPE_KEYWORD,
	}), "sorted by name, each with its type")
	require.Empty(t, DevServerFlags(nil))
}
