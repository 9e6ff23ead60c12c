package simulator_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/o2o-sync/o2o/events"
	"github.com/o2o-sync/o2o/simulator"
)

// decidedDocument is the answer of the approve and reject actions.
type decidedDocument struct {
	simulator.Document
	EventID string `json:"eventId"`
}

// uploadSimDocument uploads content to a job under /sim as a user would and
// returns the document.
func (h *harness) uploadSimDocument(system, jobRef, query string, content []byte) simulator.Document {
	h.t.Helper()
	var doc simulator.Document
	status, _, raw := h.do("POST", "/"+system+"/sim/jobs/"+jobRef+"/documents?"+query,
		http.Header{"Content-Type": {"application/pdf"}}, bytes.NewReader(content))
	require.Equal(h.t, http.StatusCreated, status, string(raw))
	require.NoError(h.t, json.Unmarshal(raw, &doc))
	return doc
}

// listedApproval is the approvalStatus the document list reports for id.
func (h *harness) listedApproval(system, jobRef, id string) string {
	h.t.Helper()
	status, list := h.rest(system, "GET", "/documents/job/"+jobRef, nil)
	require.Equal(h.t, http.StatusOK, status, list)
	requireAllStrings(h.t, list, "documents")
	for _, d := range list["documents"].([]any) {
		if d := d.(map[string]any); d["documentId"] == id {
			return d["approvalStatus"].(string)
		}
	}
	h.t.Fatalf("document %s not listed", id)
	return ""
}

// A document starts Pending; approve and reject set its status, answer with
// the document and the event id, and emit DOCUMENT_APPROVED and
// DOCUMENT_REJECTED in exactly the schema events.Decode accepts. Deciding
// again (approve twice, approve then reject: a withdrawn approval) emits
// again.
func TestSimDocumentApprovalEmitsDecodableEvents(t *testing.T) {
	h := startDev(t)
	h.simOK("POST", "fixit", "/jobs", map[string]any{
		"clientId": "41", "clientRef": "AC000001", "siteRef": "SITE-001", "contactRef": "CON-001",
		"priority": "P1 Emergency", "activities": []map[string]string{{"code": "PLB001"}},
	}, nil)
	content := []byte("%PDF-1.4 gas certificate")
	sum := sha256.Sum256(content)
	doc := h.uploadSimDocument("fixit", "FX000001", "category=Certificates&fileName=gas-cert.pdf&clientRef=ref-1", content)
	require.Equal(t, simulator.DocumentPending, doc.ApprovalStatus, "a new document waits for approval")
	require.Equal(t, simulator.DocumentPending, h.listedApproval("fixit", "FX000001", doc.DocumentID))

	var approved, again, withdrawn decidedDocument
	h.simOK("POST", "fixit", "/documents/"+doc.DocumentID+"/approve", nil, &approved) // no body at all
	require.Equal(t, simulator.DocumentApproved, approved.ApprovalStatus)
	require.Empty(t, approved.ApprovalReason)
	require.Equal(t, doc.DocumentID, approved.DocumentID)
	require.Equal(t, "gas-cert.pdf", approved.FileName)
	require.NotEmpty(t, approved.EventID)
	require.Equal(t, simulator.DocumentApproved, h.listedApproval("fixit", "FX000001", doc.DocumentID))

	h.simOK("POST", "fixit", "/documents/"+doc.DocumentID+"/approve", map[string]string{"reason": "Checked again"}, &again)
	require.Equal(t, simulator.DocumentApproved, again.ApprovalStatus)
	require.Equal(t, "Checked again", again.ApprovalReason)
	require.NotEqual(t, approved.EventID, again.EventID, "approving again emits again")

	h.simOK("POST", "fixit", "/documents/"+doc.DocumentID+"/reject", map[string]string{"reason": "Wrong meter"}, &withdrawn)
	require.Equal(t, simulator.DocumentRejected, withdrawn.ApprovalStatus)
	require.Equal(t, "Wrong meter", withdrawn.ApprovalReason)
	require.Equal(t, simulator.DocumentRejected, h.listedApproval("fixit", "FX000001", doc.DocumentID))

	var rejectedTwice decidedDocument
	h.simOK("POST", "fixit", "/documents/"+doc.DocumentID+"/reject", map[string]string{"reason": "Still wrong"}, &rejectedTwice)
	require.Equal(t, simulator.DocumentRejected, rejectedTwice.ApprovalStatus)

	evs := decodeOutbox(t, h, "fixit")
	require.Len(t, evs, 5)
	require.Equal(t, events.DocumentUploaded, evs[0].Type)
	want := func(reason string) *events.Document {
		return &events.Document{DocumentID: doc.DocumentID, FileName: "gas-cert.pdf", Category: "Certificates",
			Size: int64(len(content)), SHA256: hex.EncodeToString(sum[:]), ClientRef: "ref-1", Reason: reason}
	}
	for i, c := range []struct {
		typ     events.Type
		eventID string
		reason  string
	}{
		{events.DocumentApproved, approved.EventID, ""},
		{events.DocumentApproved, again.EventID, "Checked again"},
		{events.DocumentRejected, withdrawn.EventID, "Wrong meter"},
		{events.DocumentRejected, rejectedTwice.EventID, "Still wrong"},
	} {
		ev := evs[i+1]
		require.Equal(t, c.typ, ev.Type, "event %d", i+1)
		require.Equal(t, c.eventID, ev.ID, "actions answer the id of the event they emitted")
		require.Equal(t, "FX000001", ev.JobRef)
		require.Equal(t, "AC000001", ev.JobClientRef)
		require.Equal(t, simulator.SimActor, ev.Actor)
		require.WithinDuration(t, time.Now(), ev.OccurredAt, time.Minute)
		require.Equal(t, want(c.reason), ev.Document)
		require.Nil(t, ev.Appointment)
	}

	// The body on the wire: the DOCUMENT_UPLOADED fields plus the reason,
	// nothing else.
	outbox := h.app.Outbox("fixit")
	var body struct {
		Type string         `json:"type"`
		Data map[string]any `json:"data"`
	}
	require.NoError(t, json.Unmarshal(outbox[3].Body, &body))
	require.Equal(t, "DOCUMENT_REJECTED", body.Type)
	require.Equal(t, map[string]any{
		"jobRef": "FX000001", "jobClientRef": "AC000001", "actor": simulator.SimActor,
		"documentId": doc.DocumentID, "fileName": "gas-cert.pdf", "category": "Certificates",
		"size": doc.Size, "sha256": hex.EncodeToString(sum[:]), "clientRef": "ref-1", "reason": "Wrong meter",
	}, body.Data)
	var first struct {
		Data map[string]any `json:"data"`
	}
	require.NoError(t, json.Unmarshal(outbox[1].Body, &first))
	require.NotContains(t, first.Data, "reason", "no reason, no field")

	// The job shows the document's state.
	job, ok := h.app.Job("fixit", "FX000001")
	require.True(t, ok)
	require.Equal(t, simulator.DocumentRejected, job.Documents[0].ApprovalStatus)
	require.Equal(t, "Still wrong", job.Documents[0].ApprovalReason)
}

func TestSimDocumentApprovalErrors(t *testing.T) {
	h := startDev(t)
	jobRef, _ := h.newAcmeJob()
	doc := h.uploadSimDocument("acme", jobRef, "category=Photos&fileName=a.jpg", []byte("jpeg"))
	gone, _ := h.newAcmeJob()
	orphan := h.uploadSimDocument("acme", gone, "category=Photos&fileName=b.jpg", []byte("jpeg"))
	require.Equal(t, http.StatusNoContent, h.sim(http.MethodDelete, "acme", "/jobs/"+gone, nil, nil))
	before := len(h.app.Outbox("acme"))

	for _, c := range []struct {
		system, path string
		body         any
		status       int
		want         string
	}{
		{"acme", "/documents/D999/approve", nil, 404, `document "D999" not found`},
		{"acme", "/documents/D999/reject", map[string]string{"reason": "x"}, 404, `document "D999" not found`},
		{"fixit", "/documents/" + doc.DocumentID + "/approve", nil, 404, "not found"}, // documents belong to their system
		{"nosuch", "/documents/" + doc.DocumentID + "/approve", nil, 404, `unknown system "nosuch"`},
		{"acme", "/documents/" + doc.DocumentID + "/reject", nil, 400, "reason is required"},
		{"acme", "/documents/" + doc.DocumentID + "/reject", map[string]string{}, 400, "reason is required"},
		{"acme", "/documents/" + doc.DocumentID + "/reject", map[string]string{"reason": "  "}, 400, "reason is required"},
		{"acme", "/documents/" + doc.DocumentID + "/reject", map[string]string{"reason": strings.Repeat("x", 1001)}, 400, "reason must be at most 1000 characters"},
		{"acme", "/documents/" + doc.DocumentID + "/approve", map[string]string{"reason": strings.Repeat("ü", 1001)}, 400, "reason must be at most 1000 characters"},
		{"acme", "/documents/" + doc.DocumentID + "/approve", map[string]any{"reason": []string{"x"}}, 400, "reason has the wrong type"},
		{"acme", "/documents/" + doc.DocumentID + "/approve", "{", 400, "not valid JSON"},
		{"acme", "/documents/" + orphan.DocumentID + "/approve", nil, 404, `job "` + gone + `" not found`},
	} {
		var resp map[string]string
		status := h.sim("POST", c.system, c.path, c.body, &resp)
		require.Equal(t, c.status, status, "%s %s: %v", c.system, c.path, resp)
		require.Contains(t, resp["error"], c.want, "%s %s", c.system, c.path)
	}
	require.Len(t, h.app.Outbox("acme"), before, "refused decisions emit nothing")
	require.Equal(t, simulator.DocumentPending, h.listedApproval("acme", jobRef, doc.DocumentID), "and change nothing")

	// At the limit is fine.
	h.simOK("POST", "acme", "/documents/"+doc.DocumentID+"/reject", map[string]string{"reason": strings.Repeat("ü", 1000)}, nil)
}

// The approval events are signed and delivered like every other event.
func TestSimDocumentApprovalDelivered(t *testing.T) {
	rc := newReceiver(t, acmeSecret, func(_ int, _ []byte, w http.ResponseWriter) { w.WriteHeader(http.StatusNoContent) })
	h := newHarness(t, withWebhook(devSeed(t), "acme", rc.srv.URL), simulator.Options{})
	jobRef, _ := h.newAcmeJob()
	doc := h.uploadSimDocument("acme", jobRef, "category=Gas%20Certificate&fileName=cert.pdf", []byte("%PDF"))
	var approved, rejected decidedDocument
	h.simOK("POST", "acme", "/documents/"+doc.DocumentID+"/approve", map[string]string{"reason": "ok"}, &approved)
	h.simOK("POST", "acme", "/documents/"+doc.DocumentID+"/reject", map[string]string{"reason": "withdrawn"}, &rejected)
	waitDelivered(t, h)

	require.Zero(t, rc.rejected.Load(), "every request is signed and verifiable")
	got := rc.requests()
	require.Len(t, got, 3)
	for i, c := range []struct {
		id     string
		typ    events.Type
		reason string
	}{{approved.EventID, events.DocumentApproved, "ok"}, {rejected.EventID, events.DocumentRejected, "withdrawn"}} {
		r := got[i+1]
		require.Equal(t, c.id, r.id)
		ev, err := events.Decode(r.body, r.id, "acme")
		require.NoError(t, err)
		require.Equal(t, c.typ, ev.Type)
		require.Equal(t, jobRef, ev.JobRef)
		require.Equal(t, doc.DocumentID, ev.Document.DocumentID)
		require.Equal(t, "Gas Certificate", ev.Document.Category)
		require.Equal(t, c.reason, ev.Document.Reason)
	}
}

// A tenant's workflow that records a job event on approval decisions (seed
// workflowEvents.documentApproval) records one for each, so polling finds it.
func TestSimDocumentApprovalWorkflowEvent(t *testing.T) {
	seed := devSeed(t)
	require.Equal(t, "acme", seed.Systems[0].Name)
	seed.Systems[0].WorkflowEvents = simulator.WorkflowEvents{DocumentApproval: "DOCUP"}
	h := newHarness(t, seed, simulator.Options{})
	jobRef, _ := h.newAcmeJob()
	doc := h.uploadSimDocument("acme", jobRef, "category=Photos&fileName=a.jpg", []byte("jpeg"))
	h.simOK("POST", "acme", "/documents/"+doc.DocumentID+"/approve", nil, nil)
	h.simOK("POST", "acme", "/documents/"+doc.DocumentID+"/reject", map[string]string{"reason": "Blurred"}, nil)

	job, _ := h.app.Job("acme", jobRef)
	var notes []string
	for _, e := range job.History {
		require.Equal(t, "DOCUP", e.Code)
		require.Equal(t, simulator.SimActor, e.AddedBy)
		notes = append(notes, e.Note)
	}
	require.Equal(t, []string{
		"Document " + doc.DocumentID + " (a.jpg) approved (was Pending)",
		"Document " + doc.DocumentID + " (a.jpg) rejected (was Approved): Blurred",
	}, notes)

	seed = devSeed(t)
	seed.Systems[1].WorkflowEvents = simulator.WorkflowEvents{DocumentApproval: "NOPE"}
	_, err := simulator.New(seed, simulator.Options{})
	require.ErrorContains(t, err, `system "fixit": workflowEvents.documentApproval: "NOPE" is not one of the eventCodes`)
}

func TestOverviewPageShowsApproval(t *testing.T) {
	h := startDev(t)
	jobRef, _ := h.newAcmeJob()
	pending := h.uploadSimDocument("acme", jobRef, "category=Photos&fileName=pending.jpg", []byte("a"))
	rejected := h.uploadSimDocument("acme", jobRef, "category=Photos&fileName=rejected.jpg", []byte("b"))
	h.simOK("POST", "acme", "/documents/"+rejected.DocumentID+"/reject", map[string]string{"reason": "Too <dark>"}, nil)

	status, _, body := h.do("GET", "/", nil, nil)
	require.Equal(t, http.StatusOK, status)
	page := string(body)
	require.Contains(t, page, "document "+pending.DocumentID+": pending.jpg")
	require.Regexp(t, `document `+pending.DocumentID+`: [^\n]*<span class="approval">Pending</span>`, page)
	require.Regexp(t, `document `+rejected.DocumentID+`: [^\n]*<span class="approval">Rejected</span> \(Too &lt;dark&gt;\)`, page)
	require.Contains(t, page, "DOCUMENT_REJECTED")
}
