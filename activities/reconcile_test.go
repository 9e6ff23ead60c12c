package activities_test

import (
	"bytes"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/o2o-sync/o2o/activities"
	"github.com/o2o-sync/o2o/events"
	"github.com/o2o-sync/o2o/rules"
	"github.com/o2o-sync/o2o/simulator"
)

func (f *fixture) readFacts(primary, secondary string) activities.ReadFactsResult {
	f.t.Helper()
	v, err := f.env.ExecuteActivity(f.acts.ReadFacts, activities.ReadFactsInput{Link: "acme-fixit", PrimaryJobRef: primary, SecondaryJobRef: secondary})
	require.NoError(f.t, err)
	var res activities.ReadFactsResult
	require.NoError(f.t, v.Get(&res))
	return res
}

func (f *fixture) upload(system, jobRef, category, name string) {
	f.t.Helper()
	req, err := http.NewRequest(http.MethodPost, f.url+"/"+system+"/sim/jobs/"+jobRef+"/documents?category="+category+"&fileName="+name, bytes.NewReader([]byte("%PDF-1.7 test")))
	require.NoError(f.t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(f.t, err)
	resp.Body.Close()
	require.Equal(f.t, http.StatusCreated, resp.StatusCode)
}

func keys(facts []events.Event) map[string]events.Event {
	m := map[string]events.Event{}
	for _, f := range facts {
		k := string(f.Type) + " " + string(f.Side)
		if ks := rules.FactKeys(f); len(ks) > 0 {
			k = ks[0]
		}
		m[k] = f
	}
	return m
}

// TestReadFactsFindsWhatWebhooksWouldHaveSaid reads a linked job's facts
// from the simulator over HTTP: the assignment, both statuses, the
// secondary's appointment (booked, then moved and cancelled) and documents
// in shared categories only.
func TestReadFactsFindsWhatWebhooksWouldHaveSaid(t *testing.T) {
	f := newFixture(t, nil)
	ref, act, fx := f.linkedJob()

	require.Equal(t, http.StatusOK, f.sim(http.MethodPost, "/fixit/sim/jobs/"+fx+"/status", map[string]string{"status": "Accepted"}, nil))
	start := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	var appt struct {
		AppointmentID string `json:"appointmentId"`
	}
	require.Equal(t, http.StatusCreated, f.sim(http.MethodPost, "/fixit/sim/jobs/"+fx+"/appointments",
		map[string]string{"start": start.Format(time.RFC3339), "end": start.Add(2 * time.Hour).Format(time.RFC3339)}, &appt))
	f.upload("acme", ref, "Gas%20Certificate", "cert.pdf")
	f.upload("acme", ref, "Internal", "notes.pdf") // not a shared category

	read := f.readFacts(ref, fx)
	got := keys(read.Facts)
	require.Contains(t, got, "assigned:primary:"+act+":7")
	require.Equal(t, "Accepted", got["JOB_STATUS_CHANGED secondary"].Status.Status)
	require.NotEmpty(t, got["JOB_STATUS_CHANGED primary"].Status.Status)
	require.Contains(t, got, "appointment:secondary:"+appt.AppointmentID+":created")
	require.Contains(t, got, "appointment:secondary:"+appt.AppointmentID+":at:"+start.Format(time.RFC3339))
	docs := 0
	for _, ev := range read.Facts {
		require.Equal(t, events.FromReconcile, ev.Source)
		require.NotEmpty(t, ev.ID)
		if ev.Type == events.DocumentUploaded {
			docs++
			require.Equal(t, "cert.pdf", ev.Document.FileName, "only the shared category")
		}
	}
	require.Equal(t, 1, docs)
	require.Equal(t, 4, read.Calls, "two job reads and two document lists")

	// Cancelled: a new fact appears; the booking facts stay the same.
	require.Equal(t, http.StatusOK, f.sim(http.MethodPost, "/fixit/sim/appointments/"+appt.AppointmentID+"/cancel", map[string]string{"reason": "Tenant away"}, nil))
	got = keys(f.readFacts(ref, fx).Facts)
	require.Contains(t, got, "appointment:secondary:"+appt.AppointmentID+":cancelled")
}

func TestReadFactsReportsAJobGoneAsDriftAndCheckJobsBlocksOnIt(t *testing.T) {
	f := newFixture(t, nil)
	ref, act := f.assignedJob("SITE-001", "Emergency", "7")
	_, err := f.create(ref, act)
	require.NoError(t, err)

	read := f.readFacts(ref, "FX999999")
	require.Len(t, read.Facts, 1+2, "the primary's assignment and status, then the drift")
	drift := read.Facts[len(read.Facts)-1]
	require.Equal(t, events.JobsDrifted, drift.Type)
	require.Equal(t, "linked job FX999999 no longer exists in fixit", drift.Drift.Reason)

	_, err = f.env.ExecuteActivity(f.acts.CheckJobs, activities.CheckJobsInput{Link: "acme-fixit", PrimaryJobRef: ref, SecondaryJobRef: "FX999999", Reason: drift.Drift.Reason})
	require.Equal(t, activities.ErrTypeDrifted, nonRetryableType(t, err))
	require.ErrorContains(t, err, "no longer exists in fixit")

	read = f.readFacts("AC999999", "")
	require.Len(t, read.Facts, 1)
	require.Equal(t, "primary job AC999999 no longer exists in acme", read.Facts[0].Drift.Reason)
}

// TestReadFactsSaysWhichLinesTheLinkedJobLacks: an activity assigned to
// the link's team whose line the linked job does not hold is read as "its
// line is missing" (issue 17), whatever the link believes; once the line is
// there, it is the plain assignment again.
func TestReadFactsSaysWhichLinesTheLinkedJobLacks(t *testing.T) {
	f := newFixture(t, nil)
	ref, a, b := f.jobWithTwoLines()
	res, err := f.create(ref, a)
	require.NoError(t, err)
	fx := res.SecondaryJobRef
	f.assign(b)

	got := keys(f.readFacts(ref, fx).Facts)
	require.Contains(t, got, "assigned:primary:"+a+":7", "a's line is there")
	require.Contains(t, got, rules.LineMissingKey(b, "7"))
	require.NotContains(t, got, "assigned:primary:"+b+":7", "b's fact is its missing line")
	require.True(t, got[rules.LineMissingKey(b, "7")].Assignment.LineMissing)

	v, err := f.env.ExecuteActivity(f.acts.AddActivities, activities.AddActivitiesInput{
		Link: "acme-fixit", PrimaryJobRef: ref, SecondaryJobRef: fx, ActivityIDs: []string{b}})
	require.NoError(t, err)
	require.NoError(t, v.Get(&res))
	require.Equal(t, []string{b}, res.ActivityIDs)
	got = keys(f.readFacts(ref, fx).Facts)
	require.Contains(t, got, "assigned:primary:"+b+":7")
	require.NotContains(t, got, rules.LineMissingKey(b, "7"))

	// Without a linked job to compare with, the assignment is all a read says.
	got = keys(f.readFacts(ref, "").Facts)
	require.Contains(t, got, "assigned:primary:"+a+":7")
}

// TestReadFactsCarryTheSourcesTimeWhereTheReadHasOne: a document's fact is
// dated when it was uploaded (the list's uploadedDate), a completed
// appointment's facts when its slot ended; what the reads do not date (a
// status, a booking still to come) carries the read's time (issue 17).
func TestReadFactsCarryTheSourcesTimeWhereTheReadHasOne(t *testing.T) {
	f := newFixture(t, nil)
	ref, _, fx := f.linkedJob()

	start := time.Date(2026, 11, 3, 9, 0, 0, 0, time.UTC)
	var done, coming struct {
		AppointmentID string `json:"appointmentId"`
	}
	require.Equal(t, http.StatusCreated, f.sim(http.MethodPost, "/fixit/sim/jobs/"+fx+"/appointments",
		map[string]string{"start": start.Format(time.RFC3339), "end": start.Add(2 * time.Hour).Format(time.RFC3339)}, &done))
	require.Equal(t, http.StatusOK, f.sim(http.MethodPost, "/fixit/sim/appointments/"+done.AppointmentID+"/complete", map[string]string{}, nil))
	later := time.Now().Add(30 * 24 * time.Hour).UTC().Truncate(time.Hour)
	require.Equal(t, http.StatusCreated, f.sim(http.MethodPost, "/fixit/sim/jobs/"+fx+"/appointments",
		map[string]string{"start": later.Format(time.RFC3339), "end": later.Add(time.Hour).Format(time.RFC3339)}, &coming))
	f.upload("fixit", fx, "Site%20Photos", "after.jpg")
	var sj simulator.Job
	require.Equal(t, http.StatusOK, f.sim(http.MethodGet, "/fixit/sim/jobs/"+fx, nil, &sj))
	require.Len(t, sj.Documents, 1)
	uploaded, err := time.ParseInLocation("02/01/2006 15:04", sj.Documents[0].UploadedDate, london)
	require.NoError(t, err)

	before := time.Now().UTC()
	read := f.readFacts(ref, fx)
	got := keys(read.Facts)
	for _, k := range []string{":created", ":at:" + start.Format(time.RFC3339), ":completed"} {
		ev, ok := got["appointment:secondary:"+done.AppointmentID+k]
		require.True(t, ok, k)
		require.True(t, ev.OccurredAt.Equal(start.Add(2*time.Hour)), "%s dated %s: the end of the completed visit", k, ev.OccurredAt)
	}
	doc := got["document:secondary:"+sj.Documents[0].DocumentID]
	require.True(t, doc.OccurredAt.Equal(uploaded), "the document is dated %s, uploaded %s", doc.OccurredAt, uploaded)
	booked := got["appointment:secondary:"+coming.AppointmentID+":created"]
	require.False(t, booked.OccurredAt.Before(before), "a booking is dated by the read: %s", booked.OccurredAt)
	require.False(t, got["JOB_STATUS_CHANGED secondary"].OccurredAt.Before(before), "a status is dated by the read")
}
