package activities_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/o2o-sync/o2o/activities"
	"github.com/o2o-sync/o2o/internal/platform"
)

// newMetricsFixture is newFixture with the activities built through
// activities.New(cfg, activities.WithMetrics(...)), as the worker does.
func newMetricsFixture(t *testing.T) (*fixture, *platform.Metrics) {
	t.Helper()
	m, err := platform.NewMetrics("worker")
	require.NoError(t, err)
	t.Cleanup(func() { _ = m.Close() })
	return newFixture(t, nil, activities.WithMetrics(m.MetricsHandler())), m
}

func scrape(t *testing.T, m *platform.Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.HTTPHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	b, err := io.ReadAll(rec.Body)
	require.NoError(t, err)
	return string(b)
}

func TestTargetCallsAreCountedAndTimedPerSystemAndOp(t *testing.T) {
	f, m := newMetricsFixture(t)
	jobRef, activityID := f.assignedJob("SITE-001", "Emergency", "7")
	res, err := f.create(jobRef, activityID)
	require.NoError(t, err)
	require.NotEmpty(t, res.SecondaryJobRef)

	// Creating the linked job reads the primary job (acme) and creates the
	// job in the secondary (fixit).
	want := []string{
		`o2o_target_requests_total{op="job",process="worker",status_class="2xx",system="acme"} 1`,
		`o2o_target_requests_total{op="createJob",process="worker",status_class="2xx",system="fixit"} 1`,
		`o2o_target_latency_seconds_count{op="createJob",process="worker",system="fixit"} 1`,
	}
	// Counters reach the endpoint on the next report (at most a second).
	var body string
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if body = scrape(t, m); strings.Contains(body, want[0]) && strings.Contains(body, want[1]) {
			break
		}
	}
	for _, w := range want {
		require.Contains(t, body, w)
	}
	require.Contains(t, body, "# TYPE o2o_target_latency_seconds histogram")
}

func TestWithoutMetricsActivitiesStillWork(t *testing.T) {
	f := newFixture(t, nil) // activities.New(cfg): no options
	jobRef, activityID := f.assignedJob("SITE-001", "Emergency", "7")
	_, err := f.create(jobRef, activityID)
	require.NoError(t, err)
}
