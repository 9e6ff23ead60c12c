//go:build integration

package e2e

import (
	"bytes"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/o2o-sync/o2o/events"
	"github.com/o2o-sync/o2o/lifecycle"
)

// withVersions turns variations on for link acme-fixit, with the job
// events of TestVariationRoundTrip.
func withVersions(cfg []byte) []byte {
	return bytes.Replace(cfg, []byte("    closeAfter: 72h\n"), []byte("    closeAfter: 72h\n"+
		"    versions:\n      enabled: true\n      events:\n"+
		"        primaryToSecondary: { approved: PVAPP, rejected: PVREJ, cancelled: PVCAN }\n"+
		"        secondaryToPrimary: { approved: SVAPP, rejected: SVREJ, cancelled: SVCAN }\n"), 1)
}

// linkedVersionedJob raises a job in acme with a Client Job Ref of its own
// (addActivityByClientRef finds acme's job by it) and one line, PLB001 × 1,
// assigns it to fixit's team and waits for the linked job.
func (s *stack) linkedVersionedJob(clientRef string) (acme simJob, fx string) {
	s.t.Helper()
	require.Equal(s.t, http.StatusCreated, do(s.t, http.MethodPost, s.simURL+"/acme/sim/jobs", nil, map[string]any{
		"clientId": "28", "clientRef": clientRef, "siteRef": "SITE-001", "contactRef": "CON-001", "priority": "Emergency",
		"description": "Kitchen tap dripping", "activities": []map[string]string{{"code": "PLB001", "quantity": "1"}},
	}, &acme))
	s.assign("acme", acme.Activities[0].ID, "7")
	return acme, s.settle(acme.JobRef, 1).SecondaryJobRef
}

// TestVariationIsWrittenOnceWhicheverAnswerIsLost (issue 17): a variation
// with one line added and one quantity changed, mirrored in each direction
// while the target loses the answer of one of the writes (the connection
// dropped after the change, or an error instead of the answer), then
// decided while the answer of the decision's write is lost too; the echo
// of O2O's version never arrives. Each ends with exactly the variation's
// changes, once, in one version submitted last; the mapping and the
// target's superseded ref recorded; the decision carried over; the link
// Linked.
func TestVariationIsWrittenOnceWhicheverAnswerIsLost(t *testing.T) {
	s := newStackWith(t, "VL", withVersions)
	lost := func(system, op string, status int) {
		f := map[string]any{"op": op, "after": true, "count": 1}
		if status != 0 {
			f["status"] = status
		}
		s.act(system, http.MethodPost, "/faults", f)
	}
	for i, c := range []struct {
		name     string
		raisedIn string // the side whose user raises the variation
		op       string // the target's write whose answer is lost
		status   int    // 0: the connection drops; else this error instead of the answer
		// decisionOp is the write of the decision whose answer is lost.
		decisionOp string
	}{
		{"fixit raises, acme loses the add's answer", "fixit", "addActivityByClientRef", 0, "versionStatus"},
		{"fixit raises, acme loses the versionLines answer", "fixit", "versionLines", http.StatusServiceUnavailable, "addEventByClientRef"},
		{"acme raises, fixit loses the add's answer", "acme", "addActivityByClientRef", http.StatusServiceUnavailable, "addEventByClientRef"},
		{"acme raises, fixit loses the versionLines answer", "acme", "versionLines", 0, "addEventByClientRef"},
	} {
		{ // one stack, one linked job per case
			t.Log(c.name)
			acme, fx := s.linkedVersionedJob(fmt.Sprintf("HA-VL-%d", i))
			source, sourceRef, target, targetRef := "fixit", fx, "acme", acme.JobRef
			targetSide, decider := events.Primary, "acme"
			if c.raisedIn == "acme" {
				source, sourceRef, target, targetRef = "acme", acme.JobRef, "fixit", fx
				targetSide, decider = events.Secondary, "fixit"
			}
			line := s.job(source, sourceRef).Activities[0].ID
			lost(target, c.op, c.status)
			// The echo of O2O's own version never arrives: the target's
			// superseded ref must come from the target's read.
			s.act(target, http.MethodPost, "/faults", map[string]any{"op": "deliver", "drop": 1, "types": []string{"VERSION_CREATED"}, "seed": 1, "count": 1})
			s.act(source, http.MethodPost, "/jobs/"+sourceRef+"/versions", map[string]any{"reason": "extra valve needed",
				"changes": []map[string]string{{"change": "add", "code": "PLB002", "quantity": "2"}, {"change": "quantity", "activityId": line, "quantity": "3"}}})

			var st lifecycle.LinkState
			require.EventuallyWithT(t, func(co *assert.CollectT) {
				j := s.job(target, targetRef)
				assert.Equal(co, map[string]string{"PLB001": "3", "PLB002": "2"}, lines(j), "exactly the variation's changes")
				assert.Len(co, j.Activities, 2, "the added line once")
				assert.Equal(co, 2, j.Version, "one version")
				assert.Equal(co, "Pending", j.VersionStatus)
				st, _ = s.linkState("acme-fixit", acme.JobRef)
				assert.Equal(co, lifecycle.StateLinked, st.State, st.LastError)
				assert.Equal(co, 0, st.Pending)
			}, 60*time.Second, 200*time.Millisecond, c.name)
			j := s.job(target, targetRef)
			require.Len(t, j.Versions[1].Changes, 2, "the version holds both changes")
			i := slices.IndexFunc(st.Versions, func(v lifecycle.VersionRecord) bool { return v.Side == targetSide && v.Number == 2 })
			require.GreaterOrEqual(t, i, 0, "%s: the mapping: %+v", c.name, st.Versions)
			require.Equal(t, 2, st.Versions[i].Counterpart)
			aliases := st.PrimaryAliases
			if targetSide == events.Secondary {
				aliases = st.SecondaryAliases
			}
			require.Contains(t, aliases, j.Versions[0].JobRef, "%s: the target's superseded ref is the link's, without the echo", c.name)

			// The decision, with its write's answer lost too.
			lost(map[string]string{"acme": "fixit", "fixit": "acme"}[decider], c.decisionOp, 0)
			s.act(decider, http.MethodPost, fmt.Sprintf("/jobs/%s/versions/2/approve", map[string]string{"acme": acme.JobRef, "fixit": fx}[decider]),
				map[string]string{"reason": "agreed on site"})
			require.EventuallyWithT(t, func(co *assert.CollectT) {
				if decider == "acme" {
					f := s.job("fixit", fx)
					assert.Equal(co, "Approved", f.VersionStatus)
					assert.Equal(co, []string{"PVAPP"}, historyCodes(f), "the decision's job event, once")
				} else {
					assert.Equal(co, []string{"SVAPP"}, historyCodes(s.job("acme", acme.JobRef)), "the decision's job event, once")
				}
				st, _ := s.linkState("acme-fixit", acme.JobRef)
				assert.Equal(co, lifecycle.StateLinked, st.State, st.LastError)
				if decider == "acme" { // (acme's own version waits for acme's decision)
					assert.False(co, st.VariationPending())
				}
			}, 60*time.Second, 200*time.Millisecond, c.name)
		}
	}
}

// TestAssignmentOnASupersededRefBeforeTheLinkKnowsIt (issue 17): acme
// raises a version of a linked job, and its VERSION_CREATED never reaches
// O2O, so the link has no alias for the superseded version's new ref. An
// assignment on that ref then starts a link of its own — which reads the
// primary, sees the job's current version under the linked ref, creates
// nothing and closes: no second linked job, no second running link.
func TestAssignmentOnASupersededRefBeforeTheLinkKnowsIt(t *testing.T) {
	s := newStackWith(t, "VS", withVersions)
	acme, fx := s.linkedVersionedJob("HA-VS-1")
	s.act("acme", http.MethodPost, "/faults", map[string]any{"op": "deliver", "drop": 1, "types": []string{"VERSION_CREATED"}, "seed": 1, "count": 1})
	raised := s.act("acme", http.MethodPost, "/jobs/"+acme.JobRef+"/versions", map[string]any{
		"changes": []map[string]string{{"change": "quantity", "activityId": acme.Activities[0].ID, "quantity": "2"}}})
	superseded := fmt.Sprint(raised["previousVersionJobRef"])
	require.NotEqual(t, acme.JobRef, superseded)
	st, _ := s.linkState("acme-fixit", acme.JobRef)
	require.NotContains(t, st.PrimaryAliases, superseded, "the link has not learned the ref")

	s.assign("acme", s.job("acme", superseded).Activities[0].ID, "7")
	var would lifecycle.LinkState
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		var code int
		would, code = s.linkState("acme-fixit", superseded)
		assert.Equal(c, http.StatusOK, code)
		assert.Equal(c, lifecycle.StateClosed, would.State, would.LastError)
	}, 60*time.Second, 200*time.Millisecond)
	require.Contains(t, would.ClosingReason, "superseded version of job "+acme.JobRef)
	require.Len(t, would.Events, 1)
	require.Equal(t, lifecycle.OutcomeSkipped, would.Events[0].Outcome)
	require.Contains(t, would.Events[0].Detail, "job "+acme.JobRef+" is linked by its own link")
	require.Empty(t, would.SecondaryJobRef)
	require.Empty(t, s.secondaryJobs(superseded), "no linked job for the superseded ref")
	jobs := s.secondaryJobs(acme.JobRef)
	require.Len(t, jobs, 1, "one linked job")
	require.Equal(t, fx, jobs[0].JobRef)
	st, _ = s.linkState("acme-fixit", acme.JobRef)
	require.Equal(t, lifecycle.StateLinked, st.State)

	// A reconciliation reads the superseded ref in the job's versions: the
	// link takes it as an alias. The superseded version's events then
	// reach the link, past the closed would-be link under the ref.
	r := s.starter(nil, "reconcile", "acme-fixit", acme.JobRef)
	require.Zero(t, r.code, "%s", r)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		st, _ = s.linkState("acme-fixit", acme.JobRef)
		assert.Contains(c, st.PrimaryAliases, superseded)
		assert.Equal(c, 0, st.Pending)
	}, 60*time.Second, 200*time.Millisecond)
	s.act("acme", http.MethodPost, "/jobs/"+superseded+"/status", map[string]string{"status": "On Hold"})
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.Equal(c, []string{"PHOLD"}, historyCodes(s.job("fixit", fx)), "the superseded version's status change is the link's")
	}, 60*time.Second, 200*time.Millisecond)
}
