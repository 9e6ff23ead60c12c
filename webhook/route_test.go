package main

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/mocks"
	"go.uber.org/zap"

	"github.com/o2o-sync/o2o/config"
	"github.com/o2o-sync/o2o/events"
	"github.com/o2o-sync/o2o/workflows"
)

const boltSecret = "whsec_Ym9sdC10ZXN0LXNlY3JldC0wMDAwMDAwMDAwMDAw"

// hubConfig is issue 9's topology: fixit serves two primaries (acme and
// bolt, whose job refs can collide), and acme subcontracts to two
// secondaries (fixit and drainco), each through its own team.
func hubConfig(t *testing.T) *config.Config {
	t.Helper()
	link := func(name, primary, team, secondary, client string) string {
		return `
  - name: ` + name + `
    primary: {system: ` + primary + `, client: {name: P, id: 28}, team: {name: Sub, id: ` + team + `}}
    secondary:
      system: ` + secondary + `
      workLogType: {name: R, id: 3}
      workType: {name: P, id: 12}
      workflow: {name: S, id: 4}
      client: {name: C, id: ` + client + `}
      service: {name: P, id: 9}
      acceptedStatus: Accepted
    priorities: [{primary: {name: Emergency, id: 1}, secondary: {name: P1, id: 11}}]
    statusEvents:
      primaryToSecondary: [{status: Cancelled, eventCode: PCAN}]
      secondaryToPrimary: [{status: Accepted, eventCode: SACC}]
    appointmentEvents: {created: APPT, rescheduled: RESCH, cancelled: APCAN, completed: APCOM}`
	}
	b := []byte(`
systems:
  acme: {baseURL: "http://acme.invalid", authTokenEnv: TOKEN, webhookSecretsEnv: ACME_SECRETS, apiUser: o2o-api}
  bolt: {baseURL: "http://bolt.invalid", authTokenEnv: TOKEN, webhookSecretsEnv: BOLT_SECRETS, apiUser: o2o-api}
  fixit: {baseURL: "http://fixit.invalid", authTokenEnv: TOKEN, webhookSecretsEnv: FIXIT_SECRETS, apiUser: o2o-api}
  drainco: {baseURL: "http://drainco.invalid", authTokenEnv: TOKEN, webhookSecretsEnv: FIXIT_SECRETS, apiUser: o2o-api}
links:` + link("acme-fixit", "acme", "7", "fixit", "41") + link("bolt-fixit", "bolt", "7", "fixit", "42") +
		link("acme-drainco", "acme", "9", "drainco", "5") + `
webhook:
  apiTokenEnv: API_TOKEN
`)
	env := map[string]string{"TOKEN": "t", "ACME_SECRETS": acmeSecret, "BOLT_SECRETS": boltSecret, "FIXIT_SECRETS": fixitSecret, "API_TOKEN": apiToken}
	cfg, err := config.Parse(b, config.Options{Getenv: func(k string) string { return env[k] }})
	require.NoError(t, err)
	return cfg
}

func newHubFixture(t *testing.T) *fixture {
	tc := mocks.NewClient(t) // fails the test on any call it was not told of
	return &fixture{t: t, tc: tc, srv: newServer(hubConfig(t), tc, zap.NewNop()), now: time.Now()}
}

// describedLink is Describe's answer for a link's workflow in status that
// has recorded secondaryJobRef ("": not yet, still creating its job).
func describedLink(status enumspb.WorkflowExecutionStatus, secondaryJobRef string) *workflowservice.DescribeWorkflowExecutionResponse {
	fields := map[string]*commonpb.Payload{}
	if secondaryJobRef != "" {
		p, err := converter.GetDefaultDataConverter().ToPayload(secondaryJobRef)
		if err != nil {
			panic(err)
		}
		fields[workflows.AttrSecondaryJobRef.GetName()] = p
	}
	return &workflowservice.DescribeWorkflowExecutionResponse{WorkflowExecutionInfo: &workflowpb.WorkflowExecutionInfo{
		Status: status, SearchAttributes: &commonpb.SearchAttributes{IndexedFields: fields},
	}}
}

// recorded makes a link's workflow answer one Describe as describedLink.
func (f *fixture) recorded(link, primaryJobRef string, status enumspb.WorkflowExecutionStatus, secondaryJobRef string) {
	f.tc.On("DescribeWorkflowExecution", mock.Anything, workflows.WorkflowID(link, primaryJobRef), "").
		Return(describedLink(status, secondaryJobRef), nil).Once()
}

// expectSignal expects the event to be signalled to this link, and only once.
func (f *fixture) expectSignal(link, primaryJobRef string) {
	f.tc.On("SignalWorkflow", mock.Anything, workflows.WorkflowID(link, primaryJobRef), "", workflows.SignalEvent,
		mock.MatchedBy(func(ev events.Event) bool { return ev.Side == events.Secondary })).Return(nil).Once()
}

func fixitAccepted(jobRef, clientRef string) string {
	return `{"type":"JOB_STATUS_CHANGED","timestamp":"2026-11-27T09:30:00Z","data":{"jobRef":"` + jobRef + `","jobClientRef":"` + clientRef + `","status":"Accepted"}}`
}

// running is a link's workflow that has not closed.
const running = enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING

func TestAssignmentStartsOnlyTheLinkOfTheAssignedTeam(t *testing.T) {
	for team, link := range map[string]string{"7": "acme-fixit", "9": "acme-drainco"} {
		f := newHubFixture(t)
		f.tc.On("SignalWithStartWorkflow", mock.Anything, workflows.WorkflowID(link, "AC000001"), workflows.SignalEvent,
			mock.Anything, mock.Anything, workflows.WorkflowName, mock.Anything).Return(nil, nil).Once()
		rec := f.post("acme", "msg_team"+team, assignment(team), acmeSecret)
		require.Equal(t, http.StatusAccepted, rec.Code, rec.Body.String())
		require.JSONEq(t, `{"status":"accepted","links":["`+link+`"]}`, rec.Body.String())
	}
}

func TestSecondaryEventReachesOnlyTheLinkThatRecordedItsJob(t *testing.T) {
	f := newHubFixture(t)
	// Both primaries have a job AC000001; fixit holds a linked job for each.
	f.recorded("acme-fixit", "AC000001", running, "FX000001")
	f.recorded("bolt-fixit", "AC000001", running, "FX000002")
	f.expectSignal("bolt-fixit", "AC000001")
	rec := f.post("fixit", "msg_h1", fixitAccepted("FX000002", "AC000001"), fixitSecret)
	require.Equal(t, http.StatusAccepted, rec.Code, rec.Body.String())
	require.JSONEq(t, `{"status":"accepted","links":["bolt-fixit"]}`, rec.Body.String())

	// Job refs compare as the rules compare them: case aside.
	f.recorded("acme-fixit", "AC000001", running, "FX000001")
	f.recorded("bolt-fixit", "AC000001", running, "FX000002")
	f.expectSignal("acme-fixit", "AC000001")
	rec = f.post("fixit", "msg_h2", fixitAccepted("fx000001", "AC000001"), fixitSecret)
	require.JSONEq(t, `{"status":"accepted","links":["acme-fixit"]}`, rec.Body.String())
}

func TestSecondaryEventNoLinkRecordedGoesToTheLinksStillCreatingTheirJob(t *testing.T) {
	f := newHubFixture(t)
	f.recorded("acme-fixit", "AC000001", running, "FX000001")
	f.recorded("bolt-fixit", "AC000001", running, "") // its createJob is under way
	f.expectSignal("bolt-fixit", "AC000001")
	rec := f.post("fixit", "msg_c1", fixitAccepted("FX000002", "AC000001"), fixitSecret)
	require.JSONEq(t, `{"status":"accepted","links":["bolt-fixit"]}`, rec.Body.String())

	// Both still creating: both queue it; each skips it later unless it is
	// its own job.
	f.recorded("acme-fixit", "AC000001", running, "")
	f.recorded("bolt-fixit", "AC000001", running, "")
	f.expectSignal("acme-fixit", "AC000001")
	f.expectSignal("bolt-fixit", "AC000001")
	rec = f.post("fixit", "msg_c2", fixitAccepted("FX000002", "AC000001"), fixitSecret)
	require.JSONEq(t, `{"status":"accepted","links":["acme-fixit","bolt-fixit"]}`, rec.Body.String())
}

func TestSecondaryEventOfNoLinksJobIsIgnored(t *testing.T) {
	f := newHubFixture(t)
	f.tc.On("DescribeWorkflowExecution", mock.Anything, "LinkedJob:acme-fixit:AC000001", "").
		Return(nil, serviceerror.NewNotFound("workflow not found")).Once()
	f.recorded("bolt-fixit", "AC000001", running, "FX000002")
	// FX000009 carries client ref AC000001 but is neither link's job; no
	// signal is sent (the mock would fail the test).
	rec := f.post("fixit", "msg_n1", fixitAccepted("FX000009", "AC000001"), fixitSecret)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	require.Contains(t, rec.Body.String(), "concerns no link")
}

func TestSecondaryEventOfAClosedLinksJobIsAnsweredNotRevived(t *testing.T) {
	f := newHubFixture(t)
	f.recorded("acme-fixit", "AC000001", enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED, "FX000001")
	f.recorded("bolt-fixit", "AC000001", running, "FX000002")
	f.tc.On("SignalWorkflow", mock.Anything, "LinkedJob:acme-fixit:AC000001", "", workflows.SignalEvent, mock.Anything).
		Return(serviceerror.NewNotFound("workflow execution already completed")).Once()
	f.recorded("acme-fixit", "AC000001", enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED, "FX000001") // Deliver's own check
	rec := f.post("fixit", "msg_x1", fixitAccepted("FX000001", "AC000001"), fixitSecret)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	require.Contains(t, rec.Body.String(), "has closed")
}

func TestSecondaryEventWhenTemporalCannotSayWhichLinkIs503(t *testing.T) {
	f := newHubFixture(t)
	f.recorded("acme-fixit", "AC000001", running, "FX000001")
	f.tc.On("DescribeWorkflowExecution", mock.Anything, "LinkedJob:bolt-fixit:AC000001", "").
		Return(nil, serviceerror.NewUnavailable("connection refused")).Once()
	rec := f.post("fixit", "msg_u1", fixitAccepted("FX000001", "AC000001"), fixitSecret)
	require.Equal(t, http.StatusServiceUnavailable, rec.Code, rec.Body.String())
	require.Equal(t, "5", rec.Header().Get("Retry-After"))
	require.False(t, strings.Contains(rec.Body.String(), "connection refused"))
}

func TestOwnLinksLeavesASingleCandidateAndANudgeWithoutJobRefAlone(t *testing.T) {
	cfg := hubConfig(t)
	tc := mocks.NewClient(t) // no call expected
	ev := events.Event{System: "fixit", Type: events.JobStatusChanged, JobRef: "FX000001", JobClientRef: "AC000001"}
	one := []target{{link: cfg.Link("acme-fixit"), side: events.Secondary, primaryJobRef: "AC000001"}}
	got, err := ownLinks(t.Context(), tc, ev, one)
	require.NoError(t, err)
	require.Equal(t, one, got)

	nudge := events.Event{System: "fixit", Type: events.Nudge, JobClientRef: "AC000001"}
	both := route(cfg, nudge)
	require.Len(t, both, 2)
	got, err = ownLinks(t.Context(), tc, nudge, both)
	require.NoError(t, err)
	require.Equal(t, both, got, "a nudge naming only the client ref reaches both; each reads its own jobs")
}
