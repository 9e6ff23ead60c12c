package activities_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/o2o-sync/o2o/activities"
	"github.com/o2o-sync/o2o/config"
	"github.com/o2o-sync/o2o/events"
	"github.com/o2o-sync/o2o/lifecycle"
	"github.com/o2o-sync/o2o/oneserve"
	"github.com/o2o-sync/o2o/simulator"
)

var testEnv = map[string]string{
	"O2O_ACME_TOKEN":            "acme-token",
	"O2O_FIXIT_TOKEN":           "fixit-token",
	"O2O_ACME_WEBHOOK_SECRETS":  "whsec_YWNtZS10ZXN0LXNlY3JldC0wMDAwMDAwMDAwMDAw",
	"O2O_FIXIT_WEBHOOK_SECRETS": "whsec_Zml4aXQtdGVzdC1zZWNyZXQtMDAwMDAwMDAwMDAw",
	"SIM_ACME_WEBHOOK_SECRET":   "whsec_YWNtZS10ZXN0LXNlY3JldC0wMDAwMDAwMDAwMDAw",
	"SIM_FIXIT_WEBHOOK_SECRET":  "whsec_Zml4aXQtdGVzdC1zZWNyZXQtMDAwMDAwMDAwMDAw",
	"O2O_API_TOKEN":             "operator-token-0123456789",
	"O2O_WRONG_TOKEN":           "wrong",
}

// fixture is the activities wired to the simulated acme and fixit systems
// over HTTP, configured by the annotated example configuration.
type fixture struct {
	t    *testing.T
	url  string
	acts *activities.Activities
	env  *testsuite.TestActivityEnvironment
	// intercept, when set, sees every request before the simulator: it
	// reports whether it handled the request itself (serve is the simulator).
	intercept atomic.Pointer[func(w http.ResponseWriter, r *http.Request, serve http.Handler) bool]
}

func newFixture(t *testing.T, tweak func(string) string, opts ...activities.Option) *fixture {
	t.Helper()
	for k, v := range testEnv {
		t.Setenv(k, v)
	}
	seed, err := simulator.LoadSeed("../dev/simulator.yaml")
	require.NoError(t, err)
	for i := range seed.Systems {
		seed.Systems[i].WebhookURL = "" // events are not under test here
	}
	sim, err := simulator.New(seed, simulator.Options{})
	require.NoError(t, err)
	f := &fixture{t: t}
	h := sim.Handler()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if in := f.intercept.Load(); in != nil && (*in)(w, r, h) {
			return
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(func() { srv.Close(); sim.Close() })

	raw, err := os.ReadFile("../o2o.example.yaml")
	require.NoError(t, err)
	doc := strings.ReplaceAll(string(raw), "http://localhost:9100", srv.URL)
	if tweak != nil {
		doc = tweak(doc)
	}
	cfg, err := config.Parse([]byte(doc), config.Options{Getenv: func(k string) string { return testEnv[k] }})
	require.NoError(t, err)
	acts, err := activities.New(cfg, opts...)
	require.NoError(t, err)
	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestActivityEnvironment()
	env.RegisterActivity(acts)
	f.url, f.acts, f.env = srv.URL, acts, env
	return f
}

func (f *fixture) sim(method, path string, body, out any) int {
	f.t.Helper()
	b, err := json.Marshal(body)
	require.NoError(f.t, err)
	req, err := http.NewRequest(method, f.url+path, bytes.NewReader(b))
	require.NoError(f.t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(f.t, err)
	defer resp.Body.Close()
	if out != nil {
		require.NoError(f.t, json.NewDecoder(resp.Body).Decode(out))
	}
	return resp.StatusCode
}

// twoLineJob raises a job with two activities (PLB001 and PLB002) in acme.
func (f *fixture) twoLineJob(siteRef, priority string) (jobRef, first, second string) {
	f.t.Helper()
	var job struct {
		JobRef     string `json:"jobRef"`
		Activities []struct {
			ID string `json:"id"`
		} `json:"activities"`
	}
	require.Equal(f.t, http.StatusCreated, f.sim(http.MethodPost, "/acme/sim/jobs", map[string]any{
		"clientId": "28", "siteRef": siteRef, "contactRef": "CON-001", "priority": priority, "description": "Leak under sink",
		"activities": []map[string]string{{"code": "PLB001", "quantity": "2"}, {"code": "PLB002", "quantity": "1"}},
	}, &job))
	return job.JobRef, job.Activities[0].ID, job.Activities[1].ID
}

// assignedJob raises a job in acme and assigns its first activity to team.
func (f *fixture) assignedJob(siteRef, priority, team string) (jobRef, activityID string) {
	f.t.Helper()
	jobRef, activityID, _ = f.twoLineJob(siteRef, priority)
	require.Equal(f.t, http.StatusOK, f.sim(http.MethodPost, "/acme/sim/activities/"+activityID+"/assign", map[string]string{"teamId": team}, nil))
	return jobRef, activityID
}

func (f *fixture) secondaryJobs(clientRef string) []simulator.Job {
	var jobs []simulator.Job
	require.Equal(f.t, http.StatusOK, f.sim(http.MethodGet, "/fixit/sim/jobs?clientRef="+clientRef, nil, &jobs))
	return jobs
}

func (f *fixture) create(jobRef, activityID string) (lifecycle.Result, error) {
	v, err := f.env.ExecuteActivity(f.acts.CreateLinkedJob, activities.CreateJobInput{
		Link: "acme-fixit", PrimaryJobRef: jobRef, ActivityIDs: []string{activityID},
	})
	if err != nil {
		return lifecycle.Result{}, err
	}
	var res lifecycle.Result
	require.NoError(f.t, v.Get(&res))
	return res, nil
}

func nonRetryableType(t *testing.T, err error) string {
	t.Helper()
	var app *temporal.ApplicationError
	require.True(t, errors.As(err, &app), "want an application error, got %v", err)
	require.True(t, app.NonRetryable(), "want non-retryable: %v", err)
	return app.Type()
}

func TestCreateLinkedJobCreatesOnceAndFindsItAgain(t *testing.T) {
	f := newFixture(t, nil)
	ref, act := f.assignedJob("SITE-001", "Urgent", "7")

	res, err := f.create(ref, act)
	require.NoError(t, err)
	require.False(t, res.Existed)
	require.Equal(t, []string{act}, res.ActivityIDs, "only the line assigned to the team")
	jobs := f.secondaryJobs(ref)
	require.Len(t, jobs, 1)
	require.Equal(t, res.SecondaryJobRef, jobs[0].JobRef)
	require.Equal(t, "12", jobs[0].PriorityID, "Urgent maps to P2 Urgent")
	require.Len(t, jobs[0].Activities, 1)

	// Temporal runs activities at least once: a second run finds the job.
	again, err := f.create(ref, act)
	require.NoError(t, err)
	require.True(t, again.Existed)
	require.Equal(t, res.SecondaryJobRef, again.SecondaryJobRef)
	require.Len(t, f.secondaryJobs(ref), 1)
}

func TestCreateLinkedJobAfterALostResponseDoesNotDuplicate(t *testing.T) {
	f := newFixture(t, nil)
	ref, act := f.assignedJob("SITE-001", "Emergency", "7")
	// fixit creates the job but the answer never reaches O2O.
	require.Equal(t, http.StatusCreated, f.sim(http.MethodPost, "/fixit/sim/faults",
		map[string]any{"op": "createJob", "after": true, "count": 1}, nil))

	// The attempt looks for the job before it fails, and finds it.
	res, err := f.create(ref, act)
	require.NoError(t, err)
	require.True(t, res.Existed)
	jobs := f.secondaryJobs(ref)
	require.Len(t, jobs, 1, "the job was created once")
	require.Equal(t, jobs[0].JobRef, res.SecondaryJobRef)

	again, err := f.create(ref, act) // a retry all the same
	require.NoError(t, err)
	require.True(t, again.Existed)
	require.Len(t, f.secondaryJobs(ref), 1, "the retry found it instead of creating a second")
}

// A write the system holds past O2O's timeout and applies afterwards (the
// drill's "timeout, applied late") is found by the attempt that sent it, which
// waits as long again before it fails; one held longer than that is left to
// the retry, which is told to wait, and finds it.
func TestAddJobEventHeldPastItsTimeoutIsWrittenOnce(t *testing.T) {
	f := newFixture(t, func(doc string) string {
		return strings.Replace(doc, "    apiUser: o2o-api\n\nlinks:", "    apiUser: o2o-api\n    timeout: 500ms\n\nlinks:", 1)
	})
	ref, act := f.assignedJob("SITE-001", "Urgent", "7")
	linked, err := f.create(ref, act)
	require.NoError(t, err)
	write := func(key string) (lifecycle.Result, error) {
		v, err := f.env.ExecuteActivity(f.acts.AddJobEvent, activities.JobEventInput{
			Link: "acme-fixit", Target: events.Secondary, PrimaryJobRef: ref, SecondaryJobRef: linked.SecondaryJobRef,
			EventCode: "PHOLD", Note: "On hold at the client", Key: key,
		})
		if err != nil {
			return lifecycle.Result{}, err
		}
		var res lifecycle.Result
		require.NoError(t, v.Get(&res))
		return res, nil
	}
	marked := func(key string) int {
		n := 0
		for _, h := range f.secondaryJobs(ref)[0].History {
			if strings.Contains(h.Note, activities.EventMarker("acme-fixit", key)) {
				n++
			}
		}
		return n
	}

	// Applied 0.8 s after it arrived, 0.3 s after O2O gave up on it.
	require.Equal(t, http.StatusCreated, f.sim(http.MethodPost, "/fixit/sim/faults",
		map[string]any{"op": "addEventByClientRef", "delay": "800ms", "count": 1}, nil))
	var inFlight atomic.Int32 // heartbeats that carried the write in flight
	f.env.SetOnActivityHeartbeatListener(func(_ *activity.Info, details converter.EncodedValues) {
		var d struct {
			Since time.Time `json:"since"`
		}
		if details.HasValues() && details.Get(&d) == nil && !d.Since.IsZero() {
			inFlight.Add(1)
		}
	})
	res, err := write("ev-1")
	require.NoError(t, err, "the attempt found its own late write")
	require.True(t, res.Existed)
	require.Equal(t, 1, marked("ev-1"))
	require.Positive(t, inFlight.Load(), "the attempt's heartbeat said it had a write in flight while it waited")

	// Applied 2 s after it arrived: the attempt fails, asking Temporal to
	// wait before the retry.
	require.Equal(t, http.StatusCreated, f.sim(http.MethodPost, "/fixit/sim/faults",
		map[string]any{"op": "addEventByClientRef", "delay": "2s", "count": 1}, nil))
	_, err = write("ev-2")
	var app *temporal.ApplicationError
	require.True(t, errors.As(err, &app), "want an application error, got %v", err)
	require.False(t, app.NonRetryable())
	require.Equal(t, 500*time.Millisecond, app.NextRetryDelay(), "the retry waits as long as the call was given")
	require.Eventually(t, func() bool { return marked("ev-2") == 1 }, 10*time.Second, 50*time.Millisecond, "the held write lands")

	// An attempt whose worker died with its write in flight (held 0.8 s
	// by fixit) left that in its last heartbeat: the next attempt gives
	// the write its time before it looks, and finds it.
	require.Equal(t, http.StatusCreated, f.sim(http.MethodPost, "/fixit/sim/faults",
		map[string]any{"op": "addEventByClientRef", "delay": "800ms", "count": 1}, nil))
	dead, err := oneserve.New(oneserve.Options{BaseURL: f.url + "/fixit", Token: testEnv["O2O_FIXIT_TOKEN"], Timeout: 5 * time.Second})
	require.NoError(t, err)
	sent := time.Now()
	go func() {
		_ = dead.AddEventByClientRef(context.Background(), oneserve.JobEvent{JobRef: linked.SecondaryJobRef, ClientID: "41",
			EventCode: "PHOLD", Note: "On hold at the client " + activities.EventMarker("acme-fixit", "ev-3"), Date: sent})
	}()
	f.env.SetHeartbeatDetails(struct {
		Since   time.Time     `json:"since"`
		Timeout time.Duration `json:"timeout"`
	}{sent, 500 * time.Millisecond})
	res, err = write("ev-3")
	require.NoError(t, err)
	require.True(t, res.Existed, "the retry found the dead attempt's write")
	require.Equal(t, 1, marked("ev-3"))
}

// linkedJob raises a job in acme, assigns its first activity to team 7 and
// creates its linked job in fixit.
func (f *fixture) linkedJob() (ref, act, fx string) {
	f.t.Helper()
	ref, act = f.assignedJob("SITE-001", "Emergency", "7")
	res, err := f.create(ref, act)
	require.NoError(f.t, err)
	return ref, act, res.SecondaryJobRef
}

// jobWithTwoLines raises a job with two activities in acme and assigns the
// first to team 7.
func (f *fixture) jobWithTwoLines() (jobRef, first, second string) {
	f.t.Helper()
	jobRef, first, second = f.twoLineJob("SITE-001", "Emergency")
	f.assign(first)
	return jobRef, first, second
}

func (f *fixture) assign(activityID string) {
	f.t.Helper()
	require.Equal(f.t, http.StatusOK, f.sim(http.MethodPost, "/acme/sim/activities/"+activityID+"/assign", map[string]string{"teamId": "7"}, nil))
}

// lineRefs are the client refs of the lines of the one linked job of ref.
func (f *fixture) lineRefs(ref string) []string {
	f.t.Helper()
	jobs := f.secondaryJobs(ref)
	require.Len(f.t, jobs, 1, "one linked job")
	var refs []string
	for _, a := range jobs[0].Activities {
		refs = append(refs, a.ClientRef)
	}
	return refs
}

// A retry that finds the job its earlier attempt created (issue 17): an
// activity assigned since that attempt is not on the job, so it is added,
// and the result lists what the job really holds.
func TestCreateLinkedJobFoundByARetryGetsTheLinesAssignedSince(t *testing.T) {
	f := newFixture(t, nil)
	ref, a, b := f.jobWithTwoLines()
	first, err := f.create(ref, a)
	require.NoError(t, err)
	require.Equal(t, []string{a}, first.ActivityIDs)

	f.assign(b) // before the retry reads the primary
	again, err := f.create(ref, a)
	require.NoError(t, err)
	require.True(t, again.Existed)
	require.Equal(t, first.SecondaryJobRef, again.SecondaryJobRef)
	require.ElementsMatch(t, []string{a, b}, again.ActivityIDs)
	require.ElementsMatch(t, []string{a, b}, f.lineRefs(ref), "both lines, once each")
	require.Contains(t, again.Detail, b)

	// Another retry adds nothing more.
	again, err = f.create(ref, a)
	require.NoError(t, err)
	require.ElementsMatch(t, []string{a, b}, again.ActivityIDs)
	require.ElementsMatch(t, []string{a, b}, f.lineRefs(ref))
	require.Empty(t, again.Detail)
}

// An attempt whose own createJob goes unanswered looks for the job and finds
// one an earlier attempt created before the second activity was assigned
// (its request landed late; this attempt's was lost): the job holds only the
// first line, so the second is added (issue 17).
func TestCreateLinkedJobFoundAfterALostAnswerGetsTheMissingLines(t *testing.T) {
	f := newFixture(t, nil)
	ref, a, b := f.jobWithTwoLines()
	f.assign(b)
	var landed atomic.Bool
	in := func(w http.ResponseWriter, r *http.Request, serve http.Handler) bool {
		if r.URL.Path != "/fixit/rest/workflow/job/createJob" || !landed.CompareAndSwap(false, true) {
			return false
		}
		// The earlier attempt's request, read before b was assigned, lands...
		var body struct {
			Activities []json.RawMessage `json:"activities"`
		}
		raw, err := io.ReadAll(r.Body)
		if err == nil {
			err = json.Unmarshal(raw, &body)
		}
		if err != nil || len(body.Activities) != 2 {
			http.Error(w, fmt.Sprintf("want two lines: %v %s", err, raw), http.StatusTeapot)
			return true
		}
		var fields map[string]json.RawMessage
		_ = json.Unmarshal(raw, &fields)
		fields["activities"], _ = json.Marshal(body.Activities[:1])
		earlier, _ := json.Marshal(fields)
		req := r.Clone(r.Context())
		req.Body, req.ContentLength = io.NopCloser(bytes.NewReader(earlier)), int64(len(earlier))
		serve.ServeHTTP(httptest.NewRecorder(), req)
		// ...and this attempt's is lost: the connection drops unanswered.
		if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
			conn.Close()
		}
		return true
	}
	f.intercept.Store(&in)

	res, err := f.create(ref, a)
	require.NoError(t, err)
	require.True(t, res.Existed, "found by the look after the lost answer")
	require.ElementsMatch(t, []string{a, b}, res.ActivityIDs)
	require.ElementsMatch(t, []string{a, b}, f.lineRefs(ref), "both lines, once each")
}

func TestCreateLinkedJobMisalignedSiteIsNonRetryableAndNamesIt(t *testing.T) {
	f := newFixture(t, nil)
	ref, act := f.assignedJob("SITE-003", "Emergency", "7")
	_, err := f.create(ref, act)
	require.Equal(t, activities.ErrTypeMisaligned, nonRetryableType(t, err))
	require.Contains(t, err.Error(), "site SITE-003 of primary job "+ref+" does not exist in fixit for client Acme Housing (41)")
	require.Empty(t, f.secondaryJobs(ref))
}

func TestCreateLinkedJobMissingContactSaysWhatToDo(t *testing.T) {
	f := newFixture(t, nil)
	// CON-003 exists in acme but not in fixit.
	var job struct {
		JobRef     string `json:"jobRef"`
		Activities []struct {
			ID string `json:"id"`
		} `json:"activities"`
	}
	require.Equal(t, http.StatusCreated, f.sim(http.MethodPost, "/acme/sim/jobs", map[string]any{
		"clientId": "28", "siteRef": "SITE-001", "contactRef": "CON-003", "priority": "Emergency", "description": "Leak under sink",
		"activities": []map[string]string{{"code": "PLB001", "quantity": "1"}},
	}, &job))
	act := job.Activities[0].ID
	require.Equal(t, http.StatusOK, f.sim(http.MethodPost, "/acme/sim/activities/"+act+"/assign", map[string]string{"teamId": "7"}, nil))

	_, err := f.create(job.JobRef, act)
	require.Equal(t, activities.ErrTypeMisaligned, nonRetryableType(t, err))
	require.Contains(t, err.Error(), "contact CON-003 of primary job "+job.JobRef+" is not at site SITE-001 in fixit: add the contact there")
	require.Contains(t, err.Error(), "fixit:", "the target's own refusal is kept")
	require.Equal(t, 1, strings.Count(err.Error(), `contactRef "CON-003" does not exist`), "the refusal is said once: %s", err)
	require.NotContains(t, err.Error(), activities.ErrTypeRejected, "the refusal's error type is not part of what the operator reads")
	require.Empty(t, f.secondaryJobs(job.JobRef))

	// The administrator adds the contact to the site; the retry creates the job.
	require.Equal(t, http.StatusCreated, f.sim(http.MethodPost, "/fixit/sim/contacts", map[string]string{"contactRef": "CON-003", "name": "Bob"}, nil))
	res, err := f.create(job.JobRef, act)
	require.NoError(t, err)
	require.NotEmpty(t, res.SecondaryJobRef)
}

func TestCreateLinkedJobUnmappedPriorityIsNonRetryable(t *testing.T) {
	f := newFixture(t, func(doc string) string {
		// Drop the Routine mapping from the link.
		return strings.Replace(doc, "      - primary: { name: Routine, id: 3 }\n        secondary: { name: P3 Routine, id: 13 }\n", "", 1)
	})
	ref, act := f.assignedJob("SITE-001", "Routine", "7")
	_, err := f.create(ref, act)
	require.Equal(t, activities.ErrTypeMisaligned, nonRetryableType(t, err))
	require.Contains(t, err.Error(), `priority "Routine" of primary job `+ref+` has no mapping in link acme-fixit`)
	require.Empty(t, f.secondaryJobs(ref))
}

func TestCreateLinkedJobSkipsWhenTheActivityIsNoLongerAssigned(t *testing.T) {
	f := newFixture(t, nil)
	ref, act := f.assignedJob("SITE-001", "Emergency", "7")
	require.Equal(t, http.StatusOK, f.sim(http.MethodPost, "/acme/sim/activities/"+act+"/assign", map[string]string{"teamId": "8"}, nil))
	res, err := f.create(ref, act)
	require.NoError(t, err)
	require.Equal(t, lifecycle.OutcomeSkipped, res.Outcome)
	require.Contains(t, res.Detail, "no longer assigned to team 7")
	require.Empty(t, f.secondaryJobs(ref))
}

func TestCreateLinkedJobOutageIsRetryableWithTheServersDelay(t *testing.T) {
	f := newFixture(t, nil)
	ref, act := f.assignedJob("SITE-001", "Emergency", "7")
	require.Equal(t, http.StatusCreated, f.sim(http.MethodPost, "/fixit/sim/faults",
		map[string]any{"op": "createJob", "status": 503, "retryAfter": "7", "count": 1}, nil))
	_, err := f.create(ref, act)
	var app *temporal.ApplicationError
	require.True(t, errors.As(err, &app))
	require.False(t, app.NonRetryable())
	require.Equal(t, activities.ErrTypeUnavailable, app.Type())
	require.Equal(t, float64(7), app.NextRetryDelay().Seconds(), "Retry-After is honoured")
	require.Empty(t, f.secondaryJobs(ref))
}

func TestCreateLinkedJobRefusedCredentialsNeedAttention(t *testing.T) {
	f := newFixture(t, func(doc string) string {
		return strings.Replace(doc, "authTokenEnv: O2O_FIXIT_TOKEN", "authTokenEnv: O2O_WRONG_TOKEN", 1)
	})
	ref, act := f.assignedJob("SITE-001", "Emergency", "7")
	_, err := f.create(ref, act)
	require.Equal(t, activities.ErrTypeUnauthorized, nonRetryableType(t, err))
	require.Contains(t, err.Error(), "check the API token configured for fixit")
	require.NotContains(t, err.Error(), "wrong", "the token never appears in errors")
}

func TestUnknownLinkIsAConfigurationError(t *testing.T) {
	f := newFixture(t, nil)
	_, err := f.env.ExecuteActivity(f.acts.CreateLinkedJob, activities.CreateJobInput{Link: "nope", PrimaryJobRef: "AC1", ActivityIDs: []string{"1"}})
	require.Equal(t, activities.ErrTypeConfig, nonRetryableType(t, err))
}

// AddActivities records as linked only what the linked job holds: an
// activity that is not on the primary job is skipped, not reported added.
func TestAddActivitiesSkipsAnActivityOfAnotherJob(t *testing.T) {
	f := newFixture(t, nil)
	ref, a := f.assignedJob("SITE-001", "Emergency", "7")
	res, err := f.create(ref, a)
	require.NoError(t, err)
	_, other := f.assignedJob("SITE-001", "Emergency", "7")
	v, err := f.env.ExecuteActivity(f.acts.AddActivities, activities.AddActivitiesInput{
		Link: "acme-fixit", PrimaryJobRef: ref, SecondaryJobRef: res.SecondaryJobRef, ActivityIDs: []string{other}})
	require.NoError(t, err)
	require.NoError(t, v.Get(&res))
	require.Equal(t, lifecycle.OutcomeSkipped, res.Outcome)
	require.Contains(t, res.Detail, "not on primary job "+ref)
	require.Equal(t, []string{a}, f.lineRefs(ref))
}
