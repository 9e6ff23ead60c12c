//go:build integration

package e2e

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/o2o-sync/o2o/events"
	"github.com/o2o-sync/o2o/lifecycle"
	"github.com/o2o-sync/o2o/simulator"
	"github.com/o2o-sync/o2o/workflows"
)

// act performs a user action in a simulated system and returns the answer.
func (s *stack) act(system, method, path string, body any) map[string]any {
	s.t.Helper()
	var out map[string]any
	code := do(s.t, method, s.simURL+"/"+system+"/sim"+path, nil, body, &out)
	require.Less(s.t, code, 300, "%s %s: %v", method, path, out)
	return out
}

// upload uploads a document as a user of system would.
func (s *stack) upload(system, jobRef, category, fileName string, content []byte) string {
	s.t.Helper()
	u := fmt.Sprintf("%s/%s/sim/jobs/%s/documents?category=%s&fileName=%s", s.simURL, system, jobRef, url.QueryEscape(category), url.QueryEscape(fileName))
	resp, err := http.Post(u, "application/octet-stream", bytes.NewReader(content))
	require.NoError(s.t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	require.Equal(s.t, http.StatusCreated, resp.StatusCode, string(b))
	return string(b)
}

func (s *stack) job(system, ref string) simulator.Job {
	s.t.Helper()
	var j simulator.Job
	require.Equal(s.t, http.StatusOK, do(s.t, http.MethodGet, s.simURL+"/"+system+"/sim/jobs/"+ref, nil, nil, &j))
	return j
}

// book books a two-hour appointment from start on fixit's job fx, as the
// subcontractor would, and returns its id.
func (s *stack) book(fx string, start time.Time) string {
	s.t.Helper()
	appt := s.act("fixit", http.MethodPost, "/jobs/"+fx+"/appointments", map[string]string{
		"start": start.Format(time.RFC3339), "end": start.Add(2 * time.Hour).Format(time.RFC3339)})
	return fmt.Sprint(appt["appointmentId"])
}

// reschedule moves fixit's appointment apptID to two hours from start,
// giving reason.
func (s *stack) reschedule(apptID string, start time.Time, reason string) {
	s.t.Helper()
	s.act("fixit", http.MethodPost, "/appointments/"+apptID+"/reschedule", map[string]string{
		"start": start.Format(time.RFC3339), "end": start.Add(2 * time.Hour).Format(time.RFC3339), "reason": reason})
}

// waitAnswered waits until the latest webhook of system's outbox has been
// delivered and answered 200: an event the link no longer acts on is still
// answered.
func (s *stack) waitAnswered(system string) {
	s.t.Helper()
	require.EventuallyWithT(s.t, func(c *assert.CollectT) {
		ob := s.sim.Outbox(system)
		last := ob[len(ob)-1]
		assert.True(c, last.Delivered)
		assert.Equal(c, http.StatusOK, last.LastStatus)
	}, 20*time.Second, 100*time.Millisecond)
}

// documentNamed returns the document of docs named fileName (the last, if
// several are), or nil.
func documentNamed(docs []*simulator.Document, fileName string) *simulator.Document {
	var found *simulator.Document
	for _, d := range docs {
		if d.FileName == fileName {
			found = d
		}
	}
	return found
}

// settle waits until the link has processed n events and has nothing pending.
func (s *stack) settle(ref string, n int) lifecycle.LinkState {
	s.t.Helper()
	var st lifecycle.LinkState
	require.EventuallyWithT(s.t, func(c *assert.CollectT) {
		var code int
		st, code = s.linkState("acme-fixit", ref)
		if code != http.StatusOK || len(st.Events) < n || st.Pending != 0 {
			c.Errorf("HTTP %d, %d/%d events, %d pending, state %s %q", code, len(st.Events), n, st.Pending, st.State, st.LastError)
		}
	}, 60*time.Second, 150*time.Millisecond)
	require.Len(s.t, st.Events, n, "exactly %d events: %+v", n, st.Events)
	return st
}

func historyCodes(j simulator.Job) []string {
	var out []string
	for _, h := range j.History {
		out = append(out, h.Code)
	}
	return out
}

func sum(b []byte) string { h := sha256.Sum256(b); return hex.EncodeToString(h[:]) }

// TestFullJobLife drives one job through its whole life across both
// systems and checks, at each step, exactly what each system holds and what
// the link recorded.
func TestFullJobLife(t *testing.T) {
	s := newStackWith(t, "LA", func(cfg []byte) []byte {
		return bytes.Replace(cfg, []byte("closeAfter: 72h"), []byte("closeAfter: 4s"), 1)
	})
	job := s.createAcmeJob("SITE-001", "CON-001", [2]string{"PLB001", "2"}, [2]string{"PLB002", "1"})
	ref := job.JobRef

	// 1. Assignment creates the linked job.
	s.assign("acme", job.Activities[0].ID, "7")
	st := s.settle(ref, 1)
	require.Equal(t, lifecycle.StateLinked, st.State)
	fx := st.SecondaryJobRef

	// 2. A second activity assigned later joins the same linked job.
	s.assign("acme", job.Activities[1].ID, "7")
	st = s.settle(ref, 2)
	require.Equal(t, lifecycle.OutcomeApplied, st.Events[1].Outcome, st.Events[1].Detail)
	fxJob := s.job("fixit", fx)
	require.Len(t, fxJob.Activities, 2)
	require.Equal(t, []string{"PLB001", "PLB002"}, []string{fxJob.Activities[0].Code, fxJob.Activities[1].Code})
	require.Equal(t, job.Activities[1].ID, fxJob.Activities[1].ClientRef)
	require.Len(t, s.secondaryJobs(ref), 1, "never a second job")

	// 3. The subcontractor accepts: the Accepted notification reaches acme.
	s.act("fixit", http.MethodPost, "/jobs/"+fx+"/status", map[string]string{"status": "Accepted"})
	s.settle(ref, 3)

	// 4. Appointment booked, rescheduled with a reason, completed.
	start := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	apptID := s.book(fx, start)
	s.settle(ref, 4)
	s.reschedule(apptID, start.Add(48*time.Hour), "Tenant on holiday")
	s.settle(ref, 5)
	s.act("fixit", http.MethodPost, "/appointments/"+apptID+"/complete", map[string]string{})
	s.settle(ref, 6)

	// 5. Primary puts the job on hold: a mapped status, so fixit hears of it.
	s.act("acme", http.MethodPost, "/jobs/"+ref+"/status", map[string]string{"status": "On Hold"})
	s.settle(ref, 7)

	// 6. Documents both ways. Each copy makes the target system report a
	// DOCUMENT_UPLOADED of its own (O2O's upload): an echo, recorded as
	// skipped, never copied back.
	cert := bytes.Repeat([]byte("gas safety certificate\n"), 4000)
	s.upload("acme", ref, "Gas Certificate", "gas-cert.pdf", cert)
	s.settle(ref, 9) // the upload and the echo of its copy
	photo := bytes.Repeat([]byte{0xFF, 0xD8, 0x42}, 50000)
	s.upload("fixit", fx, "Site Photos", "after.jpg", photo)
	s.settle(ref, 11)
	s.upload("acme", ref, "Internal", "notes.txt", []byte("internal only"))
	s.settle(ref, 12)

	// 7. The subcontractor completes; then the primary: both ended.
	s.act("fixit", http.MethodPost, "/jobs/"+fx+"/status", map[string]string{"status": "Completed"})
	s.settle(ref, 13)
	s.act("acme", http.MethodPost, "/jobs/"+ref+"/status", map[string]string{"status": "Completed"})
	st = s.settle(ref, 14)
	require.NotNil(t, st.ClosesAt, "the grace period has started")

	// The link closes after the grace period, on its own.
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		st, _ = s.linkState("acme-fixit", ref)
		assert.Equal(c, lifecycle.StateClosed, st.State)
	}, 60*time.Second, 250*time.Millisecond)

	// What acme holds: exactly these job events, in this order, once each.
	acme := s.job("acme", ref)
	require.Equal(t, []string{"SACC", "APPT", "RESCH", "APCOM", "SCOMP"}, historyCodes(acme))
	require.Contains(t, acme.History[0].Note, "Accepted")
	require.Contains(t, acme.History[1].Note, "Wed 2 Dec 2026 09:00–11:00")
	require.Contains(t, acme.History[2].Note, "Fri 4 Dec 2026 09:00–11:00")
	require.Contains(t, acme.History[2].Note, "Reason: Tenant on holiday")
	for _, h := range acme.History {
		require.Equal(t, "o2o-api", h.AddedBy)
		require.Contains(t, h.Note, "[O2O ref ")
	}
	// What fixit holds.
	fxJob = s.job("fixit", fx)
	require.Equal(t, []string{"PHOLD"}, historyCodes(fxJob))

	// Documents: one copy each way, bytes intact, in the mapped category.
	require.Len(t, fxJob.Documents, 2, "the subcontractor's photo and the copied certificate")
	copied := documentNamed(fxJob.Documents, "gas-cert.pdf")
	require.NotNil(t, copied)
	require.Equal(t, "Certificates", copied.Category)
	require.Equal(t, sum(cert), copied.SHA256)
	require.True(t, strings.HasPrefix(copied.ClientRef, "o2o:acme-fixit:acme:"))
	require.Len(t, acme.Documents, 3, "certificate, internal notes and the copied photo")
	photoCopy := documentNamed(acme.Documents, "after.jpg")
	require.NotNil(t, photoCopy)
	require.Equal(t, "Photos", photoCopy.Category)
	require.Equal(t, sum(photo), photoCopy.SHA256)

	// The link's record of it all.
	type row struct {
		Type      events.Type
		Direction string
		Outcome   lifecycle.Outcome
	}
	var got []row
	for _, e := range st.Events {
		got = append(got, row{e.Type, e.Direction, e.Outcome})
	}
	p2s, s2p := "primaryToSecondary", "secondaryToPrimary"
	applied, skipped := lifecycle.OutcomeApplied, lifecycle.OutcomeSkipped
	require.Equal(t, []row{
		{events.ActivityAssigned, p2s, applied},
		{events.ActivityAssigned, p2s, applied},
		{events.JobStatusChanged, s2p, applied},
		{events.AppointmentCreated, s2p, applied},
		{events.AppointmentRescheduled, s2p, applied},
		{events.AppointmentCompleted, s2p, applied},
		{events.JobStatusChanged, p2s, applied},
		{events.DocumentUploaded, p2s, applied},
		{events.DocumentUploaded, s2p, skipped}, // echo of O2O's copy
		{events.DocumentUploaded, s2p, applied},
		{events.DocumentUploaded, p2s, skipped}, // echo of O2O's copy
		{events.DocumentUploaded, p2s, skipped}, // Internal: not shared
		{events.JobStatusChanged, s2p, applied},
		{events.JobStatusChanged, p2s, skipped}, // Completed is not mapped, but ends the job
	}, got)
	require.Equal(t, lifecycle.StateClosed, st.State)

	// A late event for the closed link is answered, and revives nothing.
	s.act("acme", http.MethodPost, "/jobs/"+ref+"/status", map[string]string{"status": "In Progress"})
	s.waitAnswered("acme")
	st, _ = s.linkState("acme-fixit", ref)
	require.Equal(t, lifecycle.StateClosed, st.State)
	require.Len(t, st.Events, 14)
	recordHistory(t, "full-life", workflows.WorkflowID("acme-fixit", ref))
	// The same life recorded after search attributes were upserted only on change.
	recordHistory(t, "full-life-publish-on-change", workflows.WorkflowID("acme-fixit", ref))
}

// TestWorkerCrashMidWriteLeavesOneJobEvent kills the worker while a job
// event is being written (the target applied it, the answer is still on its
// way), starts a new worker, and checks that the event exists exactly once.
func TestWorkerCrashMidWriteLeavesOneJobEvent(t *testing.T) {
	s := newStack(t, "LB")
	job := s.createAcmeJob("SITE-001", "CON-001", [2]string{"PLB001", "1"})
	s.assign("acme", job.Activities[0].ID, "7")
	st := s.settle(job.JobRef, 1)

	// acme applies the next job event at once, but holds its answer for 30 s.
	s.act("acme", http.MethodPost, "/faults", map[string]any{"op": "addEventByClientRef", "after": true, "delay": "30s", "count": 1})
	s.act("fixit", http.MethodPost, "/jobs/"+st.SecondaryJobRef+"/status", map[string]string{"status": "Accepted"})
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.Len(c, s.job("acme", job.JobRef).History, 1, "acme has applied the event")
	}, 30*time.Second, 100*time.Millisecond)

	require.NoError(t, s.worker.cmd.Process.Signal(syscall.SIGKILL))
	<-s.worker.done
	s.worker = s.start("worker")

	st = s.settle(job.JobRef, 2)
	require.Equal(t, lifecycle.OutcomeApplied, st.Events[1].Outcome)
	require.Contains(t, st.Events[1].Detail, "earlier attempt")
	require.Len(t, s.job("acme", job.JobRef).History, 1, "exactly one job event")
}

// TestAJobEventCostsOneCallToTheTarget: the first attempt of a job event
// writes at once; only a retry reads the job first (issue 11's per-event cost).
func TestAJobEventCostsOneCallToTheTarget(t *testing.T) {
	s := newStack(t, "JC")
	job := s.createAcmeJob("SITE-001", "CON-001", [2]string{"PLB001", "1"})
	s.assign("acme", job.Activities[0].ID, "7")
	fx := s.settle(job.JobRef, 1).SecondaryJobRef
	requests := func() []simulator.RequestLogEntry {
		var out []simulator.RequestLogEntry
		require.Equal(t, http.StatusOK, do(t, http.MethodGet, s.simURL+"/acme/sim/requests", nil, nil, &out))
		return out
	}
	before := len(requests())
	s.act("fixit", http.MethodPost, "/jobs/"+fx+"/status", map[string]string{"status": "Accepted"})
	s.settle(job.JobRef, 2)
	calls := requests()[before:]
	require.Len(t, calls, 1, "one call to acme for the job event: %+v", calls)
	require.Equal(t, []string{"SACC"}, historyCodes(s.job("acme", job.JobRef)))
}
