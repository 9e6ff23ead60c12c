package activities_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/o2o-sync/o2o/activities"
	"github.com/o2o-sync/o2o/events"
	"github.com/o2o-sync/o2o/lifecycle"
	"github.com/o2o-sync/o2o/oneserve"
	"github.com/o2o-sync/o2o/rules"
	"github.com/o2o-sync/o2o/simulator"
)

// variationTarget raises a job in acme with a Client Job Ref (which
// addActivityByClientRef needs) and one line, PLB001 × 1, and returns the
// job's ref and the version spec of a mirrored variation: one line added
// (PLB002 × 1) and the line's quantity changed to 3.
func (f *fixture) variationTarget() (string, rules.VersionSpec) {
	f.t.Helper()
	var job simulator.Job
	require.Equal(f.t, http.StatusCreated, f.sim(http.MethodPost, "/acme/sim/jobs", map[string]any{
		"clientId": "28", "clientRef": "HA-2231", "siteRef": "SITE-001", "contactRef": "CON-001", "priority": "Emergency",
		"description": "Kitchen tap dripping", "activities": []map[string]string{{"code": "PLB001", "quantity": "1"}},
	}, &job))
	return job.JobRef, rules.VersionSpec{SourceNumber: 2, Lines: []events.LineChange{
		{Change: "add", ClientRef: "245010", Code: "PLB002", Quantity: "1"},
		{Change: "quantity", ActivityID: job.Activities[0].ID, ClientRef: "245000", Quantity: "3"},
	}}
}

func (f *fixture) createVersion(jobRef string, spec rules.VersionSpec) (lifecycle.Result, error) {
	v, err := f.env.ExecuteActivity(f.acts.CreateVersion, activities.VersionInput{
		Link: "acme-fixit", Target: events.Primary, PrimaryJobRef: jobRef, SecondaryJobRef: "FX000001", Version: spec,
	})
	if err != nil {
		return lifecycle.Result{}, err
	}
	var res lifecycle.Result
	require.NoError(f.t, v.Get(&res))
	return res, nil
}

func (f *fixture) simJob(system, jobRef string) simulator.Job {
	f.t.Helper()
	var j simulator.Job
	require.Equal(f.t, http.StatusOK, f.sim(http.MethodGet, "/"+system+"/sim/jobs/"+jobRef, nil, &j))
	return j
}

// versionEvents are the version events acme emitted, in order, as
// "TYPE status".
func (f *fixture) versionEvents() []string {
	f.t.Helper()
	var out []simulator.OutboxEvent
	require.Equal(f.t, http.StatusOK, f.sim(http.MethodGet, "/acme/sim/outbox", nil, &out))
	var got []string
	for _, ob := range out {
		if ob.Type != events.VersionCreated && ob.Type != events.VersionStatusChanged {
			continue
		}
		var body struct {
			Data struct {
				Status string `json:"status"`
			} `json:"data"`
		}
		require.NoError(f.t, json.Unmarshal(ob.Body, &body))
		got = append(got, string(ob.Type)+" "+body.Data.Status)
	}
	return got
}

// requireVariation checks the target job holds exactly the variation, in
// one version (2), submitted last, with its superseded ref in the result.
func (f *fixture) requireVariation(jobRef string, res lifecycle.Result) {
	f.t.Helper()
	j := f.simJob("acme", jobRef)
	got := map[string]string{}
	for _, a := range j.Activities {
		got[a.Code] = a.Quantity
	}
	require.Equal(f.t, map[string]string{"PLB001": "3", "PLB002": "1"}, got, "exactly the variation's changes, once")
	require.Equal(f.t, 2, j.Version, "one version")
	require.Equal(f.t, "Pending", j.VersionStatus)
	require.Len(f.t, j.Versions[1].Changes, 2)
	require.Equal(f.t, 2, res.Version, "the mapping")
	require.Equal(f.t, []string{j.Versions[0].JobRef}, res.SupersededRefs, "the superseded ref, read from the target")
	require.NotEqual(f.t, jobRef, res.SupersededRefs[0])
}

// A variation with an added line and a changed quantity is put together
// New and submitted by its last call; whichever call's answer is lost
// (the connection drops after the change is made, or an error comes back
// instead of the answer), the attempt or its retry finds the version and
// completes it: exactly the changes, once, in one version (issue 17).
func TestCreateVersionIsOneUnitWhicheverAnswerIsLost(t *testing.T) {
	t.Run("no fault", func(t *testing.T) {
		f := newFixture(t, nil)
		ref, spec := f.variationTarget()
		res, err := f.createVersion(ref, spec)
		require.NoError(t, err)
		f.requireVariation(ref, res)
		require.Equal(t, []string{"VERSION_CREATED New", "VERSION_STATUS_CHANGED Pending"}, f.versionEvents(),
			"raised New, submitted by the last call: never open to a decision half-written")
		again, err := f.createVersion(ref, spec) // a retry all the same
		require.NoError(t, err)
		require.True(t, again.Existed)
		f.requireVariation(ref, again)
	})
	for _, op := range []string{simulator.OpVersionLines, simulator.OpAddActivityByClientRef} {
		for _, lost := range []struct {
			name  string
			fault map[string]any
		}{
			{"connection lost", map[string]any{"op": op, "after": true, "count": 1}},
			{"error instead of the answer", map[string]any{"op": op, "after": true, "status": 503, "count": 1}},
			{"answered past the call's timeout", map[string]any{"op": op, "after": true, "delay": "2s", "count": 1}},
		} {
			t.Run(op+" "+lost.name, func(t *testing.T) {
				f := newFixture(t, func(doc string) string { // acme's calls time out after 500 ms
					return strings.Replace(doc, "    apiUser: o2o-api\n    # Upper bound for one API call (default 30s).\n    timeout: 30s\n",
						"    apiUser: o2o-api\n    timeout: 500ms\n", 1)
				})
				ref, spec := f.variationTarget()
				require.Equal(t, http.StatusCreated, f.sim(http.MethodPost, "/acme/sim/faults", lost.fault, nil))
				res, err := f.createVersion(ref, spec)
				if err != nil { // the error came back: Temporal retries
					res, err = f.createVersion(ref, spec)
				}
				require.NoError(t, err)
				f.requireVariation(ref, res)
				require.Equal(t, []string{"VERSION_CREATED New", "VERSION_STATUS_CHANGED Pending"}, f.versionEvents())
			})
		}
	}
}

// An attempt that died after its first write (its worker killed): the
// retry finds the New version it raised and adds the lines into it. And a
// version half-written by the O2O before this one (the add submitted
// first, the quantity change lost): the retry puts the quantity change
// into that Pending version instead of asking for another (which the
// target refuses: 409).
func TestCreateVersionRetryCompletesTheVersionAnEarlierAttemptRaised(t *testing.T) {
	for _, c := range []struct {
		name  string
		first func(c *oneserve.Client, jobRef, lineID string) error
	}{
		{"died after versionLines", func(c *oneserve.Client, jobRef, lineID string) error {
			_, err := c.ChangeVersionLines(context.Background(), jobRef, false, []oneserve.VersionLineChange{{Change: "quantity", ActivityID: lineID, ClientRef: "245000", Quantity: "3"}})
			return err
		}},
		{"half-written by the old order", func(c *oneserve.Client, jobRef, lineID string) error {
			return c.AddActivitiesByClientRef(context.Background(), true, []oneserve.ActivityByClientRef{{JobClientRef: "HA-2231", ClientID: "28",
				Code: "PLB002", ClientRef: "245010", CompletedQuantity: "0", TotalQuantity: "1"}})
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t, nil)
			ref, spec := f.variationTarget()
			api, err := oneserve.New(oneserve.Options{BaseURL: f.url + "/acme", Token: testEnv["O2O_ACME_TOKEN"], Timeout: 5 * time.Second})
			require.NoError(t, err)
			require.NoError(t, c.first(api, ref, spec.Lines[1].ActivityID))
			res, err := f.createVersion(ref, spec)
			require.NoError(t, err)
			f.requireVariation(ref, res)
		})
	}
}

// An undecided version that holds none of the variation's changes is not
// O2O's: nothing is written into it, and the link is told why.
func TestCreateVersionLeavesSomeoneElsesUndecidedVersionAlone(t *testing.T) {
	f := newFixture(t, nil)
	ref, spec := f.variationTarget()
	require.Equal(t, http.StatusCreated, f.sim(http.MethodPost, "/acme/sim/jobs/"+ref+"/versions", map[string]any{"submit": false,
		"changes": []map[string]string{{"change": "add", "code": "PLB002", "quantity": "2", "clientRef": "U1"}}}, nil))
	_, err := f.createVersion(ref, spec)
	require.Equal(t, activities.ErrTypeMisaligned, nonRetryableType(t, err))
	require.Contains(t, err.Error(), "version 2 of job "+ref+" in acme is New and holds none of this variation's changes")
	require.Len(t, f.simJob("acme", ref).Activities, 2, "nothing written")
}

// An assignment on a ref that holds a superseded version of a job links
// nothing: CreateLinkedJob reads the primary, sees the job's current
// version under another ref, creates no job and names that ref — whatever
// the current job's link knows (issue 17).
func TestCreateLinkedJobOnASupersededVersionsRefCreatesNothing(t *testing.T) {
	f := newFixture(t, nil)
	ref, act := f.assignedJob("SITE-001", "Emergency", "7")
	linked, err := f.create(ref, act)
	require.NoError(t, err)
	var raised simulator.SimVersionResponse
	require.Equal(t, http.StatusCreated, f.sim(http.MethodPost, "/acme/sim/jobs/"+ref+"/versions", map[string]any{
		"changes": []map[string]string{{"change": "quantity", "activityId": act, "quantity": "3"}}}, &raised))
	old := raised.PreviousVersionJobRef
	oldLine := f.simJob("acme", old).Activities[0].ID
	require.Equal(t, http.StatusOK, f.sim(http.MethodPost, "/acme/sim/activities/"+oldLine+"/assign", map[string]string{"teamId": "7"}, nil))

	res, err := f.create(old, oldLine)
	require.NoError(t, err)
	require.Equal(t, lifecycle.OutcomeSkipped, res.Outcome)
	require.Equal(t, ref, res.SupersededBy)
	require.Empty(t, res.SecondaryJobRef)
	require.Contains(t, res.Detail, "job "+old+" in acme holds version 1 of job "+ref+", which has a later version")
	require.Empty(t, f.secondaryJobs(old), "no linked job for the superseded ref")
	require.Len(t, f.secondaryJobs(ref), 1)
	require.Equal(t, linked.SecondaryJobRef, f.secondaryJobs(ref)[0].JobRef)
}

// A reconciliation's read offers the refs the superseded versions of both
// jobs hold, read from each job's versions (issue 17).
func TestReadFactsOffersSupersededVersionsRefs(t *testing.T) {
	f := newFixture(t, nil)
	ref, act, fx := f.linkedJob()
	var pv, sv simulator.SimVersionResponse
	require.Equal(t, http.StatusCreated, f.sim(http.MethodPost, "/acme/sim/jobs/"+ref+"/versions", map[string]any{
		"changes": []map[string]string{{"change": "quantity", "activityId": act, "quantity": "3"}}}, &pv))
	fxLine := f.simJob("fixit", fx).Activities[0].ID
	require.Equal(t, http.StatusCreated, f.sim(http.MethodPost, "/fixit/sim/jobs/"+fx+"/versions", map[string]any{
		"changes": []map[string]string{{"change": "quantity", "activityId": fxLine, "quantity": "3"}}}, &sv))

	var got []string
	for _, ev := range f.readFacts(ref, fx).Facts {
		if ev.Type == events.VersionSuperseded {
			got = append(got, string(ev.Side)+" "+ev.JobRef+" "+ev.Version.PreviousJobRef)
			require.Equal(t, 1, ev.Version.Number)
		}
	}
	require.ElementsMatch(t, []string{"primary " + ref + " " + pv.PreviousVersionJobRef, "secondary " + fx + " " + sv.PreviousVersionJobRef}, got)
}

// The second call of a two-call version refused (a 4xx: the link needs
// attention): the version stays New, not submitted, holding the first
// call's changes; the operator's retry finds it and completes it.
func TestCreateVersionRetryAfterARefusedSecondCallCompletesTheNewVersion(t *testing.T) {
	f := newFixture(t, nil)
	ref, spec := f.variationTarget()
	require.Equal(t, http.StatusCreated, f.sim(http.MethodPost, "/acme/sim/faults",
		map[string]any{"op": simulator.OpAddActivityByClientRef, "status": 400, "message": "refused for the test", "count": 1}, nil))
	_, err := f.createVersion(ref, spec)
	require.Equal(t, activities.ErrTypeRejected, nonRetryableType(t, err))
	j := f.simJob("acme", ref)
	require.Equal(t, "New", j.VersionStatus, "not open to a decision half-written")
	res, err := f.createVersion(ref, spec)
	require.NoError(t, err)
	f.requireVariation(ref, res)
}
