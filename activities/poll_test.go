package activities_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/o2o-sync/o2o/activities"
	"github.com/o2o-sync/o2o/events"
	"github.com/o2o-sync/o2o/oneserve"
)

// polledAcme makes acme polled, reading SACC (105) as a change, and gives
// the link a discovery on ASSIGN (110), the ids dev/simulator.yaml gives them.
func polledAcme(doc string) string {
	doc = strings.Replace(doc, "    # events: webhook\n", "    events: both\n    poll: {eventIds: [105]}\n", 1)
	return strings.Replace(doc, "    closeAfter: 72h\n", "    closeAfter: 72h\n    discovery: {assignmentEventId: 110}\n", 1)
}

// addJobEvent writes a job event to acme as an API client would.
func (f *fixture) addJobEvent(jobRef, code string, at time.Time) {
	f.t.Helper()
	b, err := json.Marshal(map[string]string{"jobRef": jobRef, "clientId": "28", "sigEventCode": code, "note": "note " + code,
		"date": at.In(london).Format("02-01-2006 15:04:05")})
	require.NoError(f.t, err)
	req, err := http.NewRequest(http.MethodPost, f.url+"/acme/rest/workflow/job/addEventByClientRef", bytes.NewReader(b))
	require.NoError(f.t, err)
	req.Header.Set("OS-REST-AUTH-TOKEN", testEnv["O2O_ACME_TOKEN"])
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(f.t, err)
	resp.Body.Close()
	require.Equal(f.t, http.StatusOK, resp.StatusCode)
}

var london = func() *time.Location {
	l, err := time.LoadLocation("Europe/London")
	if err != nil {
		panic(err)
	}
	return l
}()

func (f *fixture) readJobEvents(system string, from, to time.Time) (activities.ReadJobEventsResult, error) {
	f.t.Helper()
	v, err := f.env.ExecuteActivity(f.acts.ReadJobEvents, activities.ReadJobEventsInput{System: system, From: from, To: to})
	if err != nil {
		return activities.ReadJobEventsResult{}, err
	}
	var res activities.ReadJobEventsResult
	require.NoError(f.t, v.Get(&res))
	return res, nil
}

// TestReadJobEventsReadsChangesAndAssignmentsOfAPolledSystem reads acme's
// job events over HTTP: the change ids and the discovery ids, per client,
// marking the assignment events; keys are stable when read again and
// differ between events.
func TestReadJobEventsReadsChangesAndAssignmentsOfAPolledSystem(t *testing.T) {
	f := newFixture(t, polledAcme)
	ref, _ := f.assignedJob("SITE-001", "Emergency", "7")
	other, _ := f.assignedJob("SITE-002", "Emergency", "8")
	t0 := time.Now().UTC().Truncate(time.Second)
	f.addJobEvent(ref, "SACC", t0.Add(-10*time.Minute))
	f.addJobEvent(ref, "ASSIGN", t0.Add(-5*time.Minute))
	f.addJobEvent(other, "SCOMP", t0.Add(-5*time.Minute)) // an id acme's poll does not read
	f.addJobEvent(ref, "SACC", t0.Add(-3*time.Hour))      // before the window

	res, err := f.readJobEvents("acme", t0.Add(-time.Hour), t0)
	require.NoError(t, err)
	require.Equal(t, 2, res.Calls, "one call for the changes, one for the assignments (one client)")
	require.Len(t, res.Events, 2)
	sacc, assign := res.Events[0], res.Events[1]
	require.Equal(t, activities.PolledEvent{Key: sacc.Key, ClientID: "28", JobRef: ref, At: t0.Add(-10 * time.Minute)}, sacc)
	require.Equal(t, activities.PolledEvent{Key: assign.Key, ClientID: "28", JobRef: ref, At: t0.Add(-5 * time.Minute), Assignment: true}, assign)
	require.NotEqual(t, sacc.Key, assign.Key)
	require.Len(t, sacc.Key, 20)

	again, err := f.readJobEvents("acme", t0.Add(-30*time.Minute), t0.Add(time.Minute))
	require.NoError(t, err)
	require.Equal(t, res.Events, again.Events, "the same events read again have the same keys")

	// A range longer than jobEventsXML allows is read in parts.
	long, err := f.readJobEvents("acme", t0.Add(-40*24*time.Hour), t0)
	require.NoError(t, err)
	require.Equal(t, 4, long.Calls, "two windows, two selections each")
	require.Len(t, long.Events, 3)

	// fixit is not polled.
	_, err = f.readJobEvents("fixit", t0.Add(-time.Hour), t0)
	var app *temporal.ApplicationError
	require.ErrorAs(t, err, &app)
	require.Equal(t, activities.ErrTypeConfig, app.Type())
	require.Contains(t, app.Message(), `system "fixit" is not polled`)
}

func TestJobEventKey(t *testing.T) {
	r := oneserve.JobEventRecord{JobRef: "AC000001", EventRef: "SACC", DateTime: time.Date(2026, 7, 1, 10, 0, 0, 0, london), RecordedBy: "Ada Example", Notes: "accepted"}
	k := activities.JobEventKey("28", r)
	require.Equal(t, k, activities.JobEventKey("28", r))
	utc := r
	utc.DateTime = r.DateTime.UTC()
	require.Equal(t, k, activities.JobEventKey("28", utc), "the same instant")
	for _, change := range []func(*oneserve.JobEventRecord){
		func(r *oneserve.JobEventRecord) { r.JobRef = "AC000002" },
		func(r *oneserve.JobEventRecord) { r.EventRef = "SCOMP" },
		func(r *oneserve.JobEventRecord) { r.DateTime = r.DateTime.Add(time.Second) },
		func(r *oneserve.JobEventRecord) { r.RecordedBy = "Bob" },
		func(r *oneserve.JobEventRecord) { r.Notes = "accepted!" },
	} {
		c := r
		change(&c)
		require.NotEqual(t, k, activities.JobEventKey("28", c))
	}
	require.NotEqual(t, k, activities.JobEventKey("41", r))
}

// TestDiscoverAssignmentsReadsTheJob: a primary job's activities assigned
// to the link's team become ACTIVITY_ASSIGNED events as a webhook would
// have reported them (source reconcile, id from the fact's identity); a job
// assigned to another team, or gone, gives none.
func TestDiscoverAssignmentsReadsTheJob(t *testing.T) {
	f := newFixture(t, polledAcme)
	ref, act := f.assignedJob("SITE-001", "Emergency", "7")
	other, _ := f.assignedJob("SITE-002", "Emergency", "8")
	discover := func(jobRef string) activities.DiscoverResult {
		t.Helper()
		v, err := f.env.ExecuteActivity(f.acts.DiscoverAssignments, activities.DiscoverInput{Link: "acme-fixit", PrimaryJobRef: jobRef, At: time.Date(2026, 7, 1, 9, 0, 0, 0, time.UTC)})
		require.NoError(t, err)
		var res activities.DiscoverResult
		require.NoError(t, v.Get(&res))
		return res
	}
	res := discover(ref)
	require.Equal(t, 1, res.Calls)
	require.Equal(t, []events.Event{{
		ID: "reconcile:assigned:primary:" + act + ":7", System: "acme", Side: events.Primary, Type: events.ActivityAssigned,
		OccurredAt: time.Date(2026, 7, 1, 9, 0, 0, 0, time.UTC), JobRef: ref, Source: events.FromReconcile,
		Assignment: &events.Assignment{ActivityID: act, TeamID: "7"},
	}}, res.Assignments)

	require.Empty(t, discover(other).Assignments, "assigned to another team")
	require.Empty(t, discover("AC999999").Assignments, "no such job")
}
