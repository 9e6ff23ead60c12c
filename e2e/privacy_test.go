//go:build integration

package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	sdkpb "go.temporal.io/api/sdk/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/converter"

	"github.com/o2o-sync/o2o/lifecycle"
	"github.com/o2o-sync/o2o/workflows"
)

// Personal data planted in every free-text field of a job's life. Each is
// distinctive enough that finding it anywhere is a leak, not a coincidence.
var personal = struct {
	contactName, siteName, address, postcode       string
	description, lineDescription                   string
	rescheduleReason, cancelReason, operatorReason string
	certificateName, photoName                     string
	needles                                        []string
}{
	contactName:      "Quilla Marrowfield-Pask",
	siteName:         "Marrowfield Cottage",
	address:          "17 Quenby Orchard Lane",
	postcode:         "QX9 4PZ",
	description:      "Boiler leaking onto Quilla's cot, knock loudly, side gate code 4471",
	lineDescription:  "Zephyrine boiler seal",
	rescheduleReason: "Tenant Quilla Marrowfield-Pask in hospital, call her on 07700 900417",
	cancelReason:     "Dog at 17 Quenby Orchard Lane, call 07700 900418 first",
	operatorReason:   "spoke to Quilla Marrowfield-Pask on 07700 900419",
	certificateName:  "Marrowfield-Pask-tenancy-agreement.pdf",
	photoName:        "Quilla-bathroom-damp.jpg",
	needles: []string{"Marrowfield", "Quilla", "Quenby", "QX9 4PZ", "Zephyrine", "knock loudly", "gate code",
		"07700", "900417", "900418", "900419", "hospital", "tenancy-agreement", "bathroom-damp"},
}

// leaks returns the planted strings found in text.
func leaks(text string) []string {
	var found []string
	for _, n := range personal.needles {
		if strings.Contains(strings.ToLower(text), strings.ToLower(n)) {
			found = append(found, n)
		}
	}
	return found
}

// TestNothingPersonalOutsidePayloads drives a full job life with personal
// data in every free-text field (contact name, site name and address, job
// and line descriptions, appointment reasons with phone numbers, document
// names, an operator's reasons) and checks that none of it appears where a
// payload codec cannot reach: workflow ids, search attributes, the static
// and current summaries and details, activity, local activity and timer
// summaries (user metadata of every history event, read through the
// Temporal API), activity and timer ids, and every log line of the worker,
// the webhook server and the starter (at debug level). It also checks that
// the data did travel, so that the test is not vacuous.
func TestNothingPersonalOutsidePayloads(t *testing.T) {
	seed, cfg := devSetup(t)
	cfg = bytes.Replace(cfg, []byte("closeAfter: 72h"), []byte("closeAfter: 4s"), 1)
	for i := range seed.Systems {
		sys := &seed.Systems[i]
		for j := range sys.Contacts {
			if sys.Contacts[j].ContactRef == "CON-001" {
				sys.Contacts[j].Name = personal.contactName
			}
		}
		for j := range sys.Sites {
			if sys.Sites[j].SiteRef == "SITE-001" {
				sys.Sites[j].Name, sys.Sites[j].Address1, sys.Sites[j].Postcode = personal.siteName, personal.address, personal.postcode
			}
		}
	}
	// Payload encryption off: user metadata (summaries, details) is encoded
	// like any payload, so with a codec they are ciphertext; without one,
	// this test reads what an operator without the codec would read.
	s := newStackFrom(t, "PV", seed, cfg, "O2O_LOG_LEVEL=debug", "O2O_PAYLOAD_KEYS=")
	var details []string // current details seen along the way

	var job simJob
	require.Equal(t, http.StatusCreated, do(t, http.MethodPost, s.simURL+"/acme/sim/jobs", nil, map[string]any{
		"clientId": "28", "siteRef": "SITE-001", "contactRef": "CON-001", "priority": "Emergency",
		"description": personal.description,
		"activities":  []map[string]string{{"code": "PLB001", "quantity": "1", "description": personal.lineDescription}},
	}, &job))
	ref := job.JobRef
	wid := workflows.WorkflowID("acme-fixit", ref)

	// Assigned: the linked job is created with the description.
	s.assign("acme", job.Activities[0].ID, "7")
	fx := s.settle(ref, 1).SecondaryJobRef
	require.Equal(t, personal.description, s.job("fixit", fx).Description, "the description travelled")
	s.act("fixit", http.MethodPost, "/jobs/"+fx+"/status", map[string]string{"status": "Accepted"})
	s.settle(ref, 2)

	// Appointments: booked, moved with a reason (acme fails once first, so
	// the failure is logged), cancelled with a reason.
	start := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	apptID := s.book(fx, start)
	s.settle(ref, 3)
	s.act("acme", http.MethodPost, "/faults", map[string]any{"op": "addEventByClientRef", "status": 503, "count": 1})
	s.reschedule(apptID, start.Add(48*time.Hour), personal.rescheduleReason)
	s.settle(ref, 4)
	s.act("fixit", http.MethodPost, "/appointments/"+apptID+"/cancel", map[string]string{"reason": personal.cancelReason})
	s.settle(ref, 5)
	notes := ""
	for _, h := range s.job("acme", ref).History {
		notes += h.Note + "\n"
	}
	require.Contains(t, notes, personal.rescheduleReason, "the reasons travelled")
	require.Contains(t, notes, personal.cancelReason)

	// An operator pauses and resumes, with reasons that name the tenant.
	code, out := s.operate(ref, "pause", map[string]string{"by": "ops@example", "reason": personal.operatorReason}, true)
	require.Equal(t, http.StatusOK, code, out)
	details = append(details, s.currentDetails(wid))
	code, out = s.operate(ref, "resume", map[string]string{"by": "ops@example", "reason": personal.operatorReason}, true)
	require.Equal(t, http.StatusOK, code, out)

	// A document copy refused by fixit: the link needs attention, and an
	// operator retries it.
	s.act("fixit", http.MethodPost, "/faults", map[string]any{"op": "uploadDocument", "status": 400, "count": 1})
	s.upload("acme", ref, "Gas Certificate", personal.certificateName, []byte("tenancy agreement"))
	st := s.waitStateAttention(ref)
	require.NotEmpty(t, st.LastError)
	require.Empty(t, leaks(st.LastError), "lastError is shown in the Web UI's details: %q", st.LastError)
	details = append(details, s.currentDetails(wid))
	code, out = s.operate(ref, "retry", map[string]string{"by": "ops@example", "reason": personal.operatorReason}, true)
	require.Equal(t, http.StatusOK, code, out)
	s.settle(ref, 7) // the copy and the echo of it

	// The subcontractor's photo comes back.
	s.upload("fixit", fx, "Site Photos", personal.photoName, bytes.Repeat([]byte{0xFF, 0xD8}, 1000))
	s.settle(ref, 9)
	var names []string
	for _, d := range s.job("fixit", fx).Documents {
		names = append(names, d.FileName)
	}
	require.Contains(t, names, personal.certificateName, "the document names travelled")
	details = append(details, s.currentDetails(wid))

	// Both sides complete; the link closes after its grace period.
	s.act("fixit", http.MethodPost, "/jobs/"+fx+"/status", map[string]string{"status": "Completed"})
	s.settle(ref, 10)
	s.act("acme", http.MethodPost, "/jobs/"+ref+"/status", map[string]string{"status": "Completed"})
	s.settle(ref, 11)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		st, _ := s.linkState("acme-fixit", ref)
		assert.Equal(c, lifecycle.StateClosed, st.State)
	}, 60*time.Second, 250*time.Millisecond)
	details = append(details, s.currentDetails(wid))

	// The starter's log lines (it prints its answers on stdout, for an
	// authorised operator; its logs go to stderr).
	starterLogs := ""
	for _, args := range [][]string{{"state", "acme-fixit", ref}, {"list", "--job", ref}} {
		r := s.starter([]string{"O2O_LOG_LEVEL=debug"}, args...)
		require.Equal(t, 0, r.code, r.String())
		starterLogs += r.stderr
	}

	// What a codec cannot reach.
	seen := s.unencryptedText(t, wid)
	for i, d := range details {
		seen = append(seen, place{fmt.Sprintf("current details #%d", i+1), d})
	}
	require.Greater(t, len(seen), 20, "the check read what it meant to")
	for _, p := range seen {
		assert.Empty(t, leaks(p.text), "%s: %q", p.where, p.text)
	}
	var summaries []string
	for _, p := range seen {
		if strings.Contains(p.where, "summary") {
			summaries = append(summaries, p.text)
		}
	}
	all := strings.Join(summaries, "\n")
	require.Contains(t, all, "Copy document", "the copy's activity summary was read")
	require.Contains(t, all, "Grace period", "the timer summary was read")
	require.Contains(t, all, "Load configuration", "the local activity summary was read")

	for name, logs := range map[string]string{"worker": s.worker.output(), "webhook": s.webhook.output(), "starter": starterLogs} {
		for _, line := range strings.Split(logs, "\n") {
			assert.Empty(t, leaks(line), "%s log line: %s", name, line)
		}
		// The worker and the webhook server do log the job's life, by
		// reference (the starter logs only warnings and errors).
		if name != "starter" {
			require.Contains(t, logs, ref, "%s logs name the job", name)
		}
	}
	t.Logf("checked %d workflow ids, search attributes, summaries and details, and %d/%d/%d worker/webhook/starter log lines",
		len(seen), strings.Count(s.worker.output(), "\n"), strings.Count(s.webhook.output(), "\n"), strings.Count(starterLogs, "\n"))
}

// place is a piece of text Temporal stores outside any payload codec's
// reach, and where it was found.
type place struct{ where, text string }

// currentDetails is the workflow's current details, as the Web UI shows them.
func (s *stack) currentDetails(wid string) string {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	v, err := devServer.Client().QueryWorkflow(ctx, wid, "", "__temporal_workflow_metadata")
	require.NoError(s.t, err)
	var md sdkpb.WorkflowMetadata
	require.NoError(s.t, v.Get(&md))
	return md.GetCurrentDetails()
}

// unencryptedText reads, through the Temporal API, every workflow id and
// search attribute of the namespace and, for the workflow wid, every
// history event's user metadata (summaries and details of the workflow,
// activities, local activities and timers), activity and timer ids and
// search attributes, and the execution's static summary and details.
func (s *stack) unencryptedText(t *testing.T, wid string) []place {
	t.Helper()
	ctx := context.Background()
	svc := devServer.Client().WorkflowService()
	var out []place
	addSA := func(where string, sa *commonpb.SearchAttributes) {
		for k, p := range sa.GetIndexedFields() {
			out = append(out, place{where + " search attribute " + k, string(p.GetData())})
		}
	}
	// User metadata payloads are JSON strings (encryption is off here).
	text := func(where string, p *commonpb.Payload) {
		if p == nil {
			return
		}
		var v string
		require.NoError(t, converter.GetDefaultDataConverter().FromPayload(p, &v), "%s: encoded as %s", where, p.GetMetadata()["encoding"])
		out = append(out, place{where, v})
	}

	var token []byte
	for {
		resp, err := svc.ListWorkflowExecutions(ctx, &workflowservice.ListWorkflowExecutionsRequest{Namespace: "default", NextPageToken: token})
		require.NoError(t, err)
		for _, e := range resp.GetExecutions() {
			out = append(out, place{"workflow id", e.GetExecution().GetWorkflowId()})
			addSA(e.GetExecution().GetWorkflowId(), e.GetSearchAttributes())
		}
		if token = resp.GetNextPageToken(); len(token) == 0 {
			break
		}
	}

	desc, err := devServer.Client().DescribeWorkflowExecution(ctx, wid, "")
	require.NoError(t, err)
	text("static summary", desc.GetExecutionConfig().GetUserMetadata().GetSummary())
	text("static details", desc.GetExecutionConfig().GetUserMetadata().GetDetails())
	addSA("described", desc.GetWorkflowExecutionInfo().GetSearchAttributes())

	it := devServer.Client().GetWorkflowHistory(ctx, wid, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		require.NoError(t, err)
		where := fmt.Sprintf("event %d %s", ev.GetEventId(), ev.GetEventType())
		text(where+" summary", ev.GetUserMetadata().GetSummary())
		text(where+" details", ev.GetUserMetadata().GetDetails())
		if a := ev.GetActivityTaskScheduledEventAttributes(); a != nil {
			out = append(out, place{where + " activity id", a.GetActivityId()})
		}
		if a := ev.GetTimerStartedEventAttributes(); a != nil {
			out = append(out, place{where + " timer id", a.GetTimerId()})
		}
		addSA(where, ev.GetWorkflowExecutionStartedEventAttributes().GetSearchAttributes())
		addSA(where, ev.GetUpsertWorkflowSearchAttributesEventAttributes().GetSearchAttributes())
	}
	return out
}
