//go:build integration

package e2e

import (
	"bytes"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/o2o-sync/o2o/events"
	"github.com/o2o-sync/o2o/lifecycle"
	"github.com/o2o-sync/o2o/simulator"
	"github.com/o2o-sync/o2o/workflows"
)

func lines(j simulator.Job) map[string]string {
	out := map[string]string{}
	for _, a := range j.Activities {
		out[a.Code] = a.Quantity
	}
	return out
}

// TestVariationRoundTrip: the subcontractor raises a variation (one line
// added, one quantity changed) → the primary gets a pending version with
// exactly those changes → the contractor approves it → the subcontractor's
// version is approved, with the reason, as a job event. Then a variation
// rejected, and one with an SOR code the primary does not know.
func TestVariationRoundTrip(t *testing.T) {
	s := newStackWith(t, "VR", func(cfg []byte) []byte {
		return bytes.Replace(cfg, []byte("    closeAfter: 72h\n"), []byte("    closeAfter: 72h\n"+
			"    versions:\n      enabled: true\n      events:\n"+
			"        primaryToSecondary: { approved: PVAPP, rejected: PVREJ, cancelled: PVCAN }\n"+
			"        secondaryToPrimary: { approved: SVAPP, rejected: SVREJ, cancelled: SVCAN }\n"), 1)
	})
	// addActivityByClientRef finds a job by its Client Job Ref: this one has one.
	var job simJob
	require.Equal(t, http.StatusCreated, do(t, http.MethodPost, s.simURL+"/acme/sim/jobs", nil, map[string]any{
		"clientId": "28", "clientRef": "HA-2231", "siteRef": "SITE-001", "contactRef": "CON-001", "priority": "Emergency",
		"description": "Kitchen tap dripping", "activities": []map[string]string{{"code": "PLB001", "quantity": "1"}},
	}, &job))
	s.assign("acme", job.Activities[0].ID, "7")
	fx := s.settle(job.JobRef, 1).SecondaryJobRef
	fxLine := s.job("fixit", fx).Activities[0]
	require.Equal(t, job.Activities[0].ID, fxLine.ClientRef, "the linked job's line points at the primary activity")

	raised := s.act("fixit", http.MethodPost, "/jobs/"+fx+"/versions", map[string]any{"reason": "extra valve needed",
		"changes": []map[string]string{{"change": "add", "code": "PLB002", "quantity": "1"}, {"change": "quantity", "activityId": fxLine.ID, "quantity": "3"}}})
	require.NotEmpty(t, raised["previousVersionJobRef"])
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		a := s.job("acme", job.JobRef)
		assert.Equal(c, 2, a.Version)
		assert.Equal(c, "Pending", a.VersionStatus)
		assert.Equal(c, map[string]string{"PLB001": "3", "PLB002": "1"}, lines(a), "exactly the variation's changes")
	}, 30*time.Second, 200*time.Millisecond)
	// The version is open in acme once the last call submits it; the link
	// records it when that call's activity has read the job back.
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		st, _ := s.linkState("acme-fixit", job.JobRef)
		assert.True(c, st.VariationPending())
	}, 30*time.Second, 200*time.Millisecond)

	s.act("acme", http.MethodPost, fmt.Sprintf("/jobs/%s/versions/2/approve", job.JobRef), map[string]string{"reason": "agreed on site"})
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		f := s.job("fixit", fx)
		assert.Equal(c, "Approved", f.VersionStatus)
		assert.Equal(c, []string{"PVAPP"}, historyCodes(f))
	}, 30*time.Second, 200*time.Millisecond)
	require.Contains(t, s.job("fixit", fx).History[0].Note, "agreed on site")
	// The decision is in fixit before the link records its result.
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		st, _ := s.linkState("acme-fixit", job.JobRef)
		assert.False(c, st.VariationPending())
	}, 30*time.Second, 200*time.Millisecond)

	// A second variation, rejected.
	s.act("fixit", http.MethodPost, "/jobs/"+fx+"/versions", map[string]any{"reason": "more",
		"changes": []map[string]string{{"change": "quantity", "activityId": fxLine.ID, "quantity": "4"}}})
	require.EventuallyWithT(t, func(c *assert.CollectT) { assert.Equal(c, 3, s.job("acme", job.JobRef).Version) }, 30*time.Second, 200*time.Millisecond)
	s.act("acme", http.MethodPost, fmt.Sprintf("/jobs/%s/versions/3/reject", job.JobRef), map[string]string{"reason": "not agreed"})
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		f := s.job("fixit", fx)
		assert.Equal(c, "Rejected", f.VersionStatus)
		assert.Equal(c, []string{"PVAPP", "PVREJ"}, historyCodes(f))
	}, 30*time.Second, 200*time.Millisecond)

	// A scope change raised in acme: fixit gets a version; its approval
	// there reaches acme as a job event.
	scope := s.act("acme", http.MethodPost, "/jobs/"+job.JobRef+"/versions", map[string]any{"reason": "tenant asked for a second tap",
		"changes": []map[string]string{{"change": "add", "code": "PLB002", "quantity": "2"}}})
	superseded := fmt.Sprint(scope["previousVersionJobRef"])
	require.NotEqual(t, job.JobRef, superseded)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		f := s.job("fixit", fx)
		assert.Equal(c, 4, f.Version)
		assert.Equal(c, "2", lines(f)["PLB002"])
	}, 30*time.Second, 200*time.Millisecond)
	s.act("fixit", http.MethodPost, fmt.Sprintf("/jobs/%s/versions/4/approve", fx), map[string]string{"reason": "can do Friday"})
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.Equal(c, []string{"SVAPP"}, historyCodes(s.job("acme", job.JobRef)))
	}, 30*time.Second, 200*time.Millisecond)
	require.Contains(t, s.job("acme", job.JobRef).History[0].Note, "can do Friday")
	// The contractor confirms its own version (that decision stays in acme).
	s.act("acme", http.MethodPost, fmt.Sprintf("/jobs/%s/versions/4/approve", job.JobRef), map[string]string{})

	// An event of acme's superseded version (its new ref) reaches this link,
	// not "no link", and starts no link of its own.
	var answer map[string]any
	sup := s.job("acme", superseded)
	require.Equal(t, http.StatusOK, do(t, http.MethodPost, s.simURL+"/acme/sim/jobs/"+superseded+"/status", nil, map[string]string{"status": "On Hold"}, &answer), "%v", answer)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		st, _ := s.linkState("acme-fixit", job.JobRef)
		found := false
		for _, e := range st.Events {
			if e.Type == events.JobStatusChanged && e.Direction == "primaryToSecondary" && e.Outcome == lifecycle.OutcomeApplied {
				found = true
			}
		}
		assert.True(c, found, "the superseded version's status change is the link's")
	}, 30*time.Second, 200*time.Millisecond)
	require.NotEmpty(t, sup.Activities, "the superseded version keeps its lines")
	s.assign("acme", sup.Activities[0].ID, "7")
	time.Sleep(time.Second)
	_, code := s.linkState("acme-fixit", superseded)
	require.Equal(t, http.StatusNotFound, code, "no link for a superseded version")

	// A variation cancelled by the contractor.
	s.act("fixit", http.MethodPost, "/jobs/"+fx+"/versions", map[string]any{
		"changes": []map[string]string{{"change": "quantity", "activityId": fxLine.ID, "quantity": "5"}}})
	require.EventuallyWithT(t, func(c *assert.CollectT) { assert.Equal(c, 5, s.job("acme", job.JobRef).Version) }, 30*time.Second, 200*time.Millisecond)
	s.act("acme", http.MethodPost, fmt.Sprintf("/jobs/%s/versions/5/cancel", job.JobRef), map[string]string{"reason": "raised by mistake"})
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		f := s.job("fixit", fx)
		assert.Equal(c, "Cancelled", f.VersionStatus)
		assert.Equal(c, []string{"PVAPP", "PVREJ", "PHOLD", "PVCAN"}, historyCodes(f), "On Hold came from the superseded version")
	}, 30*time.Second, 200*time.Millisecond)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		st, _ := s.linkState("acme-fixit", job.JobRef)
		assert.Equal(c, lifecycle.StateLinked, st.State)
		assert.False(c, st.VariationPending())
	}, 30*time.Second, 200*time.Millisecond)
	recordHistory(t, "variations", workflows.WorkflowID("acme-fixit", job.JobRef))

	// An SOR code acme does not have: the link needs attention, naming it.
	s.act("fixit", http.MethodPost, "/jobs/"+fx+"/versions", map[string]any{
		"changes": []map[string]string{{"change": "add", "code": "GAS001", "quantity": "1"}}})
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		st, _ := s.linkState("acme-fixit", job.JobRef)
		assert.Equal(c, lifecycle.StateNeedsAttention, st.State)
		assert.Contains(c, st.LastError, "GAS001")
	}, 30*time.Second, 200*time.Millisecond)
}
