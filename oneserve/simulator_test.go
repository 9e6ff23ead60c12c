package oneserve_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/o2o-sync/o2o/oneserve"
	"github.com/o2o-sync/o2o/simulator"
)

// TestAgainstSimulator is a contract test: the client and the simulator,
// written from the same page of docs/oneserve-api.md, must understand each
// other on the wire for addActivityByClientRef and the job read.
func TestAgainstSimulator(t *testing.T) {
	c := fixitAgainstSimulator(t)
	ctx := context.Background()
	loc := london(t)

	jobRef, err := c.CreateJob(ctx, oneserve.CreateJobRequest{
		ClientRef: "AC/000001", SiteRef: "SITE-001", ReportedDate: time.Date(2026, 7, 1, 9, 30, 0, 0, loc),
		ClientID: "41", WorkLogTypeID: "3", WorkTypeID: "12", WorkflowID: "4", ServiceID: "9", PriorityID: "11",
		Activities: []oneserve.JobActivity{{Code: "PLB001", Quantity: "2"}},
	})
	require.NoError(t, err)
	for _, e := range []oneserve.JobEvent{
		{JobClientRef: "AC/000001", ClientID: "41", EventCode: "PNOTE", Note: "recorded first", Date: time.Date(2026, 7, 1, 11, 0, 0, 0, loc), AppointmentID: "42901"},
		{JobRef: jobRef, ClientID: "41", EventCode: "PNOTE", Note: "recorded second", Date: time.Date(2026, 7, 1, 10, 0, 0, 0, time.UTC)}, // 11:00 BST
	} {
		require.NoError(t, c.AddEventByClientRef(ctx, e))
	}
	require.NoError(t, c.AddActivitiesByClientRef(ctx, true, []oneserve.ActivityByClientRef{
		{JobClientRef: "AC/000001", ClientID: "41", Code: "PLB002", ClientRef: "o2o:l1:137128", TotalQuantity: "1.5"},
	}))

	j, err := c.Job(ctx, jobRef)
	require.NoError(t, err)

	require.Equal(t, "AC/000001", j.ClientRef)
	require.True(t, j.ReportedDate.Equal(time.Date(2026, 7, 1, 8, 30, 0, 0, time.UTC)))
	require.Equal(t, []oneserve.JobLine{
		{ID: "245000", Code: "PLB001", Description: "Replace tap washer", Quantity: "2", Status: "1"},
		{ID: "245001", Code: "PLB002", Description: "Clear blocked drain", Quantity: "1.5", Status: "1", ClientRef: "o2o:l1:137128"},
	}, j.Activities)
	require.Len(t, j.Events, 2)
	for _, e := range j.Events {
		require.True(t, e.Date.Equal(time.Date(2026, 7, 1, 10, 0, 0, 0, time.UTC)), "11:00 BST both, got %v", e.Date)
	}
	require.Equal(t, "recorded first", j.Events[0].Note, "same date: the order recorded")
	require.Equal(t, "42901", j.Events[0].AppointmentID)
	require.Equal(t, "recorded second", j.Events[1].Note)
	require.Equal(t, "PNOTE", j.Events[1].Code)
	require.Empty(t, j.Events[1].AppointmentID)

	acts, err := c.Activities(ctx, []string{"245001"})
	require.NoError(t, err)
	require.Equal(t, "0", acts[0].CompletedQuantity, "an empty CompletedQuantity was sent as 0")

	// The simulator's refusals reach the caller as typed errors.
	err = c.AddActivitiesByClientRef(ctx, false, []oneserve.ActivityByClientRef{
		{JobClientRef: "NOPE", ClientID: "41", Code: "PLB001", ClientRef: "A1", TotalQuantity: "1"},
	})
	require.Equal(t, "oneserve addActivityByClientRef: HTTP 200: REST0004 Job not found", err.Error())
	err = c.AddActivitiesByClientRef(ctx, false, []oneserve.ActivityByClientRef{
		{JobClientRef: "AC/000001", ClientID: "41", Code: "ELE001", ClientRef: "A1", TotalQuantity: "1"},
	})
	oe := oneserveError(t, err)
	require.Equal(t, oneserve.KindPermanent, oe.Kind)
	require.Contains(t, oe.Message, `"ELE001"`)
	_, err = c.Job(ctx, "FX999999")
	require.True(t, oneserve.IsNotFound(err))
}

// TestDocumentApprovalAgainstSimulator: the document list's approvalStatus
// (an ASSUMPTION of docs/oneserve-api.md) as the simulator writes it is
// what the client reads into Document.Approval.
func TestDocumentApprovalAgainstSimulator(t *testing.T) {
	c, simURL := fixitSimulator(t)
	ctx := context.Background()
	jobRef, err := c.CreateJob(ctx, oneserve.CreateJobRequest{
		ClientRef: "AC000009", SiteRef: "SITE-001", ReportedDate: time.Date(2026, 7, 1, 9, 30, 0, 0, london(t)),
		ClientID: "41", WorkLogTypeID: "3", WorkTypeID: "12", WorkflowID: "4", ServiceID: "9", PriorityID: "11",
		Activities: []oneserve.JobActivity{{Code: "PLB001", Quantity: "1"}},
	})
	require.NoError(t, err)
	content := "%PDF-1.4 cert"
	doc, err := c.UploadDocument(ctx, jobRef, oneserve.Upload{FileName: "cert.pdf", Category: "Certificates",
		ContentType: "application/pdf", Size: int64(len(content)), Body: strings.NewReader(content)})
	require.NoError(t, err)
	require.Empty(t, doc.Approval, "the upload answer carries no approval state")

	approval := func() string {
		t.Helper()
		docs, err := c.Documents(ctx, jobRef)
		require.NoError(t, err)
		require.Len(t, docs, 1)
		return docs[0].Approval
	}
	require.Equal(t, oneserve.ApprovalPending, approval())
	for _, step := range []struct{ action, want string }{
		{"approve", oneserve.ApprovalApproved}, {"reject", oneserve.ApprovalRejected}, {"approve", oneserve.ApprovalApproved},
	} {
		resp, err := http.Post(simURL+"/fixit/sim/documents/"+doc.DocumentID+"/"+step.action, "application/json",
			strings.NewReader(`{"reason":"contract test"}`))
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode, step.action)
		require.Equal(t, step.want, approval(), "after %s", step.action)
	}
}

// fixitAgainstSimulator starts the simulator with the dev seed (no
// webhooks) and returns a client of its fixit system.
func fixitAgainstSimulator(t *testing.T) *oneserve.Client {
	t.Helper()
	c, _ := fixitSimulator(t)
	return c
}

// fixitSimulator is fixitAgainstSimulator that also returns the
// simulator's base URL, for its /{system}/sim user actions.
func fixitSimulator(t *testing.T) (*oneserve.Client, string) {
	t.Helper()
	const fixitToken = "fixit-contract-token"
	t.Setenv("O2O_ACME_TOKEN", "acme-contract-token")
	t.Setenv("O2O_FIXIT_TOKEN", fixitToken)
	t.Setenv("SIM_ACME_WEBHOOK_SECRET", "whsec_"+strings.Repeat("A", 43)+"=")
	t.Setenv("SIM_FIXIT_WEBHOOK_SECRET", "whsec_"+strings.Repeat("F", 43)+"=")
	seed, err := simulator.LoadSeed("../dev/simulator.yaml")
	require.NoError(t, err)
	for i := range seed.Systems {
		seed.Systems[i].WebhookURL = ""
	}
	sim, err := simulator.New(seed, simulator.Options{})
	require.NoError(t, err)
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(func() { srv.Close(); sim.Close() })
	c, err := oneserve.New(oneserve.Options{BaseURL: srv.URL + "/fixit", Token: fixitToken, Timeout: 5 * time.Second})
	require.NoError(t, err)
	return c, srv.URL
}
