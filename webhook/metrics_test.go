package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/mocks"
	"go.uber.org/zap"

	"github.com/o2o-sync/o2o/internal/platform"
)

// newMetricsFixture is newFixture with the process's metrics wired in, as
// the webhook command does.
func newMetricsFixture(t *testing.T) *fixture {
	t.Helper()
	m, err := platform.NewMetrics("webhook")
	require.NoError(t, err)
	t.Cleanup(func() { _ = m.Close() })
	tc := mocks.NewClient(t)
	return &fixture{t: t, tc: tc, srv: newServer(testConfig(t), tc, zap.NewNop(), m), now: time.Now()}
}

func (f *fixture) scrape() string {
	f.t.Helper()
	rec := httptest.NewRecorder()
	f.srv.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil)) // no token needed
	require.Equal(f.t, http.StatusOK, rec.Code)
	b, err := io.ReadAll(rec.Body)
	require.NoError(f.t, err)
	return string(b)
}

// requireMetrics waits for the next report of the counters (at most a
// second) and checks that every line is on the endpoint.
func (f *fixture) requireMetrics(lines ...string) string {
	f.t.Helper()
	var body string
	ok := assertEventually(func() bool {
		body = f.scrape()
		for _, l := range lines {
			if !strings.Contains(body, l) {
				return false
			}
		}
		return true
	})
	if !ok {
		for _, l := range lines {
			require.Contains(f.t, body, l)
		}
	}
	return body
}

func assertEventually(cond func() bool) bool {
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if cond() {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return cond()
}

func TestWebhookMetricsCountEachRequestByOutcomeAndStatus(t *testing.T) {
	f := newMetricsFixture(t)
	f.tc.On("SignalWithStartWorkflow", mock.Anything, "LinkedJob:acme-fixit:AC000001", mock.Anything,
		mock.Anything, mock.Anything, mock.Anything, mock.Anything).Return(nil, nil).Once()

	require.Equal(t, http.StatusAccepted, f.post("acme", "msg_m1", assignment("7"), acmeSecret).Code)
	unhandled := `{"type":"APPOINTMENT_FOLLOW_ON_NEEDED","timestamp":"2026-11-27T09:30:00Z","data":{}}`
	require.Equal(t, http.StatusOK, f.post("acme", "msg_m2", unhandled, acmeSecret).Code)
	require.Equal(t, http.StatusOK, f.post("fixit", "msg_m3", unhandled, fixitSecret).Code)
	require.Equal(t, http.StatusUnauthorized, f.post("acme", "msg_m4", assignment("7"), fixitSecret).Code)

	body := f.requireMetrics(
		`o2o_webhook_requests_total{outcome="accepted",process="webhook",status="202",system="acme"} 1`,
		`o2o_webhook_requests_total{outcome="ignored_type",process="webhook",status="200",system="acme"} 1`,
		`o2o_webhook_requests_total{outcome="ignored_type",process="webhook",status="200",system="fixit"} 1`,
		`o2o_webhook_requests_total{outcome="bad_signature",process="webhook",status="401",system="acme"} 1`,
		`o2o_webhook_latency_seconds_count{process="webhook",status="202",system="acme"} 1`,
		`o2o_webhook_latency_seconds_count{process="webhook",status="200",system="acme"} 1`,
	)
	require.Contains(t, body, "# TYPE o2o_webhook_latency_seconds histogram")
	// Only the webhook route is measured: not /metrics itself, nor others.
	require.NotContains(t, body, `status="404"`)
}

func TestWebhookMetricsOtherOutcomes(t *testing.T) {
	f := newMetricsFixture(t)
	f.tc.On("SignalWithStartWorkflow", mock.Anything, mock.Anything, mock.Anything, mock.Anything, mock.Anything, mock.Anything, mock.Anything).
		Return(nil, serviceerror.NewUnavailable("connection refused")).Once()
	f.tc.On("SignalWithStartWorkflow", mock.Anything, mock.Anything, mock.Anything, mock.Anything, mock.Anything, mock.Anything, mock.Anything).
		Return(nil, serviceerror.NewWorkflowExecutionAlreadyStarted("closed", "", "")).Once()

	require.Equal(t, http.StatusServiceUnavailable, f.post("acme", "msg_o1", assignment("7"), acmeSecret).Code)
	require.Equal(t, http.StatusOK, f.post("acme", "msg_o2", assignment("7"), acmeSecret).Code)
	require.Equal(t, http.StatusOK, f.post("acme", "msg_o3", assignment("8"), acmeSecret).Code)
	require.Equal(t, http.StatusBadRequest, f.post("acme", "msg_o4", `{"type":`, acmeSecret).Code)
	require.Equal(t, http.StatusRequestEntityTooLarge, f.post("acme", "msg_o5", strings.Repeat(" ", 4096), acmeSecret).Code)
	// The path is the sender's: an unknown system is one label value.
	require.Equal(t, http.StatusNotFound, f.post("nowhere-1", "msg_o6", assignment("7"), acmeSecret).Code)
	require.Equal(t, http.StatusNotFound, f.post("nowhere-2", "msg_o7", assignment("7"), acmeSecret).Code)
	// A refusal by the router has no outcome of its own (nor a system: the
	// router fills no parameters for it).
	rec := httptest.NewRecorder()
	f.srv.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/webhooks/acme", nil))
	require.Equal(t, http.StatusMethodNotAllowed, rec.Code)

	body := f.requireMetrics(
		`o2o_webhook_requests_total{outcome="temporal_unavailable",process="webhook",status="503",system="acme"} 1`,
		`o2o_webhook_requests_total{outcome="link_closed",process="webhook",status="200",system="acme"} 1`,
		`o2o_webhook_requests_total{outcome="no_link",process="webhook",status="200",system="acme"} 1`,
		`o2o_webhook_requests_total{outcome="malformed",process="webhook",status="400",system="acme"} 1`,
		`o2o_webhook_requests_total{outcome="too_large",process="webhook",status="413",system="acme"} 1`,
		`o2o_webhook_requests_total{outcome="unknown_system",process="webhook",status="404",system="unknown"} 2`,
		`o2o_webhook_requests_total{outcome="other",process="webhook",status="405",system="unknown"} 1`,
	)
	require.NotContains(t, body, "nowhere")
}

func TestWebhookMetricsCountAPanicAs500(t *testing.T) {
	f := newMetricsFixture(t)
	f.tc.On("SignalWithStartWorkflow", mock.Anything, mock.Anything, mock.Anything, mock.Anything, mock.Anything, mock.Anything, mock.Anything).
		Run(func(mock.Arguments) { panic("boom") }).Once()
	require.Equal(t, http.StatusInternalServerError, f.post("acme", "msg_p1", assignment("7"), acmeSecret).Code)
	f.requireMetrics(`o2o_webhook_requests_total{outcome="other",process="webhook",status="500",system="acme"} 1`)
}

func TestWithoutMetricsThereIsNoMetricsRoute(t *testing.T) {
	f := newFixture(t)
	rec := httptest.NewRecorder()
	f.srv.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	require.Equal(t, http.StatusNotFound, rec.Code)
}
