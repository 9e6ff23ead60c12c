package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/mocks"

	"github.com/o2o-sync/o2o/events"
	"github.com/o2o-sync/o2o/lifecycle"
	"github.com/o2o-sync/o2o/workflows"
)

// The job refs in these tests are written as an operator or a sender might:
// lower case, padded. Each must reach AC000001's link, the only one whose
// id the mock knows; any other id fails the test (issue 17).

func (f *fixture) operator(method, path, body string) *httptest.ResponseRecorder {
	f.t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+apiToken)
	rec := httptest.NewRecorder()
	f.srv.ServeHTTP(rec, req)
	return rec
}

func TestLinkStateRouteTakesTheRefInAnyCaseAndPadding(t *testing.T) {
	for _, ref := range []string{"ac000001", "Ac000001", "%20AC000001%20", "%09ac000001"} {
		f := newFixture(t)
		value := mocks.NewEncodedValue(t)
		value.On("Get", mock.Anything).Return(nil).Once()
		f.tc.On("QueryWorkflow", mock.Anything, "LinkedJob:acme-fixit:AC000001", "", workflows.QueryLinkState).Return(value, nil).Once()
		rec := f.operator(http.MethodGet, "/links/acme-fixit/"+ref, "")
		require.Equal(t, http.StatusOK, rec.Code, "%s: %s", ref, rec.Body.String())
	}
}

func TestOperatorRoutesTakeTheRefInAnyCaseAndPadding(t *testing.T) {
	for _, action := range lifecycle.Actions {
		for _, ref := range []string{"ac000001", "%20ac000001%20"} {
			f := newFixture(t)
			f.tc.On("DescribeWorkflowExecution", mock.Anything, "LinkedJob:acme-fixit:AC000001", "").
				Return(describedLink(enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING, "FX000001"), nil).Once()
			handle := mocks.NewWorkflowUpdateHandle(t)
			handle.On("Get", mock.Anything, mock.Anything).Return(nil).Once()
			f.tc.On("UpdateWorkflow", mock.Anything, mock.MatchedBy(func(o client.UpdateWorkflowOptions) bool {
				return o.WorkflowID == "LinkedJob:acme-fixit:AC000001" && o.UpdateName == action
			})).Return(handle, nil).Once()
			rec := f.operator(http.MethodPost, "/links/acme-fixit/"+ref+"/"+action, `{"by":"ops@example","reason":"r","documentId":"D1"}`)
			require.Equal(t, http.StatusOK, rec.Code, "%s %s: %s", action, ref, rec.Body.String())
		}
	}
}

// A text that cannot be a job ref is refused, 400, before anything reaches
// Temporal (the mock fails the test on any call), and is not quoted back.
func TestLinkRoutesRefuseWhatIsNotAJobRef(t *testing.T) {
	for _, ref := range []string{"AC%20000001", "AC000001%27", "AC:1", "%C3%85C1", strings.Repeat("A", 51), "%20%20"} {
		f := newFixture(t)
		for _, r := range []struct{ method, path string }{
			{http.MethodGet, "/links/acme-fixit/" + ref},
			{http.MethodPost, "/links/acme-fixit/" + ref + "/unlink"},
		} {
			rec := f.operator(r.method, r.path, `{"by":"ops@example","reason":"r"}`)
			require.Equal(t, http.StatusBadRequest, rec.Code, "%s %s: %s", r.method, r.path, rec.Body.String())
			require.Contains(t, rec.Body.String(), "primaryJobRef: not a job ref")
		}
	}
}

// Webhook payloads: a lower-case or padded job ref starts, or reaches, the
// link of its canonical form; so does a lower-case Client Job Ref.
func TestWebhookJobRefsReachTheLinkOfTheirCanonicalForm(t *testing.T) {
	for _, ref := range []string{"ac000001", " AC000001 ", `\tac000001`} {
		f := newFixture(t)
		f.tc.On("SignalWithStartWorkflow", mock.Anything, "LinkedJob:acme-fixit:AC000001", workflows.SignalEvent,
			mock.MatchedBy(func(ev events.Event) bool { return ev.JobRef == "AC000001" }), mock.Anything, workflows.WorkflowName,
			workflows.Input{Link: "acme-fixit", PrimaryJobRef: "AC000001"}).
			Return(nil, nil).Once()
		body := `{"type":"ACTIVITY_ASSIGNED","timestamp":"2026-11-27T09:30:00Z","data":{"jobRef":"` + ref + `","activityId":"137001","teamId":"7"}}`
		rec := f.post("acme", "msg_ref", body, acmeSecret)
		require.Equal(t, http.StatusAccepted, rec.Code, "%q: %s", ref, rec.Body.String())

		f.tc.On("SignalWorkflow", mock.Anything, "LinkedJob:acme-fixit:AC000001", "", workflows.SignalEvent,
			mock.MatchedBy(func(ev events.Event) bool { return ev.JobClientRef == "AC000001" && ev.JobRef == "FX000001" })).
			Return(nil).Once()
		body = `{"type":"JOB_STATUS_CHANGED","timestamp":"2026-11-27T09:30:00Z","data":{"jobRef":" fx000001","jobClientRef":"` + ref + `","status":"Accepted"}}`
		rec = f.post("fixit", "msg_ref2", body, fixitSecret)
		require.Equal(t, http.StatusAccepted, rec.Code, "%q: %s", ref, rec.Body.String())
	}
}

func TestWebhookRefusesAJobRefThatIsNotOne(t *testing.T) {
	f := newFixture(t) // no Temporal call expected
	body := `{"type":"ACTIVITY_ASSIGNED","timestamp":"2026-11-27T09:30:00Z","data":{"jobRef":"AC 000001","activityId":"137001","teamId":"7"}}`
	rec := f.post("acme", "msg_bad", body, acmeSecret)
	require.Equal(t, http.StatusBadRequest, rec.Code, rec.Body.String())
	require.Contains(t, rec.Body.String(), "data.jobRef: is not a job ref")

	// A secondary job whose Client Job Ref is the client's own text (not a
	// job ref) concerns no link: answered, not refused.
	body = `{"type":"JOB_STATUS_CHANGED","timestamp":"2026-11-27T09:30:00Z","data":{"jobRef":"FX000001","jobClientRef":"PO 12/3","status":"Accepted"}}`
	rec = f.post("fixit", "msg_free", body, fixitSecret)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	require.Contains(t, rec.Body.String(), "concerns no link")
}
