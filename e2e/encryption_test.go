//go:build integration

package e2e

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/proxy"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/o2o-sync/o2o/codec"
	"github.com/o2o-sync/o2o/lifecycle"
	"github.com/o2o-sync/o2o/workflows"
)

// encData is the personal data of the encrypted job's life: what Temporal
// must never hold in plain text.
type encData struct {
	contactRef, contactName, siteName string
	description, lineDescription      string
	cancelReason, certName, photoName string
}

var encPersonal = encData{
	contactRef:      "CON-001",
	contactName:     "Testy McTestface", // CON-001's name in dev/simulator.yaml
	siteName:        "1 High Street",    // SITE-001's
	description:     "Water through Mrs Oakhurst's ceiling, gate code 8812",
	lineDescription: "Oakhurst cistern valve",
	cancelReason:    "Mrs Oakhurst at her daughter's until Friday",
	certName:        "oakhurst-gas-safety.pdf",
	photoName:       "oakhurst-ceiling.jpg",
}

func (p encData) needles() []string {
	return []string{p.contactRef, p.contactName, p.siteName, p.description, "Oakhurst", "gate code",
		p.lineDescription, p.cancelReason, p.certName, p.photoName}
}

// newKey returns a fresh payload key as O2O_PAYLOAD_KEYS takes it.
func newKey(t *testing.T, id string) string {
	t.Helper()
	b := make([]byte, 32)
	_, err := rand.Read(b)
	require.NoError(t, err)
	return id + ":" + base64.StdEncoding.EncodeToString(b)
}

// encStack starts a stack whose processes have env on top of the usual.
func encStack(t *testing.T, prefix string, env ...string) *stack {
	t.Helper()
	seed, cfg := devSetup(t)
	s := newStackFrom(t, prefix, seed, cfg, env...)
	// The worker rewrote the link's reconciliation schedule with this
	// test's key, which later tests' workers do not have: once the test is
	// over, the next worker makes it afresh.
	t.Cleanup(func() {
		_ = devServer.Client().ScheduleClient().GetHandle(context.Background(), workflows.ScheduleID("acme-fixit")).Delete(context.Background())
	})
	return s
}

// codecClient is a Temporal client that decodes with keys (as O2O's
// processes do with O2O_PAYLOAD_KEYS).
func codecClient(t *testing.T, keys string) client.Client {
	t.Helper()
	pc, err := codec.FromEnv(func(name string) string {
		if name == codec.EnvKeys {
			return keys
		}
		return ""
	})
	require.NoError(t, err)
	dc := codec.DataConverter(pc)
	c, err := client.Dial(client.Options{HostPort: devServer.FrontendHostPort(), Namespace: "default",
		DataConverter: dc, FailureConverter: codec.FailureConverter(dc)})
	require.NoError(t, err)
	t.Cleanup(c.Close)
	return c
}

// rawHistory is a workflow's history as Temporal stores it: read without
// any codec.
func rawHistory(t *testing.T, workflowID string) []*historypb.HistoryEvent {
	t.Helper()
	var out []*historypb.HistoryEvent
	iter := devServer.Client().GetWorkflowHistory(context.Background(), workflowID, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for iter.HasNext() {
		ev, err := iter.Next()
		require.NoError(t, err)
		out = append(out, ev)
	}
	require.NotEmpty(t, out)
	return out
}

// payloadsOf returns every payload of the events but their search
// attributes, which are indexed and so never encoded.
func payloadsOf(t *testing.T, evs []*historypb.HistoryEvent) []*commonpb.Payload {
	t.Helper()
	var out []*commonpb.Payload
	for _, ev := range evs {
		require.NoError(t, proxy.VisitPayloads(context.Background(), ev, proxy.VisitPayloadsOptions{
			SkipSearchAttributes: true,
			Visitor: func(_ *proxy.VisitPayloadsContext, ps []*commonpb.Payload) ([]*commonpb.Payload, error) {
				out = append(out, ps...)
				return ps, nil
			},
		}))
	}
	return out
}

// encryptedJobLife raises a job full of personal data in acme, links it and
// plays its life; it returns the primary job ref and what the life left.
func encryptedJobLife(t *testing.T, s *stack) (string, finalState, lifecycle.LinkState) {
	t.Helper()
	p := encPersonal
	var job simJob
	code := do(t, http.MethodPost, s.simURL+"/acme/sim/jobs", nil, map[string]any{
		"clientId": "28", "siteRef": "SITE-001", "contactRef": p.contactRef, "priority": "Emergency",
		"description": p.description,
		"activities": []map[string]string{
			{"code": "PLB001", "quantity": "1", "description": p.lineDescription},
			{"code": "PLB002", "quantity": "1", "description": p.lineDescription + " (second)"},
		},
	}, &job)
	require.Equal(t, http.StatusCreated, code)
	s.assign("acme", job.Activities[0].ID, "7")
	fx := s.settle(job.JobRef, 1).SecondaryJobRef

	s.act("fixit", http.MethodPost, "/jobs/"+fx+"/status", map[string]string{"status": "Accepted"})
	start := time.Date(2026, 12, 10, 8, 0, 0, 0, time.UTC)
	s.act("fixit", http.MethodPost, "/jobs/"+fx+"/appointments", map[string]string{"start": start.Format(time.RFC3339), "end": start.Add(time.Hour).Format(time.RFC3339)})
	second := s.act("fixit", http.MethodPost, "/jobs/"+fx+"/appointments", map[string]string{"start": start.Add(48 * time.Hour).Format(time.RFC3339), "end": start.Add(49 * time.Hour).Format(time.RFC3339)})
	s.act("fixit", http.MethodPost, "/appointments/"+fmt.Sprint(second["appointmentId"])+"/cancel", map[string]string{"reason": p.cancelReason})
	s.assign("acme", job.Activities[1].ID, "7")
	s.upload("acme", job.JobRef, "Gas Certificate", p.certName, []byte("%PDF-1.7 gas safety record"))
	s.upload("fixit", fx, "Site Photos", p.photoName, []byte("\xff\xd8\xff photo"))
	s.act("acme", http.MethodPost, "/jobs/"+job.JobRef+"/status", map[string]string{"status": "On Hold"})
	s.settledApplied(job.JobRef, 9) // the assignment and the eight facts that write something
	st, code := s.linkState("acme-fixit", job.JobRef)
	require.Equal(t, http.StatusOK, code)
	return job.JobRef, s.finalState(job, fx), st
}

// eventRows is the link's record without ids and times, which differ
// between runs, sorted: the life's actions race each other's webhooks.
func eventRows(st lifecycle.LinkState) []string {
	var out []string
	for _, e := range st.Events {
		out = append(out, fmt.Sprintf("%s %s %s", e.Type, e.Direction, e.Outcome))
	}
	slices.Sort(out)
	return out
}

// lifeRows is what encryptedJobLife leaves in the link's record.
var lifeRows = []string{
	"ACTIVITY_ASSIGNED primaryToSecondary applied",
	"ACTIVITY_ASSIGNED primaryToSecondary applied",
	"APPOINTMENT_CANCELLED secondaryToPrimary applied",
	"APPOINTMENT_CREATED secondaryToPrimary applied",
	"APPOINTMENT_CREATED secondaryToPrimary applied",
	"DOCUMENT_UPLOADED primaryToSecondary applied",
	"DOCUMENT_UPLOADED primaryToSecondary skipped", // the echo of O2O's copy
	"DOCUMENT_UPLOADED secondaryToPrimary applied",
	"DOCUMENT_UPLOADED secondaryToPrimary skipped", // the echo of O2O's copy
	"JOB_STATUS_CHANGED primaryToSecondary applied",
	"JOB_STATUS_CHANGED secondaryToPrimary applied",
}

// TestEncryptedJobLifeKeepsPersonalDataOutOfTemporal plays a job life full
// of personal data twice, without and with payload encryption. Encrypted,
// Temporal's history holds none of it in any payload (read through the
// Temporal API without the codec), while O2O, the starter, the codec server
// and the temporal CLI with --codec-endpoint read it all; both runs end in
// the same state.
func TestEncryptedJobLifeKeepsPersonalDataOutOfTemporal(t *testing.T) {
	needles := encPersonal.needles()
	var plain, encrypted finalState
	t.Run("plain", func(t *testing.T) {
		s := encStack(t, "EP")
		ref, fs, st := encryptedJobLife(t, s)
		plain = fs
		require.Equal(t, lifeRows, eventRows(st))
		// The control: without encryption the history does hold the data,
		// so the search below would find it.
		var all strings.Builder
		for _, p := range payloadsOf(t, rawHistory(t, workflows.WorkflowID("acme-fixit", ref))) {
			all.Write(p.GetData())
		}
		assert.Contains(t, all.String(), encPersonal.cancelReason)
		assert.Contains(t, all.String(), encPersonal.certName)
		terminate(t, ref)
	})

	keys := newKey(t, "e2e-1")
	t.Run("encrypted", func(t *testing.T) {
		s := encStack(t, "EE", "O2O_PAYLOAD_KEYS="+keys)
		ref, fs, st := encryptedJobLife(t, s)
		encrypted = fs
		require.Equal(t, lifeRows, eventRows(st), "the same events, with the same outcomes, as without encryption")
		id := workflows.WorkflowID("acme-fixit", ref)

		// Without the codec: every payload is encrypted, and no byte of the
		// history — payloads, search attributes, failures, anything — holds
		// the personal data.
		evs := rawHistory(t, id)
		ps := payloadsOf(t, evs)
		require.NotEmpty(t, ps)
		for _, p := range ps {
			require.Equal(t, codec.EncodingEncrypted, string(p.GetMetadata()[converter.MetadataEncoding]), "a payload in plain text: %v", p)
			require.Equal(t, "e2e-1", string(p.GetMetadata()[codec.MetadataKeyID]))
		}
		for _, ev := range evs {
			b, err := proto.Marshal(ev)
			require.NoError(t, err)
			j, err := protojson.Marshal(ev)
			require.NoError(t, err)
			for _, n := range needles {
				require.NotContains(t, string(b), n, "event %d (%s)", ev.GetEventId(), ev.GetEventType())
				require.NotContains(t, string(j), n, "event %d (%s)", ev.GetEventId(), ev.GetEventType())
			}
		}
		t.Logf("%d events, %d payloads, all encrypted", len(evs), len(ps))

		// A client without the codec cannot read the link's answer...
		_, err := workflows.QueryState(context.Background(), devServer.Client(), "acme-fixit", ref)
		require.Error(t, err)
		// ...one with the keys reads what the webhook server answers over HTTP.
		q, err := workflows.QueryState(context.Background(), codecClient(t, keys), "acme-fixit", ref)
		require.NoError(t, err)
		require.Equal(t, st.SecondaryJobRef, q.SecondaryJobRef)
		require.Equal(t, eventRows(st), eventRows(*q))
		require.Equal(t, lifecycle.StateLinked, q.State)

		// The starter decodes with the same keys (the stack's environment).
		r := s.starter(nil, "state", "acme-fixit", ref)
		require.Zero(t, r.code, "%s", r)
		require.Contains(t, r.stdout, st.SecondaryJobRef)

		// The temporal CLI through the codec server: plain text with the
		// operator token; still ciphertext without the codec.
		cli := os.Getenv("O2O_TEMPORAL_CLI")
		if cli == "" {
			cli = "../bin/temporal"
		}
		show := func(extra ...string) (string, error) {
			args := append([]string{"workflow", "show", "--address", devServer.FrontendHostPort(), "--namespace", "default",
				"--workflow-id", id, "--output", "json"}, extra...)
			out, err := exec.Command(cli, args...).CombinedOutput()
			return string(out), err
		}
		out, err := show("--codec-endpoint", s.webhookURL+"/codec", "--codec-auth", "Bearer "+devEnv["O2O_API_TOKEN"])
		require.NoError(t, err, out)
		require.Contains(t, cliPayloadData(t, out), encPersonal.certName, "decoded by the codec server")
		require.NotContains(t, out, base64.StdEncoding.EncodeToString([]byte(codec.EncodingEncrypted)))
		out, err = show()
		require.NoError(t, err, out)
		require.NotContains(t, cliPayloadData(t, out), encPersonal.certName)
		require.Contains(t, out, base64.StdEncoding.EncodeToString([]byte(codec.EncodingEncrypted)))
		out, err = show("--codec-endpoint", s.webhookURL+"/codec", "--codec-auth", "Bearer wrong-token-000000000")
		require.Error(t, err, "a wrong token is refused: %s", out)
		terminate(t, ref)
	})
	if !t.Failed() && plain.State != "" {
		require.Equal(t, plain, encrypted, "encryption changes nothing a system or the link holds")
		require.Equal(t, []string{"APCAN", "APPT", "APPT", "SACC"}, encrypted.AcmeCodes)
		require.Equal(t, []string{"PHOLD"}, encrypted.FixitCodes)
		require.Equal(t, []string{"PLB001", "PLB002"}, encrypted.FixitLines)
		require.Equal(t, lifecycle.StateLinked, encrypted.State)
		require.Equal(t, 9, encrypted.Applied)
	}
}

// TestEncryptionSwitchedOnAndRotatedWhileALinkRuns: a link started without
// encryption keeps running after its worker and webhook server restart with
// a key, and again after a rotation to a second key; each restart makes the
// new worker replay the whole history, whose payloads are then plain, under
// key 1 and under key 2.
func TestEncryptionSwitchedOnAndRotatedWhileALinkRuns(t *testing.T) {
	s := encStack(t, "EK")
	job := s.createAcmeJob("SITE-001", "CON-001", [2]string{"PLB001", "1"})
	s.assign("acme", job.Activities[0].ID, "7")
	fx := s.settle(job.JobRef, 1).SecondaryJobRef
	t.Cleanup(func() { terminate(t, job.JobRef) })

	k1, k2 := newKey(t, "k1"), newKey(t, "k2")
	restart := func(keys string) {
		t.Helper()
		s.webhook.stop(t)
		s.worker.stop(t)
		s.worker = s.start("worker", "O2O_PAYLOAD_KEYS="+keys)
		s.webhook = s.start("webhook", "O2O_WEBHOOK_ADDR="+strings.TrimPrefix(s.webhookURL, "http://"), "O2O_PAYLOAD_KEYS="+keys)
		require.Eventually(t, func() bool {
			resp, err := http.Get(s.webhookURL + "/readyz")
			if err != nil {
				return false
			}
			resp.Body.Close()
			return resp.StatusCode == http.StatusOK
		}, 30*time.Second, 100*time.Millisecond)
	}

	restart(k1) // switched on
	s.act("fixit", http.MethodPost, "/jobs/"+fx+"/status", map[string]string{"status": "Accepted"})
	s.settle(job.JobRef, 2)

	restart(k2 + " " + k1) // rotated: k2 encrypts, k1 still decrypts
	start := time.Date(2026, 12, 10, 8, 0, 0, 0, time.UTC)
	appt := s.act("fixit", http.MethodPost, "/jobs/"+fx+"/appointments", map[string]string{"start": start.Format(time.RFC3339), "end": start.Add(time.Hour).Format(time.RFC3339)})
	st := s.settle(job.JobRef, 3)
	require.Equal(t, lifecycle.StateLinked, st.State)
	for _, e := range st.Events {
		require.Equal(t, lifecycle.OutcomeApplied, e.Outcome, "%s: %s", e.Type, e.Detail)
	}
	require.Equal(t, []string{"SACC", "APPT"}, historyCodes(s.job("acme", job.JobRef)))

	// The history holds all three kinds of payload.
	kinds := map[string]int{}
	for _, p := range payloadsOf(t, rawHistory(t, workflows.WorkflowID("acme-fixit", job.JobRef))) {
		if string(p.GetMetadata()[converter.MetadataEncoding]) == codec.EncodingEncrypted {
			kinds[string(p.GetMetadata()[codec.MetadataKeyID])]++
		} else {
			kinds["plain"]++
		}
	}
	t.Logf("payloads by key: %v", kinds)
	for _, k := range []string{"plain", "k1", "k2"} {
		require.Positive(t, kinds[k], "no %s payload in the history: %v", k, kinds)
	}

	// Queried with both keys, the link reads as the webhook server says.
	q, err := workflows.QueryState(context.Background(), codecClient(t, k2+" "+k1), "acme-fixit", job.JobRef)
	require.NoError(t, err)
	require.Equal(t, eventRows(st), eventRows(*q))

	// An operator action's refusal is readable without the codec, as the
	// Web UI's update dialog (which cannot decode) shows it.
	h, err := devServer.Client().UpdateWorkflow(context.Background(), clientUpdate(workflows.WorkflowID("acme-fixit", job.JobRef)))
	if err == nil {
		err = h.Get(context.Background(), nil)
	}
	require.ErrorContains(t, err, "link is Linked, not NeedsAttention: nothing to retry")

	// k1 removed too early, while the history still holds payloads under it:
	// the new worker cannot replay the link. The link must wait — its
	// workflow task failing and retried, the key named — not end failed.
	restart(k2)
	s.act("fixit", http.MethodPost, "/appointments/"+fmt.Sprint(appt["appointmentId"])+"/complete", map[string]string{})
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.Contains(c, s.worker.output(), `encrypted with key \"k1\", which is not among this process's keys (k2)`)
	}, 60*time.Second, 200*time.Millisecond)
	d, err := devServer.Client().DescribeWorkflowExecution(context.Background(), workflows.WorkflowID("acme-fixit", job.JobRef), "")
	require.NoError(t, err)
	require.Equal(t, enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING, d.GetWorkflowExecutionInfo().GetStatus(), "a missing key must not end the link")

	// The key back: the link replays and applies what waited.
	restart(k2 + " " + k1)
	st = s.settle(job.JobRef, 4)
	require.Equal(t, lifecycle.StateLinked, st.State)
	require.Equal(t, []string{"SACC", "APPT", "APCOM"}, historyCodes(s.job("acme", job.JobRef)))
}

// cliPayloadData is the payload data in `temporal workflow show --output
// json`, which prints it in base64.
func cliPayloadData(t *testing.T, out string) string {
	t.Helper()
	var b strings.Builder
	for _, m := range regexp.MustCompile(`"data": "([A-Za-z0-9+/=]+)"`).FindAllStringSubmatch(out, -1) {
		d, err := base64.StdEncoding.DecodeString(m[1])
		require.NoError(t, err)
		b.Write(d)
	}
	return b.String()
}

// terminate ends a test's link, so that no later test's worker (without
// this test's keys) is handed its workflow.
func terminate(t *testing.T, ref string) {
	t.Helper()
	_ = devServer.Client().TerminateWorkflow(context.Background(), workflows.WorkflowID("acme-fixit", ref), "", "test over")
}
