package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/mocks"
	"go.uber.org/zap"

	"github.com/o2o-sync/o2o/config"
	"github.com/o2o-sync/o2o/events"
	"github.com/o2o-sync/o2o/lifecycle"
	"github.com/o2o-sync/o2o/workflows"
)

const (
	acmeSecret  = "whsec_YWNtZS10ZXN0LXNlY3JldC0wMDAwMDAwMDAwMDAw"
	fixitSecret = "whsec_Zml4aXQtdGVzdC1zZWNyZXQtMDAwMDAwMDAwMDAw"
	apiToken    = "operator-token-0123456789"
)

func testConfig(t *testing.T) *config.Config {
	t.Helper()
	b := []byte(`
systems:
  acme: {baseURL: "http://acme.invalid", authTokenEnv: TOKEN, webhookSecretsEnv: ACME_SECRETS, apiUser: o2o-api}
  fixit: {baseURL: "http://fixit.invalid", authTokenEnv: TOKEN, webhookSecretsEnv: FIXIT_SECRETS, apiUser: o2o-api}
links:
  - name: acme-fixit
    primary: {system: acme, client: {name: Acme, id: 28}, team: {name: Fixit, id: 7}}
    secondary:
      system: fixit
      workLogType: {name: R, id: 3}
      workType: {name: P, id: 12}
      workflow: {name: S, id: 4}
      client: {name: Acme, id: 41}
      service: {name: P, id: 9}
      acceptedStatus: Accepted
    priorities: [{primary: {name: Emergency, id: 1}, secondary: {name: P1, id: 11}}]
    statusEvents:
      primaryToSecondary: [{status: Cancelled, eventCode: PCAN}]
      secondaryToPrimary: [{status: Accepted, eventCode: SACC}]
    appointmentEvents: {created: APPT, rescheduled: RESCH, cancelled: APCAN, completed: APCOM}
webhook:
  maxBodyBytes: 2048
  apiTokenEnv: API_TOKEN
`)
	env := map[string]string{"TOKEN": "t", "ACME_SECRETS": acmeSecret, "FIXIT_SECRETS": fixitSecret, "API_TOKEN": apiToken}
	cfg, err := config.Parse(b, config.Options{Getenv: func(k string) string { return env[k] }})
	require.NoError(t, err)
	return cfg
}

type fixture struct {
	t   *testing.T
	tc  *mocks.Client
	srv http.Handler
	now time.Time
}

func newFixture(t *testing.T) *fixture {
	tc := mocks.NewClient(t)
	return &fixture{t: t, tc: tc, srv: newServer(testConfig(t), tc, zap.NewNop()), now: time.Now()}
}

func (f *fixture) post(system, id, body, secret string) *httptest.ResponseRecorder {
	f.t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/webhooks/"+system, strings.NewReader(body))
	if secret != "" {
		s, err := events.ParseSecret(secret)
		require.NoError(f.t, err)
		req.Header.Set(events.HeaderID, id)
		req.Header.Set(events.HeaderTimestamp, strconv.FormatInt(f.now.Unix(), 10))
		req.Header.Set(events.HeaderSignature, events.Sign(s, id, f.now, []byte(body)))
	}
	rec := httptest.NewRecorder()
	f.srv.ServeHTTP(rec, req)
	return rec
}

func assignment(team string) string {
	return `{"type":"ACTIVITY_ASSIGNED","timestamp":"2026-11-27T09:30:00Z","data":{"jobRef":"AC000001","activityId":"137001","teamId":"` + team + `"}}`
}

func TestAssignmentToTheLinkTeamStartsTheLink(t *testing.T) {
	f := newFixture(t)
	var got events.Event
	var opts client.StartWorkflowOptions
	f.tc.On("SignalWithStartWorkflow", mock.Anything, "LinkedJob:acme-fixit:AC000001", workflows.SignalEvent,
		mock.Anything, mock.Anything, workflows.WorkflowName, mock.Anything).
		Run(func(args mock.Arguments) {
			got = args.Get(3).(events.Event)
			opts = args.Get(4).(client.StartWorkflowOptions)
			require.Equal(t, workflows.Input{Link: "acme-fixit", PrimaryJobRef: "AC000001"}, args.Get(6))
		}).Return(nil, nil).Once()

	rec := f.post("acme", "msg_1", assignment("7"), acmeSecret)
	require.Equal(t, http.StatusAccepted, rec.Code, rec.Body.String())
	require.JSONEq(t, `{"status":"accepted","links":["acme-fixit"]}`, rec.Body.String())
	require.Equal(t, "msg_1", got.ID)
	require.Equal(t, events.Primary, got.Side)
	require.Equal(t, "137001", got.Assignment.ActivityID)
	require.Equal(t, workflows.TaskQueue, opts.TaskQueue)
	require.Equal(t, "LinkedJob:acme-fixit:AC000001", opts.ID)
	require.NotEmpty(t, opts.StaticSummary)
}

func TestAssignmentToAnotherTeamConcernsNoLink(t *testing.T) {
	f := newFixture(t) // the mock fails the test on any Temporal call
	rec := f.post("acme", "msg_2", assignment("8"), acmeSecret)
	require.Equal(t, http.StatusOK, rec.Code)
	require.Contains(t, rec.Body.String(), `"ignored"`)
}

func TestUnknownSystemIs404(t *testing.T) {
	f := newFixture(t)
	rec := f.post("nowhere", "msg_3", assignment("7"), acmeSecret)
	require.Equal(t, http.StatusNotFound, rec.Code)
}

func TestBadInputGetsAClearAnswerAndNothingReachesTemporal(t *testing.T) {
	f := newFixture(t)
	cases := []struct {
		name, system, body, secret string
		code                       int
		want                       string
	}{
		{"not JSON", "acme", `{"type":`, acmeSecret, 400, "body: is not valid JSON"},
		{"missing field", "acme", `{"type":"ACTIVITY_ASSIGNED","timestamp":"2026-11-27T09:30:00Z","data":{"jobRef":"AC1","teamId":"7"}}`, acmeSecret, 400, "data.activityId: is required"},
		{"wrong type", "acme", `{"type":"ACTIVITY_ASSIGNED","timestamp":"2026-11-27T09:30:00Z","data":{"jobRef":"AC1","activityId":true,"teamId":"7"}}`, acmeSecret, 400, "data.activityId: has the wrong type"},
		{"bad timestamp", "acme", `{"type":"ACTIVITY_ASSIGNED","timestamp":"yesterday","data":{}}`, acmeSecret, 400, "timestamp: must be an RFC 3339"},
		{"unsigned", "acme", assignment("7"), "", 401, "missing webhook-id"},
		{"other system's secret", "acme", assignment("7"), fixitSecret, 401, "no webhook-signature matches"},
		{"too large", "acme", `{"type":"ACTIVITY_ASSIGNED","pad":"` + strings.Repeat("x", 4096) + `"}`, acmeSecret, 413, "larger than"},
		{"unhandled type", "acme", `{"type":"APPOINTMENT_FOLLOW_ON_NEEDED","timestamp":"2026-11-27T09:30:00Z","data":{}}`, acmeSecret, 200, "not handled"},
		{"secondary event of a job O2O did not create", "fixit", `{"type":"JOB_STATUS_CHANGED","timestamp":"2026-11-27T09:30:00Z","data":{"jobRef":"FX9","status":"Accepted"}}`, fixitSecret, 200, "concerns no link"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec := f.post(c.system, "msg_bad", c.body, c.secret)
			require.Equal(t, c.code, rec.Code, rec.Body.String())
			require.Contains(t, rec.Body.String(), c.want)
		})
	}
}

func TestStaleTimestampIs401(t *testing.T) {
	f := newFixture(t)
	f.now = time.Now().Add(-6 * time.Minute)
	rec := f.post("acme", "msg_old", assignment("7"), acmeSecret)
	require.Equal(t, http.StatusUnauthorized, rec.Code)
	require.Contains(t, rec.Body.String(), "outside the allowed 5 minutes")
}

func TestTemporalUnavailableIs503WithRetryAfter(t *testing.T) {
	f := newFixture(t)
	f.tc.On("SignalWithStartWorkflow", mock.Anything, mock.Anything, mock.Anything, mock.Anything, mock.Anything, mock.Anything, mock.Anything).
		Return(nil, serviceerror.NewUnavailable("connection refused")).Once()
	rec := f.post("acme", "msg_4", assignment("7"), acmeSecret)
	require.Equal(t, http.StatusServiceUnavailable, rec.Code)
	require.Equal(t, "5", rec.Header().Get("Retry-After"))
	require.NotContains(t, rec.Body.String(), "connection refused", "internal errors are not echoed to senders")
}

func TestSecondaryEventsFindTheirLinkByClientRef(t *testing.T) {
	f := newFixture(t)
	f.tc.On("SignalWorkflow", mock.Anything, "LinkedJob:acme-fixit:AC000001", "", workflows.SignalEvent,
		mock.MatchedBy(func(ev events.Event) bool { return ev.Side == events.Secondary && ev.Status.Status == "Accepted" })).
		Return(nil).Once()
	rec := f.post("fixit", "msg_5", `{"type":"JOB_STATUS_CHANGED","timestamp":"2026-11-27T09:30:00Z","data":{"jobRef":"FX000001","jobClientRef":"AC000001","status":"Accepted"}}`, fixitSecret)
	require.Equal(t, http.StatusAccepted, rec.Code, rec.Body.String())
}

func TestEventForAJobWithoutALinkIsAnsweredNotStarted(t *testing.T) {
	f := newFixture(t)
	f.tc.On("SignalWorkflow", mock.Anything, "LinkedJob:acme-fixit:AC000077", "", workflows.SignalEvent, mock.Anything).
		Return(serviceerror.NewNotFound("workflow not found")).Once()
	f.tc.On("DescribeWorkflowExecution", mock.Anything, "LinkedJob:acme-fixit:AC000077", "").
		Return(nil, serviceerror.NewNotFound("workflow not found")).Once()
	rec := f.post("acme", "msg_6", `{"type":"JOB_STATUS_CHANGED","timestamp":"2026-11-27T09:30:00Z","data":{"jobRef":"AC000077","status":"On Hold"}}`, acmeSecret)
	require.Equal(t, http.StatusOK, rec.Code)
	require.Contains(t, rec.Body.String(), "no running link")
}

func TestLateEventForAClosedLinkIsAnsweredNotRevived(t *testing.T) {
	f := newFixture(t)
	f.tc.On("SignalWorkflow", mock.Anything, "LinkedJob:acme-fixit:AC000078", "", workflows.SignalEvent, mock.Anything).
		Return(serviceerror.NewNotFound("workflow execution already completed")).Once()
	f.tc.On("DescribeWorkflowExecution", mock.Anything, "LinkedJob:acme-fixit:AC000078", "").
		Return(&workflowservice.DescribeWorkflowExecutionResponse{}, nil).Once()
	rec := f.post("acme", "msg_8", `{"type":"JOB_STATUS_CHANGED","timestamp":"2026-11-27T09:30:00Z","data":{"jobRef":"AC000078","status":"On Hold"}}`, acmeSecret)
	require.Equal(t, http.StatusOK, rec.Code)
	require.Contains(t, rec.Body.String(), "has closed")
}

func TestClosedLinkIsNotRevived(t *testing.T) {
	f := newFixture(t)
	f.tc.On("SignalWithStartWorkflow", mock.Anything, mock.Anything, mock.Anything, mock.Anything, mock.Anything, mock.Anything, mock.Anything).
		Return(nil, serviceerror.NewWorkflowExecutionAlreadyStarted("closed", "", "")).Once()
	rec := f.post("acme", "msg_7", assignment("7"), acmeSecret)
	require.Equal(t, http.StatusOK, rec.Code)
	require.Contains(t, rec.Body.String(), "has closed")
}

func TestLinkStateNeedsTheBearerToken(t *testing.T) {
	f := newFixture(t)
	get := func(auth string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, "/links/acme-fixit/AC000001", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		rec := httptest.NewRecorder()
		f.srv.ServeHTTP(rec, req)
		return rec
	}
	require.Equal(t, http.StatusUnauthorized, get("").Code)
	require.Equal(t, http.StatusUnauthorized, get("Bearer wrong").Code)

	value := mocks.NewEncodedValue(t)
	value.On("Get", mock.Anything).Run(func(args mock.Arguments) {
		*(args.Get(0).(*lifecycle.LinkState)) = lifecycle.LinkState{Link: "acme-fixit", PrimaryJobRef: "AC000001", State: lifecycle.StateLinked, SecondaryJobRef: "FX000001"}
	}).Return(nil).Once()
	f.tc.On("QueryWorkflow", mock.Anything, "LinkedJob:acme-fixit:AC000001", "", workflows.QueryLinkState).Return(value, nil).Once()
	rec := get("Bearer " + apiToken)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	var st lifecycle.LinkState
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &st))
	require.Equal(t, "FX000001", st.SecondaryJobRef)

	f.tc.On("QueryWorkflow", mock.Anything, "LinkedJob:acme-fixit:AC404", "", workflows.QueryLinkState).
		Return(nil, serviceerror.NewNotFound("nope")).Once()
	req := httptest.NewRequest(http.MethodGet, "/links/acme-fixit/AC404", nil)
	req.Header.Set("Authorization", "Bearer "+apiToken)
	rec = httptest.NewRecorder()
	f.srv.ServeHTTP(rec, req)
	require.Equal(t, http.StatusNotFound, rec.Code)
}

func TestWebhookRouteDoesNotAcceptTheBearerTokenInsteadOfASignature(t *testing.T) {
	f := newFixture(t)
	req := httptest.NewRequest(http.MethodPost, "/webhooks/acme", strings.NewReader(assignment("7")))
	req.Header.Set("Authorization", "Bearer "+apiToken)
	rec := httptest.NewRecorder()
	f.srv.ServeHTTP(rec, req)
	require.Equal(t, http.StatusUnauthorized, rec.Code)
}

// GET / points someone who opened the server's address at its endpoints;
// other unknown paths stay "not found".
func TestIndexNamesTheEndpoints(t *testing.T) {
	f := newFixture(t)
	for path, want := range map[string]int{"/": http.StatusOK, "/nowhere": http.StatusNotFound} {
		rec := httptest.NewRecorder()
		f.srv.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		require.Equal(t, want, rec.Code, path)
	}
	rec := httptest.NewRecorder()
	f.srv.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	var got struct {
		Service   string   `json:"service"`
		Endpoints []string `json:"endpoints"`
	}
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &got), rec.Body.String())
	require.Equal(t, "O2O webhook server", got.Service)
	all := strings.Join(got.Endpoints, "\n")
	for _, want := range []string{"POST /webhooks/{system}", "GET /links/{link}/{primaryJobRef}", "retry, skip, pause", "/codec/", "GET /metrics", "/readyz"} {
		require.Contains(t, all, want)
	}
}
