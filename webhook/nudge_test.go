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

	"github.com/o2o-sync/o2o/config"
	"github.com/o2o-sync/o2o/events"
	"github.com/o2o-sync/o2o/internal/platform"
	"github.com/o2o-sync/o2o/workflows"
)

// deliveryConfig has acme (signed) and fixit (header token) sending nudges,
// and legacy in poll mode, with no webhook credential in the environment.
func deliveryConfig(t *testing.T) *config.Config {
	t.Helper()
	doc := `
systems:
  acme:
    baseURL: http://acme.invalid
    authTokenEnv: ACME_API_TOKEN
    webhookSecretsEnv: ACME_SECRETS
    apiUser: o2o-api
    trust: nudge
  fixit:
    baseURL: http://fixit.invalid
    authTokenEnv: FIXIT_API_TOKEN
    apiUser: o2o-api
    webhookAuth: {mode: header-token, header: X-Oneserve-Token, tokensEnv: FIXIT_TOKENS}
    trust: nudge
  legacy:
    baseURL: http://legacy.invalid
    authTokenEnv: LEGACY_API_TOKEN
    webhookSecretsEnv: LEGACY_SECRETS
    apiUser: o2o-api
    events: poll
` + authLinks
	env := map[string]string{"ACME_SECRETS": acmeSecret, "FIXIT_TOKENS": acmeTokenNew, "API_TOKEN": apiToken}
	var asked []string
	cfg, err := config.Parse([]byte(doc), config.Options{WebhookOnly: true, Getenv: func(k string) string {
		asked = append(asked, k)
		return env[k]
	}})
	require.NoError(t, err, "a system in poll mode needs no webhook credentials")
	require.NotContains(t, asked, "LEGACY_SECRETS", "nor are they read")
	return cfg
}

// newDeliveryFixture serves deliveryConfig over real HTTP, with post
// signing for acme (the fixture's clock) and a token for fixit.
func newDeliveryFixture(t *testing.T) (*fixture, *authFixture) {
	tc := mocks.NewClient(t)
	h := newServer(deliveryConfig(t), tc, zap.NewNop())
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &fixture{t: t, tc: tc, srv: h, now: time.Now()}, &authFixture{t: t, tc: tc, url: srv.URL}
}

func TestPollModeSystemHasNoWebhookEndpoint(t *testing.T) {
	m, err := platform.NewMetrics("webhook")
	require.NoError(t, err)
	t.Cleanup(func() { _ = m.Close() })
	// The mock fails the test on any Temporal call.
	srv := httptest.NewServer(newServer(deliveryConfig(t), mocks.NewClient(t), zap.NewNop(), m))
	t.Cleanup(srv.Close)
	hf := &authFixture{t: t, url: srv.URL}
	for _, header := range []http.Header{nil, signedHeaders(acmeSecret, "msg_p1", assignment("7"))} {
		code, _, answer := hf.send("legacy", assignment("7"), header)
		require.Equal(t, http.StatusNotFound, code)
		require.JSONEq(t, `{"error":"system legacy is configured for polling (events: poll): it has no webhook endpoint"}`, answer)
	}
	want := `o2o_webhook_requests_total{outcome="poll_only",process="webhook",status="404",system="legacy"} 2`
	var body string
	require.True(t, assertEventually(func() bool {
		resp, err := http.Get(srv.URL + "/metrics")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		body = string(b)
		return strings.Contains(body, want)
	}), body)
}

func TestNudgeCarriesOnlyTheJobRefsAndNeverStartsALink(t *testing.T) {
	f, _ := newDeliveryFixture(t)
	var got []events.Event
	f.tc.On("SignalWorkflow", mock.Anything, "LinkedJob:acme-fixit:AC000001", "", workflows.SignalEvent, mock.Anything).
		Run(func(args mock.Arguments) { got = append(got, args.Get(4).(events.Event)) }).
		Return(nil).Times(4)

	for i, body := range []string{
		// An assignment to the link's team is only a nudge: the payload is
		// not trusted to start a link (nothing calls SignalWithStart).
		assignment("7"),
		// Any type that names a job, or none; numbers for strings; fields
		// O2O would refuse in payload mode are ignored.
		`{"type":"SOMETHING_NEW","data":{"jobRef":"AC000001","status":{"weird":true},"activityId":[1]}}`,
		`{"data":{"jobRef":" AC000001 "}}`,
		// The ref at the top level when there is no data object.
		`{"event":"job.updated","jobRef":"AC000001","timestamp":"not a date"}`,
	} {
		id := "msg_n" + string(rune('0'+i))
		rec := f.post("acme", id, body, acmeSecret)
		require.Equal(t, http.StatusAccepted, rec.Code, body+" → "+rec.Body.String())
		require.JSONEq(t, `{"status":"accepted","links":["acme-fixit"]}`, rec.Body.String())
	}
	require.Len(t, got, 4)
	for i, ev := range got {
		require.Equal(t, events.Nudge, ev.Type)
		require.Equal(t, "msg_n"+string(rune('0'+i)), ev.ID, "the signed webhook-id is the nudge's id")
		require.Equal(t, "acme", ev.System)
		require.Equal(t, events.Primary, ev.Side)
		require.Equal(t, "AC000001", ev.JobRef)
		require.Empty(t, ev.Actor)
		require.Nil(t, ev.Assignment)
		require.Nil(t, ev.Status)
		require.False(t, ev.OccurredAt.IsZero())
	}
}

func TestSecondaryNudgeFindsItsLinkByClientRef(t *testing.T) {
	_, hf := newDeliveryFixture(t)
	var got []events.Event
	// fixit is the secondary of both links, and both recorded FX000001.
	hf.tc.On("DescribeWorkflowExecution", mock.Anything, mock.Anything, "").
		Return(describedLink(running, "FX000001"), nil).Twice()
	hf.tc.On("SignalWorkflow", mock.Anything, mock.Anything, "", workflows.SignalEvent, mock.Anything).
		Run(func(args mock.Arguments) { got = append(got, args.Get(4).(events.Event)) }).
		Return(nil).Twice()
	token := http.Header{"X-Oneserve-Token": {acmeTokenNew}}
	body := `{"type":"APPOINTMENT_FOLLOW_ON_NEEDED","data":{"jobRef":"FX000001","jobClientRef":"AC000001"}}`
	code, _, answer := hf.send("fixit", body, token)
	require.Equal(t, http.StatusAccepted, code, answer)
	require.JSONEq(t, `{"status":"accepted","links":["acme-fixit","legacy-fixit"]}`, answer)
	for _, ev := range got {
		require.Equal(t, events.Nudge, ev.Type)
		require.Equal(t, events.Secondary, ev.Side)
		require.Equal(t, "FX000001", ev.JobRef)
		require.Equal(t, "AC000001", ev.JobClientRef)
		require.Equal(t, bodySHA(body), ev.ID)
	}

	// Without a client ref a secondary's job belongs to no link.
	code, _, answer = hf.send("fixit", `{"type":"X","data":{"jobRef":"FX000002"}}`, token)
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, answer, "concerns no link")
}

func TestNudgeBadInput(t *testing.T) {
	f, _ := newDeliveryFixture(t)
	for _, c := range []struct{ name, body, want string }{
		{"no job", `{"type":"JOB_STATUS_CHANGED","data":{"status":"Accepted"}}`, "data.jobRef: is required: a nudge must name its job"},
		{"no job at the top", `{"type":"JOB_STATUS_CHANGED"}`, "jobRef: is required"},
		{"a job ref of the wrong type", `{"data":{"jobRef":{"ref":"AC1"}}}`, "data.jobRef: must be a string or a number"},
		{"a job ref too long", `{"data":{"jobRef":"` + strings.Repeat("A", 51) + `"}}`, "data.jobRef: must be at most 50 characters"},
		{"not an object", `["AC000001"]`, "body: must be a JSON object"},
		{"not JSON", `{"data":`, "body: must be a JSON object"},
	} {
		t.Run(c.name, func(t *testing.T) {
			rec := f.post("acme", "msg_bad", c.body, acmeSecret)
			require.Equal(t, http.StatusBadRequest, rec.Code, rec.Body.String())
			require.Contains(t, rec.Body.String(), c.want)
		})
	}
	// Authentication comes first, as in payload mode.
	rec := f.post("acme", "msg_unsigned", assignment("7"), "")
	require.Equal(t, http.StatusUnauthorized, rec.Code)
}

func TestNudgeForAJobWithoutALinkIsAnswered(t *testing.T) {
	f, _ := newDeliveryFixture(t)
	f.tc.On("SignalWorkflow", mock.Anything, "LinkedJob:acme-fixit:AC000077", "", workflows.SignalEvent, mock.Anything).
		Return(serviceerror.NewNotFound("workflow not found")).Once()
	f.tc.On("DescribeWorkflowExecution", mock.Anything, "LinkedJob:acme-fixit:AC000077", "").
		Return(nil, serviceerror.NewNotFound("workflow not found")).Once()
	rec := f.post("acme", "msg_nl", `{"type":"ACTIVITY_ASSIGNED","data":{"jobRef":"AC000077","teamId":"7"}}`, acmeSecret)
	require.Equal(t, http.StatusOK, rec.Code)
	require.Contains(t, rec.Body.String(), "no running link")
}

// A sender can never send O2O's own NUDGE type to a system that trusts its
// payloads: it is not a type the decoder handles.
func TestNudgeTypeFromOutsideIsIgnored(t *testing.T) {
	f := newFixture(t) // acme in payload mode; any Temporal call fails the test
	rec := f.post("acme", "msg_fake", `{"type":"NUDGE","timestamp":"2026-11-27T09:30:00Z","data":{"jobRef":"AC000001"}}`, acmeSecret)
	require.Equal(t, http.StatusOK, rec.Code)
	require.Contains(t, rec.Body.String(), "not handled")
}
