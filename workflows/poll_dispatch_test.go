package workflows_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
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
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/mocks"
	"go.temporal.io/sdk/testsuite"

	"github.com/o2o-sync/o2o/activities"
	"github.com/o2o-sync/o2o/config"
	"github.com/o2o-sync/o2o/events"
	"github.com/o2o-sync/o2o/internal/linktest"
	"github.com/o2o-sync/o2o/simulator"
	"github.com/o2o-sync/o2o/workflows"
)

// dispatchFixture is the Poller's dispatch against a mocked Temporal
// client, with acme and fixit both polled (the link has a discovery) and
// served by the simulator over HTTP, for the discovery's job read.
type dispatchFixture struct {
	t      *testing.T
	tc     *mocks.Client
	env    *testsuite.TestActivityEnvironment
	poller *workflows.Poller
	simURL string
}

func newDispatchFixture(t *testing.T) *dispatchFixture {
	t.Helper()
	for _, k := range []string{"O2O_ACME_TOKEN", "O2O_FIXIT_TOKEN"} {
		t.Setenv(k, "token")
	}
	t.Setenv("SIM_ACME_WEBHOOK_SECRET", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	t.Setenv("SIM_FIXIT_WEBHOOK_SECRET", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	seed, err := simulator.LoadSeed("../dev/simulator.yaml")
	require.NoError(t, err)
	for i := range seed.Systems {
		seed.Systems[i].WebhookURL = ""
	}
	sim, err := simulator.New(seed, simulator.Options{})
	require.NoError(t, err)
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(func() { srv.Close(); sim.Close() })

	doc := strings.NewReplacer(
		"http://acme.invalid", srv.URL+"/acme", "http://fixit.invalid", srv.URL+"/fixit",
		"apiUser: o2o-api}", "apiUser: o2o-api, events: both, poll: {eventIds: [111]}}",
		"    appointmentEvents:", "    discovery: {assignmentEventId: 110}\n    appointmentEvents:",
	).Replace(linktest.YAML)
	cfg, err := config.Parse([]byte(doc), config.Options{Getenv: linktest.Getenv})
	require.NoError(t, err)
	acts, err := activities.New(cfg)
	require.NoError(t, err)
	f := &dispatchFixture{t: t, tc: mocks.NewClient(t), simURL: srv.URL}
	f.poller = &workflows.Poller{Client: f.tc, Acts: acts}
	var ts testsuite.WorkflowTestSuite
	f.env = ts.NewTestActivityEnvironment()
	f.env.RegisterActivity(f.poller)
	return f
}

func (f *dispatchFixture) dispatch(system string, jobs ...workflows.PollJob) workflows.PollDispatchResult {
	f.t.Helper()
	v, err := f.env.ExecuteActivity(f.poller.PollDispatch, workflows.PollDispatchInput{System: system, Jobs: jobs})
	require.NoError(f.t, err)
	var res workflows.PollDispatchResult
	require.NoError(f.t, v.Get(&res))
	return res
}

func (f *dispatchFixture) describe(primaryJobRef string, status enumspb.WorkflowExecutionStatus, err error) {
	var resp *workflowservice.DescribeWorkflowExecutionResponse
	if err == nil {
		resp = &workflowservice.DescribeWorkflowExecutionResponse{WorkflowExecutionInfo: &workflowpb.WorkflowExecutionInfo{Status: status}}
	}
	f.tc.On("DescribeWorkflowExecution", mock.Anything, workflows.WorkflowID(linktest.Name, primaryJobRef), "").Return(resp, err).Once()
}

// reconcile expects one reconciliation of a job, answering res.
func (f *dispatchFixture) reconcile(primaryJobRef string, res workflows.ReconcileResult) {
	run := mocks.NewWorkflowRun(f.t)
	run.On("Get", mock.Anything, mock.Anything).Run(func(args mock.Arguments) {
		*args.Get(1).(*workflows.ReconcileResult) = res
	}).Return(nil).Once()
	f.tc.On("ExecuteWorkflow", mock.Anything, mock.MatchedBy(func(o client.StartWorkflowOptions) bool {
		return o.ID == "o2o-reconcile-now:"+linktest.Name+":"+primaryJobRef
	}), workflows.ReconcileWorkflowName, workflows.ReconcileInput{Link: linktest.Name, PrimaryJobRef: primaryJobRef}).Return(run, nil).Once()
}

// TestPollDispatchOfAPrimary: a primary job names its link: a running one
// is reconciled (and waited for); with none, an assignment event makes O2O
// read the job and start the link as the assignment's webhook would; a job
// of no link, or of a closed one, is left alone; one whose lookup fails is
// to be tried again; a job ref that could not be a workflow id is ignored.
func TestPollDispatchOfAPrimary(t *testing.T) {
	f := newDispatchFixture(t)
	// AC000001 exists in acme, its activity assigned to the link's team.
	var job simulator.SimJobResponse
	require.Equal(t, http.StatusCreated, simPost(t, f.simURL+"/acme/sim/jobs", `{"clientId":"28","siteRef":"SITE-001","priority":"Emergency","activities":[{"code":"PLB001"}]}`, &job))
	require.Equal(t, http.StatusOK, simPost(t, f.simURL+"/acme/sim/activities/"+job.Activities[0].ID+"/assign", `{"teamId":"7"}`, nil))
	at := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)

	f.describe("AC900001", enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING, nil)
	f.reconcile("AC900001", workflows.ReconcileResult{Checked: 1, Calls: 4})
	f.describe(job.JobRef, 0, serviceerror.NewNotFound("no such workflow"))
	var delivered events.Event
	f.tc.On("SignalWithStartWorkflow", mock.Anything, workflows.WorkflowID(linktest.Name, job.JobRef), workflows.SignalEvent, mock.Anything,
		mock.Anything, workflows.WorkflowName, workflows.Input{Link: linktest.Name, PrimaryJobRef: job.JobRef}).Run(func(args mock.Arguments) {
		delivered = args.Get(3).(events.Event)
	}).Return(mocks.NewWorkflowRun(t), nil).Once()
	f.describe("AC900003", 0, serviceerror.NewNotFound("no such workflow"))
	f.describe("AC900004", enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED, nil)
	f.describe("AC900005", 0, serviceerror.NewUnavailable("frontend down"))

	res := f.dispatch("acme",
		workflows.PollJob{ClientID: "28", JobRef: "AC900001"},
		workflows.PollJob{ClientID: "28", JobRef: job.JobRef, Assignment: true, At: at},
		workflows.PollJob{ClientID: "28", JobRef: "AC900003"},
		workflows.PollJob{ClientID: "28", JobRef: "AC900004", Assignment: true},
		workflows.PollJob{ClientID: "28", JobRef: "AC900005"},
		workflows.PollJob{ClientID: "28", JobRef: "AC 9'6"},
		workflows.PollJob{ClientID: "99", JobRef: "AC900007"}, // a client of no link
	)
	require.Equal(t, 1, res.Reconciled)
	require.Equal(t, 1, res.Discovered)
	require.Equal(t, 3, res.NoLink, "AC900003, the odd ref, the other client's job")
	require.Equal(t, 1, res.Failed)
	require.Equal(t, []workflows.PollJob{{ClientID: "28", JobRef: "AC900005"}}, res.Retry)
	require.Equal(t, 4+1, res.Calls, "the reconciliation's and the discovery's job read")
	require.Len(t, res.Failures, 1)
	require.Contains(t, res.Failures[0], "AC900005: frontend down")

	require.Equal(t, events.Event{ID: "reconcile:assigned:primary:" + job.Activities[0].ID + ":7", System: "acme", Side: events.Primary,
		Type: events.ActivityAssigned, OccurredAt: at, JobRef: job.JobRef, Source: events.FromReconcile,
		Assignment: &events.Assignment{ActivityID: job.Activities[0].ID, TeamID: "7"}}, delivered)
}

// TestPollDispatchOfASecondary: secondary jobs are looked up by the links'
// O2OSecondaryJobRef; a found one's link is reconciled, and a failed
// reconciliation makes the job one to try again; a job no running link is
// found for is to be looked up again (visibility may lag).
func TestPollDispatchOfASecondary(t *testing.T) {
	f := newDispatchFixture(t)
	sa, err := converter.GetDefaultDataConverter().ToPayload("FX000001")
	require.NoError(t, err)
	f.tc.On("ListWorkflow", mock.Anything, mock.MatchedBy(func(r *workflowservice.ListWorkflowExecutionsRequest) bool {
		return r.Query == `WorkflowType = "LinkedJob" AND ExecutionStatus = 'Running' AND O2OLink = "acme-fixit" AND O2OSecondaryJobRef IN ('FX000001', 'FX000009')`
	})).Return(&workflowservice.ListWorkflowExecutionsResponse{Executions: []*workflowpb.WorkflowExecutionInfo{{
		Execution:        &commonpb.WorkflowExecution{WorkflowId: workflows.WorkflowID(linktest.Name, "AC000001")},
		SearchAttributes: &commonpb.SearchAttributes{IndexedFields: map[string]*commonpb.Payload{"O2OSecondaryJobRef": sa}},
	}}}, nil).Once()
	f.reconcile("AC000001", workflows.ReconcileResult{Checked: 1, Failed: 1, Calls: 2, Failures: []string{"AC000001: acme: HTTP 503"}})

	res := f.dispatch("fixit", workflows.PollJob{ClientID: "41", JobRef: "FX000001"}, workflows.PollJob{ClientID: "41", JobRef: "FX000009"})
	require.Zero(t, res.Reconciled)
	require.Equal(t, 1, res.Failed)
	require.Equal(t, 1, res.NoLink)
	require.Equal(t, []workflows.PollJob{{ClientID: "41", JobRef: "FX000001"}, {ClientID: "41", JobRef: "FX000009"}}, res.Retry)
	require.Contains(t, res.Failures[0], "reconciling link acme-fixit of job FX000001: AC000001: acme: HTTP 503")
}

// TestPollDispatchCanonicalJobRefs: a job ref read in lower case or padded
// names the link of its canonical form, primary or secondary (issue 17).
func TestPollDispatchCanonicalJobRefs(t *testing.T) {
	f := newDispatchFixture(t)
	f.describe("AC900001", enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING, nil)
	f.reconcile("AC900001", workflows.ReconcileResult{Checked: 1})
	res := f.dispatch("acme", workflows.PollJob{ClientID: "28", JobRef: " ac900001"})
	require.Equal(t, 1, res.Reconciled)

	sa, err := converter.GetDefaultDataConverter().ToPayload("FX000001")
	require.NoError(t, err)
	f.tc.On("ListWorkflow", mock.Anything, mock.MatchedBy(func(r *workflowservice.ListWorkflowExecutionsRequest) bool {
		return strings.HasSuffix(r.Query, `O2OSecondaryJobRef IN ('FX000001')`)
	})).Return(&workflowservice.ListWorkflowExecutionsResponse{Executions: []*workflowpb.WorkflowExecutionInfo{{
		Execution:        &commonpb.WorkflowExecution{WorkflowId: workflows.WorkflowID(linktest.Name, "AC000001")},
		SearchAttributes: &commonpb.SearchAttributes{IndexedFields: map[string]*commonpb.Payload{"O2OSecondaryJobRef": sa}},
	}}}, nil).Once()
	f.reconcile("AC000001", workflows.ReconcileResult{Checked: 1})
	res = f.dispatch("fixit", workflows.PollJob{ClientID: "41", JobRef: "fx000001 "})
	require.Equal(t, 1, res.Reconciled)
	require.Zero(t, res.NoLink)
}

// TestOpenLinksLeaveOutLinksStartedUnderAnotherFormOfTheirRef: a link
// started before job refs were normalised ("LinkedJob:...:ac000005") is
// not reconciled: WorkflowID(link, "ac000005") names AC000005's link, so
// its facts would reach another link (issue 17).
func TestOpenLinksLeaveOutLinksStartedUnderAnotherFormOfTheirRef(t *testing.T) {
	tc := mocks.NewClient(t)
	tc.On("ListWorkflow", mock.Anything, mock.Anything).Return(&workflowservice.ListWorkflowExecutionsResponse{Executions: []*workflowpb.WorkflowExecutionInfo{
		{Execution: &commonpb.WorkflowExecution{WorkflowId: "LinkedJob:" + linktest.Name + ":ac000005"}},
		{Execution: &commonpb.WorkflowExecution{WorkflowId: "LinkedJob:" + linktest.Name + ":AC000005"}},
	}}, nil).Once()
	rec := &workflows.Reconciler{Client: tc}
	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestActivityEnvironment()
	env.RegisterActivity(rec)
	v, err := env.ExecuteActivity(rec.ListOpenLinks, linktest.Name, "")
	require.NoError(t, err)
	var refs []workflows.LinkRef
	require.NoError(t, v.Get(&refs))
	require.Equal(t, []workflows.LinkRef{{PrimaryJobRef: "AC000005"}}, refs)
}

func simPost(t *testing.T, url, body string, out any) int {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	require.NoError(t, err)
	defer resp.Body.Close()
	if out != nil {
		require.NoError(t, json.NewDecoder(resp.Body).Decode(out))
	}
	return resp.StatusCode
}
