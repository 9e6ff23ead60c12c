//go:build integration

package e2e

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/o2o-sync/o2o/events"
	"github.com/o2o-sync/o2o/lifecycle"
	"github.com/o2o-sync/o2o/simulator"
	"github.com/o2o-sync/o2o/workflows"
)

type simJob struct {
	JobRef     string `json:"jobRef"`
	Activities []struct {
		ID   string `json:"id"`
		Code string `json:"code"`
	} `json:"activities"`
}

// createAcmeJob creates a job in the simulated primary, as a user would.
func (s *stack) createAcmeJob(siteRef, contactRef string, lines ...[2]string) simJob {
	s.t.Helper()
	var acts []map[string]string
	for _, l := range lines {
		acts = append(acts, map[string]string{"code": l[0], "quantity": l[1], "description": "line " + l[0]})
	}
	var job simJob
	code := do(s.t, http.MethodPost, s.simURL+"/acme/sim/jobs", nil, map[string]any{
		"clientId": "28", "siteRef": siteRef, "contactRef": contactRef, "priority": "Emergency",
		"description": "Kitchen tap dripping", "activities": acts,
	}, &job)
	require.Equal(s.t, http.StatusCreated, code)
	require.NotEmpty(s.t, job.JobRef)
	return job
}

func (s *stack) assign(system, activityID, team string) string {
	s.t.Helper()
	var resp struct {
		EventID string `json:"eventId"`
	}
	code := do(s.t, http.MethodPost, s.simURL+"/"+system+"/sim/activities/"+activityID+"/assign", nil, map[string]string{"teamId": team}, &resp)
	require.Equal(s.t, http.StatusOK, code)
	return resp.EventID
}

func (s *stack) linkState(link, ref string) (lifecycle.LinkState, int) {
	var st lifecycle.LinkState
	code := do(s.t, http.MethodGet, s.webhookURL+"/links/"+link+"/"+ref, s.operator(), nil, &st)
	return st, code
}

func (s *stack) waitState(link, ref string, want lifecycle.State, events int) lifecycle.LinkState {
	s.t.Helper()
	var st lifecycle.LinkState
	require.EventuallyWithT(s.t, func(c *assert.CollectT) {
		var code int
		st, code = s.linkState(link, ref)
		if code != http.StatusOK || st.State != want || len(st.Events) < events || st.Pending != 0 {
			c.Errorf("link %s: HTTP %d, state %s, %d events, %d pending (last error %q)", ref, code, st.State, len(st.Events), st.Pending, st.LastError)
		}
	}, 60*time.Second, 200*time.Millisecond)
	return st
}

func (s *stack) secondaryJobs(clientRef string) []simulator.Job {
	var jobs []simulator.Job
	require.Equal(s.t, http.StatusOK, do(s.t, http.MethodGet, s.simURL+"/fixit/sim/jobs?clientRef="+clientRef, nil, nil, &jobs))
	return jobs
}

func TestAssignmentCreatesTheLinkedJobEndToEnd(t *testing.T) {
	s := newStack(t, "TA")
	job := s.createAcmeJob("SITE-001", "CON-001", [2]string{"PLB001", "2"}, [2]string{"PLB002", "1"})

	// Before any assignment there is no link.
	_, code := s.linkState("acme-fixit", job.JobRef)
	require.Equal(t, http.StatusNotFound, code)

	eventID := s.assign("acme", job.Activities[0].ID, "7")
	st := s.waitState("acme-fixit", job.JobRef, lifecycle.StateLinked, 1)

	require.Equal(t, "acme-fixit", st.Link)
	require.Equal(t, job.JobRef, st.PrimaryJobRef)
	require.NotEmpty(t, st.SecondaryJobRef)
	require.Empty(t, st.LastError)
	require.Len(t, st.Events, 1)
	require.Equal(t, eventID, st.Events[0].ID)
	require.Equal(t, events.ActivityAssigned, st.Events[0].Type)
	require.Equal(t, "primaryToSecondary", st.Events[0].Direction)
	require.Equal(t, lifecycle.OutcomeApplied, st.Events[0].Outcome)
	require.Equal(t, []string{job.Activities[0].ID}, st.LinkedActivities)

	// The secondary holds exactly one job, built from the primary's data and
	// the link's configuration.
	jobs := s.secondaryJobs(job.JobRef)
	require.Len(t, jobs, 1)
	fx := jobs[0]
	require.Equal(t, st.SecondaryJobRef, fx.JobRef)
	require.Equal(t, job.JobRef, fx.ClientRef, "the primary job ref is the secondary job's client ref")
	require.Equal(t, "41", fx.ClientID)
	require.Equal(t, "SITE-001", fx.SiteRef)
	require.Equal(t, "CON-001", fx.ContactRef)
	require.Equal(t, "11", fx.PriorityID, "Emergency maps to P1 Emergency")
	require.Equal(t, "3", fx.WorkLogTypeID)
	require.Equal(t, "12", fx.WorkTypeID)
	require.Equal(t, "4", fx.WorkflowID)
	require.Equal(t, "9", fx.ServiceID)
	require.Equal(t, "Kitchen tap dripping", fx.Description)
	require.Equal(t, "o2o-api", fx.CreatedBy)
	require.Len(t, fx.Activities, 1, "only the activity assigned to the team travels")
	require.Equal(t, "PLB001", fx.Activities[0].Code)
	require.Equal(t, "2", fx.Activities[0].Quantity)
	require.Equal(t, job.Activities[0].ID, fx.Activities[0].ClientRef, "each line carries its primary activity id")

	// The Web UI can find the link by its search attributes.
	tc := devServer.Client()
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		resp, err := tc.ListWorkflow(context.Background(), listRequest(`O2OPrimaryJobRef="`+job.JobRef+`" AND O2OState="Linked" AND O2OSecondaryJobRef="`+fx.JobRef+`"`))
		if err != nil || len(resp.Executions) != 1 {
			c.Errorf("search attributes not visible yet: %v", err)
		}
	}, 20*time.Second, 250*time.Millisecond)

	// A redelivery of the same event (same webhook-id, fresh signature) is
	// acknowledged and recorded as a duplicate; still one job.
	outbox := s.sim.Outbox("acme")
	require.NotEmpty(t, outbox)
	last := outbox[len(outbox)-1]
	require.Equal(t, eventID, last.ID)
	rec := s.postSigned("acme", last.ID, last.Body)
	require.Equal(t, http.StatusAccepted, rec)
	st = s.waitState("acme-fixit", job.JobRef, lifecycle.StateLinked, 2)
	require.Equal(t, lifecycle.OutcomeDuplicate, st.Events[1].Outcome)
	require.Len(t, s.secondaryJobs(job.JobRef), 1)
	recordHistory(t, "linked-with-duplicate", workflows.WorkflowID("acme-fixit", job.JobRef))
}

func TestAssignmentToAnotherTeamStartsNothing(t *testing.T) {
	s := newStack(t, "TB")
	job := s.createAcmeJob("SITE-002", "CON-002", [2]string{"PLB002", "1"})
	s.assign("acme", job.Activities[0].ID, "8") // Acme's in-house team

	// The simulator delivers the event; O2O answers 200 and starts nothing.
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		ob := s.sim.Outbox("acme")
		if len(ob) != 1 || !ob[0].Delivered || ob[0].LastStatus != http.StatusOK {
			c.Errorf("not delivered with 200 yet: %+v", ob)
		}
	}, 20*time.Second, 100*time.Millisecond)
	_, err := devServer.Client().DescribeWorkflowExecution(context.Background(), workflows.WorkflowID("acme-fixit", job.JobRef), "")
	var nf *serviceerror.NotFound
	require.ErrorAs(t, err, &nf, "no workflow for an assignment to another team")
	require.Empty(t, s.secondaryJobs(job.JobRef))
}

func TestMisalignedSiteNeedsAttentionUntilFixedAndRetried(t *testing.T) {
	s := newStack(t, "TC")
	// SITE-003 exists in acme but not in fixit (dev/simulator.yaml).
	job := s.createAcmeJob("SITE-003", "CON-001", [2]string{"PLB001", "1"})
	s.assign("acme", job.Activities[0].ID, "7")
	st := s.waitStateAttention(job.JobRef)
	require.Contains(t, st.LastError, "site SITE-003")
	require.Contains(t, st.LastError, "does not exist in fixit")
	require.Empty(t, s.secondaryJobs(job.JobRef))

	// The console's card of the job says the link is stuck, and why, where
	// "no job in fixit yet" alone hid it (issue 17).
	card := s.consoleCard("acme", job.JobRef)
	require.Regexp(t, `<span class="linkstate NeedsAttention">NeedsAttention</span> <span class="lasterror">[^<]*site SITE-003[^<]*</span>`, card)
	require.Contains(t, card, "no job in fixit yet")
	// The refusal is the link's business, not O2O's fault: the worker logs
	// it as a warning naming the link, never as an error (issue 17).
	refusals := 0
	for _, line := range strings.Split(s.worker.output(), "\n") {
		if strings.Contains(line, `"msg":"Activity error."`) {
			refusals++
			require.Contains(t, line, `"level":"warn"`, line)
			require.Contains(t, line, `"link":"acme-fixit"`, line)
		}
	}
	require.NotZero(t, refusals, "the SDK logs the refused activity")

	// The starter shows the same state.
	cmd := exec.Command(filepath.Join(binDir, "starter"), "state", "acme-fixit", job.JobRef)
	cmd.Env = s.env()
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, string(out))
	require.Contains(t, string(out), "NeedsAttention")
	require.Contains(t, string(out), "SITE-003")

	// Fix the data (an administrator adds the site in fixit), then retry.
	require.Equal(t, http.StatusCreated, do(t, http.MethodPost, s.simURL+"/fixit/sim/sites", nil,
		map[string]any{"clientId": "41", "siteRef": "SITE-003", "name": "3 Low Road", "contactRefs": []string{"CON-001"}}, nil))
	cmd = exec.Command(filepath.Join(binDir, "starter"), "retry", "--by", "e2e", "acme-fixit", job.JobRef)
	cmd.Env = s.env()
	out, err = cmd.CombinedOutput()
	require.NoError(t, err, string(out))
	st = s.waitState("acme-fixit", job.JobRef, lifecycle.StateLinked, 1)
	require.Empty(t, st.LastError)
	require.Len(t, s.secondaryJobs(job.JobRef), 1)

	// Retrying a link that does not need attention is refused, clearly.
	cmd = exec.Command(filepath.Join(binDir, "starter"), "retry", "--by", "e2e", "acme-fixit", job.JobRef)
	cmd.Env = s.env()
	out, err = cmd.CombinedOutput()
	require.Error(t, err)
	require.Contains(t, string(out), "nothing to retry")
	recordHistory(t, "needs-attention-then-retried", workflows.WorkflowID("acme-fixit", job.JobRef))
}

func (s *stack) waitStateAttention(ref string) lifecycle.LinkState {
	s.t.Helper()
	var st lifecycle.LinkState
	require.EventuallyWithT(s.t, func(c *assert.CollectT) {
		var code int
		st, code = s.linkState("acme-fixit", ref)
		if code != http.StatusOK || st.State != lifecycle.StateNeedsAttention {
			c.Errorf("HTTP %d, state %s", code, st.State)
		}
	}, 60*time.Second, 200*time.Millisecond)
	return s.lastState(ref)
}

func (s *stack) lastState(ref string) lifecycle.LinkState {
	st, _ := s.linkState("acme-fixit", ref)
	return st
}

func TestStarterLinksAnExistingAssignment(t *testing.T) {
	s := newStack(t, "TD")
	job := s.createAcmeJob("SITE-001", "CON-001", [2]string{"PLB002", "3"})
	// Assigned while O2O was not listening: the event is lost.
	s.webhook.stop(t)
	s.assign("acme", job.Activities[0].ID, "7")

	starter := filepath.Join(binDir, "starter")
	for range 2 { // idempotent: the second run changes nothing
		cmd := exec.Command(starter, "link", "acme-fixit", job.JobRef, job.Activities[0].ID)
		cmd.Env = s.env()
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, string(out))
		require.Contains(t, string(out), "Started LinkedJob:acme-fixit:"+job.JobRef)
	}
	cmd := exec.Command(starter, "state", "--json", "acme-fixit", job.JobRef)
	cmd.Env = s.env()
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		out, err := cmd.Output()
		cmd = exec.Command(starter, "state", "--json", "acme-fixit", job.JobRef)
		cmd.Env = s.env()
		var st lifecycle.LinkState
		if err != nil || json.Unmarshal(out, &st) != nil || st.State != lifecycle.StateLinked || len(st.Events) != 2 {
			c.Errorf("not linked yet: %s %v", out, err)
			return
		}
		if st.Events[1].Outcome != lifecycle.OutcomeDuplicate {
			c.Errorf("second manual link should be a duplicate: %+v", st.Events[1])
		}
	}, 60*time.Second, 300*time.Millisecond)
	require.Len(t, s.secondaryJobs(job.JobRef), 1)
}

func TestWebhookBadInputOverHTTP(t *testing.T) {
	s := newStack(t, "TE")
	body := []byte(`{"type":"ACTIVITY_ASSIGNED","timestamp":"2026-11-27T09:30:00Z","data":{"jobRef":"AC1","teamId":"7"}}`)
	require.Equal(t, http.StatusNotFound, s.postSigned("nowhere", "msg_x1", body))
	require.Equal(t, http.StatusBadRequest, s.postSigned("acme", "msg_x2", []byte(`{"type": "ACTIVITY_ASSIGNED",`)))
	code, answer := s.postSignedBody("acme", "msg_x3", body)
	require.Equal(t, http.StatusBadRequest, code)
	require.Contains(t, answer, "data.activityId: is required")
	req, _ := http.NewRequest(http.MethodPost, s.webhookURL+"/webhooks/acme", strings.NewReader(string(body)))
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
}

func TestInvalidConfigurationStopsTheProcess(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "bad.yaml")
	require.NoError(t, writeFile(path, `
systems:
  acme: {baseURL: "http://x", authTokenEnv: O2O_ACME_TOKEN, webhookSecretsEnv: O2O_ACME_WEBHOOK_SECRETS, apiUser: u}
links:
  - name: acme-fixit
    primary: {system: acme, client: {name: A, id: 1}, team: {name: T, id: 7}}
    secondary: {system: fixit}
`))
	for _, bin := range []string{"worker", "webhook"} {
		cmd := exec.Command(filepath.Join(binDir, bin))
		cmd.Env = append(cmd.Environ(), "O2O_CONFIG="+path, "TEMPORAL_ADDRESS="+devServer.FrontendHostPort())
		out, err := cmd.CombinedOutput()
		require.Error(t, err, bin+" must not start")
		require.Contains(t, string(out), `links[0] (acme-fixit).secondary.system: unknown system "fixit"`, bin)
		require.Contains(t, string(out), "secondary.workType.id: is required", bin)
	}
}

// postSigned sends a body as system would, signed with its dev secret.
func (s *stack) postSigned(system, id string, body []byte) int {
	code, _ := s.postSignedBody(system, id, body)
	return code
}

func (s *stack) postSignedBody(system, id string, body []byte) (int, string) {
	s.t.Helper()
	secret, err := events.ParseSecret(devEnv["SIM_ACME_WEBHOOK_SECRET"])
	require.NoError(s.t, err)
	now := time.Now()
	req, err := http.NewRequest(http.MethodPost, s.webhookURL+"/webhooks/"+system, strings.NewReader(string(body)))
	require.NoError(s.t, err)
	req.Header.Set(events.HeaderID, id)
	req.Header.Set(events.HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
	req.Header.Set(events.HeaderSignature, events.Sign(secret, id, now, body))
	resp, err := http.DefaultClient.Do(req)
	require.NoError(s.t, err)
	defer resp.Body.Close()
	var b strings.Builder
	_, _ = io.Copy(&b, resp.Body)
	return resp.StatusCode, b.String()
}

func listRequest(query string) *workflowservice.ListWorkflowExecutionsRequest {
	return &workflowservice.ListWorkflowExecutionsRequest{Namespace: "default", Query: query}
}

func writeFile(path, content string) error { return os.WriteFile(path, []byte(content), 0o600) }
